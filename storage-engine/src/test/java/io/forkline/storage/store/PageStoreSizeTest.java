package io.forkline.storage.store;

import io.forkline.storage.id.TenantId;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.key.Key;
import io.forkline.storage.key.RelTag;
import io.forkline.storage.timeline.TimelineMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link PageStore#storedBytes}, {@link PageStore#physicalSize} and the {@link PageStore.ReadListener}. */
class PageStoreSizeTest {
    private static final TenantId T = new TenantId("t");
    private static final RelTag REL = new RelTag(1663, 5, 16384, 0);
    private static final int KEY_BYTES = 42;

    @TempDir
    Path dir;

    private static TimelineMetadata root(TimelineId id) {
        return new TimelineMetadata(id, T, null, 0, 100, 15, Instant.now());
    }

    /** Incompressible 8 KiB pages, so that RocksDB's LZ4 does not shrink them. */
    private static byte[] page(Random rnd) {
        byte[] b = new byte[8192];
        rnd.nextBytes(b);
        return b;
    }

    @Test
    void storedBytesCountsEachVersionOnceAndSurvivesReopen() {
        TimelineId tl = TimelineId.generate();
        try (PageStore s = PageStore.open(dir)) {
            s.createTimeline(root(tl));
            assertThat(s.storedBytes(tl)).isZero();
            try (TimelineWriter w = s.writer(tl)) {
                w.put(Key.relBlock(REL, 0), 200, new byte[100]);
                w.put(Key.relBlock(REL, 0), 200, new byte[30]); // same (key, LSN) again: replaces, counts once
                w.put(Key.relBlock(REL, 0), 300, new byte[50]);
                w.delete(Key.relBlock(REL, 1), 300);
                w.commit(300);
            }
            assertThat(s.storedBytes(tl)).isEqualTo((KEY_BYTES + 30) + (KEY_BYTES + 50) + KEY_BYTES);
            long[] scanned = new long[1];
            s.forEachVersion(tl, null, (k, lsn, len) -> {
                scanned[0] += KEY_BYTES + len;
                return true;
            });
            assertThat(s.storedBytes(tl)).isEqualTo(scanned[0]);
        }
        try (PageStore s = PageStore.open(dir)) {
            assertThat(s.storedBytes(tl)).isEqualTo((KEY_BYTES + 30) + (KEY_BYTES + 50) + KEY_BYTES);
        }
    }

    @Test
    void gcDeletesSubtractFromStoredBytes() {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId tl = TimelineId.generate();
            s.createTimeline(root(tl));
            try (TimelineWriter w = s.writer(tl)) {
                w.put(Key.relBlock(REL, 0), 200, new byte[1000]);
                w.put(Key.relBlock(REL, 1), 200, new byte[500]);
                w.put(Key.relBlock(REL, 0), 300, new byte[10]);
                w.commit(300);
            }
            long before = s.storedBytes(tl);
            s.advanceGcCutoff(tl, 250);
            // one ref with a known length, one the store looks up
            s.deleteVersionsBelowGcCutoff(tl, List.of(new PageStore.VersionRef(Key.relBlock(REL, 0), 200, 1000)));
            assertThat(s.storedBytes(tl)).isEqualTo(before - (KEY_BYTES + 1000));
            s.deleteVersionsBelowGcCutoff(tl, List.of(new PageStore.VersionRef(Key.relBlock(REL, 1), 200)));
            assertThat(s.storedBytes(tl)).isEqualTo(KEY_BYTES + 10);
        }
    }

    @Test
    void physicalSizeCoversOnlyTheTimelinesOwnVersions() {
        try (PageStore s = PageStore.open(dir)) {
            Random rnd = new Random(42);
            TimelineId parent = TimelineId.generate();
            s.createTimeline(root(parent));
            try (TimelineWriter w = s.writer(parent)) {
                for (int b = 0; b < 1000; b++) { // ~8 MB
                    w.put(Key.relBlock(REL, b), 200, page(rnd));
                }
                w.commit(200);
            }
            TimelineId child = TimelineId.generate();
            s.createTimeline(new TimelineMetadata(child, T, parent, 200, 200, 15, Instant.now()));
            long parentSize = s.physicalSize(parent);
            assertThat(parentSize).isBetween(6_000_000L, 12_000_000L);
            assertThat(s.physicalSize(child)).isLessThan(100_000L);
            try (TimelineWriter w = s.writer(child)) {
                for (int b = 0; b < 250; b++) { // ~2 MB
                    w.put(Key.relBlock(REL, b), 300, page(rnd));
                }
                w.commit(300);
            }
            assertThat(s.physicalSize(child)).isBetween(1_500_000L, 3_000_000L);
            // memtable estimates are rough (sampled): the parent's stays ~8 MB, it does not take the child's 2 MB on
            assertThat(s.physicalSize(parent)).isBetween(6_000_000L, 12_000_000L);
            assertThat(s.storedBytes(child)).isEqualTo(250L * (KEY_BYTES + 8192));
        }
    }

    @Test
    void physicalSizeOfMemtableEntriesDoesNotMoveWhenAnotherTimelineWritesSmallDeltas() {
        try (PageStore s = PageStore.open(dir)) {
            Random rnd = new Random(43);
            TimelineId parent = TimelineId.generate();
            s.createTimeline(root(parent));
            byte[][] pages = new byte[500][];
            try (TimelineWriter w = s.writer(parent)) {
                for (int b = 0; b < pages.length; b++) {
                    pages[b] = page(rnd);
                    w.put(Key.relBlock(REL, b), 200, pages[b]);
                }
                w.commit(200);
            }
            long parentBefore = s.physicalSize(parent);
            assertThat(parentBefore).isBetween(500L * 8192, 500L * (8192 + 100));
            TimelineId child = TimelineId.generate();
            s.createTimeline(new TimelineMetadata(child, T, parent, 200, 200, 15, Instant.now()));
            try (TimelineWriter w = s.writer(child)) {
                for (int v = 0; v < 4; v++) {
                    for (int b = 0; b < pages.length; b++) {
                        pages[b] = pages[b].clone();
                        pages[b][100 + v] ^= 1;
                        w.put(Key.relBlock(REL, b), 300 + v, pages[b]);
                    }
                    w.commit(300 + v);
                }
                assertThat(w.deltasWritten()).isEqualTo(2000);
            }
            // RocksDB's own memtable estimate (count x the memtable's average entry) would move by ~half
            assertThat(s.physicalSize(parent)).isEqualTo(parentBefore);
            assertThat(s.physicalSize(child)).isEqualTo(s.storedBytes(child));
        }
    }

    @Test
    void readListenerSeesPageReadsButNotTheWritersOwnReads() {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId tl = TimelineId.generate();
            s.createTimeline(root(tl));
            List<TimelineId> seen = new ArrayList<>();
            AtomicLong nanos = new AtomicLong();
            s.setReadListener((t, n) -> {
                seen.add(t);
                nanos.addAndGet(n);
            });
            try (TimelineWriter w = s.writer(tl)) {
                w.put(Key.relBlock(REL, 0), 200, new byte[]{1});
                w.commit(200);
                assertThat(w.get(Key.relBlock(REL, 0), 300)).containsExactly(1);
            }
            assertThat(seen).isEmpty();
            assertThat(s.get(tl, Key.relBlock(REL, 0), 300)).containsExactly(1);
            assertThat(s.getVersion(tl, Key.relBlock(REL, 5), 300)).isNull();
            assertThat(seen).containsExactly(tl, tl);
            assertThat(nanos.get()).isPositive();
            s.setReadListener(null);
            s.get(tl, Key.relBlock(REL, 0), 300);
            assertThat(seen).hasSize(2);
        }
    }
}
