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
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The page cache never changes an answer: a store with the cache and one without it get the same
 * writes, branches and reads (interleaved; reads at random LSNs below, at and above what is
 * committed, on timelines up to three ancestors deep), and every read must agree.
 */
class PageCacheTest {
    private static final TenantId T = new TenantId("t");
    private static final RelTag REL = new RelTag(1663, 5, 16384, 0);
    private static final int KEYS = 12;

    @TempDir
    Path dir;

    @Test
    void cachedReadsEqualUncachedReadsUnderInterleavedWritesAndBranches() {
        for (int seed = 0; seed < 40; seed++) {
            runSeed(seed);
        }
    }

    private void runSeed(int seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        try (PageStore cached = PageStore.open(dir.resolve("c" + seed), 64L << 20);
             PageStore plain = PageStore.open(dir.resolve("p" + seed), 0)) {
            List<TimelineId> tls = new ArrayList<>();
            List<Long> lastLsn = new ArrayList<>();
            TimelineId root = TimelineId.generate();
            for (PageStore s : List.of(cached, plain)) {
                s.createTimeline(new TimelineMetadata(root, T, null, 0, 100, 15, Instant.now()));
            }
            tls.add(root);
            lastLsn.add(100L);
            byte[][] pages = new byte[KEYS][];
            for (int op = 0; op < 400; op++) {
                int which = rnd.nextInt(tls.size());
                TimelineId tl = tls.get(which);
                int r = rnd.nextInt(10);
                if (r < 3) { // commit a few versions (small changes: stored as deltas), or a tombstone
                    long lsn = lastLsn.get(which) + 1 + rnd.nextInt(50);
                    int n = 1 + rnd.nextInt(3);
                    List<Integer> keys = new ArrayList<>();
                    List<byte[]> values = new ArrayList<>();
                    for (int i = 0; i < n; i++) {
                        int k = rnd.nextInt(KEYS);
                        byte[] page;
                        if (rnd.nextInt(12) == 0) {
                            page = new byte[0];
                        } else {
                            page = pages[k] == null ? new byte[8192] : pages[k].clone();
                            for (int j = 0; j < 20; j++) {
                                page[rnd.nextInt(8192)] = (byte) rnd.nextInt();
                            }
                            pages[k] = page;
                        }
                        keys.add(k);
                        values.add(page);
                    }
                    for (PageStore s : List.of(cached, plain)) {
                        try (TimelineWriter w = s.writer(tl)) {
                            for (int i = 0; i < keys.size(); i++) {
                                w.put(Key.relBlock(REL, keys.get(i)), lsn, values.get(i).clone());
                            }
                            w.commit(lsn);
                        }
                    }
                    lastLsn.set(which, lsn);
                } else if (r == 3 && tls.size() < 8) { // branch at a random committed point
                    long start = cached.timeline(tl).startLsn();
                    long at = start + rnd.nextLong(lastLsn.get(which) - start + 1);
                    TimelineId child = TimelineId.generate();
                    for (PageStore s : List.of(cached, plain)) {
                        s.createTimeline(new TimelineMetadata(child, T, tl, at, at, 15, Instant.now()));
                    }
                    tls.add(child);
                    lastLsn.add(at);
                } else { // read: single and batched
                    long lsn = rnd.nextLong(lastLsn.get(which) + 80);
                    int k = rnd.nextInt(KEYS);
                    PageStore.Version a = cached.getVersion(tl, Key.relBlock(REL, k), lsn);
                    PageStore.Version b = plain.getVersion(tl, Key.relBlock(REL, k), lsn);
                    assertSame(a, b, "seed " + seed + " op " + op + " key " + k + " at " + lsn);
                    Key[] batch = {Key.relBlock(REL, k), Key.relBlock(REL, (k + 1) % KEYS), Key.relBlock(REL, k)};
                    PageStore.Version[] va = cached.getVersions(tl, batch, lsn);
                    for (int i = 0; i < batch.length; i++) {
                        assertSame(va[i], plain.getVersion(tl, batch[i], lsn), "seed " + seed + " batch " + i);
                    }
                    try (PageStore.Reader sharing = cached.sharingReader()) { // no copies: same answers
                        PageStore.Version[] cachedOnly = sharing.getCachedVersions(tl, batch, lsn);
                        PageStore.Version[] shared = sharing.getVersions(tl, batch, lsn);
                        PageStore.Version[] nowCached = sharing.getCachedVersions(tl, batch, lsn);
                        assertThat(nowCached).as("seed " + seed + " op " + op + ": cached after a read").isNotNull();
                        for (int i = 0; i < batch.length; i++) {
                            PageStore.Version want = plain.getVersion(tl, batch[i], lsn);
                            if (cachedOnly != null) {
                                assertSame(cachedOnly[i], want, "seed " + seed + " cache-only " + i);
                            }
                            assertSame(shared[i], want, "seed " + seed + " sharing " + i);
                            assertSame(nowCached[i], want, "seed " + seed + " cache-only after " + i);
                        }
                    }
                    if (a != null && a.value().length > 0) { // callers own what they get
                        a.value()[0] ^= 1;
                        assertSame(cached.getVersion(tl, Key.relBlock(REL, k), lsn), b, "after modifying a copy");
                    }
                }
            }
            assertThat(cached.pageCacheStats().hits()).isPositive();
            assertThat(plain.pageCacheStats().entries()).isZero();
        }
    }

    @Test
    void cacheOnlyReadsAnswerNothingUntilTheCacheHoldsEveryKeyOnTheWay() {
        try (PageStore store = PageStore.open(dir.resolve("only"), 64L << 20);
             PageStore off = PageStore.open(dir.resolve("off"), 0)) {
            TimelineId root = TimelineId.generate();
            TimelineId child = TimelineId.generate();
            byte[] page = new byte[8192];
            page[7] = 7;
            for (PageStore s : List.of(store, off)) {
                s.createTimeline(new TimelineMetadata(root, T, null, 0, 100, 15, Instant.now()));
                try (TimelineWriter w = s.writer(root)) {
                    w.put(Key.relBlock(REL, 0), 200, page.clone());
                    w.commit(200);
                }
                s.createTimeline(new TimelineMetadata(child, T, root, 200, 200, 15, Instant.now()));
            }
            Key[] keys = {Key.relBlock(REL, 0), Key.relBlock(REL, 1)};
            try (PageStore.Reader r = store.sharingReader(); PageStore.Reader o = off.sharingReader()) {
                assertThat(r.getCachedVersions(child, keys, 250)).isNull(); // nothing read yet
                PageStore.Version[] read = r.getVersions(child, keys, 250); // falls through to root
                assertThat(read[0].value()).isEqualTo(page);
                assertThat(read[1]).isNull();
                PageStore.Version[] hit = r.getCachedVersions(child, keys, 250);
                assertThat(hit).isNotNull();
                assertThat(hit[0].lsn()).isEqualTo(200);
                assertThat(hit[0].value()).isEqualTo(page);
                assertThat(hit[1]).isNull();
                assertThat(r.getCachedVersions(child, new Key[]{Key.relBlock(REL, 2)}, 250)).isNull();
                o.getVersions(child, keys, 250);
                assertThat(o.getCachedVersions(child, keys, 250)).as("no cache: never answers").isNull();
            }
        }
    }

    @Test
    void invalidateDropsOnlyThatTimelinesEntriesAndAgainAfterLaterPuts() {
        PageCache cache = new PageCache(1L << 20);
        TimelineId a = TimelineId.generate();
        TimelineId b = TimelineId.generate();
        TimelineId never = TimelineId.generate();
        PageCache.Entry e = new PageCache.Entry(10, new byte[]{1}, 20, true, 0);
        PageCache.CacheKey ka = new PageCache.CacheKey(a, Key.relBlock(REL, 0));
        PageCache.CacheKey kb = new PageCache.CacheKey(b, Key.relBlock(REL, 0));
        cache.put(ka, e);
        cache.put(kb, e);
        cache.invalidate(never); // had no entry: nothing scanned, nothing dropped
        assertThat(cache.find(ka, 15, 0)).isEqualTo(e);
        cache.invalidate(a);
        assertThat(cache.find(ka, 15, 0)).isNull();
        assertThat(cache.find(kb, 15, 0)).isEqualTo(e);
        cache.put(ka, e); // an entry after an invalidate is dropped by the next one
        cache.invalidate(a);
        assertThat(cache.find(ka, 15, 0)).isNull();
        assertThat(cache.find(kb, 15, 0)).isEqualTo(e);
    }

    private static void assertSame(PageStore.Version a, PageStore.Version b, String what) {
        if (b == null) {
            assertThat(a).as(what).isNull();
            return;
        }
        assertThat(a).as(what).isNotNull();
        assertThat(a.lsn()).as(what).isEqualTo(b.lsn());
        assertThat(a.value()).as(what).isEqualTo(b.value());
    }
}
