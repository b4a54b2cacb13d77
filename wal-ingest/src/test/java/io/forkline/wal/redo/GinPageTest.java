package io.forkline.wal.redo;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** GIN page layout helpers and {@code gin_mask} ({@link GinPage}). */
class GinPageTest {
    @Test
    void metapageAsGinInitMetabufferLeavesIt() {
        byte[] p = new byte[BufPage.BLCKSZ];
        GinPage.initMetabuffer(p);
        assertThat(BufPage.special(p)).isEqualTo(8184);
        assertThat(BufPage.lower(p)).isEqualTo(80);
        assertThat(GinPage.flags(p)).isEqualTo(GinPage.GIN_META);
        assertThat(GinPage.rightlink(p)).isEqualTo(GinPage.INVALID_BLOCK);
        assertThat(BufPage.i32(p, GinPage.META_HEAD)).isEqualTo(GinPage.INVALID_BLOCK);
        assertThat(BufPage.i32(p, GinPage.META_TAIL)).isEqualTo(GinPage.INVALID_BLOCK);
        assertThat(BufPage.i32(p, GinPage.META_VERSION)).isEqualTo(2);
    }

    @Test
    void postingItemsShiftAndSetTheDataSize() {
        byte[] p = new byte[BufPage.BLCKSZ];
        GinPage.initPage(p, GinPage.GIN_DATA);
        for (int i = 1; i <= 3; i++) {
            GinPage.addPostingItem(p, item(i * 10), 0, 0);
        }
        GinPage.addPostingItem(p, item(15), 0, 2); // between the first and the second
        assertThat(GinPage.maxoff(p)).isEqualTo(4);
        assertThat(BufPage.lower(p)).isEqualTo(GinPage.DATA + 40);
        assertThat(childAt(p, 1)).isEqualTo(10);
        assertThat(childAt(p, 2)).isEqualTo(15);
        assertThat(childAt(p, 3)).isEqualTo(20);
        GinPage.deletePostingItem(p, 1);
        assertThat(GinPage.maxoff(p)).isEqualTo(3);
        assertThat(BufPage.lower(p)).isEqualTo(GinPage.DATA + 30);
        assertThat(childAt(p, 1)).isEqualTo(15);
        assertThat(childAt(p, 3)).isEqualTo(30);
        assertThatThrownBy(() -> GinPage.deletePostingItem(p, 4)).isInstanceOf(RedoException.class);
    }

    @Test
    void maskHidesTheHoleAndTheWholeOfADeletedPage() {
        byte[] a = new byte[BufPage.BLCKSZ];
        GinPage.initPage(a, GinPage.GIN_DATA | GinPage.GIN_LEAF | GinPage.GIN_COMPRESSED);
        GinPage.setDataSize(a, 100);
        byte[] b = a.clone();
        b[GinPage.DATA + 100] = 7; // in the hole
        BufPage.putI32(b, BufPage.PRUNE_XID_OFFSET, 1234);
        GinPage.mask(a);
        GinPage.mask(b);
        assertThat(b).isEqualTo(a);
        byte[] c = b.clone();
        c[GinPage.DATA + 99] = 7; // in the data
        GinPage.mask(c);
        assertThat(c).isNotEqualTo(a);

        byte[] d1 = new byte[BufPage.BLCKSZ];
        GinPage.initPage(d1, GinPage.GIN_DATA | GinPage.GIN_LEAF | GinPage.GIN_DELETED);
        byte[] d2 = d1.clone();
        GinPage.setDataSize(d2, 40);
        d2[GinPage.DATA + 3] = 9;
        GinPage.mask(d1);
        GinPage.mask(d2);
        assertThat(d2).isEqualTo(d1);
    }

    private static byte[] item(int child) {
        byte[] it = new byte[GinPage.POSTING_ITEM_SIZE];
        GinPage.setPostingItemBlock(it, 0, child);
        GinPostingList.writeItemPointer(it, 4, GinPostingList.tid(child, 1));
        return it;
    }

    private static int childAt(byte[] p, int i) {
        return GinRecordDescriptor.blockId(p, GinPage.postingItem(i));
    }
}
