package io.forkline.storage.store;

import io.forkline.bench.Args;
import io.forkline.bench.BenchDirectory;
import io.forkline.storage.id.TenantId;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.key.Key;
import io.forkline.storage.key.RelTag;
import io.forkline.storage.timeline.TimelineMetadata;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Cold 256-block GetPages in the store, as the page service reads them for a lazy sequential scan:
 * the key-by-key reader (a {@code seekForPrev}, a seek of the delta's base and a seek of the next
 * version per block and timeline level) beside the key-order reader (one forward iterator walk
 * per timeline level; {@link PageStore#KEY_ORDER_READS_PROPERTY}), taking turns in one JVM.
 *
 * <p>Data, shaped like DiffMeasurement's table after its bulk load: one relation of {@code blocks}
 * pages on {@code main}, each written as a full image (rows of a repeated 32-character pattern, so
 * LZ4 compresses it as it does the table's {@code repeat(md5(...), 30)}) followed by 8 versions
 * that each add a ~1000-byte row (stored as deltas) and one that changes a few bytes (VACUUM's
 * hint bits); then the timeline's range is compacted. {@code changed} is a branch of main with 10
 * pages changed; {@code point} a branch of {@code changed} at its last LSN, holding nothing: a past
 * point's temporary branch, whose reads fall through two ancestors.
 *
 * <p>Each pass reads every block once in 256-block GetPages (the size record, then the run of
 * blocks) through a {@link PageStore#sharingReader()}-like reader on the page cache (bounded at
 * {@code cacheMiB}, far below the relation, so the pass is cold: its cache hits are printed), on
 * {@code point} (3 levels) and on {@code main} (1 level), at the timeline's last record LSN (what
 * the page service reads for "latest"). Printed per pass: wall and thread CPU time
 * per page. Run: {@code java -cp benchmarks/target/benchmarks.jar io.forkline.storage.store.ColdGetPageMeasurement
 * [--blocks 16384] [--rounds 3] [--cacheMiB 16] [--modes byKey,keyOrder] [--dir DIR]}.
 */
public final class ColdGetPageMeasurement {
    private static final RelTag REL = new RelTag(1663, 16384, 24576, 0);
    private static final int BATCH = 256;

    public static void main(String[] argv) throws Exception {
        Args args = new Args(argv);
        int blocks = args.intValue("blocks", 16384);
        int rounds = args.intValue("rounds", 3);
        long cacheBytes = (long) args.intValue("cacheMiB", 16) << 20;
        List<String> modes = List.of(args.value("modes", "byKey,keyOrder").split(","));
        Path dir = BenchDirectory.fresh(args.value("dir", null), "coldgetpage");
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        System.out.printf("ColdGetPageMeasurement: %d blocks (%.0f MiB), page cache %d MiB, %d round(s), modes %s; load average %s%n",
                blocks, blocks * 8192 / 1048576.0, cacheBytes >> 20, rounds, modes, load());
        try (PageStore store = PageStore.open(dir.resolve("store"), cacheBytes)) {
            TenantId tenant = new TenantId("bench");
            TimelineId main = TimelineId.generate();
            store.createTimeline(new TimelineMetadata(main, tenant, null, 0, 1000, 15, Instant.now()));
            long t0 = System.nanoTime();
            long lsn = load(store, main, blocks);
            store.compactTimeline(main);
            TimelineId changed = TimelineId.generate();
            store.createTimeline(new TimelineMetadata(changed, tenant, main, lsn, lsn, 15, Instant.now()));
            SplittableRandom rnd = new SplittableRandom(7);
            try (TimelineWriter w = store.writer(changed)) {
                for (int i = 0; i < 10; i++) {
                    int b = rnd.nextInt(blocks);
                    byte[] page = store.get(changed, Key.relBlock(REL, b), lsn + 1).clone();
                    page[4000 + i] ^= 0x55;
                    w.put(Key.relBlock(REL, b), lsn + 1 + i, page);
                }
                w.commit(lsn + 20);
            }
            TimelineId point = TimelineId.generate();
            store.createTimeline(new TimelineMetadata(point, tenant, changed, lsn + 20, lsn + 20, 15, Instant.now()));
            System.out.printf("loaded and compacted in %.1f s: %d versions; stored %d B (before compression); load average %s%n",
                    (System.nanoTime() - t0) / 1e9, blocks * 10L, store.storedBytes(main), load());

            System.out.println("| round | reader | timeline (levels) | pages | wall µs/page | CPU µs/page | page cache hits | misses |");
            System.out.println("|---|---|---|---|---|---|---|---|");
            List<double[]> sums = new ArrayList<>();
            for (int round = 1; round <= rounds; round++) {
                for (String target : List.of("point", "main")) {
                    TimelineId tl = target.equals("point") ? point : main;
                    long readLsn = store.lastRecordLsn(tl); // as the page service resolves "latest"
                    for (String mode : modes) {
                        boolean keyOrder = mode.equals("keyOrder");
                        PageCacheStats before = store.pageCacheStats();
                        long c0 = threads.getCurrentThreadCpuTime();
                        long w0 = System.nanoTime();
                        long check = 0;
                        for (int first = 0; first < blocks; first += BATCH) {
                            int n = Math.min(BATCH, blocks - first);
                            Key[] keys = new Key[n + 1];
                            keys[0] = Key.relSize(REL);
                            for (int i = 0; i < n; i++) {
                                keys[i + 1] = Key.relBlock(REL, first + i);
                            }
                            try (PageStore.Reader r = store.reader(true, keyOrder)) {
                                PageStore.Version[] v = r.getVersions(tl, keys, readLsn);
                                for (int i = 1; i < v.length; i++) {
                                    check += v[i].value()[100];
                                }
                            }
                        }
                        long wall = System.nanoTime() - w0;
                        long cpu = threads.getCurrentThreadCpuTime() - c0;
                        PageCacheStats after = store.pageCacheStats();
                        System.out.printf("| %d | %s | %s (%d) | %d | %.1f | %.1f | %d | %d |   (check %d; load %s)%n", round, mode, target,
                                target.equals("point") ? 3 : 1, blocks, wall / 1e3 / blocks, cpu / 1e3 / blocks,
                                after.hits() - before.hits(), after.misses() - before.misses(), check, load());
                    }
                }
            }
        } finally {
            BenchDirectory.delete(dir);
        }
    }

    /** Writes the relation's history on {@code main}; returns the last LSN committed. */
    private static long load(PageStore store, TimelineId main, int blocks) {
        SplittableRandom rnd = new SplittableRandom(42);
        long lsn = 1000;
        byte[] pattern = new byte[32];
        TimelineWriter w = store.writer(main);
        try {
            for (int b = 0; b < blocks; b++) {
                byte[] page = new byte[8192];
                for (int j = 0; j < 32; j++) {
                    pattern[j] = (byte) ('a' + rnd.nextInt(16));
                }
                fillRow(page, 24, pattern, 200); // header and line pointers
                w.put(Key.relBlock(REL, b), ++lsn, page);
                for (int row = 0; row < 8; row++) { // a row of ~1000 bytes each
                    page = page.clone();
                    for (int j = 0; j < 32; j++) {
                        pattern[j] = (byte) ('a' + rnd.nextInt(16));
                    }
                    fillRow(page, 8192 - (row + 1) * 1000, pattern, 992);
                    page[24 + row * 4] = (byte) row;
                    w.put(Key.relBlock(REL, b), ++lsn, page);
                }
                page = page.clone(); // hint bits
                for (int row = 0; row < 8; row++) {
                    page[8192 - (row + 1) * 1000 + 20] |= 0x10;
                }
                w.put(Key.relBlock(REL, b), ++lsn, page);
                if ((b + 1) % 256 == 0 || b == blocks - 1) {
                    w.put(Key.relSize(REL), lsn, RelSizeCodec.size(b + 1, 1000));
                    w.commit(lsn);
                }
            }
        } finally {
            w.close();
        }
        return lsn;
    }

    private static void fillRow(byte[] page, int at, byte[] pattern, int length) {
        for (int i = 0; i < length; i++) {
            page[at + i] = pattern[i % pattern.length];
        }
    }

    private static String load() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (java.io.IOException e) {
            return "?";
        }
    }

    /** The relation size value as the store's REL_SIZE records hold it. */
    private static final class RelSizeCodec {
        static byte[] size(int nblocks, long createdLsn) {
            return new io.forkline.storage.key.RelSizeValue(nblocks, createdLsn).encode();
        }
    }
}
