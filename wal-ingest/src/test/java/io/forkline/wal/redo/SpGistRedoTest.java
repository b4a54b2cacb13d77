package io.forkline.wal.redo;

import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * SP-GiST redo beyond the replayed fixtures' comparison ({@link RedoFixtureReplayTest}), on records
 * PostgreSQL 15 wrote (the {@code SPGist_*} fixtures captured by {@code RedoVerifyIT}): the corpus
 * covers the branches of each {@code spgRedo*} routine; the redirect a move leaves is the dead tuple
 * {@code spgFormDeadTuple} builds; {@code spg_mask} hides only LSN, checksum, hints and unused space;
 * a corrupted expectation is reported.
 */
class SpGistRedoTest {
    private static List<RedoFixture> spgistFixtures() throws Exception {
        List<RedoFixture> out = new ArrayList<>();
        for (Path p : RedoFixtureReplayTest.fixtures()) {
            if (p.getFileName().toString().startsWith("SPGist_")) {
                try (InputStream in = Files.newInputStream(p)) {
                    out.add(RedoFixture.read(in));
                }
            }
        }
        return out;
    }

    private static RedoFixture fixture(String type, Predicate<byte[]> mainData) throws Exception {
        return spgistFixtures().stream()
                .filter(f -> NativeRedo.recordName(f.record().rmid(), f.record().info()).equals(type))
                .filter(f -> mainData.test(f.record().mainData())).findFirst()
                .orElseThrow(() -> new AssertionError("no " + type + " fixture of that shape"));
    }

    @Test
    void theCorpusCoversTheBranchesOfEveryRoutine() throws Exception {
        // ADD_LEAF: on a new page, after a chain head with the parent's downlink, replacing a dead tuple
        fixture("SPGist/ADD_LEAF", m -> m[0] != 0);
        fixture("SPGist/ADD_LEAF", m -> m[0] == 0 && BufPage.u16(m, 6) != 0);
        fixture("SPGist/ADD_LEAF", m -> BufPage.u16(m, 2) == BufPage.u16(m, 4));
        // MOVE_LEAFS to a new and to an existing page
        fixture("SPGist/MOVE_LEAFS", m -> m[2] != 0);
        fixture("SPGist/MOVE_LEAFS", m -> m[2] == 0);
        // ADD_NODE in place, and moved to another page (new, existing)
        fixture("SPGist/ADD_NODE", m -> m[5] == -1);
        fixture("SPGist/ADD_NODE", m -> m[5] != -1 && m[4] != 0);
        fixture("SPGist/ADD_NODE", m -> m[5] != -1 && m[4] == 0);
        // SPLIT_TUPLE with the postfix on the same page and on another
        fixture("SPGist/SPLIT_TUPLE", m -> m[5] != 0);
        fixture("SPGist/SPLIT_TUPLE", m -> m[5] == 0);
        // PICKSPLIT of the root, of a leaf into a new inner page, with the inner page as parent
        fixture("SPGist/PICKSPLIT", m -> m[0] != 0);
        fixture("SPGist/PICKSPLIT", m -> m[0] == 0 && m[10] != 0);
        fixture("SPGist/PICKSPLIT", m -> m[0] == 0 && m[12] != 0);
        fixture("SPGist/VACUUM_LEAF", m -> BufPage.u16(m, 0) + BufPage.u16(m, 2) > 0);
        fixture("SPGist/VACUUM_ROOT", m -> BufPage.u16(m, 0) > 0);
        fixture("SPGist/VACUUM_REDIRECT", m -> BufPage.u16(m, 0) > 0);
    }

    @Test
    void aMoveLeavesARedirectToTheLastInsertedTuple() throws Exception {
        RedoFixture f = fixture("SPGist/MOVE_LEAFS", m -> m[3] == 0);
        SpGistRecordDescriptor.MoveLeafs x = SpGistRecordDescriptor.MoveLeafs.parse(f.record().mainData());
        RedoBuffers bufs = new RedoBuffers(f.record(), b -> {
            byte[] base = f.bases().get(b.blockId());
            return base == null ? null : base.clone();
        });
        NativeRedo.redo(bufs);
        byte[] src = bufs.page(0);
        int first = BufPage.u16(f.record().mainData(), SpGistRecordDescriptor.SIZE_OF_MOVE_LEAFS);
        int lastInsert = BufPage.u16(f.record().mainData(),
                SpGistRecordDescriptor.SIZE_OF_MOVE_LEAFS + 2 * x.nMoves() + 2 * (x.nInsert() - 1));
        byte[] redirect = SpGistPage.formDeadTuple(SpGistPage.SPGIST_REDIRECT, f.record().block(1).blockNo(),
                lastInsert, x.stateSrc().myXid());
        int at = BufPage.normalItemAnyFlags(src, first);
        assertThat(java.util.Arrays.copyOfRange(src, at, at + SpGistPage.SGDTSIZE)).isEqualTo(redirect);
        assertThat(SpGistPage.tupstate(src, at)).isEqualTo(SpGistPage.SPGIST_REDIRECT);
        assertThat(SpGistPage.nRedirection(src)).isEqualTo(SpGistPage.nRedirection(f.bases().get(0)) + 1);
    }

    @Test
    void spgMaskComparesTuplesAndTheSpecialSpace() throws Exception {
        byte[] page = fixture("SPGist/VACUUM_LEAF", m -> true).record().block(0).image();
        byte[] counts = page.clone();
        SpGistPage.setNPlaceholder(counts, SpGistPage.nPlaceholder(counts) + 1);
        assertThat(masked(counts)).isNotEqualTo(masked(page));
        byte[] hints = page.clone();
        BufPage.setLsn(hints, 42);
        BufPage.putI32(hints, BufPage.PRUNE_XID_OFFSET, 7);
        BufPage.putU16(hints, BufPage.lower(hints), 0xFFFF);
        assertThat(masked(hints)).isEqualTo(masked(page));
    }

    private static byte[] masked(byte[] page) {
        byte[] p = page.clone();
        SpGistPage.mask(p);
        return p;
    }

    @Test
    void aCorruptedExpectationIsReported() throws Exception {
        RedoFixture f = fixture("SPGist/PICKSPLIT", m -> m[0] != 0);
        byte[] image = f.record().block(2).image();
        int special = BufPage.special(image);
        image[special + 2] ^= 0x01;
        RedoVerifier.Mismatch m = RedoVerifier.replay(f).mismatch();
        assertThat(m).isNotNull();
        assertThat(m.blockId()).isEqualTo(2);
        assertThat(m.offset()).isEqualTo(special + 2);
    }
}
