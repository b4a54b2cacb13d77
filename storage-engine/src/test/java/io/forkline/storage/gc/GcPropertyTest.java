package io.forkline.storage.gc;

import io.forkline.storage.id.TenantId;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.key.Key;
import io.forkline.storage.key.RelTag;
import io.forkline.storage.store.PageStore;
import io.forkline.storage.store.TimelineWriter;
import io.forkline.storage.timeline.TimelineMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/**
 * Random histories against an in-memory model that keeps every version (no GC): after every GC
 * run, every protected read of every live timeline (retained LSNs, and every history LSN at or
 * above the applied cutoff and the timeline's start, plus the last record LSN) must return what
 * the model returns. Also checks that GC removed everything the shadowing rule allows (so a no-op
 * or timid GC fails) and that the removed count matches the on-disk version count.
 */
class GcPropertyTest {
    private static final int SEEDS = Integer.getInteger("forkline.gc.seeds", 200);
    private static final int OPS = 200;
    private static final int KEYS = 6;
    private static final int MAX_TIMELINES = 6;
    private static final RelTag REL = new RelTag(1663, 5, 16384, 0);

    @TempDir
    Path dir;

    /** The model of one timeline: every version ever written, never collected. */
    private static final class ModelTimeline {
        final TimelineId id;
        final ModelTimeline parent;
        final long ancestorLsn;
        final long start;
        long last;
        long appliedCutoff;
        final Map<Key, TreeMap<Long, byte[]>> versions = new HashMap<>();
        final List<Long> leases = new ArrayList<>();
        final List<ModelTimeline> children = new ArrayList<>();

        ModelTimeline(TimelineId id, ModelTimeline parent, long ancestorLsn, long start) {
            this.id = id;
            this.parent = parent;
            this.ancestorLsn = ancestorLsn;
            this.start = start;
            this.last = start;
        }
    }

    private static byte[] model(ModelTimeline t, Key key, long lsn) {
        while (t != null) {
            TreeMap<Long, byte[]> vs = t.versions.get(key);
            Map.Entry<Long, byte[]> e = vs == null ? null : vs.floorEntry(lsn);
            if (e != null) {
                return e.getValue().length == 0 ? null : e.getValue();
            }
            if (t.parent == null) {
                return null;
            }
            lsn = Math.min(lsn, t.ancestorLsn);
            t = t.parent;
        }
        return null;
    }

    private static final Key[] KEY_SPACE = new Key[KEYS];

    static {
        for (int i = 0; i < KEYS; i++) {
            KEY_SPACE[i] = Key.relBlock(REL, i);
        }
    }

    @Test
    void protectedReadsAreUnchangedByGc() throws Exception {
        int seedsThatRemoved = 0;
        long totalRemoved = 0;
        long totalTombstonesRemoved = 0;
        long totalRefusedBranches = 0;
        long gcRuns = 0;
        long totalDeltas = 0;
        long totalBasesKept = 0;
        {
            for (int seed = 1; seed <= SEEDS; seed++) {
                // one store per seed: range tombstones of deleteTimeline piling up in one memtable
                // would slow every read down
                SeedStats st = runSeed(dir.resolve("seed-" + seed), seed);
                totalRemoved += st.removed;
                totalTombstonesRemoved += st.tombstonesRemoved;
                totalRefusedBranches += st.refusedBranches;
                gcRuns += st.gcRuns;
                totalDeltas += st.deltas;
                totalBasesKept += st.basesKept;
                if (st.removed > 0) {
                    seedsThatRemoved++;
                }
            }
        }
        assertThat(seedsThatRemoved).as("seeds in which GC removed something").isGreaterThanOrEqualTo(SEEDS * 9 / 10);
        assertThat(totalTombstonesRemoved).isPositive();
        assertThat(totalRefusedBranches).as("branches refused below an applied cutoff").isPositive();
        assertThat(totalRemoved).isPositive();
        assertThat(totalDeltas).as("page versions stored as deltas").isGreaterThan(SEEDS * 5L);
        assertThat(totalBasesKept).as("full images GC kept only as the base of a kept delta").isPositive();
        assertThat(gcRuns).isGreaterThan(SEEDS * 12L);
    }

    /**
     * An 8192-byte page: {@code current} (when it is one) with 1-3 small runs changed, so that the
     * writer stores it as a delta; else a new page of zeros with a few random bytes.
     */
    private static byte[] page(Random rnd, byte[] current) {
        byte[] p = current != null && current.length == 8192 ? current.clone() : new byte[8192];
        int runs = 1 + rnd.nextInt(3);
        for (int r = 0; r < runs; r++) {
            int len = 1 + rnd.nextInt(50);
            int at = rnd.nextInt(8192 - len);
            for (int i = at; i < at + len; i++) {
                p[i] = (byte) (p[i] + 1 + rnd.nextInt(255));
            }
        }
        return p;
    }

    private static final class SeedStats {
        long deltas;
        long basesKept;
        long removed;
        long tombstonesRemoved;
        long refusedBranches;
        long gcRuns;
    }

    /** The store of the running seed (replaced by a reopen). */
    private PageStore store;

    private SeedStats runSeed(Path storeDir, int seed) throws Exception {
        store = PageStore.open(storeDir);
        try {
            return runOps(storeDir, seed);
        } finally {
            store.close();
        }
    }

    private SeedStats runOps(Path storeDir, int seed) throws Exception {
        Random rnd = new Random(seed);
        TenantId tenant = new TenantId("seed-" + seed);
        SeedStats st = new SeedStats();
        List<ModelTimeline> live = new ArrayList<>();
        TreeSet<Long> historyLsns = new TreeSet<>();
        ModelTimeline root = new ModelTimeline(TimelineId.generate(), null, 0, 100);
        store.createTimeline(new TimelineMetadata(root.id, tenant, null, 0, root.start, 15, Instant.now()));
        live.add(root);
        historyLsns.add(root.start);
        GarbageCollector gc = new GarbageCollector(1 + rnd.nextInt(8), Duration.ZERO);
        int counter = 0;
        for (int op = 0; op < OPS; op++) {
            int dice = rnd.nextInt(100);
            ModelTimeline t = live.get(rnd.nextInt(live.size()));
            String ctx = "seed " + seed + " op " + op;
            if (op == OPS / 2 && seed % 10 == 0) {
                // cutoffs, versions and timelines survive a reopen
                store.close();
                store = PageStore.open(storeDir);
                for (ModelTimeline m : live) {
                    assertThat(store.gcCutoff(m.id)).as(ctx).isEqualTo(m.appliedCutoff);
                    verifyProtectedReads(store, m, historyLsns, ctx + " after reopen");
                }
            }
            if (dice < 50) {
                // a commit of 1..3 versions at one new LSN
                long lsn = t.last + 1 + rnd.nextInt(10);
                try (TimelineWriter w = store.writer(t.id)) {
                    int n = 1 + rnd.nextInt(3);
                    for (int i = 0; i < n; i++) {
                        Key key = KEY_SPACE[rnd.nextInt(KEYS)];
                        int kind = rnd.nextInt(5);
                        byte[] value = kind == 0 ? new byte[0]
                                : kind <= 2 ? ByteBuffer.allocate(8).putInt(seed).putInt(++counter).array()
                                : page(rnd, model(t, key, lsn));
                        w.put(key, lsn, value);
                        t.versions.computeIfAbsent(key, k -> new TreeMap<>()).put(lsn, value);
                    }
                    w.commit(lsn);
                    st.deltas += w.deltasWritten();
                }
                t.last = lsn;
                historyLsns.add(lsn);
            } else if (dice < 60) {
                if (live.size() >= MAX_TIMELINES) {
                    continue;
                }
                // mostly within the timeline's history; sometimes ahead of its last record LSN
                long at = rnd.nextInt(4) == 0 ? t.last + 1 + rnd.nextInt(20)
                        : t.start + (long) rnd.nextInt((int) (t.last - t.start + 1));
                TimelineId id = TimelineId.generate();
                TimelineMetadata md = new TimelineMetadata(id, tenant, t.id, at, at, 15, Instant.now());
                if (at < t.appliedCutoff) {
                    PageStore s = store;
                    assertThatThrownBy(() -> s.createTimeline(md)).as(ctx)
                            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("GC cutoff");
                    st.refusedBranches++;
                    continue;
                }
                store.createTimeline(md);
                ModelTimeline child = new ModelTimeline(id, t, at, at);
                t.children.add(child);
                live.add(child);
                historyLsns.add(at);
            } else if (dice < 68) {
                // a lease or a backup: a retained LSN at or above what GC already applied
                long from = Math.max(t.start, t.appliedCutoff);
                t.leases.add(from + (long) rnd.nextInt((int) (t.last - from + 1)));
            } else if (dice < 72) {
                if (!t.leases.isEmpty()) { // a lease expires
                    t.leases.remove(rnd.nextInt(t.leases.size()));
                }
            } else if (dice < 75) {
                if (t.children.isEmpty() && live.size() > 1) {
                    store.deleteTimeline(t.id);
                    live.remove(t);
                    if (t.parent != null) {
                        t.parent.children.remove(t);
                    }
                }
            } else if (dice < 82) {
                long cutoff = rnd.nextBoolean() ? t.start + (long) rnd.nextInt((int) (t.last - t.start + 1))
                        : Math.max(t.start, t.last - rnd.nextInt(15));
                collectAndVerify(store, gc, t, cutoff, historyLsns, st, ctx);
            }
            // else: a read-only step
        }
        for (ModelTimeline t : new ArrayList<>(live)) {
            collectAndVerify(store, gc, t, t.last, historyLsns, st, "seed " + seed + " final");
        }
        for (ModelTimeline m : live) {
            verifyProtectedReads(store, m, historyLsns, "seed " + seed + " end");
        }
        return st;
    }

    /**
     * Collects {@code t} and checks it and its descendants: only their reads can reach the
     * versions of {@code t} (every live timeline is checked again at the end of the seed).
     */
    private static void collectAndVerify(PageStore store, GarbageCollector gc, ModelTimeline t, long cutoff,
                                         TreeSet<Long> historyLsns, SeedStats st, String ctx) throws Exception {
        long before = countVersions(store, t.id);
        GcResult r = gc.collect(store, t.id, cutoff, t.leases);
        st.gcRuns++;
        st.removed += r.versionsRemoved();
        st.tombstonesRemoved += r.tombstonesRemoved();
        t.appliedCutoff = Math.max(t.appliedCutoff, cutoff);
        assertThat(r.appliedCutoffLsn()).as(ctx).isEqualTo(t.appliedCutoff);
        assertThat(store.gcCutoff(t.id)).as(ctx).isEqualTo(t.appliedCutoff);
        assertThat(r.versionsExamined()).as(ctx).isEqualTo(before);
        assertThat(countVersions(store, t.id)).as(ctx + ": versions on disk after GC")
                .isEqualTo(before - r.versionsRemoved());
        assertThat(store.storedBytes(t.id)).as(ctx + ": stored-bytes counter after GC")
                .isEqualTo(scannedBytes(store, t.id));
        st.basesKept += assertNothingShadowedLeft(store, t, cutoff, ctx);
        verifySubtree(store, t, historyLsns, ctx + " after GC of " + t.id + " at " + cutoff);
    }

    private static void verifySubtree(PageStore store, ModelTimeline t, TreeSet<Long> historyLsns, String ctx) {
        verifyProtectedReads(store, t, historyLsns, ctx);
        for (ModelTimeline c : t.children) {
            verifySubtree(store, c, historyLsns, ctx);
        }
    }

    /** Every LSN whose read of {@code t} must be exact. */
    private static TreeSet<Long> protectedLsns(ModelTimeline t, TreeSet<Long> historyLsns) {
        long from = Math.max(t.start, t.appliedCutoff);
        TreeSet<Long> lsns = new TreeSet<>(historyLsns.subSet(from, true, t.last, true));
        lsns.add(from);
        lsns.add(t.last);
        lsns.add(t.last + 1000);
        lsns.addAll(t.leases);
        for (ModelTimeline c : t.children) {
            lsns.add(c.ancestorLsn);
        }
        return lsns;
    }

    private static void verifyProtectedReads(PageStore store, ModelTimeline t, TreeSet<Long> historyLsns, String ctx) {
        for (long lsn : protectedLsns(t, historyLsns)) {
            for (Key key : KEY_SPACE) {
                byte[] expected = model(t, key, lsn);
                byte[] actual = store.get(t.id, key, lsn);
                if (!Arrays.equals(expected, actual)) {
                    fail(ctx + ": timeline " + t.id + " " + key + " at " + lsn + " (applied cutoff "
                            + t.appliedCutoff + ", start " + t.start + "): expected " + Arrays.toString(expected)
                            + " but GC'd store returned " + Arrays.toString(actual));
                }
            }
        }
    }

    /**
     * Completeness: after collecting {@code t} at {@code cutoff}, no stored version may have its
     * successor at or below the cutoff unless some retained LSN lies in {@code [lsn, successor)}
     * or it is the base of a stored delta (which GC must keep).
     *
     * @return how many versions were kept only as a delta's base
     */
    private static int assertNothingShadowedLeft(PageStore store, ModelTimeline t, long cutoff, String ctx) {
        TreeSet<Long> retained = new TreeSet<>(t.leases);
        addBranchPoints(t, Long.MAX_VALUE, retained);
        Map<Key, List<Long>> stored = new TreeMap<>();
        Map<Key, TreeSet<Long>> bases = new HashMap<>();
        store.forEachStoredVersion(t.id, null, (k, lsn, len, base) -> {
            stored.computeIfAbsent(k, x -> new ArrayList<>()).add(lsn);
            if (base != PageStore.NO_BASE) {
                bases.computeIfAbsent(k, x -> new TreeSet<>()).add(base);
            }
            return true;
        });
        int basesKept = 0;
        for (Map.Entry<Key, List<Long>> e : stored.entrySet()) {
            List<Long> lsns = e.getValue();
            TreeSet<Long> keyBases = bases.getOrDefault(e.getKey(), new TreeSet<>());
            assertThat(lsns).as("%s: every base of a stored delta of %s is stored", ctx, e.getKey())
                    .containsAll(keyBases);
            for (int i = 0; i + 1 < lsns.size(); i++) {
                long lsn = lsns.get(i);
                long next = lsns.get(i + 1);
                Long r = retained.ceiling(lsn);
                boolean needed = next > cutoff || (r != null && r < next);
                if (!needed && keyBases.contains(lsn)) {
                    basesKept++;
                    continue;
                }
                assertThat(needed).as("%s: %s at %d (next %d) survived GC at %d with retained %s", ctx, e.getKey(),
                        lsn, next, cutoff, retained).isTrue();
            }
        }
        return basesKept;
    }

    private static void addBranchPoints(ModelTimeline t, long bound, TreeSet<Long> out) {
        for (ModelTimeline c : t.children) {
            long at = Math.min(bound, c.ancestorLsn);
            out.add(at);
            addBranchPoints(c, at, out);
        }
    }

    /** Key (42 B) + value bytes of the timeline's versions, by a scan: what {@link PageStore#storedBytes} counts. */
    private static long scannedBytes(PageStore store, TimelineId id) {
        long[] n = new long[1];
        store.forEachVersion(id, null, (k, lsn, len) -> {
            n[0] += 42 + len;
            return true;
        });
        return n[0];
    }

    private static long countVersions(PageStore store, TimelineId id) {
        long[] n = new long[1];
        store.forEachVersion(id, null, (k, lsn, len) -> {
            n[0]++;
            return true;
        });
        return n[0];
    }
}
