package io.forkline.wal.redo;

import io.forkline.wal.record.BlockReference;
import io.forkline.wal.record.WalRecord;

/**
 * Redo of the Heap2 resource manager ({@code heap2_redo}, {@code src/backend/access/heap/heapam.c},
 * PostgreSQL 15). Main data layouts ({@code src/include/access/heapam_xlog.h}, 15's formats):
 *
 * <pre>
 *   xl_heap_prune         latestRemovedXid(4) nredirected(2) ndead(2)        block 0 data: redirected pairs,
 *                                                                          dead, then unused offsets (uint16)
 *   xl_heap_vacuum        nunused(2)                                          block 0 data: unused offsets
 *   xl_heap_freeze_page   cutoff_xid(4) ntuples(2)                            block 0 data: xl_heap_freeze_tuple[ntuples]
 *                         (xmax(4) offset(2) t_infomask2(2) t_infomask(2) frzflags(1) pad(1): 12 B each)
 *   xl_heap_visible       cutoff_xid(4) flags(1)                              block 0 = VM page, block 1 = heap page
 *   xl_heap_multi_insert  flags(1) pad(1) ntuples(2) offsets[ntuples] (absent with XLOG_HEAP_INIT_PAGE)
 *                         block 0 data: per tuple, 2-aligned: datalen(2) infomask2(2) infomask(2) hoff(1) data
 *   xl_heap_lock_updated  xmax(4) offnum(2) infobits_set(1) flags(1)
 * </pre>
 * NEW_CID and REWRITE change no page.
 */
public final class Heap2Redo {
    public static final int XLOG_HEAP2_REWRITE = 0x00;
    public static final int XLOG_HEAP2_PRUNE = 0x10;
    public static final int XLOG_HEAP2_VACUUM = 0x20;
    public static final int XLOG_HEAP2_FREEZE_PAGE = 0x30;
    public static final int XLOG_HEAP2_VISIBLE = 0x40;
    public static final int XLOG_HEAP2_MULTI_INSERT = 0x50;
    public static final int XLOG_HEAP2_LOCK_UPDATED = 0x60;
    public static final int XLOG_HEAP2_NEW_CID = 0x70;

    static final int XLH_FREEZE_XVAC = 0x02;
    static final int XLH_INVALID_XVAC = 0x04;
    static final int FREEZE_TUPLE_SIZE = 12;
    /** {@code SizeOfMultiInsertTuple}. */
    static final int MULTI_INSERT_TUPLE_HEADER = 7;
    /** Visibility map geometry: 2 bits per heap block, {@code HEAPBLOCKS_PER_PAGE} = 32672. */
    public static final int HEAPBLOCKS_PER_PAGE = (BufPage.BLCKSZ - BufPage.HEADER_SIZE) * 4;

    private Heap2Redo() {
    }

    /** {@code heap2_redo}: dispatches on {@code info & XLOG_HEAP_OPMASK}. */
    public static void redo(RedoBuffers bufs) {
        WalRecord rec = bufs.record();
        switch (rec.info() & HeapRedo.XLOG_HEAP_OPMASK) {
            case XLOG_HEAP2_PRUNE -> prune(bufs);
            case XLOG_HEAP2_VACUUM -> vacuum(bufs);
            case XLOG_HEAP2_FREEZE_PAGE -> freezePage(bufs);
            case XLOG_HEAP2_VISIBLE -> visible(bufs);
            case XLOG_HEAP2_MULTI_INSERT -> multiInsert(bufs);
            case XLOG_HEAP2_LOCK_UPDATED -> lockUpdated(bufs);
            case XLOG_HEAP2_NEW_CID, XLOG_HEAP2_REWRITE -> {
                // no page changes
            }
            default -> throw new RedoException("unknown heap2 record type 0x" + Integer.toHexString(rec.info()));
        }
    }

    private static int[] offsets(byte[] data, int from, int count) {
        HeapRedo.need(data, from + 2 * count, "offset array");
        int[] o = new int[count];
        for (int i = 0; i < count; i++) {
            o[i] = BufPage.u16(data, from + 2 * i);
        }
        return o;
    }

    /** {@code heap_xlog_prune} with {@code heap_page_prune_execute} ({@code pruneheap.c}). */
    static void prune(RedoBuffers bufs) {
        WalRecord rec = bufs.record();
        byte[] d = rec.mainData();
        HeapRedo.need(d, 8, "xl_heap_prune");
        int nredirected = BufPage.u16(d, 4);
        int ndead = BufPage.u16(d, 6);
        byte[] page = bufs.forRedo(0);
        if (page == null) {
            return;
        }
        byte[] data = bufs.block(0).data();
        if ((data.length & 1) != 0) {
            throw new RedoException("prune block data has odd length " + data.length);
        }
        int total = data.length / 2;
        int nunused = total - 2 * nredirected - ndead;
        if (nunused < 0) {
            throw new RedoException("prune block data has " + total + " offsets for " + nredirected
                    + " redirects and " + ndead + " dead");
        }
        int[] all = offsets(data, 0, total);
        int i = 0;
        for (int r = 0; r < nredirected; r++, i += 2) {
            BufPage.setRedirect(page, all[i], all[i + 1]);
        }
        for (int k = 0; k < ndead; k++) {
            BufPage.setDead(page, all[i++]);
        }
        for (int k = 0; k < nunused; k++) {
            BufPage.setUnused(page, all[i++]);
        }
        BufPage.repairFragmentation(page);
        BufPage.setLsn(page, rec.endLsn());
    }

    /** {@code heap_xlog_vacuum}: dead line pointers become unused, then {@code PageTruncateLinePointerArray}. */
    static void vacuum(RedoBuffers bufs) {
        WalRecord rec = bufs.record();
        byte[] d = rec.mainData();
        HeapRedo.need(d, 2, "xl_heap_vacuum");
        int nunused = BufPage.u16(d, 0);
        byte[] page = bufs.forRedo(0);
        if (page == null) {
            return;
        }
        for (int off : offsets(bufs.block(0).data(), 0, nunused)) {
            BufPage.setUnused(page, off);
        }
        BufPage.truncateLinePointerArray(page);
        BufPage.setLsn(page, rec.endLsn());
    }

    /** {@code heap_xlog_freeze_page} with {@code heap_execute_freeze_tuple}. */
    static void freezePage(RedoBuffers bufs) {
        WalRecord rec = bufs.record();
        byte[] d = rec.mainData();
        HeapRedo.need(d, 6, "xl_heap_freeze_page");
        int ntuples = BufPage.u16(d, 4);
        byte[] page = bufs.forRedo(0);
        if (page == null) {
            return;
        }
        byte[] data = bufs.block(0).data();
        HeapRedo.need(data, ntuples * FREEZE_TUPLE_SIZE, "xl_heap_freeze_tuple array");
        for (int i = 0; i < ntuples; i++) {
            int p = i * FREEZE_TUPLE_SIZE;
            int xmax = BufPage.i32(data, p);
            int offnum = BufPage.u16(data, p + 4);
            int infomask2 = BufPage.u16(data, p + 6);
            int infomask = BufPage.u16(data, p + 8);
            int frzflags = data[p + 10] & 0xFF;
            int t = BufPage.lpOff(BufPage.itemId(page, offnum));
            HeapTuple.setXmax(page, t, xmax);
            if ((frzflags & XLH_FREEZE_XVAC) != 0) {
                BufPage.putI32(page, t + HeapTuple.CID, TransactionIds.FROZEN);
            }
            if ((frzflags & XLH_INVALID_XVAC) != 0) {
                BufPage.putI32(page, t + HeapTuple.CID, 0);
            }
            HeapTuple.setInfomask(page, t, infomask);
            HeapTuple.setInfomask2(page, t, infomask2);
        }
        BufPage.setLsn(page, rec.endLsn());
    }

    /**
     * {@code heap_xlog_visible}: sets {@code PD_ALL_VISIBLE} on the heap page (block 1; its LSN only
     * with data checksums or {@code wal_log_hints}, left to the caller) and the block's bits on the VM
     * page (block 0, read as zeros when missing and then {@code PageInit}ed), as {@code visibilitymap_set}.
     */
    static void visible(RedoBuffers bufs) {
        WalRecord rec = bufs.record();
        byte[] d = rec.mainData();
        HeapRedo.need(d, 5, "xl_heap_visible");
        int flags = d[4] & 0xFF;
        BlockReference heapBlock = bufs.block(1);
        byte[] heap = bufs.forRedo(1);
        if (heap != null) {
            BufPage.setAllVisible(heap);
        }
        byte[] vm = bufs.forRedoZeroOnError(0);
        if (vm != null) {
            if (BufPage.isNew(vm)) {
                BufPage.init(vm, 0);
            }
            if (Long.compareUnsigned(rec.endLsn(), BufPage.lsn(vm)) > 0) {
                int inPage = Integer.remainderUnsigned(heapBlock.blockNo(), HEAPBLOCKS_PER_PAGE);
                int mapByte = BufPage.HEADER_SIZE + inPage / 4;
                int shift = 2 * (inPage % 4);
                int cur = (vm[mapByte] >> shift) & 3;
                if (flags != cur) {
                    vm[mapByte] = (byte) (vm[mapByte] | (flags << shift));
                    BufPage.setLsn(vm, rec.endLsn());
                }
            }
        }
    }

    /** {@code heap_xlog_multi_insert}. */
    static void multiInsert(RedoBuffers bufs) {
        WalRecord rec = bufs.record();
        byte[] d = rec.mainData();
        HeapRedo.need(d, 4, "xl_heap_multi_insert");
        int flags = d[0] & 0xFF;
        int ntuples = BufPage.u16(d, 2);
        boolean isInit = (rec.info() & HeapRedo.XLOG_HEAP_INIT_PAGE) != 0;
        int[] offs = isInit ? null : offsets(d, 4, ntuples);
        BlockReference b = bufs.block(0);
        byte[] page;
        if (isInit) {
            page = bufs.init(0);
            if (page != null) {
                BufPage.init(page, 0);
            }
        } else {
            page = bufs.forRedo(0);
        }
        if (page == null) {
            return;
        }
        byte[] data = b.data();
        int p = 0;
        for (int i = 0; i < ntuples; i++) {
            int offnum = isInit ? 1 + i : offs[i];
            p = BufPage.shortAlign(p);
            HeapRedo.need(data, p + MULTI_INSERT_TUPLE_HEADER, "xl_multi_insert_tuple");
            int len = BufPage.u16(data, p);
            int infomask2 = BufPage.u16(data, p + 2);
            int infomask = BufPage.u16(data, p + 4);
            int hoff = data[p + 6] & 0xFF;
            p += MULTI_INSERT_TUPLE_HEADER;
            HeapRedo.need(data, p + len, "multi-insert tuple data");
            byte[] tup = HeapRedo.tuple(infomask2, infomask, hoff, data, p, len);
            p += len;
            HeapTuple.setXmin(tup, 0, rec.xid());
            HeapTuple.setCid(tup, 0, HeapTuple.FIRST_COMMAND_ID);
            HeapTuple.setCtid(tup, 0, b.blockNo(), offnum);
            HeapRedo.addTuple(page, tup, offnum);
        }
        if (p != data.length) {
            throw new RedoException("total tuple length mismatch: used " + p + " of " + data.length + " bytes");
        }
        BufPage.setLsn(page, rec.endLsn());
        if ((flags & HeapRedo.XLH_INSERT_ALL_VISIBLE_CLEARED) != 0) {
            BufPage.clearAllVisible(page);
        }
        if ((flags & HeapRedo.XLH_INSERT_ALL_FROZEN_SET) != 0) {
            BufPage.setAllVisible(page);
        }
    }

    /** {@code heap_xlog_lock_updated}. */
    static void lockUpdated(RedoBuffers bufs) {
        WalRecord rec = bufs.record();
        byte[] d = rec.mainData();
        HeapRedo.need(d, 8, "xl_heap_lock_updated");
        int xmax = BufPage.i32(d, 0);
        int offnum = BufPage.u16(d, 4);
        int infobits = d[6] & 0xFF;
        byte[] page = bufs.forRedo(0);
        if (page == null) {
            return;
        }
        int t = BufPage.normalItem(page, offnum);
        HeapTuple.clearXmaxBits(page, t);
        HeapTuple.fixInfomaskFromInfobits(page, t, infobits);
        HeapTuple.setXmax(page, t, xmax);
        BufPage.setLsn(page, rec.endLsn());
    }
}
