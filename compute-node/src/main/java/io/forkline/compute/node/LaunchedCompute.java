package io.forkline.compute.node;

import io.forkline.compute.endpoint.ComputeProcess;
import io.forkline.compute.endpoint.ComputeSize;
import io.forkline.compute.endpoint.ComputeTcp;
import io.forkline.compute.guard.PortGuard;
import io.forkline.compute.lazy.LazyDataDirectory;
import io.forkline.compute.lazy.LazyStats;
import io.forkline.compute.netns.NetNamespace;
import io.forkline.compute.postgres.PostgresException;
import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.page.client.PageClientConfig;
import io.forkline.page.client.PageServiceClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One compute built from the page service alone: its data directory (lazy: a FUSE mount whose
 * relation blocks are fetched on first read; full: a complete basebackup) and the stock PostgreSQL
 * 15 running on it. Used by the server for computes on its own machine and by the compute node
 * ({@code forkline compute-node}) for computes elsewhere; it reaches the store only through the
 * page-service client.
 *
 * <p>Directory layout under the compute's directory {@code dir}: {@code pgdata} (the data
 * directory, a mount point when lazy), {@code postgres.log} (kept after a stop), {@code pg_wal}
 * (lazy: WAL on local disk outside the mount), {@code lazy/upper} (lazy: the overlay) and
 * {@code prewarm.list} (lazy: the blocks the last run had local).
 *
 * <p>Not thread-safe: the owner serializes {@link #stop} with everything else on one compute.
 */
public final class LaunchedCompute {
    private static final Logger log = LoggerFactory.getLogger(LaunchedCompute.class);
    /** Bound of one full basebackup transfer. */
    private static final Duration BASEBACKUP_DEADLINE = Duration.ofMinutes(30);
    /**
     * How long after PostgreSQL accepts connections the lazy prefetch and prewarm begin: the first
     * connection (a woken client waits for it) fetches its catalog blocks on demand without sharing
     * the CPU with the prewarm.
     */
    static final Duration PREWARM_DELAY = Duration.ofSeconds(1);
    private static final Pattern CHECKPOINT_LINE = Pattern.compile("Latest checkpoint location:\\s+([0-9A-Fa-f]+)/([0-9A-Fa-f]+)");

    private final PostgresInstallation pg;
    private final ComputeProcess process;
    private final LazyDataDirectory lazy;
    private final long lsn;
    private boolean unmounted;

    private LaunchedCompute(PostgresInstallation pg, ComputeProcess process, LazyDataDirectory lazy, long lsn) {
        this.pg = pg;
        this.process = process;
        this.lazy = lazy;
        this.lsn = lsn;
    }

    /**
     * Cleans what an earlier run left in {@code dir} (a stale FUSE mount, a postmaster still running
     * on {@code pgdata}, the old {@code pgdata}), builds the data directory of the page-service
     * config's timeline at its last record LSN and starts PostgreSQL on it.
     *
     * @param dir           the compute's directory (created if missing)
     * @param lazy          a lazy data directory; when FUSE is unavailable here a full one is built
     *                      instead, with one warning line saying why
     * @param preferredPort the port to listen on when free (0: any free port)
     * @param label         names the compute in log lines (e.g. {@code tenant/ref})
     * @throws IOException  when the data directory cannot be built (nothing stays mounted)
     * @throws PostgresException when postgres does not start (the log tail is in the message)
     */
    public static LaunchedCompute launch(PostgresInstallation pg, PageClientConfig page, Path dir, boolean lazy,
                                         int preferredPort, ComputeSize size, Duration startTimeout, String label)
            throws IOException {
        return launch(pg, page, dir, lazy, preferredPort, size, null, startTimeout, label);
    }

    /**
     * As {@link #launch(PostgresInstallation, PageClientConfig, Path, boolean, int, ComputeSize, Duration, String)},
     * the compute also listening on the Unix-domain socket {@code <socketDirectory>/.s.PGSQL.<port>}; the
     * directory is created (or kept) with mode 0700, owned by the compute's OS user. Its path must be
     * short enough for {@code sun_path} (107 bytes with the socket's file name).
     *
     * @param socketDirectory the socket's directory, {@code null} for TCP only
     */
    public static LaunchedCompute launch(PostgresInstallation pg, PageClientConfig page, Path dir, boolean lazy,
                                         int preferredPort, ComputeSize size, Path socketDirectory, Duration startTimeout,
                                         String label) throws IOException {
        return launch(pg, page, dir, lazy, preferredPort, size, socketDirectory, ComputeTcp.NONE, startTimeout, label);
    }

    /**
     * As {@link #launch(PostgresInstallation, PageClientConfig, Path, boolean, int, ComputeSize, Path, Duration, String)};
     * with a socket directory, {@code tcp} says where postgres also listens on 127.0.0.1, for the proxy's
     * kernel relay: {@link ComputeTcp#GUARDED} on a host port that {@link PortGuard#shared()} guards
     * ({@link #guardedTcp()}), {@link ComputeTcp#OWN_NETWORK_NAMESPACE} in a network namespace of its own
     * ({@link #netns()}); where the guard or namespaces are unavailable it starts with its Unix-domain
     * socket only.
     */
    public static LaunchedCompute launch(PostgresInstallation pg, PageClientConfig page, Path dir, boolean lazy,
                                         int preferredPort, ComputeSize size, Path socketDirectory,
                                         ComputeTcp tcp, Duration startTimeout,
                                         String label) throws IOException {
        if (socketDirectory != null) {
            pg.prepareDirectory(socketDirectory);
        }
        Path pgdata = dir.resolve("pgdata");
        long tClean = System.nanoTime();
        cleanStale(dir);
        Files.createDirectories(dir);
        long t0 = System.nanoTime();
        String lazyRefused = lazy ? LazyDataDirectory.unavailableReason() : null;
        LazyDataDirectory mounted = null;
        long lsn;
        if (lazy && lazyRefused == null) {
            Path walDir = dir.resolve("pg_wal");
            pg.prepareDirectory(walDir);
            int uid = (Integer) Files.getAttribute(walDir, "unix:uid");
            int gid = (Integer) Files.getAttribute(walDir, "unix:gid");
            mounted = LazyDataDirectory.mount(page, dir.resolve("lazy"), pgdata, walDir, uid, gid, dir.resolve("prewarm.list"));
            pg.prepareDirectory(walDir);
            lsn = mounted.lsn();
            log.info("lazy data directory of {} at {} mounted in {} ms ({} relation files; stale clean-up before it {} ms)",
                    label, formatLsn(lsn), (System.nanoTime() - t0) / 1_000_000, mounted.relationFiles(),
                    (t0 - tClean) / 1_000_000);
        } else {
            if (lazyRefused != null) {
                log.warn("endpoint {}: lazy data directory unavailable ({}); using a full one", label, lazyRefused);
            }
            try (PageServiceClient client = PageServiceClient.connect(page)) {
                lsn = client.basebackupInto(pgdata, false, BASEBACKUP_DEADLINE);
            }
            log.info("basebackup of {} at {} fetched from the page service in {} ms", label, formatLsn(lsn),
                    (System.nanoTime() - t0) / 1_000_000);
        }
        try {
            NetNamespace netns = tcp == ComputeTcp.OWN_NETWORK_NAMESPACE && socketDirectory != null
                    && NetNamespace.available() ? NetNamespace.create(label) : null;
            PortGuard guard = tcp == ComputeTcp.GUARDED && socketDirectory != null ? PortGuard.shared() : null;
            int port = preferredPort;
            // a compute with a socket directory keeps its port (it names the socket file in a directory of
            // its own, so the server's own URI of it stays); when that port is taken on the host it starts
            // without its guarded TCP listener (the proxy's kernel relay then takes the SK_SKB shape)
            if (port == 0 || socketDirectory == null && !ComputeProcess.isPortFree(port)) {
                if (port != 0) {
                    log.warn("endpoint {}: port {} is taken; its URI changes", label, port);
                }
                port = ComputeProcess.freePort();
            } else if (guard != null && !ComputeProcess.isPortFree(port)) {
                log.info("endpoint {}: TCP port {} is taken on this machine; the compute listens on its Unix-domain"
                        + " socket only", label, port);
                guard = null;
            }
            long tPg = System.nanoTime();
            ComputeProcess process;
            PortGuard.Protection held;
            try {
                Started started = startPostgres(pg, pgdata, port, size, socketDirectory, netns, guard, startTimeout,
                        mounted != null, label);
                process = started.process();
                held = started.guarded();
            } catch (RuntimeException e) {
                if (netns != null) {
                    netns.close();
                }
                throw e;
            }
            if (held != null) {
                // the guard stays until the postmaster (or the wrapper waiting for it) has exited
                process.onExit().whenComplete((p, t) -> held.close());
            }
            log.info("postgres of {} accepts connections {} ms after its start", label, (System.nanoTime() - tPg) / 1_000_000);
            if (mounted != null) {
                mounted.startPrefetch(PREWARM_DELAY);
            }
            LaunchedCompute lc = new LaunchedCompute(pg, process, mounted, lsn);
            lc.socketDirectory = socketDirectory;
            lc.netns = netns;
            lc.guardedTcp = held != null;
            return lc;
        } catch (RuntimeException e) {
            if (mounted != null) {
                closeQuietly(mounted, label);
            }
            throw e;
        }
    }

    /** A started postgres and the guard on its host TCP port ({@code null}: no guarded listener). */
    private record Started(ComputeProcess process, PortGuard.Protection guarded) {
    }

    /**
     * Starts postgres, with a TCP listener in {@code netns} or on a port {@code guard} guards when
     * either is given. When another process takes the guarded port between the caller's check and
     * postgres' bind, starts it again on its Unix-domain socket only.
     *
     * @throws PostgresException as {@link ComputeProcess#start}; no guard is left on the port
     */
    private static Started startPostgres(PostgresInstallation pg, Path pgdata, int port, ComputeSize size,
                                         Path socketDirectory, NetNamespace netns, PortGuard guard,
                                         Duration startTimeout, boolean ownedByRunAsUser, String label) {
        PortGuard.Protection guarded = guard == null ? null : guard.protect(port);
        try {
            return new Started(ComputeProcess.start(pg, pgdata, port, size, socketDirectory, netns,
                    netns != null || guarded != null, startTimeout, ownedByRunAsUser), guarded);
        } catch (RuntimeException e) {
            if (guarded == null) {
                throw e;
            }
            guarded.close();
            if (e.getMessage() == null || !e.getMessage().contains("could not bind IPv4 address")) {
                throw e;
            }
            log.warn("endpoint {}: TCP port {} was taken as postgres started; starting it on its Unix-domain socket only",
                    label, port);
            return new Started(ComputeProcess.start(pg, pgdata, port, size, socketDirectory, null, false,
                    startTimeout, ownedByRunAsUser), null);
        }
    }

    /**
     * Unmounts a stale lazy mount at {@code dir/pgdata}, kills a postmaster left running on it and
     * deletes it (what a killed server or compute node leaves behind).
     *
     * @throws IOException when the mount cannot be unmounted or the directory deleted
     */
    public static void cleanStale(Path dir) throws IOException {
        Path pgdata = dir.resolve("pgdata");
        LazyDataDirectory.unmountStale(pgdata);
        ComputeProcess.killPostmaster(pgdata);
        deleteRecursively(pgdata);
    }

    /**
     * Kills every postmaster started on a data directory under {@code root} and unmounts every FUSE
     * mount there: what a killed process that ran computes under {@code root} left behind.
     *
     * @return how many postmasters were killed plus how many mounts were unmounted
     */
    public static int cleanOrphansUnder(Path root) {
        if (!Files.isDirectory(root)) {
            return 0;
        }
        // lazy computes of a killed process: their FUSE mounts are dead, so their postmaster.pid cannot
        // be read; find them by command line, then unmount
        int n = ComputeProcess.killPostmastersUnder(root);
        if (n > 0) {
            log.warn("killed {} orphan postmaster(s) under {}", n, root);
        }
        try {
            int stale = LazyDataDirectory.unmountStaleUnder(root);
            if (stale > 0) {
                log.warn("unmounted {} stale lazy data director{} under {}", stale, stale == 1 ? "y" : "ies", root);
            }
            n += stale;
        } catch (IOException e) {
            log.warn("cannot unmount stale lazy data directories under {}: {}", root, e.toString());
        }
        try (Stream<Path> s = Files.walk(root, 4)) {
            for (Path p : s.filter(p -> p.getFileName().toString().equals("pgdata")).toList()) {
                if (ComputeProcess.killPostmaster(p)) {
                    log.warn("killed orphan postmaster on {}", p);
                    n++;
                }
            }
        } catch (IOException | java.io.UncheckedIOException e) {
            log.warn("cannot scan {} for orphan computes: {}", root, e.toString());
        }
        return n;
    }

    private volatile Path socketDirectory;
    private volatile NetNamespace netns;
    private volatile boolean guardedTcp;

    /**
     * Whether postgres also listens on 127.0.0.1:{@link #port()} of the host, a port only this process
     * may connect to ({@link PortGuard}).
     */
    public boolean guardedTcp() {
        return guardedTcp;
    }

    /**
     * The network namespace postgres runs in (listening on 127.0.0.1:{@link #port()} there), or
     * {@code null}: the host's, and only its Unix-domain socket.
     */
    public NetNamespace netns() {
        return netns;
    }

    private void closeNetns() {
        NetNamespace ns = netns;
        if (ns != null) {
            ns.close(); // the namespace itself ends with the last process in it
        }
    }

    /** The directory of the compute's Unix-domain socket, or {@code null} when it listens on TCP only. */
    public Path socketDirectory() {
        return socketDirectory;
    }

    /** The running PostgreSQL. */
    public ComputeProcess process() {
        return process;
    }

    /** TCP port PostgreSQL listens on. */
    public int port() {
        return process.port();
    }

    /** The LSN the data directory was built at (its WAL continues from the next segment start). */
    public long lsn() {
        return lsn;
    }

    /** {@code lazy} or {@code full}: how the data directory was built. */
    public String storage() {
        return lazy != null ? "lazy" : "full";
    }

    /** The lazy data directory's fetch counters, or null for a full data directory. */
    public LazyStats lazyStats() {
        return lazy == null ? null : lazy.stats();
    }

    /** Whether PostgreSQL still runs. */
    public boolean isAlive() {
        return process.isAlive();
    }

    /**
     * Stops PostgreSQL (fast shutdown, bounded by {@code timeout}), reads its final checkpoint LSN
     * and unmounts a lazy data directory; then deletes the data directory ({@link #discardFiles}).
     *
     * @return the final checkpoint's LSN (0 when it cannot be read)
     */
    public long stop(Duration timeout, String label) {
        long ckpt = shutdown(timeout, label);
        discardFiles(label);
        return ckpt;
    }

    /**
     * As {@link #stop} but keeps every file: for a caller that must first make sure the WAL in
     * {@link #walDirectory()} is held elsewhere, then calls {@link #discardFiles}.
     *
     * @return the final checkpoint's LSN (0 when it cannot be read)
     */
    public long shutdown(Duration timeout, String label) {
        process.stop(timeout);
        long ckpt = finalCheckpointLsn(process.dataDir());
        unmount(label);
        closeNetns();
        return ckpt;
    }

    /**
     * The compute's {@code pg_wal}: {@code <dir>/pg_wal} for a lazy data directory (local disk
     * outside the mount), {@code pgdata/pg_wal} for a full one. Readable after {@link #shutdown}.
     */
    public Path walDirectory() {
        return walDirectory(process.dataDir().getParent(), lazy != null);
    }

    /** {@link #walDirectory()} of a compute directory {@code dir}. */
    public static Path walDirectory(Path dir, boolean lazy) {
        return lazy ? dir.resolve("pg_wal") : dir.resolve("pgdata").resolve("pg_wal");
    }

    /**
     * Deletes the data directory (and a lazy one's overlay and local {@code pg_wal}) when
     * PostgreSQL no longer runs; keeps them, with a warning, while it does. {@code postgres.log}
     * stays.
     */
    public void discardFiles(String label) {
        if (process.isAlive()) {
            log.warn("endpoint {}: compute on {} is still alive after stop; its data directory is kept", label,
                    process.dataDir());
            return;
        }
        try {
            deleteRecursively(process.dataDir());
            if (lazy != null) {
                // the overlay now, not at the next start: a wake (its start) then skips ~1 000 deletions
                deleteRecursively(process.dataDir().resolveSibling("lazy").resolve("upper"));
                deleteRecursively(walDirectory());
            }
        } catch (IOException e) {
            // the next start deletes it again before building a new one
            log.warn("endpoint {}: cannot delete {} after stop: {}", label, process.dataDir(), e.toString());
        }
    }

    /**
     * Kills PostgreSQL at once if it still runs and unmounts if not done yet (after a stop that
     * failed half way); idempotent.
     */
    public void kill(String label) {
        if (process.isAlive()) {
            process.stopNow();
        }
        unmount(label);
        closeNetns();
    }

    private void unmount(String label) {
        if (lazy != null && !unmounted) {
            unmounted = true;
            closeQuietly(lazy, label);
        }
    }

    private long finalCheckpointLsn(Path pgdata) {
        try {
            String out = PostgresInstallation.runCommand(Duration.ofSeconds(30),
                    List.of(pg.bin("pg_controldata").toString(), pgdata.toString()));
            Matcher m = CHECKPOINT_LINE.matcher(out);
            return m.find() ? (Long.parseLong(m.group(1), 16) << 32) | Long.parseLong(m.group(2), 16) : 0;
        } catch (PostgresException e) {
            log.warn("cannot read final checkpoint of {}: {}", pgdata, e.getMessage());
            return 0;
        }
    }

    private static void closeQuietly(LazyDataDirectory l, String label) {
        try {
            l.close();
        } catch (RuntimeException e) {
            log.warn("endpoint {}: unmounting {} failed: {}", label, l.mountPoint(), e.toString());
        }
    }

    /** {@code X/Y} in upper-case hex, as PostgreSQL prints LSNs. */
    public static String formatLsn(long lsn) {
        return String.format("%X/%X", lsn >>> 32, lsn & 0xFFFFFFFFL);
    }

    /**
     * Parses {@code X/Y}.
     *
     * @throws IllegalArgumentException naming the text when it is not an LSN
     */
    public static long parseLsn(String text) {
        int slash = text == null ? -1 : text.indexOf('/');
        try {
            if (slash > 0) {
                long hi = Long.parseLong(text.substring(0, slash), 16);
                long lo = Long.parseLong(text.substring(slash + 1), 16);
                if (hi >= 0 && hi <= 0xFFFFFFFFL && lo >= 0 && lo <= 0xFFFFFFFFL) {
                    return (hi << 32) | lo;
                }
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException("invalid LSN '" + text + "': expected X/Y in hex");
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
