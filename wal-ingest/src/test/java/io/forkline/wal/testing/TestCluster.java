package io.forkline.wal.testing;

import io.forkline.compute.endpoint.ComputeProcess;
import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.storage.lsn.Lsn;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A throw-away PostgreSQL 15 cluster for integration tests: a directory
 * {@code target/it/<name>-<random>} holding {@code data/} (PGDATA), {@code sock/} (the Unix socket
 * directory) and {@code postgres.log}; a free TCP port on 127.0.0.1; {@code postgres} started as a
 * child process with {@code -c} settings. {@link #close()} stops the server (fast shutdown, then
 * kill) and deletes the directory unless {@code -Dforkline.keepTestData=true}.
 *
 * <pre>
 *   try (TestCluster c = TestCluster.create("MyIT")) {
 *       c.initdb("-k");
 *       c.start("wal_level=replica");
 *       ...  // jdbc:postgresql://127.0.0.1:c.port()/postgres?user=postgres, or c.connectionArgs() for CLI tools
 *   }
 * </pre>
 */
public final class TestCluster implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    private final PostgresInstallation pg;
    private final Path dir;
    private final Path data;
    private final Path sock;
    private final int port;
    private Process server;

    private TestCluster(PostgresInstallation pg, Path dir) {
        this.pg = pg;
        this.dir = dir;
        this.data = dir.resolve("data");
        this.sock = dir.resolve("sock");
        this.port = ComputeProcess.freePort();
    }

    /**
     * Creates the directory {@code target/it/<name>-<8 random hex>} (and its socket directory),
     * ready for {@link #initdb(String...)}.
     */
    public static TestCluster create(String name) {
        PostgresInstallation pg = PostgresInstallation.detect();
        Path dir = Path.of("target", "it", name + "-" + UUID.randomUUID().toString().substring(0, 8)).toAbsolutePath();
        pg.prepareDirectory(dir);
        TestCluster c = new TestCluster(pg, dir);
        pg.prepareDirectory(c.sock);
        return c;
    }

    /** The installation the cluster runs with. */
    public PostgresInstallation pg() {
        return pg;
    }

    /** The test directory (holds {@code data}, {@code sock}, {@code postgres.log}; free for other files). */
    public Path dir() {
        return dir;
    }

    /** PGDATA. */
    public Path data() {
        return data;
    }

    /** The Unix socket directory. */
    public Path socketDir() {
        return sock;
    }

    /** The server's TCP port (it listens where {@code listen_addresses} says; 127.0.0.1 by default here). */
    public int port() {
        return port;
    }

    /** {@code -h <socket dir> -p <port> -U postgres}, for psql, pgbench, pg_isready. */
    public List<String> connectionArgs() {
        return List.of("-h", sock.toString(), "-p", Integer.toString(port), "-U", "postgres");
    }

    /** {@code initdb -D data -U postgres --no-sync} plus {@code extraArgs}. */
    public void initdb(String... extraArgs) {
        List<String> args = new ArrayList<>(List.of("-D", data.toString(), "-U", "postgres", "--no-sync"));
        args.addAll(List.of(extraArgs));
        pg.run(Duration.ofSeconds(120), "initdb", args.toArray(String[]::new));
    }

    /**
     * Starts {@code postgres} on {@link #port()} and {@link #socketDir()}, listening on 127.0.0.1
     * unless a setting says otherwise, with {@code -c setting} for each of {@code settings}
     * ({@code name=value}), and waits until {@code pg_isready} answers.
     *
     * @throws IllegalStateException when it exits or is not ready within 30 s (see postgres.log)
     */
    public void start(String... settings) throws Exception {
        List<String> args = new ArrayList<>(List.of("-D", data.toString(), "-p", Integer.toString(port),
                "-k", sock.toString(), "-c", "listen_addresses=127.0.0.1"));
        for (String s : settings) {
            args.add("-c");
            args.add(s);
        }
        server = new ProcessBuilder(pg.command("postgres", args.toArray(String[]::new)))
                .redirectErrorStream(true).redirectOutput(dir.resolve("postgres.log").toFile()).start();
        waitReady();
    }

    private void waitReady() throws InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        List<String> args = new ArrayList<>(connectionArgs());
        args.add("-d");
        args.add("postgres");
        while (true) {
            try {
                pg.run(Duration.ofSeconds(10), "pg_isready", args.toArray(String[]::new));
                return;
            } catch (RuntimeException e) {
                if (!server.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("postgres did not start, see " + dir.resolve("postgres.log"), e);
                }
                Thread.sleep(100);
            }
        }
    }

    /** Fast shutdown ({@code pg_ctl stop -m fast -w}) if running; kills it if it is still there 30 s later. */
    public void stop() throws Exception {
        if (server != null && server.isAlive()) {
            try {
                pg.run(Duration.ofSeconds(60), "pg_ctl", "-D", data.toString(), "stop", "-m", "fast", "-w");
            } finally {
                if (!server.waitFor(30, TimeUnit.SECONDS)) {
                    server.destroyForcibly();
                }
            }
        }
    }

    /**
     * The WAL segment files in {@code data/pg_wal} by segment number (name {@code TTTTTTTTXXXXXXXXYYYYYYYY}:
     * timeline, then the segment number as {@code segNo / segmentsPerXLogId}, {@code segNo % segmentsPerXLogId}).
     */
    public TreeMap<Long, Path> walSegments() throws Exception {
        TreeMap<Long, Path> segs = new TreeMap<>();
        try (Stream<Path> files = Files.list(data.resolve("pg_wal"))) {
            for (Path f : files.filter(p -> p.getFileName().toString().matches("[0-9A-F]{24}")).toList()) {
                String name = f.getFileName().toString();
                long segNo = Long.parseLong(name.substring(8, 16), 16) * (0x100000000L / Lsn.WAL_SEGMENT_SIZE)
                        + Long.parseLong(name.substring(16), 16);
                segs.put(segNo, f);
            }
        }
        return segs;
    }

    /** Stops the server, then deletes the directory unless {@code forkline.keepTestData} is set. */
    @Override
    public void close() throws Exception {
        try {
            stop();
        } finally {
            if (!Boolean.getBoolean("forkline.keepTestData") && Files.exists(dir)) {
                try (Stream<Path> paths = Files.walk(dir)) {
                    for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        }
    }
}
