package io.forkline.pageserver.basebackup;

import io.forkline.compute.endpoint.ComputeProcess;
import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.pageserver.testing.TestData;
import org.awaitility.Awaitility;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;

/**
 * Test helper: a scratch directory under {@code pageserver/target/it}, {@code initdb}, and a stock
 * {@code postgres} started on a free port with its socket inside the scratch directory. Always
 * {@link #close()} it (try-with-resources, or a finally / AfterEach): that stops postgres and deletes
 * the scratch directory (kept with {@code -Dforkline.keepTestData=true}, see {@link TestData}).
 * {@link #stop()} only stops postgres, so the test can start it again on the same data.
 */
public final class PgTestCluster implements AutoCloseable {
    public final PostgresInstallation pg = PostgresInstallation.detect();
    public final Path root;
    private Process postgres;
    private Path runningDir;
    private int port;

    public PgTestCluster(String name) {
        root = TestData.newDirectory(name);
        pg.prepareDirectory(root);
    }

    /** Runs initdb into {@code root/<name>} and returns that directory. */
    public Path initdb(String name) {
        Path dir = root.resolve(name);
        pg.run(Duration.ofMinutes(2), "initdb", "-D", dir.toString(), "-U", "postgres", "--no-sync", "-A", "trust");
        return dir;
    }

    /** Output of a PostgreSQL tool run as the postgres user. */
    public String run(String tool, String... args) {
        return pg.run(Duration.ofMinutes(1), tool, args);
    }

    /** Starts postgres on {@code dataDir} (already owned by the postgres user), waits until it accepts connections. */
    public int start(Path dataDir, Path logFile) throws IOException {
        if (postgres != null) {
            throw new IllegalStateException("already running on " + runningDir);
        }
        port = ComputeProcess.freePort();
        Path sock = root.resolve("sock");
        pg.prepareDirectory(sock);
        List<String> cmd = pg.command("postgres", "-D", dataDir.toString(), "-p", Integer.toString(port), "-k",
                sock.toString(), "-c", "listen_addresses=127.0.0.1");
        postgres = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile())).start();
        runningDir = dataDir;
        Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
            if (!postgres.isAlive()) {
                throw new IllegalStateException("postgres exited with " + postgres.exitValue() + ": "
                        + Files.readString(logFile));
            }
            try (Connection c = connect()) {
                return true;
            } catch (SQLException e) {
                return false;
            }
        });
        return port;
    }

    /** The password {@link #connect()} sends ({@code null}: none, for a trusting pg_hba.conf). */
    public volatile String password;

    public Connection connect() throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres"
                + (password == null ? "" : "&password=" + password));
    }

    /** A connection without a password, for a test that checks the server asks for one. */
    public Connection connectWithoutPassword() throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres");
    }

    /** Stops a running postgres cleanly (fast shutdown), forcibly if that fails. Idempotent. */
    public void stop() {
        if (postgres == null) {
            return;
        }
        try {
            pg.run(Duration.ofSeconds(60), "pg_ctl", "stop", "-D", runningDir.toString(), "-m", "fast", "-w");
            postgres.waitFor();
        } catch (RuntimeException | InterruptedException e) {
            try {
                pg.run(Duration.ofSeconds(30), "pg_ctl", "stop", "-D", runningDir.toString(), "-m", "immediate", "-w");
            } catch (RuntimeException ignored) {
                // fall through to killing the process we started
            }
            postgres.destroyForcibly();
        } finally {
            postgres = null;
            runningDir = null;
        }
    }

    /**
     * Stops postgres ({@link #stop()}), then deletes {@link #root} and everything under it unless
     * {@link TestData#keep()}. Idempotent.
     *
     * @throws java.io.UncheckedIOException when the directory cannot be deleted
     */
    @Override
    public void close() {
        stop();
        TestData.deleteUnlessKept(root);
    }
}
