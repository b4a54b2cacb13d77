package io.forkline.wal.redo;

/**
 * {@code HeapTupleHeaderData} field offsets and {@code t_infomask} / {@code t_infomask2} bits
 * ({@code src/include/access/htup_details.h}), relative to the tuple's start on the page:
 *
 * <pre>
 *   t_xmin(4) t_xmax(4) t_cid/t_xvac(4) t_ctid(bi_hi 2, bi_lo 2, posid 2) t_infomask2(2) t_infomask(2) t_hoff(1)
 *   0         4         8               12                              18             20            22
 * </pre>
 */
public final class HeapTuple {
    /** {@code SizeofHeapTupleHeader}. */
    public static final int HEADER_SIZE = 23;
    public static final int XMIN = 0;
    public static final int XMAX = 4;
    public static final int CID = 8;
    public static final int CTID = 12;
    public static final int INFOMASK2 = 18;
    public static final int INFOMASK = 20;
    public static final int HOFF = 22;

    /** {@code FirstCommandId}. */
    public static final int FIRST_COMMAND_ID = 0;

    public static final int HEAP_COMBOCID = 0x0020;
    public static final int HEAP_XMAX_KEYSHR_LOCK = 0x0010;
    public static final int HEAP_XMAX_EXCL_LOCK = 0x0040;
    public static final int HEAP_XMAX_LOCK_ONLY = 0x0080;
    public static final int HEAP_LOCK_MASK = 0x0050;
    public static final int HEAP_XMIN_COMMITTED = 0x0100;
    public static final int HEAP_XMIN_INVALID = 0x0200;
    public static final int HEAP_XMIN_FROZEN = 0x0300;
    public static final int HEAP_XMAX_COMMITTED = 0x0400;
    public static final int HEAP_XMAX_INVALID = 0x0800;
    public static final int HEAP_XMAX_IS_MULTI = 0x1000;
    public static final int HEAP_UPDATED = 0x2000;
    public static final int HEAP_MOVED = 0xC000;
    /** {@code HEAP_XMAX_BITS}. */
    public static final int HEAP_XMAX_BITS = HEAP_XMAX_COMMITTED | HEAP_XMAX_INVALID | HEAP_XMAX_IS_MULTI
            | HEAP_LOCK_MASK | HEAP_XMAX_LOCK_ONLY;
    /** {@code HEAP_XACT_MASK}: what {@code heap_mask} ignores for tuples with an unfrozen xmin. */
    public static final int HEAP_XACT_MASK = 0xFFF0;

    public static final int HEAP_KEYS_UPDATED = 0x2000;
    public static final int HEAP_HOT_UPDATED = 0x4000;

    /** {@code SpecTokenOffsetNumber}. */
    public static final int SPEC_TOKEN_OFFSET_NUMBER = 0xFFFE;
    /** {@code MovedPartitionsOffsetNumber}. */
    public static final int MOVED_PARTITIONS_OFFSET_NUMBER = 0xFFFD;

    // fix_infomask_from_infobits bits (XLHL_*)
    public static final int XLHL_XMAX_IS_MULTI = 0x01;
    public static final int XLHL_XMAX_LOCK_ONLY = 0x02;
    public static final int XLHL_XMAX_EXCL_LOCK = 0x04;
    public static final int XLHL_XMAX_KEYSHR_LOCK = 0x08;
    public static final int XLHL_KEYS_UPDATED = 0x10;

    private HeapTuple() {
    }

    public static int infomask(byte[] p, int t) {
        return BufPage.u16(p, t + INFOMASK);
    }

    public static int infomask2(byte[] p, int t) {
        return BufPage.u16(p, t + INFOMASK2);
    }

    public static void setInfomask(byte[] p, int t, int v) {
        BufPage.putU16(p, t + INFOMASK, v);
    }

    public static void setInfomask2(byte[] p, int t, int v) {
        BufPage.putU16(p, t + INFOMASK2, v);
    }

    public static void setXmin(byte[] p, int t, int xid) {
        BufPage.putI32(p, t + XMIN, xid);
    }

    public static void setXmax(byte[] p, int t, int xid) {
        BufPage.putI32(p, t + XMAX, xid);
    }

    /** {@code HeapTupleHeaderSetCmin} / {@code SetCmax(.., false)}: sets {@code t_cid}, clears {@code HEAP_COMBOCID}. */
    public static void setCid(byte[] p, int t, int cid) {
        BufPage.putI32(p, t + CID, cid);
        setInfomask(p, t, infomask(p, t) & ~HEAP_COMBOCID);
    }

    /** {@code ItemPointerSet(&t_ctid, blk, off)}. */
    public static void setCtid(byte[] p, int t, int blk, int off) {
        BufPage.putU16(p, t + CTID, blk >>> 16);
        BufPage.putU16(p, t + CTID + 2, blk & 0xFFFF);
        BufPage.putU16(p, t + CTID + 4, off);
    }

    public static int ctidOffset(byte[] p, int t) {
        return BufPage.u16(p, t + CTID + 4);
    }

    /** {@code fix_infomask_from_infobits} ({@code heapam.c}). */
    public static void fixInfomaskFromInfobits(byte[] p, int t, int infobits) {
        int im = infomask(p, t) & ~(HEAP_XMAX_IS_MULTI | HEAP_XMAX_LOCK_ONLY | HEAP_XMAX_KEYSHR_LOCK
                | HEAP_XMAX_EXCL_LOCK);
        int im2 = infomask2(p, t) & ~HEAP_KEYS_UPDATED;
        if ((infobits & XLHL_XMAX_IS_MULTI) != 0) {
            im |= HEAP_XMAX_IS_MULTI;
        }
        if ((infobits & XLHL_XMAX_LOCK_ONLY) != 0) {
            im |= HEAP_XMAX_LOCK_ONLY;
        }
        if ((infobits & XLHL_XMAX_EXCL_LOCK) != 0) {
            im |= HEAP_XMAX_EXCL_LOCK;
        }
        if ((infobits & XLHL_XMAX_KEYSHR_LOCK) != 0) {
            im |= HEAP_XMAX_KEYSHR_LOCK;
        }
        if ((infobits & XLHL_KEYS_UPDATED) != 0) {
            im2 |= HEAP_KEYS_UPDATED;
        }
        setInfomask(p, t, im);
        setInfomask2(p, t, im2);
    }

    /** {@code t_infomask &= ~(HEAP_XMAX_BITS | HEAP_MOVED); t_infomask2 &= ~HEAP_KEYS_UPDATED}. */
    static void clearXmaxBits(byte[] p, int t) {
        setInfomask(p, t, infomask(p, t) & ~(HEAP_XMAX_BITS | HEAP_MOVED));
        setInfomask2(p, t, infomask2(p, t) & ~HEAP_KEYS_UPDATED);
    }

    /** {@code HEAP_XMAX_IS_LOCKED_ONLY(infomask)}. */
    public static boolean xmaxIsLockedOnly(int infomask) {
        return (infomask & HEAP_XMAX_LOCK_ONLY) != 0
                || (infomask & (HEAP_XMAX_IS_MULTI | HEAP_LOCK_MASK)) == HEAP_XMAX_EXCL_LOCK;
    }
}
