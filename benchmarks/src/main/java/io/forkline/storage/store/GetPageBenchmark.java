package io.forkline.storage.store;

import io.forkline.bench.BenchDirectory;
import io.forkline.storage.id.TenantId;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.key.Key;
import io.forkline.storage.key.RelTag;
import io.forkline.storage.timeline.TimelineMetadata;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * GetPage@LSN on the page store, one thread, warm cache. Score: pages read per second.
 *
 * <p>Data: one relation of {@code pages} 8 KiB pages of random bytes, {@code versionsPerPage}
 * versions each (at LSNs 1000, 2000, ...), committed in batches of 32 MiB. Each call reads a random
 * page at a random LSN in {@code [1000, 1000 * versionsPerPage + 999)}, so it resolves to any of the
 * versions. With {@code depth} = 0 the reads go to the timeline that holds the versions; with
 * {@code depth} = 1 or 3 they go to the last of a chain of that many child timelines, each branched
 * at the last LSN and holding no versions of its own, so every read falls through to the root.
 * Warm reads are answered by the store's page cache (one lookup per timeline on the way); with
 * {@code -jvmArgs -Dforkline.pageCache.bytes=0} they measure RocksDB alone.
 *
 * <p>Warm: the defaults (5000 pages x 4 versions = 160 MiB) fit the store's 256 MiB block cache
 * and the page cache, which the fork sizes to 512 MiB ({@code -Dforkline.pageCache.bytes}; the
 * default 128 MiB does not hold them, so reads there went to RocksDB, W-TinyLFU keeping a
 * changing part), and the setup reads every version once before the warm-up iterations.
 * {@code getPage} is {@link PageStore#get} (the caller's own copy); {@code getPageShared} is the
 * page service's read (a {@link PageStore#sharingReader()}, no copy).
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar GetPageBenchmark} (see benchmarks/README.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Dforkline.pageCache.bytes=536870912"})
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 5)
public class GetPageBenchmark {
    @Param({"5000"})
    int pages;

    @Param({"4"})
    int versionsPerPage;

    @Param({"0", "1", "3"})
    int depth;

    /**
     * Bytes each version changes in its page (system property {@code forkline.bench.changedBytes},
     * pass it with {@code -jvmArgs -Dforkline.bench.changedBytes=200}); 8192 (default): every
     * version is a new random page, stored in full; less: versions after the first are small
     * changes, stored as page deltas (a read of one costs a second point read, for its base).
     */
    private static final int CHANGED_BYTES = Integer.getInteger("forkline.bench.changedBytes", 8192);

    private Path dir;
    private PageStore store;
    private TimelineId readTimeline;
    private final SplittableRandom random = new SplittableRandom(42);
    private static final RelTag REL = new RelTag(1663, 5, 16384, 0);

    /** Writes the versions into a fresh store in a temporary directory, then reads each once. */
    @Setup(Level.Trial)
    public void setUp() throws IOException {
        dir = Files.createTempDirectory("getpage-bench");
        store = PageStore.open(dir);
        TimelineId root = TimelineId.generate();
        TenantId t = new TenantId("bench");
        store.createTimeline(new TimelineMetadata(root, t, null, 0, 1, 15, Instant.now()));
        byte[] page = new byte[8192];
        byte[][] previous = new byte[pages][];
        try (TimelineWriter w = store.writer(root)) {
            for (int v = 1; v <= versionsPerPage; v++) {
                for (int b = 0; b < pages; b++) {
                    if (CHANGED_BYTES >= 8192 || previous[b] == null) {
                        random.nextBytes(page);
                    } else { // a small change of the previous version: stored as a delta
                        page = previous[b].clone();
                        int at = random.nextInt(8192 - CHANGED_BYTES);
                        for (int i = at; i < at + CHANGED_BYTES; i++) {
                            page[i] = (byte) random.nextInt();
                        }
                    }
                    previous[b] = CHANGED_BYTES >= 8192 ? null : page.clone();
                    w.put(Key.relBlock(REL, b), v * 1000L, page.clone());
                    if (w.stagedBytes() > 32 << 20) {
                        w.commit(v * 1000L);
                    }
                }
                w.commit(v * 1000L);
            }
        }
        readTimeline = root;
        for (int d = 0; d < depth; d++) { // a chain of children that write nothing: reads fall through all
            TimelineId child = TimelineId.generate();
            store.createTimeline(new TimelineMetadata(child, t, readTimeline, versionsPerPage * 1000L,
                    versionsPerPage * 1000L, 15, Instant.now()));
            readTimeline = child;
        }
        for (int v = 1; v <= versionsPerPage; v++) {
            for (int b = 0; b < pages; b++) {
                if (store.get(readTimeline, Key.relBlock(REL, b), v * 1000L) == null) {
                    throw new IllegalStateException("page " + b + " has no version at LSN " + v * 1000L);
                }
            }
        }
    }

    /** Closes the store and deletes its directory. */
    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        try {
            store.close();
        } finally {
            BenchDirectory.delete(dir);
        }
    }

    /** One GetPage@LSN: returns the 8192-byte page (never null here), the caller's own copy. */
    @Benchmark
    public byte[] getPage() {
        int block = random.nextInt(pages);
        long lsn = 1000L * (1 + random.nextInt(versionsPerPage)) + random.nextInt(999);
        return store.get(readTimeline, Key.relBlock(REL, block), lsn);
    }

    /**
     * One GetPage@LSN as the page service reads it: through a {@link PageStore#sharingReader()}
     * (a reader per read, the cached page handed out without a copy); returns the 8192-byte page.
     */
    @Benchmark
    public byte[] getPageShared() {
        int block = random.nextInt(pages);
        long lsn = 1000L * (1 + random.nextInt(versionsPerPage)) + random.nextInt(999);
        try (PageStore.Reader r = store.sharingReader()) {
            return r.getVersions(readTimeline, new Key[]{Key.relBlock(REL, block)}, lsn)[0].value();
        }
    }
}
