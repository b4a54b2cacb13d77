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
 * Key-order reads ({@link PageStore.Reader#getVersions} of several keys: one forward walk per
 * timeline level) answer exactly what key-by-key lookups answer: random writes (full images,
 * deltas on the same timeline and on an ancestor's base, tombstones, relation sizes), branches up
 * to several levels deep, and batches of runs of consecutive blocks, random subsets and repeated
 * keys at random LSNs below, at and above what is committed, with and without the page cache,
 * copying and sharing.
 */
class KeyOrderReadsTest {
    private static final TenantId T = new TenantId("t");
    private static final RelTag REL = new RelTag(1663, 5, 16384, 0);
    private static final RelTag OTHER = new RelTag(1663, 5, 16390, 0);
    private static final int BLOCKS = 300;

    @TempDir
    Path dir;

    @Test
    void keyOrderReadsEqualKeyByKeyReads() {
        for (int seed = 0; seed < 12; seed++) {
            runSeed(seed);
        }
    }

    private void runSeed(int seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        try (PageStore cached = PageStore.open(dir.resolve("c" + seed), 4L << 20);
             PageStore plain = PageStore.open(dir.resolve("p" + seed), 0)) {
            List<PageStore> stores = List.of(cached, plain);
            List<TimelineId> tls = new ArrayList<>();
            List<Long> lastLsn = new ArrayList<>();
            TimelineId root = TimelineId.generate();
            for (PageStore s : stores) {
                s.createTimeline(new TimelineMetadata(root, T, null, 0, 100, 15, Instant.now()));
            }
            tls.add(root);
            lastLsn.add(100L);
            byte[][][] pages = new byte[2][BLOCKS][];
            for (int op = 0; op < 150; op++) {
                int which = rnd.nextInt(tls.size());
                TimelineId tl = tls.get(which);
                int r = rnd.nextInt(10);
                if (r < 4) { // a commit of many versions: runs of blocks, small changes (deltas), images, tombstones
                    long lsn = lastLsn.get(which) + 1 + rnd.nextInt(50);
                    for (PageStore s : stores) {
                        // same random choices for both stores
                        SplittableRandom w = new SplittableRandom(seed * 1000L + op);
                        write(s, tl, lsn, w, pages);
                    }
                    write(null, tl, lsn, new SplittableRandom(seed * 1000L + op), pages);
                    lastLsn.set(which, lsn);
                } else if (r == 4 && tls.size() < 8) { // a branch at a random committed point
                    long start = cached.timeline(tl).startLsn();
                    long at = start + rnd.nextLong(lastLsn.get(which) - start + 1);
                    TimelineId child = TimelineId.generate();
                    for (PageStore s : stores) {
                        s.createTimeline(new TimelineMetadata(child, T, tl, at, at, 15, Instant.now()));
                    }
                    tls.add(child);
                    lastLsn.add(at);
                } else { // reads, compared
                    long lsn = rnd.nextInt(8) == 0 ? -1L : rnd.nextLong(lastLsn.get(which) + 80);
                    Key[] keys = batch(rnd);
                    String what = "seed " + seed + " op " + op + " timeline " + which + " at " + lsn + " keys " + keys.length;
                    PageStore.Version[] want;
                    try (PageStore.Reader byKey = plain.reader(false, false)) {
                        want = byKey.getVersions(tl, keys, lsn);
                    }
                    for (PageStore s : stores) {
                        for (boolean share : new boolean[] {false, true}) {
                            try (PageStore.Reader inOrder = s.reader(share, true); PageStore.Reader byKey = s.reader(share, false)) {
                                PageStore.Version[] got = inOrder.getVersions(tl, keys, lsn);
                                PageStore.Version[] again = byKey.getVersions(tl, keys, lsn); // through the entries the walk cached
                                PageStore.Version[] third = inOrder.getVersions(tl, keys, lsn);
                                for (int i = 0; i < keys.length; i++) {
                                    String at = what + " key " + keys[i] + (s == cached ? " cached" : " plain") + (share ? " sharing" : "");
                                    assertSame(got[i], want[i], at);
                                    assertSame(again[i], want[i], at + " (key by key after)");
                                    assertSame(third[i], want[i], at + " (again)");
                                }
                                if (!share) { // callers own what they get, also for a key asked twice
                                    for (PageStore.Version v : got) {
                                        if (v != null && v.value().length > 0) {
                                            v.value()[0] ^= 1;
                                        }
                                    }
                                    PageStore.Version[] after = inOrder.getVersions(tl, keys, lsn);
                                    for (int i = 0; i < keys.length; i++) {
                                        assertSame(after[i], want[i], what + " after modifying copies");
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** Stages and commits one transaction's versions (or, with {@code s == null}, only updates {@code pages}). */
    private static void write(PageStore s, TimelineId tl, long lsn, SplittableRandom w, byte[][][] pages) {
        byte[][][] state = pages;
        try (TimelineWriter writer = s == null ? null : s.writer(tl)) {
            int runs = 1 + w.nextInt(3);
            for (int run = 0; run < runs; run++) {
                int rel = w.nextInt(4) == 0 ? 1 : 0;
                RelTag tag = rel == 0 ? REL : OTHER;
                int first = w.nextInt(BLOCKS);
                int n = 1 + w.nextInt(w.nextBoolean() ? 3 : 60);
                for (int b = first; b < Math.min(BLOCKS, first + n); b++) {
                    byte[] page;
                    int kind = w.nextInt(20);
                    if (kind == 0) {
                        page = new byte[0]; // tombstone
                    } else {
                        byte[] old = state == null ? null : state[rel][b];
                        page = old == null || old.length == 0 || kind == 1 ? new byte[8192] : old.clone();
                        int changes = kind == 1 ? 2000 : 1 + w.nextInt(30);
                        for (int j = 0; j < changes; j++) {
                            page[w.nextInt(8192)] = (byte) w.nextInt();
                        }
                    }
                    if (s == null) {
                        if (state != null) {
                            state[rel][b] = page;
                        }
                    } else {
                        writer.put(Key.relBlock(tag, b), lsn, page);
                    }
                }
                if (w.nextInt(3) == 0 && s != null) { // a relation size record (not a page: never a delta)
                    writer.put(Key.relSize(tag), lsn, new byte[] {1, 2, 3, (byte) w.nextInt()});
                }
            }
            if (writer != null) {
                writer.commit(lsn);
            }
        }
    }

    /** A batch as the page service asks: a size record then a run of blocks; or random keys, repeats included. */
    private static Key[] batch(SplittableRandom rnd) {
        if (rnd.nextInt(3) > 0) {
            int first = rnd.nextInt(BLOCKS);
            int n = 1 + rnd.nextInt(256);
            RelTag tag = rnd.nextInt(4) == 0 ? OTHER : REL;
            Key[] keys = new Key[n + 1];
            keys[0] = Key.relSize(tag);
            for (int i = 0; i < n; i++) {
                keys[i + 1] = Key.relBlock(tag, first + i); // may run past the blocks ever written
            }
            return keys;
        }
        Key[] keys = new Key[2 + rnd.nextInt(40)];
        for (int i = 0; i < keys.length; i++) {
            int k = rnd.nextInt(10);
            keys[i] = k == 0 ? Key.relSize(REL) : k == 1 ? Key.relSize(OTHER)
                    : Key.relBlock(k == 2 ? OTHER : REL, rnd.nextInt(BLOCKS + 5));
            if (i > 0 && rnd.nextInt(6) == 0) {
                keys[i] = keys[rnd.nextInt(i)];
            }
        }
        return keys;
    }

    private static void assertSame(PageStore.Version got, PageStore.Version want, String what) {
        if (want == null) {
            assertThat(got).as(what).isNull();
            return;
        }
        assertThat(got).as(what).isNotNull();
        assertThat(got.lsn()).as(what + " lsn").isEqualTo(want.lsn());
        assertThat(got.value()).as(what + " value").isEqualTo(want.value());
    }
}
