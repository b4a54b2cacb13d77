package io.forkline.wal.redo;

import java.util.Arrays;

/**
 * PostgreSQL's consistency-check masks ({@code src/backend/access/common/bufmask.c} and the
 * per-AM {@code rm_mask} functions), applied in place to a page copy before comparing a redone page
 * with the post-image PostgreSQL sent, plus the strict checks of what those masks hide but matters
 * here ({@link #strictHeapDifference}). {@code MASK_MARKER} is 0.
 */
public final class PageMasks {
    /** {@code t_infomask} bits {@code heap_mask} hides but redo must reproduce: lock bits, multi, updated, moved. */
    public static final int STRICT_INFOMASK = HeapTuple.HEAP_XMAX_IS_MULTI | HeapTuple.HEAP_XMAX_LOCK_ONLY
            | HeapTuple.HEAP_LOCK_MASK | HeapTuple.HEAP_UPDATED | HeapTuple.HEAP_MOVED;

    private PageMasks() {
    }

    /** {@code mask_page_lsn_and_checksum}. */
    static void maskLsnAndChecksum(byte[] p) {
        Arrays.fill(p, 0, 10, (byte) 0);
    }

    /** {@code mask_page_hint_bits}: {@code pd_prune_xid}, {@code PD_PAGE_FULL}, {@code PD_HAS_FREE_LINES}, {@code PD_ALL_VISIBLE}. */
    static void maskHintBits(byte[] p) {
        BufPage.putI32(p, BufPage.PRUNE_XID_OFFSET, 0);
        BufPage.setFlag(p, BufPage.PD_PAGE_FULL | BufPage.PD_HAS_FREE_LINES | BufPage.PD_ALL_VISIBLE, false);
    }

    /** {@code mask_unused_space}: zero between {@code pd_lower} and {@code pd_upper}. */
    static void maskUnusedSpace(byte[] p) {
        int lower = BufPage.lower(p);
        int upper = BufPage.upper(p);
        int special = BufPage.special(p);
        if (lower > upper || special < upper || lower < BufPage.HEADER_SIZE || special > BufPage.BLCKSZ) {
            throw new RedoException("invalid page pd_lower " + lower + " pd_upper " + upper + " pd_special "
                    + special);
        }
        Arrays.fill(p, lower, upper, (byte) 0);
    }

    /** {@code mask_lp_flags}: used line pointers get {@code LP_UNUSED} flags (offset and length kept). */
    static void maskLpFlags(byte[] p) {
        for (int off = 1; off <= BufPage.maxOffset(p); off++) {
            int id = BufPage.itemId(p, off);
            if (BufPage.lpFlags(id) != BufPage.LP_UNUSED) {
                BufPage.setItemId(p, off, BufPage.makeItemId(BufPage.lpOff(id), BufPage.LP_UNUSED, BufPage.lpLen(id)));
            }
        }
    }

    /** {@code mask_page_content}: everything after the header, and {@code pd_lower}/{@code pd_upper}. */
    static void maskPageContent(byte[] p) {
        Arrays.fill(p, BufPage.HEADER_SIZE, BufPage.BLCKSZ, (byte) 0);
        BufPage.setLower(p, 0);
        BufPage.setUpper(p, 0);
    }

    /** {@code heap_mask} ({@code heapam.c}). */
    public static void heapMask(byte[] p, int blkno) {
        maskLsnAndChecksum(p);
        maskHintBits(p);
        maskUnusedSpace(p);
        for (int off = 1; off <= BufPage.maxOffset(p); off++) {
            int id = BufPage.itemId(p, off);
            int t = BufPage.lpOff(id);
            if (BufPage.lpFlags(id) == BufPage.LP_NORMAL) {
                int im = HeapTuple.infomask(p, t);
                if ((im & HeapTuple.HEAP_XMIN_FROZEN) != HeapTuple.HEAP_XMIN_FROZEN) {
                    im &= ~HeapTuple.HEAP_XACT_MASK;
                } else {
                    im &= ~(HeapTuple.HEAP_XMAX_INVALID | HeapTuple.HEAP_XMAX_COMMITTED);
                }
                HeapTuple.setInfomask(p, t, im);
                BufPage.putI32(p, t + HeapTuple.CID, 0);
                if (HeapTuple.ctidOffset(p, t) == HeapTuple.SPEC_TOKEN_OFFSET_NUMBER) {
                    HeapTuple.setCtid(p, t, blkno, off);
                }
            }
            int len = BufPage.lpLen(id);
            if (len != 0) {
                int pad = BufPage.maxAlign(len) - len;
                if (pad > 0 && t + len + pad <= BufPage.BLCKSZ) {
                    Arrays.fill(p, t + len, t + len + pad, (byte) 0);
                }
            }
        }
    }

    /**
     * {@code btree_mask} ({@code nbtxlog.c}): common masks, line pointer flags on leaves
     * ({@code LP_DEAD} hints), {@code BTP_HAS_GARBAGE}, {@code BTP_SPLIT_END} and {@code btpo_cycleid}.
     */
    public static void btreeMask(byte[] p) {
        maskLsnAndChecksum(p);
        maskHintBits(p);
        maskUnusedSpace(p);
        int opaque = BufPage.special(p);
        if (opaque + 16 > BufPage.BLCKSZ) {
            return;
        }
        int flags = BufPage.u16(p, opaque + 12);
        if ((flags & BtreeRedo.BTP_LEAF) != 0) {
            maskLpFlags(p);
        }
        BufPage.putU16(p, opaque + 12, flags & ~(BtreeRedo.BTP_HAS_GARBAGE | BtreeRedo.BTP_SPLIT_END));
        BufPage.putU16(p, opaque + 14, 0);
    }

    /** {@code seq_mask} ({@code sequence.c}). */
    public static void seqMask(byte[] p) {
        maskLsnAndChecksum(p);
        maskUnusedSpace(p);
    }

    /** {@code generic_mask} ({@code generic_xlog.c}). */
    public static void genericMask(byte[] p) {
        maskLsnAndChecksum(p);
        maskUnusedSpace(p);
    }

    /**
     * What {@link #heapMask} hides that a page must still get right: {@code PD_ALL_VISIBLE} (it changes
     * what scans do), {@link #STRICT_INFOMASK} bits of each tuple normal on both pages, and on a
     * visibility map page ({@code fork == 2}) the bitmap ({@link #strictVmDifference}).
     *
     * @param vmBlock   block number of the page when it is a visibility map page
     * @param heapBlock the heap block whose bits the record sets ({@code Heap2/VISIBLE}'s block 1), or -1
     * @return the first differing byte offset, or -1
     */
    /** Heap blocks one visibility map page covers: {@code HEAPBLOCKS_PER_PAGE} of visibilitymap.c (8168 bytes x 4). */
    public static final long HEAPBLOCKS_PER_VM_PAGE = (long) (BufPage.BLCKSZ - BufPage.HEADER_SIZE) * 4;

    /**
     * Strict comparison of a visibility map page (PostgreSQL's own check hides the whole map: it lies
     * between {@code pd_lower} and {@code pd_upper}). Every bit PostgreSQL's image has set must be set,
     * and the bits of {@code heapBlock} must be equal. A bit set here but clear in the image, for another
     * heap block, is accepted: {@code heap_delete}/{@code heap_update}/{@code heap_insert} call
     * {@code visibilitymap_clear} before their own {@code XLogInsert}, so the image a concurrent
     * {@code VISIBLE} record carries can show a clear whose record (with {@code XLH_*_ALL_VISIBLE_CLEARED})
     * comes later in the WAL; ingest applies it then. Seen in PostgreSQL's regression suite (autovacuum on
     * {@code pg_depend} beside a {@code MULTI_INSERT}).
     *
     * @return the first differing byte offset that breaks these rules, or -1
     */
    static int strictVmDifference(byte[] actual, byte[] expected, long vmBlock, long heapBlock) {
        for (int off = BufPage.HEADER_SIZE; off < BufPage.BLCKSZ; off++) {
            int a = actual[off] & 0xFF;
            int e = expected[off] & 0xFF;
            if (a == e) {
                continue;
            }
            if ((e & ~a) != 0) {
                return off; // a bit PostgreSQL set is missing
            }
            long first = vmBlock * HEAPBLOCKS_PER_VM_PAGE + (long) (off - BufPage.HEADER_SIZE) * 4;
            if (heapBlock >= first && heapBlock < first + 4 && (((a ^ e) >> (2 * (int) (heapBlock - first))) & 3) != 0) {
                return off; // the record's own heap block differs
            }
        }
        return -1;
    }

    public static int strictHeapDifference(byte[] actual, byte[] expected, int fork, long vmBlock, long heapBlock) {
        if (fork == 2) {
            return strictVmDifference(actual, expected, vmBlock, heapBlock);
        }
        if (BufPage.isNew(actual) || BufPage.isNew(expected)) {
            return -1;
        }
        if ((BufPage.flags(actual) & BufPage.PD_ALL_VISIBLE) != (BufPage.flags(expected) & BufPage.PD_ALL_VISIBLE)) {
            return BufPage.FLAGS_OFFSET;
        }
        int n = Math.min(BufPage.maxOffset(actual), BufPage.maxOffset(expected));
        for (int off = 1; off <= n; off++) {
            int a = BufPage.itemId(actual, off);
            int e = BufPage.itemId(expected, off);
            if (BufPage.lpFlags(a) == BufPage.LP_NORMAL && BufPage.lpFlags(e) == BufPage.LP_NORMAL) {
                int ta = BufPage.lpOff(a);
                int te = BufPage.lpOff(e);
                if ((HeapTuple.infomask(actual, ta) & STRICT_INFOMASK)
                        != (HeapTuple.infomask(expected, te) & STRICT_INFOMASK)) {
                    return ta + HeapTuple.INFOMASK;
                }
            }
        }
        return -1;
    }

    /** The first offset in {@code [from, to)} where the arrays differ, or -1. */
    public static int firstDifference(byte[] a, byte[] b, int from, int to) {
        int i = Arrays.mismatch(a, from, to, b, from, to);
        return i < 0 ? -1 : from + i;
    }
}
