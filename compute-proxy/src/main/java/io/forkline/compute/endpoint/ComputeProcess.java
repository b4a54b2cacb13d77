package io.forkline.compute.endpoint;

import io.forkline.compute.netns.NetNamespace;
import io.forkline.compute.postgres.PostgresException;
import io.forkline.compute.postgres.PostgresInstallation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One running stock PostgreSQL 15 server (a compute) on a data directory that a basebackup has
 * already filled. Starts {@code postgres} directly (as the unprivileged user when this JVM is root),
 * logs to {@code <dataDir>/../postgres.log}, and stops it with a fast shutdown, which writes the
 * shutdown checkpoint and lets WAL senders send it before they exit.
 *
 * <p>Thread-safe for {@link #stop}; one instance per started server.
 */
public final class ComputeProcess {
    private static final Logger log = LoggerFactory.getLogger(ComputeProcess.class);

    private final PostgresInstallation pg;
    private final Path dataDir;
    private final int port;
    private final Process process;

    private ComputeProcess(PostgresInstallation pg, Path dataDir, int port, Process process) {
        this.pg = pg;
        this.dataDir = dataDir;
        this.port = port;
        this.process = process;
    }

    /**
     * Appends {@link ComputeSettings} for {@code port} to {@code postgresql.conf}, hands the
     * directory to the run-as user and starts {@code postgres}; returns once it accepts TCP
     * connections.
     *
     * @param dataDir a complete data directory (basebackup output)
     * @param port    a free TCP port on 127.0.0.1
     * @param timeout how long to wait for readiness
     * @throws PostgresException when postgres exits or is not ready in time (the log tail is in the
     *                           message), or the calling thread is interrupted while waiting (its
     *                           interrupt flag stays set); a postgres that was started is killed first
     */
    public static ComputeProcess start(PostgresInstallation pg, Path dataDir, int port, Duration timeout) {
        return start(pg, dataDir, port, ComputeSize.DEFAULT, timeout);
    }

    /**
     * As {@link #start(PostgresInstallation, Path, int, Duration)}, with the memory and connection
     * settings of {@code size}.
     *
     * @throws PostgresException when postgres exits or is not ready in time (the log tail is in the
     *                           message), or the calling thread is interrupted while waiting (its
     *                           interrupt flag stays set); a postgres that was started is killed first
     */
    public static ComputeProcess start(PostgresInstallation pg, Path dataDir, int port, ComputeSize size, Duration timeout) {
        return start(pg, dataDir, port, size, timeout, false);
    }

    /**
     * As {@link #start(PostgresInstallation, Path, int, ComputeSize, Duration)}; {@code ownedByRunAsUser}
     * says every file under {@code dataDir} already shows as the run-as user's (a lazy data directory's
     * FUSE file system presents them so), so only the directory itself is prepared: walking a FUSE
     * mount to hand its files over costs a round trip into the file system per file.
     */
    public static ComputeProcess start(PostgresInstallation pg, Path dataDir, int port, ComputeSize size, Duration timeout,
                                       boolean ownedByRunAsUser) {
        return start(pg, dataDir, port, size, null, timeout, ownedByRunAsUser);
    }

    /**
     * As {@link #start(PostgresInstallation, Path, int, ComputeSize, Duration, boolean)}, also listening on a
     * Unix-domain socket in {@code socketDirectory} ({@code null}: none), which the caller made private
     * to the compute's OS user ({@link PostgresInstallation#prepareDirectory}).
     *
     * @throws PostgresException as the other overloads
     */
    public static ComputeProcess start(PostgresInstallation pg, Path dataDir, int port, ComputeSize size, Path socketDirectory,
                                       Duration timeout, boolean ownedByRunAsUser) {
        return start(pg, dataDir, port, size, socketDirectory, null, timeout, ownedByRunAsUser);
    }

    /**
     * As {@link #start(PostgresInstallation, Path, int, ComputeSize, Path, Duration, boolean)}; with a
     * {@code netns} postgres is started inside that network namespace and also listens on
     * 127.0.0.1:{@code port} there, reachable only from inside it ({@link NetNamespace#call}); the
     * Unix-domain socket in {@code socketDirectory} works as without one (and is how readiness is seen).
     *
     * @throws IllegalArgumentException a {@code netns} without a {@code socketDirectory}
     * @throws PostgresException        as the other overloads
     */
    public static ComputeProcess start(PostgresInstallation pg, Path dataDir, int port, ComputeSize size, Path socketDirectory,
                                       NetNamespace netns, Duration timeout, boolean ownedByRunAsUser) {
        return start(pg, dataDir, port, size, socketDirectory, netns, netns != null, timeout, ownedByRunAsUser);
    }

    /**
     * As {@link #start(PostgresInstallation, Path, int, ComputeSize, Path, NetNamespace, Duration, boolean)};
     * with {@code loopbackTcp} postgres also listens on 127.0.0.1:{@code port} (of {@code netns} when
     * given, else of the host, where the caller guards it first: {@code io.forkline.compute.guard.PortGuard}).
     *
     * @throws IllegalArgumentException a {@code netns} or {@code loopbackTcp} without a {@code socketDirectory}
     */
    public static ComputeProcess start(PostgresInstallation pg, Path dataDir, int port, ComputeSize size, Path socketDirectory,
                                       NetNamespace netns, boolean loopbackTcp, Duration timeout, boolean ownedByRunAsUser) {
        if ((netns != null || loopbackTcp) && socketDirectory == null) {
            throw new IllegalArgumentException("a compute " + (netns != null ? "in " + netns : "on loopback TCP")
                    + " needs a Unix-domain socket directory");
        }
        Path logFile = dataDir.resolveSibling("postgres.log");
        try {
            Files.writeString(dataDir.resolve("postgresql.conf"), ComputeSettings.render(ComputeSettings.forPort(port, size, socketDirectory,
                    loopbackTcp)),
                    StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            if (ownedByRunAsUser) {
                pg.prepareDirectoryShallow(dataDir);
            } else {
                pg.prepareDirectory(dataDir);
            }
            Files.deleteIfExists(logFile);
            ProcessBuilder pb = new ProcessBuilder(pg.command("postgres", "-D", dataDir.toAbsolutePath().toString()))
                    .redirectErrorStream(true)
                    .redirectOutput(logFile.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            Process p = netns == null ? pb.start() : netns.call(pb::start);
            ComputeProcess cp = new ComputeProcess(pg, dataDir, port, p);
            try {
                cp.awaitReady(timeout, logFile, socketDirectory);
            } catch (RuntimeException | Error e) {
                cp.killAfterFailedStart(e);
                throw e;
            }
            return cp;
        } catch (IOException e) {
            throw new PostgresException("cannot start postgres on " + dataDir + ": " + e.getMessage(), e);
        }
    }

    private void awaitReady(Duration timeout, Path logFile, Path socketDirectory) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new PostgresException("postgres on " + dataDir + " exited with code " + process.exitValue()
                        + ": " + tail(logFile));
            }
            if (logContains(logFile, "database system is ready to accept connections") && canConnect(socketDirectory, port)) {
                return;
            }
            sleep(10); // a wake waits for this: poll often (a read of a small log and a connect)
        }
        stopNow();
        throw new PostgresException("postgres on " + dataDir + " was not ready within " + timeout + ": " + tail(logFile));
    }

    /**
     * Kills a postgres whose start failed (e.g. interrupted while waiting for readiness) so that
     * none is left running; problems doing so are added to {@code cause} as suppressed. The
     * interrupt flag is cleared while killing (the kill waits for the process) and set again.
     */
    private void killAfterFailedStart(Throwable cause) {
        if (!process.isAlive()) {
            return; // exited by itself; postmaster.pid may belong to another postmaster: leave it
        }
        boolean interrupted = Thread.interrupted();
        try {
            // The postmaster may not have written postmaster.pid yet: kill what the started process spawned too.
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            stopNow();
        } catch (RuntimeException e) {
            cause.addSuppressed(e);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The TCP port on 127.0.0.1. */
    public int port() {
        return port;
    }

    /** The compute's data directory ({@code PGDATA}), as given to {@code start}. */
    public Path dataDir() {
        return dataDir;
    }

    /**
     * Whether the started process (the postmaster, or the {@code runuser} wrapper that waits for it
     * when this JVM is root) is still running.
     */
    public boolean isAlive() {
        return process.isAlive();
    }

    /**
     * Completes when the started process (the postmaster, or the {@code runuser} wrapper that waits
     * for it) has exited: after a {@link #stop} or {@link #stopNow}, or a crash.
     */
    public java.util.concurrent.CompletableFuture<?> onExit() {
        return process.onExit();
    }

    /** Operating-system pid of the postmaster's launcher process. */
    public long pid() {
        return process.pid();
    }

    /**
     * Fast shutdown (SIGINT): clients are disconnected, a shutdown checkpoint is written and sent to
     * WAL senders, then the server exits. Falls back to SIGKILL after {@code timeout}.
     */
    public void stop(Duration timeout) {
        if (!process.isAlive()) {
            return;
        }
        signal("INT");
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                log.warn("postgres on {} did not stop within {}; killing it", dataDir, timeout);
                stopNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopNow();
        }
    }

    /** Immediate stop: SIGKILL the postmaster and its children. */
    public void stopNow() {
        killPostmaster(dataDir);
        process.destroyForcibly();
    }

    private void signal(String sig) {
        long pid = postmasterPid(dataDir).orElse(process.pid());
        try {
            PostgresInstallation.runCommand(Duration.ofSeconds(10), List.of("kill", "-" + sig, Long.toString(pid)));
        } catch (PostgresException e) {
            log.debug("kill -{} {} failed: {}", sig, pid, e.getMessage());
        }
    }

    /**
     * The postmaster pid recorded in {@code dataDir/postmaster.pid}, if the file exists and parses.
     */
    public static Optional<Long> postmasterPid(Path dataDir) {
        try {
            List<String> lines = Files.readAllLines(dataDir.resolve("postmaster.pid"));
            return lines.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(lines.get(0).trim()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * Kills (SIGKILL) a postmaster left running on {@code dataDir} — e.g. by a server that was
     * killed — and its process group's children, so the directory and port can be reused.
     *
     * @return whether a live postmaster was found and killed
     */
    /**
     * Kills every postgres process started with {@code -D} a directory under {@code root} (found by
     * command line, so it works when the data directory itself is unreadable, e.g. a lazy one whose
     * FUSE daemon died with a killed server).
     *
     * @return how many postmasters were killed
     */
    public static int killPostmastersUnder(Path root) {
        String prefix = root.toAbsolutePath().normalize().toString() + "/";
        int killed = 0;
        for (ProcessHandle h : ProcessHandle.allProcesses().toList()) {
            ProcessHandle.Info info = h.info();
            if (!info.command().map(c -> c.endsWith("/postgres")).orElse(false)) {
                continue;
            }
            String[] args = info.arguments().orElse(new String[0]);
            for (int i = 0; i + 1 < args.length; i++) {
                if (args[i].equals("-D") && (args[i + 1] + "/").startsWith(prefix)) {
                    h.descendants().forEach(ProcessHandle::destroyForcibly);
                    h.destroyForcibly();
                    killed++;
                    break;
                }
            }
        }
        return killed;
    }

    /**
     * Kills the postmaster whose {@code postmaster.pid} is in {@code dataDir}, if it runs.
     */
    public static boolean killPostmaster(Path dataDir) {
        Optional<Long> pid = postmasterPid(dataDir);
        if (pid.isEmpty()) {
            return false;
        }
        Optional<ProcessHandle> h = ProcessHandle.of(pid.get());
        if (h.isEmpty() || !h.get().info().command().map(c -> c.endsWith("postgres")).orElse(false)) {
            return false;
        }
        h.get().descendants().forEach(ProcessHandle::destroyForcibly);
        try {
            PostgresInstallation.runCommand(Duration.ofSeconds(10), List.of("kill", "-KILL", Long.toString(pid.get())));
        } catch (PostgresException e) {
            log.debug("kill -KILL {} failed: {}", pid.get(), e.getMessage());
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (h.get().isAlive() && System.nanoTime() < deadline) {
            sleep(20);
        }
        return true;
    }

    /**
     * Whether {@code port} on 127.0.0.1 can be bound right now (with {@code SO_REUSEADDR}, as the
     * postmaster binds it, so connections in TIME_WAIT do not count).
     */
    public static boolean isPortFree(int port) {
        if (port <= 0 || port > 65535) {
            return false;
        }
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress("127.0.0.1", port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** A TCP port on 127.0.0.1 that was free a moment ago. */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(false);
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        } catch (IOException e) {
            throw new PostgresException("cannot find a free TCP port: " + e.getMessage(), e);
        }
    }

    /**
     * Whether postgres accepts connections: on {@code <socketDirectory>/.s.PGSQL.<port>} when it
     * listens only there ({@link ComputeSettings#forPort(int, ComputeSize, Path)}), else on
     * 127.0.0.1:{@code port}.
     */
    private static boolean canConnect(Path socketDirectory, int port) {
        if (socketDirectory != null) {
            try (java.nio.channels.SocketChannel ch = java.nio.channels.SocketChannel.open(
                    java.net.UnixDomainSocketAddress.of(socketDirectory.resolve(".s.PGSQL." + port)))) {
                return true;
            } catch (IOException e) {
                return false;
            }
        }
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean logContains(Path logFile, String text) {
        try {
            return Files.exists(logFile) && Files.readString(logFile, StandardCharsets.UTF_8).contains(text);
        } catch (IOException e) {
            return false;
        }
    }

    /** The last lines of a log file, for error messages. */
    public static String tail(Path logFile) {
        try {
            List<String> lines = Files.readAllLines(logFile, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PostgresException("interrupted");
        }
    }
}
