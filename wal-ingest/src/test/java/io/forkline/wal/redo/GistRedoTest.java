package io.forkline.wal.redo;

import io.forkline.wal.record.BlockReference;
import io.forkline.wal.record.WalRecord;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * GiST redo beyond the replayed fixtures' comparison ({@link RedoFixtureReplayTest}), on records
 * PostgreSQL 15 wrote (the {@code Gist_*} fixtures captured by {@code RedoVerifyIT}): the corpus
 * covers each branch of {@code gist_redo}; {@code gistRedoClearFollowRight}'s change reaches the
 * image that is stored (PostgreSQL's image predates it), for a consistency image and for an image to
 * apply; the layout a split gives its pages; {@code gist_mask} hides what PostgreSQL hides and no
 * more; a corrupted expectation is reported.
 */
class GistRedoTest {
    private static List<RedoFixture> gistFixtures() throws Exception {
        List<RedoFixture> out = new ArrayList<>();
        for (Path p : RedoFixtureReplayTest.fixtures()) {
            if (p.getFileName().toString().startsWith("Gist_")) {
                try (InputStream in = Files.newInputStream(p)) {
                    out.add(RedoFixture.read(in));
                }
            }
        }
        return out;
    }

    private static RedoFixture fixture(String type, Predicate<RedoFixture> p) throws Exception {
        return gistFixtures().stream()
                .filter(f -> NativeRedo.recordName(f.record().rmid(), f.record().info()).equals(type))
                .filter(p).findFirst().orElseThrow(() -> new AssertionError("no " + type + " fixture of that shape"));
    }

    private static int u16(byte[] d, int at) {
        return BufPage.u16(d, at);
    }

    private static boolean hasBlock(RedoFixture f, int id) {
        return f.record().block(id) != null;
    }

    @Test
    void theCorpusCoversEveryBranchOfGistRedo() throws Exception {
        // PAGE_UPDATE: one tuple replaced by one (PageIndexTupleOverwrite), deletions only on a leaf
        // (vacuum), plain appends, and a downlink insertion with the left child as block 1
        fixture("Gist/PAGE_UPDATE", f -> u16(f.record().mainData(), 0) == 1 && u16(f.record().mainData(), 2) == 1);
        RedoFixture vacuum = fixture("Gist/PAGE_UPDATE",
                f -> u16(f.record().mainData(), 0) > 2 && u16(f.record().mainData(), 2) == 0);
        assertThat(GistPage.isLeaf(vacuum.bases().get(0))).isTrue();
        fixture("Gist/PAGE_UPDATE", f -> u16(f.record().mainData(), 0) == 0);
        fixture("Gist/PAGE_UPDATE", f -> hasBlock(f, 1));
        // PAGE_SPLIT: a root split (first page is block 0), a leaf split marking F_FOLLOW_RIGHT, and an
        // internal split that also clears its left child's flag (block 0)
        fixture("Gist/PAGE_SPLIT", f -> f.record().block(1).blockNo() == GistPage.ROOT_BLKNO);
        fixture("Gist/PAGE_SPLIT", f -> f.record().block(1).blockNo() != GistPage.ROOT_BLKNO
                && f.record().mainData()[20] != 0 && f.record().mainData()[16] != 0);
        fixture("Gist/PAGE_SPLIT", f -> hasBlock(f, 0) && f.record().mainData()[16] == 0);
        fixture("Gist/DELETE", f -> f.record().mainData().length > GistRecordDescriptor.SIZE_OF_DELETE);
        fixture("Gist/PAGE_DELETE", f -> hasBlock(f, 1));
    }

    @Test
    void theLeftChildsImageIsStoredWithItsFollowRightClearedAndNsnSet() throws Exception {
        RedoFixture f = fixture("Gist/PAGE_UPDATE", x -> hasBlock(x, 1));
        byte[] image = f.record().block(1).image();
        // PostgreSQL's image was taken before gistplacetopage cleared the flag
        assertThat(GistPage.flags(image) & GistPage.F_FOLLOW_RIGHT).isNotZero();
        long end = f.record().endLsn();

        RedoBuffers redone = new RedoBuffers(f.record(), b -> f.bases().get(b.blockId()).clone());
        NativeRedo.redo(redone);
        for (byte[] page : List.of(redone.page(1), redone.imageToStore(1))) {
            assertThat(GistPage.flags(page) & GistPage.F_FOLLOW_RIGHT).isZero();
            assertThat(GistPage.nsn(page)).isEqualTo(end);
            assertThat(BufPage.lsn(page)).isEqualTo(end);
        }
        assertThat(GistPage.flags(image) & GistPage.F_FOLLOW_RIGHT).as("the record's image is left alone").isNotZero();

        // the same record with block 1 as a full-page write to apply (BKPIMAGE_APPLY): restored, changed
        List<BlockReference> blocks = new ArrayList<>();
        for (BlockReference b : f.record().blocks()) {
            blocks.add(b.blockId() != 1 ? b : new BlockReference(b.blockId(), b.spcOid(), b.dbOid(), b.relNumber(),
                    b.forkNum(), b.blockNo(), b.flags(), b.image(), true, b.data()));
        }
        WalRecord r = f.record();
        RedoBuffers restored = new RedoBuffers(new WalRecord(r.startLsn(), r.endLsn(), r.xid(), r.topXid(), r.rmid(),
                r.info(), r.mainData(), List.copyOf(blocks)), b -> f.bases().get(b.blockId()).clone());
        NativeRedo.redo(restored);
        assertThat(restored.outcome(1)).isEqualTo(RedoBuffers.Outcome.RESTORED);
        byte[] stored = restored.imageToStore(1);
        assertThat(GistPage.flags(stored) & GistPage.F_FOLLOW_RIGHT).isZero();
        assertThat(GistPage.nsn(stored)).isEqualTo(end);
        // everything else is the image
        byte[] expected = image.clone();
        GistPage.setFollowRight(expected, false);
        GistPage.setNsn(expected, end);
        BufPage.setLsn(expected, end);
        assertThat(stored).isEqualTo(expected);
    }

    @Test
    void aRootSplitLeavesAnInternalRootAndChainsTheLeaves() throws Exception {
        RedoFixture f = fixture("Gist/PAGE_SPLIT", x -> x.record().block(1).blockNo() == GistPage.ROOT_BLKNO);
        GistRecordDescriptor.PageSplit x = GistRecordDescriptor.PageSplit.parse(f.record().mainData());
        RedoBuffers bufs = new RedoBuffers(f.record(), b -> null);
        NativeRedo.redo(bufs);
        byte[] root = bufs.page(1);
        assertThat(GistPage.flags(root) & (GistPage.F_LEAF | GistPage.F_FOLLOW_RIGHT)).isZero();
        assertThat(GistPage.rightlink(root)).isEqualTo(GistPage.INVALID_BLOCK);
        assertThat(BufPage.maxOffset(root)).isEqualTo(x.npage() - 1);
        for (int i = 2; i <= x.npage(); i++) {
            byte[] page = bufs.page(i);
            assertThat(GistPage.isLeaf(page)).isEqualTo(x.origleaf());
            assertThat(GistPage.flags(page) & GistPage.F_FOLLOW_RIGHT).as("no follow-right in a root split").isZero();
            int next = i < x.npage() ? f.record().block(i + 1).blockNo() : x.origrlink();
            assertThat(GistPage.rightlink(page)).isEqualTo(next);
            assertThat(BufPage.u16(page, BufPage.BLCKSZ - 2)).isEqualTo(GistPage.GIST_PAGE_ID);
        }
    }

    @Test
    void gistMaskHidesNsnFollowRightGarbageTuplesDeletedAndLeafLinePointerFlagsOnly() throws Exception {
        byte[] leaf = fixture("Gist/PAGE_UPDATE", f -> u16(f.record().mainData(), 0) == 0).record().block(0).image();
        assertThat(GistPage.isLeaf(leaf)).isTrue();
        byte[] hinted = leaf.clone();
        GistPage.setNsn(hinted, 0x1234_5678_9AL);
        GistPage.setFollowRight(hinted, true);
        GistPage.setFlags(hinted, GistPage.flags(hinted) | GistPage.F_HAS_GARBAGE);
        BufPage.markDead(hinted, 1);
        assertThat(masked(hinted)).isEqualTo(masked(leaf));
        // 15.19's redo sets F_TUPLES_DELETED where 15.20's primary does not; nothing reads it
        byte[] tuplesDeleted = leaf.clone();
        GistPage.setFlags(tuplesDeleted, GistPage.flags(tuplesDeleted) ^ GistPage.F_TUPLES_DELETED);
        assertThat(masked(tuplesDeleted)).isEqualTo(masked(leaf));
        byte[] deleted = leaf.clone();
        GistPage.setFlags(deleted, GistPage.flags(deleted) ^ GistPage.F_DELETED);
        assertThat(masked(deleted)).as("other flags count").isNotEqualTo(masked(leaf));

        byte[] internal = fixture("Gist/PAGE_UPDATE", f -> hasBlock(f, 1)).record().block(0).image();
        assertThat(GistPage.isLeaf(internal)).isFalse();
        byte[] dead = internal.clone();
        BufPage.markDead(dead, 1);
        assertThat(masked(dead)).as("line pointer flags count on internal pages").isNotEqualTo(masked(internal));
        // what the mask hides, the strict check still compares (except on the left child)
        byte[] nsn = internal.clone();
        GistPage.setNsn(nsn, 42);
        // the low word (xrecoff) of the 8-byte NSN, which starts the special space
        assertThat(GistPage.strictDifference(nsn, internal, false)).isEqualTo(BufPage.special(internal) + 4);
        byte[] followRight = internal.clone();
        GistPage.setFollowRight(followRight, true);
        assertThat(GistPage.strictDifference(followRight, internal, false)).isEqualTo(BufPage.special(internal) + 12);
        assertThat(GistPage.strictDifference(nsn, internal, true)).isEqualTo(-1);
    }

    private static byte[] masked(byte[] page) {
        byte[] p = page.clone();
        GistPage.mask(p);
        return p;
    }

    @Test
    void aCorruptedExpectationIsReported() throws Exception {
        RedoFixture f = fixture("Gist/PAGE_SPLIT", x -> hasBlock(x, 0));
        byte[] image = f.record().block(2).image();
        int tuple = BufPage.lpOff(BufPage.itemId(image, 2)) + IndexTuple.HEADER_SIZE;
        image[tuple] ^= 0x55;
        RedoVerifier.Mismatch m = RedoVerifier.replay(f).mismatch();
        assertThat(m).isNotNull();
        assertThat(m.blockId()).isEqualTo(2);
        assertThat(m.offset()).isEqualTo(tuple);
        assertThat(m.strict()).isFalse();
    }
}
