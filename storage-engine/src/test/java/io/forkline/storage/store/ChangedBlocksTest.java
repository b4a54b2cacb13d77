package io.forkline.storage.store;

import io.forkline.storage.id.TenantId;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.key.Key;
import io.forkline.storage.key.RelSizeValue;
import io.forkline.storage.key.RelTag;
import io.forkline.storage.timeline.TimelineMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link PageStore#changedBlocks} and {@link PageStore#commitsBetween} on real stored pages (full images and deltas). */
class ChangedBlocksTest {
    private static final TenantId T = new TenantId("t");
    private static final RelTag REL = new RelTag(1663, 5, 16384, 0);
    private static final RelTag OTHER = new RelTag(1663, 5, 16390, 0);

    @TempDir
    Path dir;

    /** A full 8192-byte page whose bytes name the block and a version. */
    private static byte[] page(int block, int version) {
        byte[] p = new byte[8192];
        for (int i = 0; i < p.length; i += 64) {
            p[i] = (byte) block;
            p[i + 1] = (byte) version;
        }
        return p;
    }

    /** The page with one byte changed: stored as a delta on the previous version. */
    private static byte[] touched(int block, int version, int change) {
        byte[] p = page(block, version);
        p[100] = (byte) change;
        return p;
    }

    private static void size(TimelineWriter w, RelTag rel, long lsn, int blocks, long created) {
        w.put(Key.relSize(rel), lsn, new RelSizeValue(blocks, created).encode());
    }

    private static TimelineId root(PageStore s) {
        TimelineId tl = TimelineId.generate();
        s.createTimeline(new TimelineMetadata(tl, T, null, 0, 100, 15, Instant.now()));
        return tl;
    }

    private static TimelineId branch(PageStore s, TimelineId parent, long at) {
        TimelineId tl = TimelineId.generate();
        s.createTimeline(new TimelineMetadata(tl, T, parent, at, at, 15, Instant.now()));
        return tl;
    }

    /** Ten blocks of REL at LSN 200 and ten of OTHER, on {@code tl}. */
    private static void load(PageStore s, TimelineId tl) {
        try (TimelineWriter w = s.writer(tl)) {
            for (int b = 0; b < 10; b++) {
                w.put(Key.relBlock(REL, b), 200, page(b, 0));
                w.put(Key.relBlock(OTHER, b), 200, page(b, 0));
            }
            size(w, REL, 200, 10, 150);
            size(w, OTHER, 200, 10, 150);
            w.commit(200);
        }
    }

    private static void write(PageStore s, TimelineId tl, long lsn, int... blocks) {
        try (TimelineWriter w = s.writer(tl)) {
            for (int b : blocks) {
                w.put(Key.relBlock(REL, b), lsn, touched(b, 0, (int) lsn));
                w.put(Key.relBlock(OTHER, (b + 1) % 10), lsn, touched(b, 0, (int) lsn)); // never counted for REL
            }
            w.commit(lsn);
        }
    }

    private static List<Integer> blocks(ChangedBlocks c) {
        return c.changed().stream().boxed().toList();
    }

    @Test
    void sameTimelineAtTwoLsnsSeesOnlyTheVersionsBetweenThem() {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId tl = root(s);
            load(s, tl);
            write(s, tl, 400, 3);
            write(s, tl, 600, 5);
            write(s, tl, 800, 3);
            assertThat(blocks(s.changedBlocks(REL, tl, 300, tl, 700))).containsExactly(3, 5);
            assertThat(blocks(s.changedBlocks(REL, tl, 700, tl, 300))).containsExactly(3, 5);
            assertThat(blocks(s.changedBlocks(REL, tl, 500, tl, 700))).containsExactly(5);
            assertThat(blocks(s.changedBlocks(REL, tl, 650, tl, 900))).containsExactly(3);
            ChangedBlocks same = s.changedBlocks(REL, tl, 900, tl, 900);
            assertThat(blocks(same)).isEmpty();
            assertThat(same.windows()).isEmpty();
            ChangedBlocks c = s.changedBlocks(REL, tl, 300, tl, 700);
            assertThat(c.windows()).containsExactly(new ChangedBlocks.Window(tl, 300, 700));
            assertThat(c.ownLevels()).isEmpty();
            assertThat(c.fromBlocks()).isEqualTo(10);
            assertThat(c.toBlocks()).isEqualTo(10);
            // every block was loaded before the window: still not changed
            assertThat(blocks(s.changedBlocks(REL, tl, 200, tl, 300))).isEmpty();
            assertThat(blocks(s.changedBlocks(REL, tl, 199, tl, 200))).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
            assertThat(s.changedBlocks(REL, tl, 199, tl, 200).existsOnBoth()).isFalse();
        }
    }

    @Test
    void aBranchAndItsParentSeeOnlyWhatEachWroteAfterTheBranchPoint() {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId parent = root(s);
            load(s, parent);
            write(s, parent, 250, 4); // before the branch point: shared
            TimelineId child = branch(s, parent, 300);
            write(s, parent, 400, 2);
            write(s, child, 450, 7);
            ChangedBlocks c = s.changedBlocks(REL, child, 450, parent, 400);
            assertThat(blocks(c)).containsExactly(2, 7);
            assertThat(c.windows()).containsExactly(new ChangedBlocks.Window(parent, 300, 400));
            assertThat(c.ownLevels()).containsExactly(new ChangedBlocks.Window(child, 0, 450));
            assertThat(c.common()).isEqualTo(new ChangedBlocks.Window(parent, 0, 300));
            // the page read at the branch point is the parent's of LSN 250 on both sides
            assertThat(s.getVersion(child, Key.relBlock(REL, 4), 450).lsn()).isEqualTo(250);
            assertThat(blocks(s.changedBlocks(REL, child, 450, parent, 300))).containsExactly(7);
            assertThat(blocks(s.changedBlocks(REL, child, 300, parent, 300))).isEmpty();
            // a past point of the child against the parent now
            write(s, child, 500, 8);
            assertThat(blocks(s.changedBlocks(REL, child, 460, parent, 400))).containsExactly(2, 7);
            assertThat(blocks(s.changedBlocks(REL, child, 500, child, 460))).containsExactly(8);
        }
    }

    @Test
    void twoSiblingBranchesAndABranchOfABranch() {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId parent = root(s);
            load(s, parent);
            TimelineId a = branch(s, parent, 300);
            write(s, parent, 350, 1); // between the two branch points
            TimelineId b = branch(s, parent, 400);
            write(s, a, 500, 6);
            write(s, b, 500, 9);
            write(s, parent, 600, 0); // after both: neither sees it
            ChangedBlocks c = s.changedBlocks(REL, a, 500, b, 500);
            assertThat(blocks(c)).containsExactly(1, 6, 9);
            assertThat(c.windows()).containsExactly(new ChangedBlocks.Window(parent, 300, 400));
            TimelineId grandchild = branch(s, a, 500);
            write(s, grandchild, 700, 3);
            assertThat(blocks(s.changedBlocks(REL, grandchild, 700, a, 500))).containsExactly(3);
            assertThat(blocks(s.changedBlocks(REL, grandchild, 700, b, 500))).containsExactly(1, 3, 6, 9);
            assertThat(blocks(s.changedBlocks(REL, grandchild, 700, parent, 700))).containsExactly(0, 1, 3, 6);
        }
    }

    @Test
    void blocksBeyondTheSmallerLengthCountAsChanged() {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId tl = root(s);
            load(s, tl);
            try (TimelineWriter w = s.writer(tl)) { // extended by two blocks
                w.put(Key.relBlock(REL, 10), 400, page(10, 0));
                w.put(Key.relBlock(REL, 11), 400, page(11, 0));
                size(w, REL, 400, 12, 150);
                w.commit(400);
            }
            TimelineId child = branch(s, tl, 500);
            try (TimelineWriter w = s.writer(child)) { // truncated to 8 blocks on the branch
                size(w, REL, 600, 8, 150);
                w.commit(600);
            }
            ChangedBlocks extended = s.changedBlocks(REL, tl, 300, tl, 500);
            assertThat(blocks(extended)).containsExactly(10, 11);
            assertThat(extended.fromBlocks()).isEqualTo(10);
            assertThat(extended.toBlocks()).isEqualTo(12);
            ChangedBlocks truncated = s.changedBlocks(REL, tl, 500, child, 600);
            assertThat(blocks(truncated)).containsExactly(8, 9, 10, 11);
            assertThat(truncated.maxBlocks()).isEqualTo(12);
            // truncated to 8, then one block written again past the old versions of 10 and 11
            try (TimelineWriter w = s.writer(child)) {
                w.put(Key.relBlock(REL, 8), 700, page(8, 1));
                size(w, REL, 700, 9, 150);
                w.commit(700);
            }
            assertThat(blocks(s.changedBlocks(REL, tl, 300, child, 700))).containsExactly(8, 9);
        }
    }

    @Test
    void aDroppedForkDoesNotExistAndARecreatedOneChangesEveryBlock() {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId tl = root(s);
            load(s, tl);
            try (TimelineWriter w = s.writer(tl)) {
                w.delete(Key.relSize(REL), 400);
                w.commit(400);
            }
            ChangedBlocks dropped = s.changedBlocks(REL, tl, 300, tl, 500);
            assertThat(dropped.existsOnBoth()).isFalse();
            assertThat(dropped.fromBlocks()).isEqualTo(10);
            assertThat(dropped.toBlocks()).isEqualTo(-1);
            try (TimelineWriter w = s.writer(tl)) { // the same relfilenode again: one block, rewritten
                w.put(Key.relBlock(REL, 0), 600, page(0, 9));
                size(w, REL, 600, 1, 600);
                w.commit(600);
            }
            ChangedBlocks recreated = s.changedBlocks(REL, tl, 300, tl, 700);
            assertThat(recreated.existsOnBoth()).isTrue();
            assertThat(blocks(recreated)).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        }
    }

    @Test
    void commitsBetweenListsTheCommitsOfAnLsnWindow() {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId tl = root(s);
            try (TimelineWriter w = s.writer(tl)) {
                w.putCommitTimestamp(1_000_000, 200, 10);
                w.putCommitTimestamp(2_000_000, 300, 11);
                w.putCommitTimestamp(3_000_000, 400, 12);
                w.putCommitTimestamp(2_999_999, 410, 13); // a clock a little out of order
                w.putCommitTimestamp(4_000_000, 500, 14);
                w.commit(500);
            }
            assertThat(s.commitsBetween(tl, 300, 450)).extracting(PageStore.Commit::xid).containsExactlyInAnyOrder(12L, 13L);
            assertThat(s.commitsBetween(tl, 0, 1000)).hasSize(5);
            assertThat(s.commitsBetween(tl, 500, 1000)).isEmpty();
        }
    }
}
