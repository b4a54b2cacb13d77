package io.forkline.compute.postgres;

import io.forkline.compute.endpoint.ComputeProcess;
import io.forkline.compute.endpoint.ComputeSettings;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * A plain PostgreSQL 15 cluster with no Forkline involved: the peer the side-by-side benchmarks
 * compare against. {@code initdb} into {@code <dir>/pgdata}, settings appended to
 * {@code postgresql.conf}, started and stopped with {@code pg_ctl} (fast shutdown). Listens on
 * 127.0.0.1 only, no Unix socket. One instance per cluster; not thread-safe.
 */
public final class StockCluster implements AutoCloseable {
    private final PostgresInstallation pg;
    private final Path pgdata;
    private final int port;
    private boolean running;

    private StockCluster(PostgresInstallation pg, Path pgdata, int port) {
        this.pg = pg;
        this.pgdata = pgdata;
        this.port = port;
    }

    /**
     * The settings of a Forkline compute ({@link ComputeSettings#forPort}) minus Forkline: no
     * synchronous standby. Keeps {@code wal_consistency_checking=all}, {@code wal_compression=lz4},
     * {@code fsync=off}, {@code shared_buffers=128MB}, {@code max_wal_size=1GB}.
     */
    public static Map<String, String> computeSettingsWithoutForkline(int port) {
        Map<String, String> s = new LinkedHashMap<>(ComputeSettings.forPort(port));
        s.put("synchronous_standby_names", "''");
        return s;
    }

    /**
     * {@link #computeSettingsWithoutForkline} with PostgreSQL's default WAL settings: no
     * {@code wal_consistency_checking}, {@code wal_compression=off}.
     */
    public static Map<String, String> defaultWalSettings(int port) {
        Map<String, String> s = computeSettingsWithoutForkline(port);
        s.put("wal_consistency_checking", "''");
        s.put("wal_compression", "off");
        return s;
    }

    /**
     * Runs {@code initdb} in {@code dir/pgdata} (must not exist yet), appends {@code settings} (which
     * must include {@code port}) and starts the server, waiting until it accepts connections.
     *
     * @param dir             the cluster's directory; {@code pgdata} and {@code postgres.log} go inside
     * @param settingsForPort settings for a given port, e.g. {@link #defaultWalSettings}
     * @throws PostgresException when initdb or the start fail (with pg_ctl's output)
     * @throws IOException       when postgresql.conf cannot be written
     */
    public static StockCluster start(PostgresInstallation pg, Path dir, IntFunction<Map<String, String>> settingsForPort)
            throws IOException {
        pg.prepareDirectory(dir);
        Path pgdata = dir.resolve("pgdata");
        pg.run(Duration.ofMinutes(5), "initdb", "-D", pgdata.toString(), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                "--locale=C", "--no-sync");
        int port = ComputeProcess.freePort();
        Files.writeString(pgdata.resolve("postgresql.conf"), ComputeSettings.render(settingsForPort.apply(port)),
                StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        StockCluster c = new StockCluster(pg, pgdata, port);
        pg.run(Duration.ofMinutes(2), "pg_ctl", "-D", pgdata.toString(), "-l", dir.resolve("postgres.log").toString(),
                "-w", "-t", "120", "start");
        c.running = true;
        return c;
    }

    /**
     * A streaming standby of {@code primary} ({@code pg_basebackup -X stream -R} into {@code dir/pgdata},
     * {@code application_name} {@code standbyName}, {@code fsync=on}), started; then {@code primary}
     * names it in {@code synchronous_standby_names}, so each commit there waits for the standby's flush
     * ({@code synchronous_commit=on}): the peer of a Forkline compute, whose commits wait for Forkline's
     * fsync'd ingest. Returns once {@code pg_stat_replication} reports it {@code sync}.
     *
     * @throws PostgresException when the base backup, the start or the switch to synchronous fail
     * @throws IOException       when postgresql.conf cannot be written
     */
    public static StockCluster startSynchronousStandby(PostgresInstallation pg, Path dir, StockCluster primary,
                                                       String standbyName) throws IOException, InterruptedException {
        pg.prepareDirectory(dir);
        Path pgdata = dir.resolve("pgdata");
        pg.run(Duration.ofMinutes(10), "pg_basebackup", "-D", pgdata.toString(), "-X", "stream", "-R", "--no-sync",
                "-d", "host=127.0.0.1 port=" + primary.port + " user=postgres application_name=" + standbyName);
        int port = ComputeProcess.freePort();
        Files.writeString(pgdata.resolve("postgresql.conf"), "\nport = " + port + "\nfsync = on\n"
                + "synchronous_standby_names = ''\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        StockCluster standby = new StockCluster(pg, pgdata, port);
        pg.run(Duration.ofMinutes(2), "pg_ctl", "-D", pgdata.toString(), "-l", dir.resolve("postgres.log").toString(),
                "-w", "-t", "120", "start");
        standby.running = true;
        primary.psql("ALTER SYSTEM SET synchronous_standby_names = '" + standbyName + "'");
        primary.psql("SELECT pg_reload_conf()");
        long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        while (!primary.psql("SELECT string_agg(sync_state, ',') FROM pg_stat_replication WHERE application_name = '"
                + standbyName + "'").trim().equals("sync")) {
            if (System.nanoTime() > deadline) {
                throw new PostgresException("standby " + standbyName + " did not become synchronous within 1 minute");
            }
            Thread.sleep(100);
        }
        return standby;
    }

    private String psql(String sql) {
        return pg.run(Duration.ofMinutes(1), "psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", uri(), "-c", sql);
    }

    /** libpq URI of database {@code postgres}. */
    public String uri() {
        return "postgresql://postgres@127.0.0.1:" + port + "/postgres";
    }

    public Path dataDir() {
        return pgdata;
    }

    /** Fast shutdown; no-op when already stopped. */
    @Override
    public void close() {
        if (running) {
            running = false;
            pg.run(Duration.ofMinutes(2), "pg_ctl", "-D", pgdata.toString(), "-m", "fast", "-w", "-t", "120", "stop");
        }
    }
}
