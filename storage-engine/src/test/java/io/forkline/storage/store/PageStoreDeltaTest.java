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
import java.util.Map;
import java.util.NavigableMap;
import java.util.Random;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Delta-encoded page versions ({@link PageDelta}) written by {@link TimelineWriter}, read by {@link PageStore}. */
class PageStoreDeltaTest {
    private static final TenantId T = new TenantId("t");
    private static final RelTag REL = new RelTag(1663, 5, 16384, 0);
    private static final Key A = Key.relBlock(REL, 0);
    private static final Key B = Key.relBlock(REL, 1);
    private static final Key CLOG = Key.slruPage(Key.SLRU_CLOG, 0);

    @TempDir
    Path dir;

    private static TimelineId root(PageStore s) {
        TimelineId id = TimelineId.generate();
        s.createTimeline(new TimelineMetadata(id, T, null, 0, 100, 15, Instant.now()));
        return id;
    }

    /** A page like a heap page: half zeros (free space), half data. */
    private static byte[] firstPage(Random rnd) {
        byte[] p = new byte[PageDelta.PAGE_SIZE];
        byte[] data = new byte[4096];
        rnd.nextBytes(data);
        System.arraycopy(data, 0, p, 4096, 4096);
        return p;
    }

    /** {@code prev} with a new ~100-byte "tuple" and a few header bytes changed. */
    private static byte[] next(Random rnd, byte[] prev) {
        byte[] p = prev.clone();
        int at = rnd.nextInt(PageDelta.PAGE_SIZE - 100);
        for (int i = at; i < at + 100; i++) {
            p[i] = (byte) rnd.nextInt();
        }
        p[rnd.nextInt(24)]++;
        return p;
    }

    /** (lsn, baseLsn) of the timeline's own versions of {@code key}. */
    private static List<long[]> stored(PageStore s, TimelineId tl, Key key) {
        List<long[]> out = new ArrayList<>();
        s.forEachStoredVersion(tl, key, (k, lsn, len, base) -> {
            if (!k.equals(key)) {
                return false;
            }
            out.add(new long[]{lsn, base, len});
            return true;
        });
        return out;
    }

    @Test
    void everyLsnReadsTheFullImageWrittenAlsoAfterReopen() {
        Random rnd = new Random(7);
        TreeMap<Long, byte[]> written = new TreeMap<>();
        TimelineId tl;
        long deltas;
        long fulls;
        try (PageStore s = PageStore.open(dir)) {
            tl = root(s);
            byte[] page = firstPage(rnd);
            try (TimelineWriter w = s.writer(tl)) {
                for (int i = 0; i < 200; i++) {
                    long lsn = 1000 + 10L * i;
                    w.put(A, lsn, page);
                    written.put(lsn, page);
                    if (i % 3 == 2) { // several versions per commit, and across commits
                        w.commit(lsn);
                    }
                    page = next(rnd, page);
                }
                w.commit(3000);
                deltas = w.deltasWritten();
                fulls = w.fullImagesWritten();
            }
            assertThat(deltas + fulls).isEqualTo(200);
            assertThat(deltas).as("deltas").isGreaterThan(150);
            assertThat(fulls).as("full images (budget of deltas per base)").isGreaterThan(2);
            verify(s, tl, written);
            // deltas reference an older full image of the same key on the same timeline
            Map<Long, Long> lengths = new TreeMap<>();
            for (long[] v : stored(s, tl, A)) {
                lengths.put(v[0], v[2]);
                if (v[1] != PageStore.NO_BASE) {
                    assertThat(v[1]).isLessThan(v[0]);
                    assertThat(lengths.get(v[1])).isEqualTo((long) PageDelta.PAGE_SIZE);
                }
            }
            assertThat(s.storedBytes(tl)).as("stored bytes vs 200 full images")
                    .isLessThan(200L * (42 + 8192) / 4);
            NavigableMap<Key, byte[]> scan = s.scan(tl, Key.relBlocksStart(REL), Key.relBlocksEnd(REL), 1555);
            assertThat(scan.get(A)).isEqualTo(written.floorEntry(1555L).getValue());
        }
        try (PageStore s = PageStore.open(dir)) {
            verify(s, tl, written);
            // a new writer (empty base cache) continues with deltas against the stored base
            byte[] page = next(rnd, written.lastEntry().getValue());
            try (TimelineWriter w = s.writer(tl)) {
                w.put(A, 4000, page);
                w.commit(4000);
                assertThat(w.deltasWritten()).isEqualTo(1);
            }
            written.put(4000L, page);
            verify(s, tl, written);
        }
    }

    /**
     * Ingest-like read-modify-write (read a page through the writer, change it, stage it, commit
     * every few versions, a fresh writer now and then, tombstones, SLRU pages): with the writer's
     * read cache ({@link TimelineWriter#READ_CACHE_PROPERTY}) every stored version (LSN, base,
     * stored length) and every value read back are the same as without it.
     */
    @Test
    void theWritersReadCacheStoresTheSameVersionsAsReadingTheStore() {
        List<String> withCache = readModifyWrite(dir.resolve("cache"), true);
        List<String> without = readModifyWrite(dir.resolve("nocache"), false);
        assertThat(withCache).hasSizeGreaterThan(300);
        assertThat(withCache).isEqualTo(without);
    }

    private static List<String> readModifyWrite(Path at, boolean cache) {
        String before = System.getProperty(TimelineWriter.READ_CACHE_PROPERTY);
        System.setProperty(TimelineWriter.READ_CACHE_PROPERTY, Boolean.toString(cache));
        try (PageStore s = PageStore.open(at)) {
            Random rnd = new Random(11);
            TimelineId tl = root(s);
            Key[] keys = {A, B, Key.relBlock(REL, 2), Key.relBlock(REL, 3), CLOG};
            long lsn = 1000;
            TimelineWriter w = s.writer(tl);
            assertThat(w.cachesReads()).isEqualTo(cache);
            for (int i = 0; i < 400; i++) {
                Key k = keys[rnd.nextInt(keys.length)];
                lsn += 10;
                byte[] cur = w.get(k, lsn);
                if (cur != null && rnd.nextInt(40) == 0) {
                    w.delete(k, lsn);
                } else {
                    w.put(k, lsn, cur == null ? firstPage(rnd) : next(rnd, cur));
                }
                if (rnd.nextInt(3) == 0) {
                    w.commit(lsn);
                }
                if (rnd.nextInt(60) == 0) { // a reconnect: a new writer with empty caches
                    w.commit(lsn);
                    w.close();
                    w = s.writer(tl);
                }
            }
            w.commit(lsn);
            w.close();
            List<String> out = new ArrayList<>();
            for (Key k : keys) {
                for (long[] v : stored(s, tl, k)) {
                    out.add(k + "@" + v[0] + " base " + v[1] + " len " + v[2]);
                }
                for (long l = 1000; l <= lsn; l += 10) {
                    byte[] v = s.get(tl, k, l);
                    out.add(k + "@" + l + " " + (v == null ? "null" : Integer.toString(java.util.Arrays.hashCode(v))));
                }
            }
            return out;
        } finally {
            if (before == null) {
                System.clearProperty(TimelineWriter.READ_CACHE_PROPERTY);
            } else {
                System.setProperty(TimelineWriter.READ_CACHE_PROPERTY, before);
            }
        }
    }

    private static void verify(PageStore s, TimelineId tl, TreeMap<Long, byte[]> written) {
        for (Map.Entry<Long, byte[]> e : written.entrySet()) {
            assertThat(s.get(tl, A, e.getKey())).as("at %d", e.getKey()).isEqualTo(e.getValue());
            assertThat(s.get(tl, A, e.getKey() + 5)).as("at %d", e.getKey() + 5).isEqualTo(e.getValue());
            PageStore.Version v = s.getVersion(tl, A, e.getKey() + 5);
            assertThat(v.lsn()).isEqualTo(e.getKey());
        }
        assertThat(s.get(tl, A, 999)).isNull();
    }

    @Test
    void aChildsFirstWriteIsADeltaAgainstTheAncestorsImageAtTheBranchPoint() throws Exception {
        Random rnd = new Random(8);
        try (PageStore s = PageStore.open(dir)) {
            TimelineId parent = root(s);
            byte[] p1 = firstPage(rnd);
            byte[] p2 = next(rnd, p1);
            try (TimelineWriter w = s.writer(parent)) {
                w.put(A, 200, p1);
                w.put(A, 300, p2);
                w.commit(300);
            }
            TimelineId child = TimelineId.generate();
            s.createTimeline(new TimelineMetadata(child, T, parent, 300, 300, 15, Instant.now()));
            byte[] c1 = next(rnd, p2);
            byte[] c2 = next(rnd, c1);
            try (TimelineWriter w = s.writer(child)) {
                w.put(A, 400, c1);
                w.commit(400);
                w.put(A, 500, c2);
                w.commit(500);
                assertThat(w.deltasWritten()).isEqualTo(2);
            }
            // the child's deltas are rebuilt from the parent's full image at 200 (the base of the
            // parent's delta at 300, which the branch point sees); GC of the child keeps nothing for them
            byte[] raw = s.ownStoredValue(child, A, 400);
            assertThat(PageDelta.isDelta(raw)).isTrue();
            assertThat(PageDelta.baseTimeline(raw)).isEqualTo(parent);
            assertThat(PageDelta.baseLsn(raw)).isEqualTo(200);
            assertThat(stored(s, child, A)).extracting(v -> v[1]).containsExactly(PageStore.NO_BASE, PageStore.NO_BASE);
            assertThat(stored(s, parent, A).get(1)[1]).isEqualTo(200);
            assertThat(s.get(child, A, 350)).isEqualTo(p2); // falls through to the parent's delta
            assertThat(s.get(child, A, 450)).isEqualTo(c1);
            assertThat(s.get(child, A, 550)).isEqualTo(c2);
            assertThat(s.get(parent, A, 550)).isEqualTo(p2);

            // a grandchild: its base is found through the child (nothing of its own yet) on the parent
            TimelineId grandchild = TimelineId.generate();
            s.createTimeline(new TimelineMetadata(grandchild, T, child, 450, 450, 15, Instant.now()));
            byte[] g1 = next(rnd, c1);
            try (TimelineWriter w = s.writer(grandchild)) {
                w.put(A, 600, g1);
                w.commit(600);
            }
            byte[] graw = s.ownStoredValue(grandchild, A, 600);
            assertThat(PageDelta.baseTimeline(graw)).isEqualTo(parent);
            assertThat(s.get(grandchild, A, 600)).isEqualTo(g1);
            assertThat(s.get(grandchild, A, 500)).isEqualTo(c1);

            // the parent's GC at its last LSN keeps what the branch point reads, and that one's base
            s.writer(parent).commit(700);
            io.forkline.storage.gc.GcResult r = new io.forkline.storage.gc.GarbageCollector()
                    .collect(s, parent, 700, List.of());
            assertThat(r.versionsRemoved()).isZero();
            assertThat(s.get(child, A, 550)).isEqualTo(c2);
            assertThat(s.get(grandchild, A, 600)).isEqualTo(g1);
        }
    }

    @Test
    void aBranchAheadOfItsAncestorWritesFullImages() {
        Random rnd = new Random(11);
        try (PageStore s = PageStore.open(dir)) {
            TimelineId parent = root(s);
            byte[] p1 = firstPage(rnd);
            try (TimelineWriter w = s.writer(parent)) {
                w.put(A, 200, p1);
                w.commit(200);
            }
            // the branch point is above what the parent ingested: its answer there may still change
            TimelineId child = TimelineId.generate();
            s.createTimeline(new TimelineMetadata(child, T, parent, 250, 250, 15, Instant.now()));
            try (TimelineWriter w = s.writer(child)) {
                w.put(A, 300, next(rnd, p1));
                w.commit(300);
                assertThat(w.fullImagesWritten()).isEqualTo(1);
            }
            assertThat(s.ownStoredValue(child, A, 300)).hasSize(PageDelta.PAGE_SIZE);
        }
    }

    @Test
    void otherValuesEndTheBaseAndSlruPagesAreDeltasToo() {
        Random rnd = new Random(9);
        try (PageStore s = PageStore.open(dir)) {
            TimelineId tl = root(s);
            byte[] p1 = firstPage(rnd);
            byte[] p2 = next(rnd, p1);
            byte[] p3 = next(rnd, p2);
            byte[] clog1 = new byte[PageDelta.PAGE_SIZE];
            byte[] clog2 = clog1.clone();
            clog2[17] = 0x55;
            try (TimelineWriter w = s.writer(tl)) {
                w.put(A, 200, p1);
                w.put(A, 300, p2);
                w.delete(A, 400);
                w.put(A, 500, p3);
                w.put(B, 200, p1);
                w.put(B, 300, new byte[100]);
                w.put(B, 400, p2);
                w.put(CLOG, 200, clog1);
                w.put(CLOG, 300, clog2);
                w.put(CLOG, 300, clog2.clone()); // same (key, LSN) again: replaces, never its own base
                w.commit(500);
            }
            assertThat(stored(s, tl, A)).extracting(v -> v[1]).containsExactly(PageStore.NO_BASE, 200L,
                    PageStore.NO_BASE, PageStore.NO_BASE);
            assertThat(stored(s, tl, B)).extracting(v -> v[1]).containsExactly(PageStore.NO_BASE, PageStore.NO_BASE,
                    PageStore.NO_BASE);
            assertThat(stored(s, tl, CLOG)).extracting(v -> v[1]).containsExactly(PageStore.NO_BASE, 200L);
            assertThat(stored(s, tl, CLOG).get(1)[2]).isEqualTo(PageDelta.HEADER_LENGTH + 3);
            assertThat(s.get(tl, A, 350)).isEqualTo(p2);
            assertThat(s.get(tl, A, 450)).isNull();
            assertThat(s.get(tl, A, 550)).isEqualTo(p3);
            assertThat(s.get(tl, B, 350)).hasSize(100);
            assertThat(s.get(tl, CLOG, 300)).isEqualTo(clog2);
            assertThat(s.storedBytes(tl)).isEqualTo(scanned(s, tl));
        }
    }

    @Test
    void putRefusesOtherValuesThatLookLikeDeltas() {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId tl = root(s);
            byte[] lookalike = PageDelta.encode(new byte[8192], 5, new byte[8192], 100);
            try (TimelineWriter w = s.writer(tl)) {
                assertThatThrownBy(() -> w.put(A, 200, lookalike)).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("12-byte value").hasMessageContaining("page-delta magic");
                w.put(Key.twoPhase(7), 200, lookalike); // other key kinds store anything
                w.commit(200);
            }
            assertThat(s.get(tl, Key.twoPhase(7), 200)).isEqualTo(lookalike);
        }
    }

    @Test
    void aDeltaWithoutItsBaseIsAnErrorNamingBothLsns() {
        Random rnd = new Random(10);
        try (PageStore s = PageStore.open(dir)) {
            TimelineId tl = root(s);
            byte[] p1 = firstPage(rnd);
            try (TimelineWriter w = s.writer(tl)) {
                w.put(A, 200, p1);
                w.put(A, 300, next(rnd, p1));
                w.commit(300);
            }
            s.advanceGcCutoff(tl, 250);
            s.deleteVersionsBelowGcCutoff(tl, List.of(new PageStore.VersionRef(A, 200)));
            assertThatThrownBy(() -> s.get(tl, A, 300)).isInstanceOf(StorageException.class)
                    .hasMessageContaining("0/12C").hasMessageContaining("0/C8").hasMessageContaining("missing");
        }
    }

    @Test
    void aReadBelowTheGcCutoffThatMissesADeltasBaseSaysSo() {
        Random rnd = new Random(12);
        try (PageStore s = PageStore.open(dir)) {
            TimelineId tl = root(s);
            byte[] p1 = firstPage(rnd);
            try (TimelineWriter w = s.writer(tl)) {
                w.put(A, 200, p1);
                w.put(A, 300, next(rnd, p1));
                w.commit(400);
            }
            s.advanceGcCutoff(tl, 350);
            s.deleteVersionsBelowGcCutoff(tl, List.of(new PageStore.VersionRef(A, 200)));
            assertThatThrownBy(() -> s.get(tl, A, 320)).isInstanceOf(StorageException.class)
                    .hasMessageContaining("missing").hasMessageContaining("0/140") // read at 320
                    .hasMessageContaining("below the applied GC cutoff 0/15E"); // 350
            assertThatThrownBy(() -> s.scan(tl, Key.relBlocksStart(REL), Key.relBlocksEnd(REL), 320))
                    .isInstanceOf(StorageException.class).hasMessageContaining("below the applied GC cutoff");
            assertThatThrownBy(() -> s.get(tl, A, 400)).isInstanceOf(StorageException.class)
                    .hasMessageContaining("missing").hasMessageNotContaining("GC cutoff");
        }
    }

    @Test
    void putKeepsTheCallersArrayWithoutCopying() {
        Random rnd = new Random(13);
        try (PageStore s = PageStore.open(dir)) {
            TimelineId tl = root(s);
            byte[] p1 = firstPage(rnd);
            byte[] p2 = next(rnd, p1);
            try (TimelineWriter w = s.writer(tl)) {
                w.put(A, 200, p1);
                assertThat(w.get(A, 200)).as("the staged array is the caller's").isSameAs(p1);
                w.put(B, 200, p1); // one unmodified array under two keys
                w.commit(200);
                w.put(A, 300, p2);
                w.commit(300);
                assertThat(w.deltasWritten()).as("against the cached base p1").isEqualTo(1);
            }
            assertThat(s.get(tl, A, 300)).isEqualTo(p2);
            assertThat(s.get(tl, A, 250)).isEqualTo(p1);
            assertThat(s.get(tl, B, 300)).isEqualTo(p1);
        }
    }

    @Test
    void scanRebuildsTheNewestVersionOfEveryKeyAtEveryLsn() {
        Random rnd = new Random(14);
        Key clogKey = CLOG;
        Map<Key, TreeMap<Long, byte[]>> written = new TreeMap<>();
        try (PageStore s = PageStore.open(dir)) {
            TimelineId parent = root(s);
            Map<Key, byte[]> current = new TreeMap<>();
            List<Key> keys = List.of(A, B, Key.relBlock(REL, 2), clogKey);
            try (TimelineWriter w = s.writer(parent)) {
                for (int i = 0; i < 300; i++) {
                    long lsn = 1000 + 10L * i;
                    Key key = keys.get(rnd.nextInt(keys.size()));
                    byte[] prev = current.get(key);
                    byte[] value;
                    int dice = rnd.nextInt(40);
                    if (dice == 0) {
                        value = new byte[0]; // tombstone
                    } else if (dice == 1) {
                        value = new byte[100 + rnd.nextInt(50)]; // another length ends the base
                    } else {
                        value = prev == null || prev.length != PageDelta.PAGE_SIZE ? firstPage(rnd) : next(rnd, prev);
                    }
                    w.put(key, lsn, value);
                    current.put(key, value);
                    written.computeIfAbsent(key, k -> new TreeMap<>()).put(lsn, value);
                    if (i % 7 == 6) {
                        w.commit(lsn);
                    }
                }
                w.commit(4000);
                assertThat(w.deltasWritten()).isGreaterThan(150);
            }
            for (long at = 990; at <= 4000; at += 45) {
                assertScan(s, parent, written, at);
            }
            // a child whose first writes are deltas against the parent's images (another timeline)
            TimelineId child = TimelineId.generate();
            s.createTimeline(new TimelineMetadata(child, T, parent, 4000, 4000, 15, Instant.now()));
            Map<Key, TreeMap<Long, byte[]>> childView = new TreeMap<>();
            for (Map.Entry<Key, TreeMap<Long, byte[]>> e : written.entrySet()) {
                childView.put(e.getKey(), new TreeMap<>(e.getValue().headMap(4000L, true)));
            }
            try (TimelineWriter w = s.writer(child)) {
                for (Key key : keys) {
                    byte[] prev = current.get(key);
                    if (prev.length == PageDelta.PAGE_SIZE) {
                        byte[] value = next(rnd, prev);
                        w.put(key, 5000, value);
                        childView.get(key).put(5000L, value);
                    }
                }
                w.commit(5000);
            }
            assertScan(s, child, childView, 4500);
            assertScan(s, child, childView, 5000);
        }
    }

    private static void assertScan(PageStore s, TimelineId tl, Map<Key, TreeMap<Long, byte[]>> written, long at) {
        NavigableMap<Key, byte[]> scan = s.scan(tl, Key.kindStart(Key.REL_BLOCK), Key.kindEnd(Key.SLRU_PAGE), at);
        Map<Key, byte[]> expected = new TreeMap<>();
        for (Map.Entry<Key, TreeMap<Long, byte[]>> e : written.entrySet()) {
            Map.Entry<Long, byte[]> v = e.getValue().floorEntry(at);
            if (v != null && v.getValue().length > 0) {
                expected.put(e.getKey(), v.getValue());
            }
        }
        assertThat(scan.keySet()).as("keys at %d", at).containsExactlyElementsOf(expected.keySet());
        for (Map.Entry<Key, byte[]> e : expected.entrySet()) {
            assertThat(scan.get(e.getKey())).as("%s at %d", e.getKey(), at).isEqualTo(e.getValue());
            assertThat(s.get(tl, e.getKey(), at)).as("get %s at %d", e.getKey(), at).isEqualTo(e.getValue());
        }
    }

    private static long scanned(PageStore s, TimelineId tl) {
        long[] n = new long[1];
        s.forEachVersion(tl, null, (k, lsn, len) -> {
            n[0] += PageStore.VERSION_KEY_BYTES + len;
            return true;
        });
        return n[0];
    }

    /** {@code page} changed in place as {@link #next} changes a copy. */
    private static void changeInPlace(Random rnd, byte[] page) {
        int at = rnd.nextInt(PageDelta.PAGE_SIZE - 100);
        for (int i = at; i < at + 100; i++) {
            page[i] = (byte) rnd.nextInt();
        }
        page[rnd.nextInt(24)]++;
    }

    /**
     * Redo's read-modify-write through {@link TimelineWriter#getForUpdate} / {@code putOwned}: runs of
     * versions of one page in a batch reuse the staged array, and every version at every LSN still
     * reads back as written, also where the array was handed out by {@code get} or {@code scan} and
     * staged under another key too (as a {@code CREATE DATABASE} copy does), read for update twice
     * without being staged in between, or after a commit that failed and was retried.
     */
    @Test
    void pagesLentForUpdateKeepEveryVersion() {
        Key c = Key.relBlock(REL, 2);
        List<Key> keys = List.of(A, B, c);
        for (long seed = 1; seed <= 12; seed++) {
            Random rnd = new Random(seed);
            Map<Key, TreeMap<Long, byte[]>> written = new TreeMap<>();
            keys.forEach(k -> written.put(k, new TreeMap<>()));
            int lent = 0;
            try (PageStore s = PageStore.open(dir.resolve("lend-" + seed))) {
                TimelineId tl = root(s);
                try (TimelineWriter w = s.writer(tl)) {
                    long lsn = 1000;
                    long committed = 0;
                    byte[] previous = null;
                    Key previousKey = null;
                    for (int i = 0; i < 400; i++) {
                        lsn += 10;
                        int op = rnd.nextInt(20);
                        Key key = rnd.nextInt(4) == 0 ? keys.get(rnd.nextInt(3)) : A;
                        if (op == 0) { // a copy: another key gets the staged array itself
                            byte[] v = w.get(key, lsn);
                            Key other = keys.get((keys.indexOf(key) + 1) % 3);
                            if (v != null) {
                                w.put(other, lsn, v);
                                written.get(other).put(lsn, v.clone());
                            }
                        } else if (op == 1) {
                            w.scan(Key.relBlocksStart(REL), Key.relBlocksEnd(REL), lsn);
                        } else if (op == 2) { // read for update, not staged, then again
                            byte[] first = w.getForUpdate(key, lsn);
                            if (first != null) {
                                byte[] before = first.clone();
                                changeInPlace(rnd, first);
                                assertThat(w.getForUpdate(key, lsn)).as("read again before staging").isEqualTo(before);
                            }
                        } else if (op == 3 && lsn > committed + 100) {
                            assertThatThrownBy(() -> w.commit(5)).isInstanceOf(IllegalArgumentException.class);
                        } else {
                            byte[] page = w.getForUpdate(key, lsn);
                            if (page == null) {
                                page = firstPage(rnd);
                            } else {
                                if (page == previous && key.equals(previousKey)) {
                                    lent++;
                                }
                                changeInPlace(rnd, page);
                            }
                            w.putOwned(key, lsn, page);
                            written.get(key).put(lsn, page.clone());
                            previous = page;
                            previousKey = key;
                        }
                        if (rnd.nextInt(25) == 0) {
                            w.commit(lsn);
                            committed = lsn;
                        }
                    }
                    w.commit(lsn + 10);
                }
                for (Key key : keys) {
                    for (Map.Entry<Long, byte[]> e : written.get(key).entrySet()) {
                        assertThat(s.get(tl, key, e.getKey())).as("seed %d, %s at %d", seed, key, e.getKey())
                                .isEqualTo(e.getValue());
                        assertThat(s.get(tl, key, e.getKey() + 9)).as("seed %d, %s at %d", seed, key, e.getKey() + 9)
                                .isEqualTo(e.getValue());
                    }
                }
            }
            assertThat(lent).as("versions staged in the array lent from the previous one, seed %d", seed)
                    .isGreaterThan(100);
        }
    }
}
