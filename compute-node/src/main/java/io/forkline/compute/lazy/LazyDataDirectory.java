package io.forkline.compute.lazy;

import io.forkline.page.client.PageClientConfig;
import io.forkline.page.client.PageServiceClient;
import io.forkline.page.client.ReadLsn;
import io.forkline.page.protocol.proto.RelTag;
import io.forkline.page.protocol.proto.RelationEntry;
import org.cryptomator.jfuse.api.Fuse;
import org.cryptomator.jfuse.api.FuseBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A lazy PostgreSQL 15 data directory: a FUSE mount whose relation files are listed at their exact
 * sizes at start and whose blocks come from the page service on first read.
 *
 * <p>{@link #mount} does, in this order (the cost does not grow with the database's size, only with
 * its number of relation files):
 * <ol>
 *   <li>unmounts a stale mount left at the mount point by a killed process ({@code fusermount3 -u -z});</li>
 *   <li>fetches the basebackup without relation pages ({@code GetBasebackup}, {@code omit_relation_pages})
 *       into {@code work/upper}: pg_control, SLRUs, relmaps, config, two-phase files, the WAL segment
 *       with the synthesized shutdown checkpoint (only its first page is sent,
 *       {@code wal_first_page_only}; the file is extended to 16 MiB here, as a sparse file); the
 *       relation list ({@code ListRelations}, next item) is asked for at the same time;</li>
 *   <li>moves {@code pg_wal} to {@code walDir} on local disk and leaves a symlink: WAL never goes
 *       through FUSE;</li>
 *   <li>lists relations at that LSN ({@code ListRelations}, at the last record LSN; asked again at the
 *       basebackup's LSN when WAL arrived in between); each segment file is listed at its exact
 *       size ({@link PendingFiles}) and created as a sparse local file only when PostgreSQL first opens
 *       or changes it, so the start does not create a file per relation (FSM forks are left out as in
 *       a full basebackup; an unlogged relation's main fork reads its init fork's blocks);</li>
 *   <li>mounts {@link LazyFileSystem} over {@code work/upper} at the mount point with jfuse
 *       ({@code kernel_cache}; {@code allow_other} when root, so that PostgreSQL's user reaches it).</li>
 * </ol>
 *
 * <p>{@link #close()} unmounts, closes the page-service connection and deletes nothing: the caller
 * owns the directories.
 */
public final class LazyDataDirectory implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LazyDataDirectory.class);
    /** Blocks per segment file ({@code RELSEG_SIZE}, pg_config.h): 1 GiB. */
    static final int RELSEG_BLOCKS = 131072;
    private static final List<String> LIBFUSE = List.of("/lib/x86_64-linux-gnu/libfuse3.so.3",
            "/usr/lib/x86_64-linux-gnu/libfuse3.so.3", "/lib/aarch64-linux-gnu/libfuse3.so.3",
            "/usr/lib/aarch64-linux-gnu/libfuse3.so.3", "/usr/lib/libfuse3.so.3");

    private final PageServiceClient client;
    private final PageServiceBlockSource source;
    private final Fuse fuse;
    private final LazyFileSystem fs;
    private final LazyStats stats;
    private final long lsn;
    private final Path mountPoint;
    private final int relationFiles;
    private final Path prewarmFile;
    private volatile boolean closing;
    private final Thread prefetcher;

    private LazyDataDirectory(PageServiceClient client, PageServiceBlockSource source, Fuse fuse, LazyFileSystem fs,
                              LazyStats stats, long lsn, Path mountPoint, int relationFiles, Path prewarmFile) {
        this.prewarmFile = prewarmFile;
        this.client = client;
        this.source = source;
        this.fuse = fuse;
        this.fs = fs;
        this.stats = stats;
        this.lsn = lsn;
        this.mountPoint = mountPoint;
        this.relationFiles = relationFiles;
        this.prefetcher = Thread.ofVirtual().name("forkline-prefetch").unstarted(this::prefetch);
    }

    /**
     * Why lazy data directories cannot be used here, or {@code null} when they can: {@code /dev/fuse}
     * and libfuse 3 must exist, and a non-root process needs {@code fusermount3}.
     */
    public static String unavailableReason() {
        if (!Files.exists(Path.of("/dev/fuse"))) {
            return "/dev/fuse does not exist";
        }
        if (libfuse() == null) {
            return "libfuse3 is not installed (apt-get install fuse3)";
        }
        if (!Files.isExecutable(Path.of("/usr/bin/fusermount3")) && !Files.isExecutable(Path.of("/bin/fusermount3"))) {
            return "fusermount3 is not installed (apt-get install fuse3)";
        }
        return null;
    }

    private static String libfuse() {
        for (String p : LIBFUSE) {
            if (Files.exists(Path.of(p))) {
                return p;
            }
        }
        return null;
    }

    /**
     * Builds and mounts a lazy data directory for the client config's timeline at its last record LSN.
     *
     * @param config     page service, tenant, timeline, token
     * @param work       a directory of the caller's; {@code work/upper} is (re)created
     * @param mountPoint where PostgreSQL's data directory appears (created if missing)
     * @param walDir     where {@code pg_wal} really lives (created if missing; must be PostgreSQL's user's)
     * @param uid        owner reported for every file (PostgreSQL's OS user)
     * @throws IOException when anything fails; nothing stays mounted
     */
    public static LazyDataDirectory mount(PageClientConfig config, Path work, Path mountPoint, Path walDir, int uid,
                                          int gid) throws IOException {
        return mount(config, work, mountPoint, walDir, uid, gid, null);
    }

    /**
     * {@link #mount(PageClientConfig, Path, Path, Path, int, int)}, with a background prefetch (begun by
     * {@link #startPrefetch}) that never delays the start: first the blocks the previous run of this compute had local (read from
     * {@code prewarmFile}, like Neon's prewarm; system catalogs first), then every block of the visibility-map forks and of
     * the system catalogs (relfilenodes below 16384). {@link #close()} writes the blocks local by then
     * to {@code prewarmFile} for the next run.
     *
     * @param prewarmFile where the block list is kept between runs; null: no prewarm, no list
     */
    public static LazyDataDirectory mount(PageClientConfig config, Path work, Path mountPoint, Path walDir, int uid,
                                          int gid, Path prewarmFile) throws IOException {
        String reason = unavailableReason();
        if (reason != null) {
            throw new IOException("cannot mount a lazy data directory: " + reason);
        }
        long tStart = System.nanoTime();
        unmountStale(mountPoint);
        Path upper = work.resolve("upper");
        deleteRecursively(upper);
        Files.createDirectories(upper);
        Files.createDirectories(mountPoint);
        long t0 = System.nanoTime();
        PageClientConfig clientConfig = withReadDeadline(config);
        PageServiceClient client = PageServiceClient.connect(clientConfig);
        PageServiceBlockSource source = null;
        try {
            long tConnected = System.nanoTime();
            // both at the timeline's last record LSN, in parallel; listed again at the basebackup's LSN
            // in the rare case that WAL was ingested between the two (both answers carry their LSN)
            CompletableFuture<PageServiceClient.Relations> listing = client.listRelationsWithLsn(0, 0, ReadLsn.latest());
            long lsn = client.basebackupInto(upper, true, true, Duration.ofMinutes(5));
            long tBasebackup = System.nanoTime();
            extendWalSegments(upper.resolve("pg_wal"));
            relocateWal(upper, walDir);
            Map<String, LazyRelationFile> lazy = new ConcurrentHashMap<>();
            PageServiceClient.Relations listed = PageServiceClient.await(listing);
            List<RelationEntry> rels = listed.lsn() == lsn ? listed.relations()
                    : PageServiceClient.await(client.listRelations(0, 0, ReadLsn.at(lsn)));
            long tListed = System.nanoTime();
            PendingFiles pending = new PendingFiles(upper);
            int files = listRelationFiles(rels, pending, lazy);
            pending.createDirectories();
            long tFiles = System.nanoTime();
            LazyStats stats = new LazyStats();
            FuseBuilder builder = Fuse.builder();
            builder.setLibraryPath(libfuse());
            source = new PageServiceBlockSource(client, clientConfig, lsn,
                    PageServiceBlockSource.maxBlockingFromProperties(), stats);
            LazyFileSystem fs = new LazyFileSystem(upper, builder.errno(), lazy, source, stats, uid, gid, pending);
            Fuse fuse = builder.build(new CountingOperations(fs, stats));
            String opts = "-okernel_cache,fsname=forkline,subtype=forkline" + (isRoot() ? ",allow_other" : "");
            try {
                fuse.mount("forkline", mountPoint, opts);
            } catch (Exception e) {
                fs.closeHandles();
                closeQuietly(fuse);
                throw new IOException("cannot mount the lazy data directory at " + mountPoint + ": " + e.getMessage(), e);
            }
            long tMounted = System.nanoTime();
            fs.startWarming(mountPoint.toAbsolutePath());
            log.info("lazy data directory at {} (LSN {}): {} relation files listed, mounted in {} ms (clean {} ms, connect {} ms,"
                            + " basebackup {} ms, ListRelations {} ms, relation files listed {} ms, FUSE mount {} ms)", mountPoint,
                    Long.toHexString(lsn), files, ms(tMounted - tStart), ms(t0 - tStart), ms(tConnected - t0), ms(tBasebackup - tConnected),
                    ms(tListed - tBasebackup), ms(tFiles - tListed), ms(tMounted - tFiles));
            return new LazyDataDirectory(client, source, fuse, fs, stats, lsn, mountPoint, files, prewarmFile);
        } catch (IOException | RuntimeException e) {
            if (source != null) {
                source.close();
            }
            client.close();
            throw e;
        }
    }

    /**
     * System property: how long a read of a block that is not local waits for the page service
     * (retrying over lost connections) before it fails with EIO, in seconds; default: the client
     * config's deadline (30 s).
     */
    public static final String READ_DEADLINE_PROPERTY = "forkline.lazy.readDeadlineSeconds";

    /**
     * System property: blocks a sequential reader of a lazy relation file keeps fetched or in flight
     * ahead of itself (read at mount); default 1024 (8 MiB: four page-service requests of 256 blocks);
     * 0 turns read-ahead off.
     */
    public static final String READ_AHEAD_PROPERTY = "forkline.lazy.readAheadBlocks";

    private static PageClientConfig withReadDeadline(PageClientConfig config) {
        String v = System.getProperty(READ_DEADLINE_PROPERTY);
        if (v == null || v.isBlank()) {
            return config;
        }
        try {
            long seconds = Long.parseLong(v.strip());
            if (seconds > 0) {
                return config.withDefaultDeadline(Duration.ofSeconds(seconds));
            }
        } catch (NumberFormatException e) {
            // below
        }
        log.warn("ignoring {}='{}': expected a positive number of seconds", READ_DEADLINE_PROPERTY, v);
        return config;
    }

    private static long ms(long nanos) {
        return nanos / 1_000_000;
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }


    /** PostgreSQL's WAL segment size (the only one Forkline supports): 16 MiB. */
    static final long WAL_SEGMENT_SIZE = 16L << 20;

    /**
     * Extends each WAL segment file in {@code walDir} that is shorter than {@link #WAL_SEGMENT_SIZE}
     * (the basebackup sent only its first page) to that size, as a sparse file: the rest reads as
     * the zeros the full segment would have held.
     */
    static void extendWalSegments(Path walDir) throws IOException {
        try (Stream<Path> s = Files.list(walDir)) {
            for (Path p : s.toList()) {
                String name = p.getFileName().toString();
                if (name.length() == 24 && name.chars().allMatch(c -> Character.digit(c, 16) >= 0)
                        && Files.isRegularFile(p) && Files.size(p) < WAL_SEGMENT_SIZE) {
                    try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(p.toFile(), "rw")) {
                        raf.setLength(WAL_SEGMENT_SIZE);
                    }
                }
            }
        }
    }

    /** Moves {@code upper/pg_wal}'s content to {@code walDir} and replaces it with a symlink there. */
    private static void relocateWal(Path upper, Path walDir) throws IOException {
        Path wal = upper.resolve("pg_wal");
        deleteRecursively(walDir);
        Files.createDirectories(walDir.getParent());
        Files.move(wal, walDir);
        Files.createSymbolicLink(wal, walDir.toAbsolutePath());
    }

    /**
     * Lists every relation segment file in {@code pending} with its exact size (created as a sparse
     * file when first opened) and its blocks to fetch in {@code lazy}; returns how many.
     */
    private static int listRelationFiles(List<RelationEntry> rels, PendingFiles pending,
                                         Map<String, LazyRelationFile> lazy) {
        Map<String, RelationEntry> initForks = new HashMap<>();
        for (RelationEntry e : rels) {
            if (e.getRel().getFork() == RelationPaths.INIT_FORK) {
                initForks.put(RelationPaths.relationKey(e.getRel()), e);
            }
        }
        // an unlogged relation's main fork is not WAL-logged: it may have no entry of its own, and
        // starts as a copy of the init fork (as PostgreSQL's ResetUnloggedRelations would make it)
        java.util.Set<String> listed = new java.util.HashSet<>();
        for (RelationEntry e : rels) {
            listed.add(RelationPaths.path(e.getRel()));
        }
        List<RelationEntry> all = new java.util.ArrayList<>(rels);
        for (RelationEntry init : initForks.values()) {
            RelTag main = init.getRel().toBuilder().setFork(RelationPaths.MAIN_FORK).build();
            if (!listed.contains(RelationPaths.path(main))) {
                all.add(RelationEntry.newBuilder().setRel(main).setNblocks(init.getNblocks()).build());
            }
        }
        int files = 0;
        for (RelationEntry e : all) {
            RelTag rel = e.getRel();
            if (rel.getFork() == RelationPaths.FSM_FORK) {
                continue; // a hint PostgreSQL rebuilds; a full basebackup leaves it out too
            }
            RelTag source = rel;
            long nblocks = Integer.toUnsignedLong(e.getNblocks());
            RelationEntry init = initForks.get(RelationPaths.relationKey(rel));
            if (rel.getFork() == RelationPaths.MAIN_FORK && init != null) {
                source = init.getRel(); // unlogged: the main fork starts as a copy of the init fork
                nblocks = Integer.toUnsignedLong(init.getNblocks());
            }
            String path = RelationPaths.path(rel);
            long segments = Math.max(1, (nblocks + RELSEG_BLOCKS - 1) / RELSEG_BLOCKS);
            for (long seg = 0; seg < segments; seg++) {
                long first = seg * RELSEG_BLOCKS;
                int count = (int) Math.min(RELSEG_BLOCKS, nblocks - first);
                String segPath = seg == 0 ? path : path + "." + seg;
                pending.add("/" + segPath, (long) count * LazyFileSystem.BLOCK);
                if (count > 0) {
                    lazy.put("/" + segPath, new LazyRelationFile(source, (int) first, count));
                }
                files++;
            }
        }
        return files;
    }

    /**
     * Unmounts every FUSE mount at or under {@code root} (left by a killed process): a dead mount
     * makes every walk of the directory fail with "Transport endpoint is not connected".
     *
     * @return how many were unmounted
     * @throws IOException when one cannot be unmounted (names it)
     */
    public static int unmountStaleUnder(Path root) throws IOException {
        String prefix = root.toAbsolutePath().normalize().toString();
        List<String> points;
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/mounts"))) {
            points = lines.map(l -> l.split(" "))
                    .filter(f -> f.length > 2 && f[2].startsWith("fuse")
                            && (f[1].equals(prefix) || f[1].startsWith(prefix + "/")))
                    .map(f -> f[1]).toList();
        }
        for (String p : points) {
            unmountStale(Path.of(p));
        }
        return points.size();
    }

    /** Unmounts what a killed process left mounted at {@code mountPoint}, if anything. */
    public static void unmountStale(Path mountPoint) throws IOException {
        String target = mountPoint.toAbsolutePath().normalize().toString();
        boolean mounted;
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/mounts"))) {
            mounted = lines.anyMatch(l -> {
                String[] f = l.split(" ");
                return f.length > 1 && f[1].equals(target);
            });
        }
        if (!mounted) {
            return;
        }
        log.warn("unmounting a stale mount at {}", target);
        try {
            Process p = new ProcessBuilder("fusermount3", "-u", "-z", target).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException("cannot unmount the stale mount at " + target + ": " + out.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while unmounting " + target, e);
        }
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static void closeQuietly(Fuse fuse) {
        try {
            fuse.close();
        } catch (Exception e) {
            log.warn("closing jfuse failed: {}", e.toString());
        }
    }

    /**
     * Starts the background prefetch and prewarm after {@code delay} (once; later calls do nothing).
     * The caller starts it once PostgreSQL accepts connections, with a delay that lets the first
     * connection's catalog reads go first: the prewarm costs CPU (~0.3 ms per block fetched, in this
     * JVM and the page service's) that a start and a first query on 2 cores would otherwise share.
     */
    public void startPrefetch(Duration delay) {
        if (prefetchStarted.compareAndSet(false, true)) {
            prefetchDelay = delay;
            prefetcher.start();
        }
    }

    private final java.util.concurrent.atomic.AtomicBoolean prefetchStarted = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile Duration prefetchDelay = Duration.ZERO;

    /** The LSN the directory is as of (its blocks are fetched at this LSN). */
    public long lsn() {
        return lsn;
    }

    /** Relation segment files listed at mount. */
    public int relationFiles() {
        return relationFiles;
    }

    /** Fetch counters. */
    public LazyStats stats() {
        return stats;
    }

    /** The mount point. */
    public Path mountPoint() {
        return mountPoint;
    }

    // ------------------------------------------------------------------ prefetch and prewarm

    private void prefetch() {
        long blocks = 0;
        try {
            Thread.sleep(prefetchDelay);
        } catch (InterruptedException e) {
            return; // closing
        }
        long t0 = System.nanoTime();
        try {
            Map<String, java.util.BitSet> previous = readPrewarm();
            // the system catalogs first (shared ones before per-database ones): a new backend reads
            // them before anything else, and the first connection after a wake is waiting for it
            List<String> order = new java.util.ArrayList<>(previous.keySet());
            order.sort(Comparator.comparingInt(LazyDataDirectory::prewarmRank));
            for (String path : order) {
                if (closing) {
                    return;
                }
                blocks += fs.prefetch(path, previous.get(path));
            }
            for (String path : fs.lazyPaths()) {
                if (closing) {
                    return;
                }
                if (isVisibilityMapOrCatalog(path)) {
                    blocks += fs.prefetch(path, null);
                }
            }
            stats.prefetched(blocks);
            log.info("prefetch of {} done: {} blocks ({} from the previous run's list) in {} ms", mountPoint, blocks,
                    previous.size() + " files", (System.nanoTime() - t0) / 1_000_000);
        } catch (IOException | RuntimeException e) {
            if (!closing) {
                log.warn("prefetch of {} stopped after {} blocks: {}", mountPoint, blocks, e.getMessage());
            }
        }
    }

    /** Prewarm order: 0 shared catalogs ({@code /global/}), 1 other catalogs, 2 the rest (stable within a rank). */
    static int prewarmRank(String path) {
        if (path.startsWith("/global/")) {
            return 0;
        }
        return isVisibilityMapOrCatalog(path) && !path.substring(path.lastIndexOf('/') + 1).contains("_vm") ? 1 : 2;
    }

    /** {@code base/DB/REL_vm[.N]}, {@code global/...}, or a relation whose relfilenode is below 16384 (initdb's catalogs). */
    static boolean isVisibilityMapOrCatalog(String path) {
        String name = path.substring(path.lastIndexOf('/') + 1);
        int dot = name.indexOf('.');
        String base = dot < 0 ? name : name.substring(0, dot);
        if (base.endsWith("_vm") || path.startsWith("/global/")) {
            return true;
        }
        int us = base.indexOf('_');
        String num = us < 0 ? base : base.substring(0, us);
        try {
            return Long.parseLong(num) < 16384;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** The previous run's list: {@code PATH<TAB>FROM-TO,FROM-TO,...} per line; empty when there is none. */
    private Map<String, java.util.BitSet> readPrewarm() throws IOException {
        Map<String, java.util.BitSet> out = new java.util.LinkedHashMap<>();
        if (prewarmFile == null || !Files.exists(prewarmFile)) {
            return out;
        }
        for (String line : Files.readAllLines(prewarmFile)) {
            int tab = line.indexOf('\t');
            if (tab <= 0) {
                continue;
            }
            java.util.BitSet bs = new java.util.BitSet();
            for (String range : line.substring(tab + 1).split(",")) {
                String[] ft = range.split("-");
                try {
                    int from = Integer.parseInt(ft[0]);
                    int to = ft.length > 1 ? Integer.parseInt(ft[1]) : from;
                    bs.set(from, to + 1);
                } catch (NumberFormatException e) {
                    log.warn("ignoring malformed prewarm range '{}' in {}", range, prewarmFile);
                }
            }
            out.put(line.substring(0, tab), bs);
        }
        return out;
    }

    private void writePrewarm() {
        if (prewarmFile == null) {
            return;
        }
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, java.util.BitSet> e : fs.localBlocks().entrySet()) {
            sb.append(e.getKey()).append('\t');
            java.util.BitSet bs = e.getValue();
            boolean first = true;
            for (int from = bs.nextSetBit(0); from >= 0; ) {
                int to = bs.nextClearBit(from) - 1;
                sb.append(first ? "" : ",").append(from).append('-').append(to);
                first = false;
                from = bs.nextSetBit(to + 1);
            }
            sb.append('\n');
        }
        try {
            Path tmp = prewarmFile.resolveSibling(prewarmFile.getFileName() + ".tmp");
            Files.writeString(tmp, sb);
            Files.move(tmp, prewarmFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            log.warn("cannot write the prewarm list {}: {}", prewarmFile, e.toString());
        }
    }

    /**
     * Stops the prefetch, writes the prewarm list, unmounts (waits up to jfuse's timeout), then
     * closes the page-service connection.
     */
    @Override
    public void close() {
        closing = true;
        prefetcher.interrupt();
        writePrewarm();
        fs.stopWarming();
        try {
            fuse.close();
        } catch (Exception e) {
            log.warn("unmounting {} failed: {}; unmounting lazily", mountPoint, e.toString());
            try {
                unmountStale(mountPoint);
            } catch (IOException ex) {
                log.warn("{}", ex.getMessage());
            }
        } finally {
            fs.closeHandles();
            source.close();
            client.close();
        }
    }
}
