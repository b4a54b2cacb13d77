package io.forkline.pageserver.testing;

import io.forkline.compute.endpoint.ComputeProcess;
import io.forkline.compute.postgres.PostgresInstallation;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Test helper: a self-hosted PostgreSQL 15 primary as a user runs one (initdb with data checksums,
 * default settings: wal_level replica, full_page_writes on, no wal_consistency_checking), with a
 * replication role {@value #REPL_USER} that logs in with a SCRAM password over TCP, started on a port
 * it keeps across restarts. Always {@link #close()} it.
 */
public final class TestPrimary implements AutoCloseable {
    public static final String REPL_USER = "repl";
    public static final String REPL_PASSWORD = "r3pl secret";

    public final PostgresInstallation pg = PostgresInstallation.detect();
    public final Path root;
    public final Path data;
    public final int port;
    private final Path log;
    private Process postgres;

    /** initdb ({@code -k}) and start; {@code extraConf} lines are appended to postgresql.conf. */
    public TestPrimary(String name, String... extraConf) throws Exception {
        root = TestData.newDirectory(name);
        pg.prepareDirectory(root);
        data = root.resolve("data");
        log = root.resolve("postgres.log");
        pg.run(Duration.ofMinutes(2), "initdb", "-D", data.toString(), "-U", "postgres", "--no-sync", "-A", "trust",
                "-k", "-E", "UTF8", "--locale=C");
        List<String> conf = new ArrayList<>(List.of("listen_addresses = '127.0.0.1'", "max_wal_senders = 10",
                "wal_level = replica", "fsync = off", "unix_socket_directories = '" + root + "'"));
        conf.addAll(List.of(extraConf));
        appendAsPostgres(data.resolve("postgresql.conf"), String.join("\n", conf) + "\n");
        // the replication role must use its password over TCP; everything else trusts (as initdb set it)
        Path hba = data.resolve("pg_hba.conf");
        String old = Files.readString(hba);
        writeAsPostgres(hba, "host replication " + REPL_USER + " 127.0.0.1/32 scram-sha-256\n"
                + "host all " + REPL_USER + " 127.0.0.1/32 scram-sha-256\n" + old);
        port = ComputeProcess.freePort();
        start();
        try (Connection c = connect()) {
            c.createStatement().execute("CREATE ROLE " + REPL_USER + " REPLICATION LOGIN PASSWORD '" + REPL_PASSWORD + "'");
        }
    }

    private void appendAsPostgres(Path f, String text) throws IOException {
        Files.writeString(f, text, StandardOpenOption.APPEND);
    }

    private void writeAsPostgres(Path f, String text) throws IOException {
        Files.writeString(f, text);
    }

    /** The libpq URI Forkline imports from ({@value #REPL_USER}, password percent-encoded). */
    public String replicationUri() {
        return "postgresql://" + REPL_USER + ":" + REPL_PASSWORD.replace(" ", "%20") + "@127.0.0.1:" + port + "/postgres";
    }

    /** The postgres superuser's libpq URI. */
    public String uri() {
        return "postgresql://postgres@127.0.0.1:" + port + "/postgres";
    }

    public Connection connect() throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres");
    }

    /** Starts postgres on its port and waits until it accepts connections. */
    public void start() throws IOException {
        List<String> cmd = pg.command("postgres", "-D", data.toString(), "-p", Integer.toString(port));
        postgres = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        // (no Awaitility: the cli's tests use this class without it on their class path)
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            if (!postgres.isAlive()) {
                throw new IllegalStateException("postgres exited with " + postgres.exitValue() + ": " + Files.readString(log));
            }
            try (Connection c = connect()) {
                return;
            } catch (SQLException e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("postgres did not accept connections within 60 s: " + e.getMessage(), e);
                }
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for postgres", e);
            }
        }
    }

    /** Fast shutdown. Idempotent. */
    public void stop() {
        if (postgres == null) {
            return;
        }
        try {
            // a fast shutdown waits until streaming standbys (the mirror) confirmed every WAL byte
            pg.run(Duration.ofSeconds(310), "pg_ctl", "stop", "-D", data.toString(), "-m", "fast", "-w", "-t", "300");
            postgres.waitFor();
        } catch (RuntimeException | InterruptedException e) {
            try {
                pg.run(Duration.ofSeconds(60), "pg_ctl", "stop", "-D", data.toString(), "-m", "immediate", "-w");
            } catch (RuntimeException ignored) {
                // fall through to killing the process we started
            }
            postgres.destroyForcibly();
        } finally {
            postgres = null;
        }
    }

    /** Runs a tool of the installation against this primary as postgres (host, port, user given). */
    public String tool(Duration timeout, String tool, String... args) {
        List<String> cmd = new ArrayList<>(List.of(pg.bin(tool).toString(), "-h", "127.0.0.1", "-p",
                Integer.toString(port), "-U", "postgres"));
        cmd.addAll(List.of(args));
        return PostgresInstallation.runCommand(timeout, cmd);
    }

    /** Starts a tool in the background (e.g. pgbench for a while). */
    public Process background(String tool, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(pg.bin(tool).toString(), "-h", "127.0.0.1", "-p",
                Integer.toString(port), "-U", "postgres"));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(
                root.resolve(tool + ".log").toFile())).start();
    }

    @Override
    public void close() {
        stop();
        TestData.deleteUnlessKept(root);
    }
}
