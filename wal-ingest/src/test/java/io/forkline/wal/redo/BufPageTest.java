package io.forkline.wal.redo;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Page primitives against hand-computed PostgreSQL 15 layouts. */
class BufPageTest {
    private static byte[] item(int len, int fill) {
        byte[] b = new byte[len];
        java.util.Arrays.fill(b, (byte) fill);
        return b;
    }

    @Test
    void initAndAddItemPlaceItemsDownwardFromSpecial() {
        byte[] p = new byte[BufPage.BLCKSZ];
        BufPage.init(p, 4);
        assertThat(BufPage.lower(p)).isEqualTo(24);
        assertThat(BufPage.upper(p)).isEqualTo(8184);
        assertThat(BufPage.special(p)).isEqualTo(8184);
        assertThat(BufPage.u16(p, BufPage.PAGESIZE_VERSION_OFFSET)).isEqualTo(0x2004);
        assertThat(BufPage.addItem(p, item(30, 1), 0, 30, 0, 0)).isEqualTo(1);
        assertThat(BufPage.addItem(p, item(16, 2), 0, 16, 0, 0)).isEqualTo(2);
        assertThat(BufPage.upper(p)).isEqualTo(8184 - 32 - 16);
        int id = BufPage.itemId(p, 1);
        assertThat(BufPage.lpOff(id)).isEqualTo(8152);
        assertThat(BufPage.lpLen(id)).isEqualTo(30);
        assertThat(BufPage.lpFlags(id)).isEqualTo(BufPage.LP_NORMAL);
        // insert in the middle shuffles line pointers up
        assertThat(BufPage.addItem(p, item(8, 3), 0, 8, 1, 0)).isEqualTo(1);
        assertThat(BufPage.maxOffset(p)).isEqualTo(3);
        assertThat(BufPage.lpLen(BufPage.itemId(p, 2))).isEqualTo(30);
        // overwrite refuses a used slot
        assertThat(BufPage.addItem(p, item(8, 4), 0, 8, 2, BufPage.PAI_OVERWRITE)).isZero();
    }

    @Test
    void repairFragmentationPacksInLinePointerOrderAndTruncatesTrailingUnused() {
        byte[] p = new byte[BufPage.BLCKSZ];
        BufPage.init(p, 0);
        for (int i = 1; i <= 5; i++) {
            BufPage.addItem(p, item(24, i), 0, 24, 0, BufPage.PAI_IS_HEAP);
        }
        // item 2 dead, item 3 unused, item 5 unused (trailing: truncated away, as PostgreSQL 15 does)
        BufPage.setDead(p, 2);
        BufPage.setUnused(p, 3);
        BufPage.setUnused(p, 5);
        BufPage.repairFragmentation(p);
        assertThat(BufPage.maxOffset(p)).isEqualTo(4);
        assertThat(BufPage.lpOff(BufPage.itemId(p, 1))).isEqualTo(8192 - 24);
        assertThat(BufPage.lpOff(BufPage.itemId(p, 4))).isEqualTo(8192 - 48);
        assertThat(p[8192 - 48]).isEqualTo((byte) 4);
        assertThat(BufPage.upper(p)).isEqualTo(8192 - 48);
        assertThat(BufPage.flags(p) & BufPage.PD_HAS_FREE_LINES).isNotZero();
        // nothing used: every line pointer goes
        BufPage.setUnused(p, 1);
        BufPage.setUnused(p, 2);
        BufPage.setUnused(p, 4);
        BufPage.repairFragmentation(p);
        assertThat(BufPage.maxOffset(p)).isZero();
        assertThat(BufPage.upper(p)).isEqualTo(8192);
        assertThat(BufPage.flags(p) & BufPage.PD_HAS_FREE_LINES).isZero();
    }

    @Test
    void indexMultiDeleteCompactsTheRest() {
        byte[] p = new byte[BufPage.BLCKSZ];
        BufPage.init(p, 16);
        for (int i = 1; i <= 6; i++) {
            BufPage.addItem(p, item(16, i), 0, 16, 0, 0);
        }
        BufPage.indexMultiDelete(p, new int[] {2, 3, 5}, 3);
        assertThat(BufPage.maxOffset(p)).isEqualTo(3);
        int special = BufPage.special(p);
        assertThat(p[BufPage.lpOff(BufPage.itemId(p, 1))]).isEqualTo((byte) 1);
        assertThat(p[BufPage.lpOff(BufPage.itemId(p, 2))]).isEqualTo((byte) 4);
        assertThat(p[BufPage.lpOff(BufPage.itemId(p, 3))]).isEqualTo((byte) 6);
        assertThat(BufPage.lpOff(BufPage.itemId(p, 1))).isEqualTo(special - 16);
        assertThat(BufPage.upper(p)).isEqualTo(special - 48);
    }

    @Test
    void indexTupleDeleteClosesTheGapAndTheLinePointerArray() {
        byte[] p = fourIndexItems(); // items 1..4 of 16 bytes at 8160, 8144, 8128, 8112
        BufPage.indexTupleDelete(p, 2);
        assertThat(BufPage.maxOffset(p)).isEqualTo(3);
        assertThat(BufPage.lower(p)).isEqualTo(24 + 3 * 4);
        assertThat(BufPage.upper(p)).isEqualTo(8128);
        assertThat(BufPage.lpOff(BufPage.itemId(p, 1))).isEqualTo(8160);
        assertThat(BufPage.lpOff(BufPage.itemId(p, 2))).isEqualTo(8144);
        assertThat(BufPage.lpOff(BufPage.itemId(p, 3))).isEqualTo(8128);
        assertThat(new byte[] {p[8160], p[8144], p[8128]}).containsExactly(1, 3, 4);
    }

    @Test
    void indexTupleDeleteNoCompactKeepsOffsetsAndDropsOnlyATrailingPointer() {
        byte[] p = fourIndexItems();
        BufPage.indexTupleDeleteNoCompact(p, 2);
        assertThat(BufPage.maxOffset(p)).isEqualTo(4);
        assertThat(BufPage.lpLen(BufPage.itemId(p, 2))).isZero();
        assertThat(BufPage.lpOff(BufPage.itemId(p, 2))).as("an unused pointer does not move").isZero();
        assertThat(BufPage.upper(p)).isEqualTo(8128);
        assertThat(BufPage.lpOff(BufPage.itemId(p, 3))).isEqualTo(8144);
        assertThat(BufPage.lpOff(BufPage.itemId(p, 4))).isEqualTo(8128);
        assertThat(new byte[] {p[8160], p[8144], p[8128]}).containsExactly(1, 3, 4);
        BufPage.indexTupleDeleteNoCompact(p, 4); // the last pointer goes
        assertThat(BufPage.maxOffset(p)).isEqualTo(3);
        assertThat(BufPage.upper(p)).isEqualTo(8144);
        assertThat(BufPage.lpOff(BufPage.itemId(p, 3))).isEqualTo(8144);
        assertThat(p[8144]).isEqualTo((byte) 3);
    }

    private static byte[] fourIndexItems() {
        byte[] p = new byte[BufPage.BLCKSZ];
        BufPage.init(p, 16);
        for (int i = 1; i <= 4; i++) {
            BufPage.addItem(p, item(16, i), 0, 16, 0, 0);
        }
        return p;
    }

    @Test
    void truncateLinePointerArrayKeepsTheFirst() {
        byte[] p = new byte[BufPage.BLCKSZ];
        BufPage.init(p, 0);
        for (int i = 1; i <= 3; i++) {
            BufPage.addItem(p, item(8, i), 0, 8, 0, BufPage.PAI_IS_HEAP);
        }
        BufPage.setUnused(p, 1);
        BufPage.setUnused(p, 2);
        BufPage.setUnused(p, 3);
        BufPage.truncateLinePointerArray(p);
        assertThat(BufPage.maxOffset(p)).isEqualTo(1);
        assertThat(BufPage.flags(p) & BufPage.PD_HAS_FREE_LINES).isNotZero();
    }
}
