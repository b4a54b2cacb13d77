package io.forkline.compute.proxy;

import io.forkline.compute.endpoint.ComputeProcess;
import io.forkline.compute.netns.NetNamespace;
import io.forkline.compute.postgres.PostgresInstallation;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real PostgreSQL 15 for the proxy's tests: initdb'd into a temporary directory, listening ONLY on
 * a Unix-domain socket ({@code listen_addresses=''}) with {@code trust} for local connections, as
 * the computes behind the proxy do. Runs as user postgres when the JVM is root.
 */
final class UnixSocketPostgres implements AutoCloseable {
    final PostgresInstallation pg;
    final Path dir;
    final Path data;
    final Path socketDir;
    final int port;
    private final Process process;
    /** The network namespace it listens on 127.0.0.1 in, or null (Unix socket only). */
    NetNamespace netns;

    private UnixSocketPostgres(PostgresInstallation pg, Path dir, int port, Process process) {
        this.pg = pg;
        this.dir = dir;
        this.data = dir.resolve("data");
        this.socketDir = dir.resolve("sock");
        this.port = port;
        this.process = process;
    }

    /** initdb + start; {@code maxConnections} for the concurrency tests. */
    static UnixSocketPostgres start(int maxConnections) throws IOException {
        return start(maxConnections, null);
    }

    /**
     * As {@link #start(int)}; with {@code netns} it starts inside that network namespace and also listens
     * on 127.0.0.1 there with {@code trust} (as a local compute in its own namespace does), and
     * {@link #address()} is that TCP address.
     */
    static UnixSocketPostgres start(int maxConnections, NetNamespace netns) throws IOException {
        PostgresInstallation pg = PostgresInstallation.detect();
        Path dir = Files.createTempDirectory("fl-proxy-pg");
        pg.prepareDirectory(dir);
        Path data = dir.resolve("data");
        Path sock = dir.resolve("sock");
        pg.prepareDirectory(sock);
        pg.run(Duration.ofSeconds(120), "initdb", "-D", data.toString(), "-U", "postgres", "--no-sync",
                "--auth-local=trust", "--auth-host=reject");
        int port = ComputeProcess.freePort();
        Files.writeString(data.resolve("postgresql.conf"), String.join("\n",
                "listen_addresses = '" + (netns == null ? "" : "127.0.0.1") + "'",
                "unix_socket_directories = '" + sock + "'",
                "port = " + port,
                "max_connections = " + maxConnections,
                "shared_buffers = 32MB",
                "fsync = off",
                "synchronous_commit = off",
                "full_page_writes = off",
                ""), StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        // one role the compute asks a password of (the proxy must refuse that clearly); everyone else: trust
        Path hba = data.resolve("pg_hba.conf");
        Files.writeString(hba, "local all needs_password scram-sha-256\n"
                + (netns == null ? "" : "host all all 127.0.0.1/32 trust\n") + Files.readString(hba), StandardCharsets.UTF_8);
        pg.chownRecursively(data);
        Path log = dir.resolve("postgres.log");
        ProcessBuilder pb = new ProcessBuilder(pg.command("postgres", "-D", data.toString()))
                .redirectErrorStream(true).redirectOutput(log.toFile());
        Process p = netns == null ? pb.start() : netns.call(pb::start);
        UnixSocketPostgres server = new UnixSocketPostgres(pg, dir, port, p);
        server.netns = netns;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.exists(server.socketDir.resolve(".s.PGSQL." + port)) || !server.ready()) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                String tail = Files.exists(log) ? Files.readString(log) : "";
                server.close();
                throw new IllegalStateException("postgres did not start: " + tail);
            }
            sleep(50);
        }
        return server;
    }

    private boolean ready() {
        try {
            psqlDirect("SELECT 1");
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Where the proxy reaches it. */
    ComputeAddress address() {
        return netns != null ? ComputeAddress.inNamespace(netns, port) : ComputeAddress.unix(socketDir, port);
    }

    /** Runs one statement over the Unix socket directly (not through the proxy); returns psql's unaligned output. */
    String psqlDirect(String sql) {
        List<String> cmd = new ArrayList<>(List.of(pg.bin("psql").toString(), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                "-h", socketDir.toString(), "-p", String.valueOf(port), "-U", "postgres", "-d", "postgres", "-c", sql));
        return PostgresInstallation.runCommand(Duration.ofSeconds(30), cmd).trim();
    }

    @Override
    public void close() throws IOException {
        long pid = pidOfPostmaster();
        if (process.isAlive() && pid > 0) {
            try { // SIGINT: fast shutdown (disconnects clients)
                PostgresInstallation.runCommand(Duration.ofSeconds(10), List.of("kill", "-INT", Long.toString(pid)));
                process.waitFor(20, TimeUnit.SECONDS);
            } catch (RuntimeException e) {
                // fall through to the kill below
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (process.isAlive()) {
            ComputeProcess.killPostmaster(data);
            process.destroyForcibly();
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
        if (netns != null) {
            netns.close();
        }
    }

    private long pidOfPostmaster() {
        try {
            return Long.parseLong(Files.readAllLines(data.resolve("postmaster.pid")).get(0).trim());
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
