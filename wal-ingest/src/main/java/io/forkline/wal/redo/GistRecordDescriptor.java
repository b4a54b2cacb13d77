package io.forkline.wal.redo;

/**
 * The main data of the GiST resource manager's records ({@code src/include/access/gistxlog.h} of
 * PostgreSQL 15), each parsed from its C layout (little-endian, natural alignment):
 *
 * <pre>
 *   info 0x00 gistxlogPageUpdate  ntodelete(2) ntoinsert(2)                                      4 B
 *   info 0x10 gistxlogDelete      latestRemovedXid(4) ntodelete(2), then ntodelete offsets(2)  6 B + 2n
 *   info 0x20 gistxlogPageReuse   node(spc(4) db(4) rel(4)) block(4) latestRemovedFullXid(8)     24 B
 *   info 0x30 gistxlogPageSplit   origrlink(4) pad(4) orignsn(8) origleaf(1) pad(1) npage(2)
 *                                 markfollowright(1) pad(3)                                      24 B
 *   info 0x60 gistxlogPageDelete  deleteXid(8) downlinkOffset(2)                                 10 B
 *   info 0x70 ASSIGN_LSN          a dummy int 0                                                  4 B
 * </pre>
 *
 * Block data: {@code PAGE_UPDATE} block 0 {@code ntodelete} offsets (2 B each) then the tuples to
 * add (each {@code IndexTupleSize} bytes, back to back), block 1 (optional) the left child whose
 * {@code F_FOLLOW_RIGHT} the downlink insertion clears (no data); {@code PAGE_SPLIT} block 0
 * (optional) such a left child, blocks {@code 1..npage} the pages of the split, each with
 * {@code int num} (4 B) then {@code num} tuples back to back; {@code DELETE} and
 * {@code PAGE_DELETE} have none. 0x40 and 0x50 are no longer used.
 */
final class GistRecordDescriptor {
    static final int PAGE_UPDATE = 0x00;
    static final int DELETE = 0x10;
    static final int PAGE_REUSE = 0x20;
    static final int PAGE_SPLIT = 0x30;
    static final int PAGE_DELETE = 0x60;
    static final int ASSIGN_LSN = 0x70;

    /** {@code SizeOfGistxlogDelete}. */
    static final int SIZE_OF_DELETE = 6;

    private GistRecordDescriptor() {
    }

    /** {@code gistxlogPageUpdate}. */
    record PageUpdate(int ntodelete, int ntoinsert) {
        static PageUpdate parse(byte[] d) {
            HeapRedo.need(d, 4, "gistxlogPageUpdate");
            return new PageUpdate(BufPage.u16(d, 0), BufPage.u16(d, 2));
        }
    }

    /**
     * {@code gistxlogDelete} and the offsets that follow it in the main data.
     *
     * @param offsets the offsets to delete; empty when the main data ends after the struct
     */
    record Delete(int latestRemovedXid, int ntodelete, int[] offsets) {
        static Delete parse(byte[] d) {
            HeapRedo.need(d, SIZE_OF_DELETE, "gistxlogDelete");
            int n = BufPage.u16(d, 4);
            if (d.length <= SIZE_OF_DELETE) {
                return new Delete(BufPage.i32(d, 0), n, new int[0]);
            }
            HeapRedo.need(d, SIZE_OF_DELETE + 2 * n, "gistxlogDelete with " + n + " offsets");
            return new Delete(BufPage.i32(d, 0), n, HashRecordDescriptor.offsets(d, SIZE_OF_DELETE, n));
        }
    }

    /** {@code gistxlogPageSplit} (the padding after {@code markfollowright} is not read). */
    record PageSplit(int origrlink, long orignsn, boolean origleaf, int npage, boolean markfollowright) {
        static PageSplit parse(byte[] d) {
            HeapRedo.need(d, 21, "gistxlogPageSplit");
            return new PageSplit(BufPage.i32(d, 0), u64(d, 8), d[16] != 0, BufPage.u16(d, 18), d[20] != 0);
        }
    }

    /** {@code gistxlogPageDelete}. */
    record PageDelete(long deleteXid, int downlinkOffset) {
        static PageDelete parse(byte[] d) {
            HeapRedo.need(d, 10, "gistxlogPageDelete");
            return new PageDelete(u64(d, 0), BufPage.u16(d, 8));
        }
    }

    /** A little-endian {@code uint64} (an {@code XLogRecPtr} or {@code FullTransactionId}). */
    static long u64(byte[] d, int at) {
        return (BufPage.i32(d, at) & 0xFFFFFFFFL) | (long) BufPage.i32(d, at + 4) << 32;
    }
}
