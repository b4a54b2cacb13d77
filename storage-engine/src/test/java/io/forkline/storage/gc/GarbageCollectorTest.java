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

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GarbageCollectorTest {
    private static final TenantId T = new TenantId("t");
    private static final RelTag REL = new RelTag(1663, 5, 16384, 0);
    private static final Key A = Key.relBlock(REL, 0);
    private static final Key B = Key.relBlock(REL, 1);
    private static final GarbageCollector GC = new GarbageCollector();

    @TempDir
    Path dir;

    private static byte[] v(int x) {
        return new byte[]{(byte) x, 0, 0};
    }

    private static TimelineId root(PageStore s, long start) {
        TimelineId id = TimelineId.generate();
        s.createTimeline(new TimelineMetadata(id, T, null, 0, start, 15, Instant.now()));
        return id;
    }

    private static TimelineId branch(PageStore s, TimelineId parent, long at) {
        TimelineId id = TimelineId.generate();
        s.createTimeline(new TimelineMetadata(id, T, parent, at, at, 15, Instant.now()));
        return id;
    }

    /** Writes each (lsn, value) of {@code key}; value {@code null} = tombstone; one commit per LSN. */
    private static void write(PageStore s, TimelineId tl, Key key, Object... lsnValue) {
        try (TimelineWriter w = s.writer(tl)) {
            for (int i = 0; i < lsnValue.length; i += 2) {
                long lsn = ((Number) lsnValue[i]).longValue();
                Integer val = (Integer) lsnValue[i + 1];
                if (val == null) {
                    w.delete(key, lsn);
                } else {
                    w.put(key, lsn, v(val));
                }
                w.commit(Math.max(lsn, s.lastRecordLsn(tl)));
            }
        }
    }

    private static void commitTo(PageStore s, TimelineId tl, long lsn) {
        try (TimelineWriter w = s.writer(tl)) {
            w.commit(lsn);
        }
    }

    /** Version LSNs of {@code key} stored on the timeline itself. */
    private static List<Long> stored(PageStore s, TimelineId tl, Key key) {
        List<Long> out = new ArrayList<>();
        s.forEachVersion(tl, key, (k, lsn, len) -> {
            if (!k.equals(key)) {
                return false;
            }
            out.add(lsn);
            return true;
        });
        return out;
    }

    private static Map<Long, String> reads(PageStore s, TimelineId tl, Key key, long... lsns) {
        Map<Long, String> out = new TreeMap<>();
        for (long l : lsns) {
            out.put(l, java.util.Arrays.toString(s.get(tl, key, l)));
        }
        return out;
    }

    @Test
    void removesVersionsShadowedAtOrBelowTheCutoffAndNothingAtOrAboveIt() throws Exception {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId tl = root(s, 5);
            write(s, tl, A, 10, 1, 20, 2, 30, 3, 40, 4);
            commitTo(s, tl, 50);
            Map<Long, String> before = reads(s, tl, A, 30, 35, 40, 50, Long.MAX_VALUE);

            GcResult r = GC.collect(s, tl, 35, List.of());

            assertThat(stored(s, tl, A)).containsExactly(30L, 40L);
            assertThat(reads(s, tl, A, 30, 35, 40, 50, Long.MAX_VALUE)).isEqualTo(before);
            assertThat(r.versionsExamined()).isEqualTo(4);
            assertThat(r.versionsRemoved()).isEqualTo(2);
            assertThat(r.tombstonesRemoved()).isZero();
            assertThat(r.bytesRemoved()).isEqualTo(2L * (42 + 3));
            assertThat(r.batches()).isEqualTo(1);
            assertThat(r.appliedCutoffLsn()).isEqualTo(35);
            assertThat(s.gcCutoff(tl)).isEqualTo(35);

            // cutoff exactly at a version: that version is the newest at or below it and stays
            GcResult r2 = GC.collect(s, tl, 40, List.of());
            assertThat(r2.versionsRemoved()).isEqualTo(1);
            assertThat(stored(s, tl, A)).containsExactly(40L);
            assertThat(s.get(tl, A, 40)).containsExactly(v(4));
        }
    }

    @Test
    void childBranchPointRetainsTheNewestVersionAtOrBelowIt() throws Exception {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId parent = root(s, 5);
            write(s, parent, A, 10, 1, 20, 2, 30, 3, 40, 4);
            commitTo(s, parent, 50);
            TimelineId child = branch(s, parent, 25);
            write(s, child, B, 60, 9);

            GcResult r = GC.collect(s, parent, 45, List.of());

            assertThat(r.retainedLsns()).containsExactly(25L);
            assertThat(stored(s, parent, A)).containsExactly(20L, 40L);
            assertThat(s.get(child, A, 25)).containsExactly(v(2));
            assertThat(s.get(child, A, 1000)).containsExactly(v(2));
            assertThat(s.get(parent, A, 45)).containsExactly(v(4));
        }
    }

    @Test
    void deeperDescendantsRetainTheSmallestBranchPointOnTheirPath() {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId parent = root(s, 5);
            commitTo(s, parent, 100);
            TimelineId child = branch(s, parent, 35);
            commitTo(s, child, 80);
            branch(s, child, 60); // its reads reach the parent at min(60, 35)
            // below the child's start LSN: refused, so no descendant's read reaches below a branch point
            assertThatThrownBy(() -> branch(s, child, 30)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("0/1E").hasMessageContaining("0/23").hasMessageContaining("start LSN");
            assertThat(RetainedLsns.of(s, parent, List.of(70L))).containsExactly(35, 70);
            assertThat(RetainedLsns.of(s, child, List.of())).containsExactly(60);
        }
    }

    @Test
    void leasesAndBackupsRetainTheirVersions() throws Exception {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId tl = root(s, 5);
            write(s, tl, A, 10, 1, 20, 2, 30, 3, 40, 4);
            commitTo(s, tl, 50);

            GcResult r = GC.collect(s, tl, 45, List.of(15L, 39L));

            assertThat(stored(s, tl, A)).containsExactly(10L, 30L, 40L);
            assertThat(s.get(tl, A, 15)).containsExactly(v(1));
            assertThat(s.get(tl, A, 39)).containsExactly(v(3));
            assertThat(r.versionsRemoved()).isEqualTo(1);
        }
    }

    @Test
    void shadowedTombstonesAreRemovedLikeAnyVersion() throws Exception {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId tl = root(s, 5);
            write(s, tl, A, 10, 1, 20, null, 30, 3);
            commitTo(s, tl, 50);
            GcResult r = GC.collect(s, tl, 40, List.of());
            assertThat(stored(s, tl, A)).containsExactly(30L);
            assertThat(r.tombstonesRemoved()).isEqualTo(1);
            assertThat(r.bytesRemoved()).isEqualTo(42 + 3 + 42);
        }
    }

    @Test
    void leadingTombstoneOfARootTimelineIsRemovedOnceNothingOlderRemains() throws Exception {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId tl = root(s, 5);
            write(s, tl, A, 10, 1, 20, null);
            write(s, tl, B, 10, 1, 20, null);
            commitTo(s, tl, 50);

            // a lease at 15 keeps A@10, so the tombstone at 20 must stay for reads at >= 20
            GC.collect(s, tl, 25, List.of(15L));
            assertThat(stored(s, tl, A)).containsExactly(10L, 20L);
            assertThat(s.get(tl, A, 15)).containsExactly(v(1));
            assertThat(s.get(tl, A, 25)).isNull();

            GcResult r = GC.collect(s, tl, 25, List.of());
            assertThat(stored(s, tl, A)).isEmpty();
            assertThat(stored(s, tl, B)).isEmpty();
            assertThat(r.versionsRemoved()).isEqualTo(4);
            assertThat(r.tombstonesRemoved()).isEqualTo(2);
            assertThat(s.get(tl, A, 25)).isNull();
            assertThat(s.get(tl, A, 50)).isNull();
        }
    }

    @Test
    void tombstoneAtTheCutoffIsKept() throws Exception {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId tl = root(s, 5);
            write(s, tl, A, 10, 1, 20, null);
            commitTo(s, tl, 50);
            GC.collect(s, tl, 20, List.of());
            assertThat(stored(s, tl, A)).containsExactly(20L);
            assertThat(s.get(tl, A, 20)).isNull();
        }
    }

    @Test
    void childTombstoneHidingAnAncestorVersionIsKept() throws Exception {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId parent = root(s, 5);
            write(s, parent, A, 10, 1);
            commitTo(s, parent, 50);
            TimelineId child = branch(s, parent, 50);
            write(s, child, A, 60, 6, 65, null);
            commitTo(s, child, 100);

            GcResult r = GC.collect(s, child, 90, List.of());

            assertThat(stored(s, child, A)).containsExactly(65L);
            assertThat(r.tombstonesRemoved()).isZero();
            assertThat(s.get(child, A, 90)).isNull();
            assertThat(s.get(child, A, 100)).isNull();
        }
    }

    @Test
    void childTombstoneIsRemovedWhenTheAncestorHasNothingAtTheBranchPoint() throws Exception {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId parent = root(s, 5);
            write(s, parent, B, 10, 1, 20, null); // B: deleted on the parent before the branch point
            commitTo(s, parent, 50);
            TimelineId child = branch(s, parent, 50);
            write(s, child, A, 60, 6, 65, null);
            write(s, child, B, 60, 6, 65, null);
            write(s, parent, A, 70, 7); // after the branch point: not visible to the child
            commitTo(s, child, 100);

            GcResult r = GC.collect(s, child, 90, List.of());

            assertThat(stored(s, child, A)).isEmpty();
            assertThat(stored(s, child, B)).isEmpty();
            assertThat(r.tombstonesRemoved()).isEqualTo(2);
            assertThat(s.get(child, A, 100)).isNull();
            assertThat(s.get(child, B, 100)).isNull();
        }
    }

    @Test
    void childTombstoneIsKeptWhileTheAncestorCanStillWriteBelowTheBranchPoint() throws Exception {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId parent = root(s, 5);
            commitTo(s, parent, 40);
            TimelineId child = branch(s, parent, 50); // branch point above the parent's last record LSN
            write(s, child, A, 60, 6, 65, null);
            commitTo(s, child, 100);

            GC.collect(s, child, 90, List.of());
            assertThat(stored(s, child, A)).containsExactly(65L);

            write(s, parent, A, 45, 4); // lands below the branch point: the child's tombstone hides it
            assertThat(s.get(child, A, 100)).isNull();
        }
    }

    @Test
    void appliedCutoffIsDurableMonotonicAndRefusesBranchesBelowIt() throws Exception {
        TimelineId tl;
        try (PageStore s = PageStore.open(dir)) {
            tl = root(s, 5);
            assertThat(s.gcCutoff(tl)).isZero();
            write(s, tl, A, 10, 1, 20, 2, 30, 3);
            commitTo(s, tl, 50);
            GC.collect(s, tl, 35, List.of());
        }
        try (PageStore s = PageStore.open(dir)) {
            assertThat(s.gcCutoff(tl)).isEqualTo(35);
            GcResult r = GC.collect(s, tl, 25, List.of());
            assertThat(r.cutoffLsn()).isEqualTo(25);
            assertThat(r.appliedCutoffLsn()).isEqualTo(35);
            assertThat(s.gcCutoff(tl)).isEqualTo(35);
            TimelineId id = TimelineId.generate();
            assertThatThrownBy(() -> s.createTimeline(new TimelineMetadata(id, T, tl, 34, 34, 15, Instant.now())))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("0/22") // 34
                    .hasMessageContaining("0/23") // 35
                    .hasMessageContaining(tl.toString());
            assertThat(s.timeline(id)).isNull();
            TimelineId ok = branch(s, tl, 35);
            assertThat(s.get(ok, A, 35)).containsExactly(v(3));
            s.deleteTimeline(ok);
        }
        try (PageStore s = PageStore.open(dir)) {
            assertThat(s.gcCutoff(tl)).isEqualTo(35);
        }
    }

    @Test
    void refusesCutoffAboveLastRecordLsnAndDeletesAtOrAboveTheAppliedCutoff() {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId tl = root(s, 5);
            write(s, tl, A, 10, 1, 20, 2);
            assertThatThrownBy(() -> GC.collect(s, tl, 21, List.of()))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("0/15").hasMessageContaining("0/14");
            assertThat(s.gcCutoff(tl)).isZero();
            s.advanceGcCutoff(tl, 15);
            assertThatThrownBy(() -> s.deleteVersionsBelowGcCutoff(tl, List.of(new PageStore.VersionRef(A, 10),
                    new PageStore.VersionRef(A, 20))))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0/14");
            assertThat(stored(s, tl, A)).containsExactly(10L, 20L);
            assertThatThrownBy(() -> GC.collect(s, TimelineId.generate(), 1, List.of()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not exist");
            assertThatThrownBy(() -> new GarbageCollector(0, Duration.ZERO))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0");
        }
    }

    @Test
    void deletesInBoundedBatches() throws Exception {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId tl = root(s, 5);
            try (TimelineWriter w = s.writer(tl)) {
                for (int blk = 0; blk < 25; blk++) {
                    for (int lsn = 10; lsn <= 30; lsn += 10) {
                        w.put(Key.relBlock(REL, blk), lsn, v(blk));
                    }
                }
                w.commit(40);
            }
            Key longKey = Key.relBlock(REL, 1000);
            try (TimelineWriter w = s.writer(tl)) {
                for (int lsn = 41; lsn <= 64; lsn++) {
                    w.put(longKey, lsn, v(lsn));
                }
                w.commit(64);
            }
            GcResult r = new GarbageCollector(10, Duration.ofMillis(1)).collect(s, tl, 64, List.of());
            assertThat(r.versionsRemoved()).isEqualTo(25 * 2 + 23);
            assertThat(r.batches()).isEqualTo(8); // 73 deletes, at most 10 per batch
            for (int blk = 0; blk < 25; blk++) {
                assertThat(stored(s, tl, Key.relBlock(REL, blk))).containsExactly(30L);
                assertThat(s.get(tl, Key.relBlock(REL, blk), 64)).containsExactly(v(blk));
            }
            assertThat(stored(s, tl, longKey)).containsExactly(64L);
        }
    }

    @Test
    void concurrentIngestAboveTheCutoffIsUntouched() throws Exception {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId tl = root(s, 5);
            int keys = 50;
            try (TimelineWriter w = s.writer(tl)) {
                for (int lsn = 10; lsn <= 200; lsn += 10) {
                    for (int k = 0; k < keys; k++) {
                        w.put(Key.relBlock(REL, k), lsn, v(lsn));
                    }
                    w.commit(lsn);
                }
            }
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread writer = new Thread(() -> {
                try (TimelineWriter w = s.writer(tl)) {
                    for (int lsn = 201; lsn <= 400; lsn++) {
                        w.put(Key.relBlock(REL, lsn % keys), lsn, v(lsn));
                        w.commit(lsn);
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            writer.start();
            GcResult r = new GarbageCollector(20, Duration.ZERO).collect(s, tl, 150, List.of());
            writer.join();
            assertThat(failure.get()).isNull();
            assertThat(r.versionsRemoved()).isEqualTo(keys * 14L);
            for (int k = 0; k < keys; k++) {
                Key key = Key.relBlock(REL, k);
                assertThat(s.get(tl, key, 150)).containsExactly(v(150));
                assertThat(s.get(tl, key, 200)).containsExactly(v(200));
                for (int lsn = 201; lsn <= 400; lsn++) {
                    int newest = lsn - Math.floorMod(lsn - k, keys);
                    byte[] expected = newest > 200 ? v(newest) : v(200);
                    assertThat(s.get(tl, key, lsn)).as("%s at %d", key, lsn).containsExactly(expected);
                }
            }
        }
    }

    /** An 8192-byte page of zeros with {@code x} at offset {@code at}. */
    private static byte[] page(int at, int x) {
        byte[] p = new byte[8192];
        p[at] = (byte) x;
        return p;
    }

    @Test
    void keepsTheBaseOfEveryKeptDelta() throws Exception {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId tl = root(s, 5);
            byte[] p10 = page(0, 1);
            byte[] p20 = p10.clone();
            p20[100] = 2;
            byte[] p30 = p20.clone();
            p30[200] = 3;
            byte[] p40 = p30.clone();
            p40[300] = 4;
            try (TimelineWriter w = s.writer(tl)) {
                w.put(A, 10, p10);
                w.put(A, 20, p20);
                w.put(A, 30, p30);
                w.put(A, 40, p40);
                w.commit(60);
                assertThat(w.deltasWritten()).isEqualTo(3);
            }
            List<Long> bases = new ArrayList<>();
            s.forEachStoredVersion(tl, null, (k, lsn, len, base) -> bases.add(base));
            assertThat(bases).containsExactly(PageStore.NO_BASE, 10L, 10L, 10L);

            // 20 is shadowed; 10 is too, but the kept delta at 30 is rebuilt from it
            GcResult r = GC.collect(s, tl, 35, List.of());
            assertThat(stored(s, tl, A)).containsExactly(10L, 30L, 40L);
            assertThat(r.versionsRemoved()).isEqualTo(1);
            assertThat(s.get(tl, A, 35)).isEqualTo(p30);
            assertThat(s.get(tl, A, 45)).isEqualTo(p40);

            GcResult r2 = GC.collect(s, tl, 40, List.of());
            assertThat(r2.versionsRemoved()).isEqualTo(1);
            assertThat(stored(s, tl, A)).containsExactly(10L, 40L);
            assertThat(s.get(tl, A, 40)).isEqualTo(p40);
            assertThat(s.storedBytes(tl)).isEqualTo(2 * 42 + 8192 + (12 + 3 * 3));

            // a new full image (a page unlike the base) frees the old base and delta
            byte[] p50 = new byte[8192];
            java.util.Arrays.fill(p50, (byte) 7);
            try (TimelineWriter w = s.writer(tl)) {
                w.put(A, 70, p50);
                w.commit(70);
                assertThat(w.fullImagesWritten()).isEqualTo(1);
            }
            GC.collect(s, tl, 70, List.of());
            assertThat(stored(s, tl, A)).containsExactly(70L);
            assertThat(s.get(tl, A, 70)).isEqualTo(p50);
        }
    }

    @Test
    void gcBesideAWriterOfDeltasNeverLosesABase() throws Exception {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId tl = root(s, 5);
            int keys = 3;
            int last = 600;
            byte[][][] expected = new byte[keys][last + 1][];
            byte[][] current = new byte[keys][];
            for (int k = 0; k < keys; k++) {
                current[k] = page(0, k);
            }
            for (int lsn = 10; lsn <= last; lsn++) { // one version per LSN, round robin, small changes
                int k = lsn % keys;
                current[k] = current[k].clone();
                current[k][8 + (lsn * 37) % 8000] ^= (byte) lsn;
                expected[k][lsn] = current[k];
            }
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread writer = new Thread(() -> {
                try (TimelineWriter w = s.writer(tl)) {
                    for (int lsn = 10; lsn <= last; lsn++) {
                        w.put(Key.relBlock(REL, lsn % keys), lsn, expected[lsn % keys][lsn]);
                        if (lsn % 2 == 0) {
                            w.commit(lsn);
                        }
                    }
                    w.commit(last);
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            writer.start();
            int runs = 0;
            while (writer.isAlive()) {
                GC.collect(s, tl, Math.max(5, s.lastRecordLsn(tl) - 20), List.of());
                runs++;
            }
            writer.join();
            assertThat(failure.get()).isNull();
            GC.collect(s, tl, last - 20, List.of());
            assertThat(runs).isPositive();
            assertThat(s.gcCutoff(tl)).isEqualTo(last - 20);
            for (int k = 0; k < keys; k++) {
                Key key = Key.relBlock(REL, k);
                for (int lsn = last - 20; lsn <= last + 10; lsn++) {
                    int newest = Math.min(lsn, last) - Math.floorMod(Math.min(lsn, last) - k, keys);
                    assertThat(s.get(tl, key, lsn)).as("%s at %d", key, lsn).isEqualTo(expected[k][newest]);
                }
            }
        }
    }
}
