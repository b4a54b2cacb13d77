package io.forkline.wal.redo;

import io.forkline.wal.record.BlockReference;
import io.forkline.wal.record.WalRecord;

/**
 * Redo of the Heap resource manager ({@code heap_redo}, {@code src/backend/access/heap/heapam.c},
 * PostgreSQL 15). Main data layouts ({@code src/include/access/heapam_xlog.h}), little-endian:
 *
 * <pre>
 *   xl_heap_insert   offnum(2) flags(1)                                                    3 B
 *   xl_heap_delete   xmax(4) offnum(2) infobits_set(1) flags(1)                            8 B
 *   xl_heap_update   old_xmax(4) old_offnum(2) old_infobits_set(1) flags(1) new_xmax(4) new_offnum(2)  14 B
 *   xl_heap_confirm  offnum(2)
 *   xl_heap_lock     locking_xid(4) offnum(2) infobits_set(1) flags(1)                     8 B
 *   xl_heap_inplace  offnum(2) ...
 *   block data of INSERT / UPDATE: [prefixlen(2)] [suffixlen(2)] xl_heap_header(infomask2(2) infomask(2) hoff(1))
 *                                  then the tuple from its null bitmap on
 * </pre>
 *
 * Redo writes {@code FirstCommandId} into {@code t_cid} and the tuple's own TID into {@code t_ctid}
 * of inserted tuples, as PostgreSQL does; visibility map bits are cleared by the ingest (they are
 * on a page that is not a block reference of these records).
 */
public final class HeapRedo {
    public static final int XLOG_HEAP_INSERT = 0x00;
    public static final int XLOG_HEAP_DELETE = 0x10;
    public static final int XLOG_HEAP_UPDATE = 0x20;
    public static final int XLOG_HEAP_TRUNCATE = 0x30;
    public static final int XLOG_HEAP_HOT_UPDATE = 0x40;
    public static final int XLOG_HEAP_CONFIRM = 0x50;
    public static final int XLOG_HEAP_LOCK = 0x60;
    public static final int XLOG_HEAP_INPLACE = 0x70;
    public static final int XLOG_HEAP_OPMASK = 0x70;
    public static final int XLOG_HEAP_INIT_PAGE = 0x80;

    static final int XLH_INSERT_ALL_VISIBLE_CLEARED = 0x01;
    static final int XLH_INSERT_ALL_FROZEN_SET = 0x20;
    static final int XLH_DELETE_ALL_VISIBLE_CLEARED = 0x01;
    static final int XLH_DELETE_IS_SUPER = 0x08;
    static final int XLH_DELETE_IS_PARTITION_MOVE = 0x10;
    static final int XLH_UPDATE_OLD_ALL_VISIBLE_CLEARED = 0x01;
    static final int XLH_UPDATE_NEW_ALL_VISIBLE_CLEARED = 0x02;
    static final int XLH_UPDATE_PREFIX_FROM_OLD = 0x20;
    static final int XLH_UPDATE_SUFFIX_FROM_OLD = 0x40;
    /** {@code SizeOfHeapHeader}. */
    static final int SIZE_OF_HEAP_HEADER = 5;

    private HeapRedo() {
    }

    /** {@code heap_redo}: dispatches on {@code info & XLOG_HEAP_OPMASK}. */
    public static void redo(RedoBuffers bufs) {
        WalRecord rec = bufs.record();
        switch (rec.info() & XLOG_HEAP_OPMASK) {
            case XLOG_HEAP_INSERT -> insert(bufs);
            case XLOG_HEAP_DELETE -> delete(bufs);
            case XLOG_HEAP_UPDATE -> update(bufs, false);
            case XLOG_HEAP_TRUNCATE -> {
                // changes no page: the truncation itself comes as SMGR TRUNCATE records
            }
            case XLOG_HEAP_HOT_UPDATE -> update(bufs, true);
            case XLOG_HEAP_CONFIRM -> confirm(bufs);
            case XLOG_HEAP_LOCK -> lock(bufs);
            case XLOG_HEAP_INPLACE -> inplace(bufs);
            default -> throw new RedoException("unknown heap record type 0x" + Integer.toHexString(rec.info()));
        }
    }

    static void need(byte[] d, int len, String what) {
        if (d.length < len) {
            throw new RedoException(what + " needs " + len + " bytes, record has " + d.length);
        }
    }

    /**
     * Builds a heap tuple as the redo routines do in {@code tbuf}: a zeroed 23-byte header with
     * {@code t_infomask2}, {@code t_infomask}, {@code t_hoff}, then {@code len} bytes of {@code src}.
     */
    static byte[] tuple(int infomask2, int infomask, int hoff, byte[] src, int from, int len) {
        byte[] t = new byte[HeapTuple.HEADER_SIZE + len];
        System.arraycopy(src, from, t, HeapTuple.HEADER_SIZE, len);
        BufPage.putU16(t, HeapTuple.INFOMASK2, infomask2);
        BufPage.putU16(t, HeapTuple.INFOMASK, infomask);
        t[HeapTuple.HOFF] = (byte) hoff;
        return t;
    }

    static void addTuple(byte[] page, byte[] tup, int offnum) {
        if (BufPage.maxOffset(page) + 1 < offnum) {
            throw new RedoException("invalid max offset number " + BufPage.maxOffset(page) + " for offset " + offnum);
        }
        if (BufPage.addItem(page, tup, 0, tup.length, offnum, BufPage.PAI_OVERWRITE | BufPage.PAI_IS_HEAP) == 0) {
            throw new RedoException("failed to add tuple of " + tup.length + " bytes at offset " + offnum);
        }
    }

    /** {@code heap_xlog_insert}. */
    static void insert(RedoBuffers bufs) {
        WalRecord rec = bufs.record();
        byte[] d = rec.mainData();
        need(d, 3, "xl_heap_insert");
        int offnum = BufPage.u16(d, 0);
        int flags = d[2] & 0xFF;
        BlockReference b = bufs.block(0);
        byte[] page;
        if ((rec.info() & XLOG_HEAP_INIT_PAGE) != 0) {
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
        need(data, SIZE_OF_HEAP_HEADER, "xl_heap_header");
        byte[] tup = tuple(BufPage.u16(data, 0), BufPage.u16(data, 2), data[4] & 0xFF, data, SIZE_OF_HEAP_HEADER,
                data.length - SIZE_OF_HEAP_HEADER);
        HeapTuple.setXmin(tup, 0, rec.xid());
        HeapTuple.setCid(tup, 0, HeapTuple.FIRST_COMMAND_ID);
        HeapTuple.setCtid(tup, 0, b.blockNo(), offnum);
        addTuple(page, tup, offnum);
        BufPage.setLsn(page, rec.endLsn());
        if ((flags & XLH_INSERT_ALL_VISIBLE_CLEARED) != 0) {
            BufPage.clearAllVisible(page);
        }
        if ((flags & XLH_INSERT_ALL_FROZEN_SET) != 0) {
            BufPage.setAllVisible(page);
        }
    }

    /** {@code heap_xlog_delete}. */
    static void delete(RedoBuffers bufs) {
        WalRecord rec = bufs.record();
        byte[] d = rec.mainData();
        need(d, 8, "xl_heap_delete");
        int xmax = BufPage.i32(d, 0);
        int offnum = BufPage.u16(d, 4);
        int infobits = d[6] & 0xFF;
        int flags = d[7] & 0xFF;
        byte[] page = bufs.forRedo(0);
        if (page == null) {
            return;
        }
        int t = BufPage.normalItem(page, offnum);
        HeapTuple.clearXmaxBits(page, t);
        HeapTuple.setInfomask2(page, t, HeapTuple.infomask2(page, t) & ~HeapTuple.HEAP_HOT_UPDATED);
        HeapTuple.fixInfomaskFromInfobits(page, t, infobits);
        if ((flags & XLH_DELETE_IS_SUPER) == 0) {
            HeapTuple.setXmax(page, t, xmax);
        } else {
            HeapTuple.setXmin(page, t, 0);
        }
        HeapTuple.setCid(page, t, HeapTuple.FIRST_COMMAND_ID);
        BufPage.setPrunable(page, rec.xid());
        if ((flags & XLH_DELETE_ALL_VISIBLE_CLEARED) != 0) {
            BufPage.clearAllVisible(page);
        }
        if ((flags & XLH_DELETE_IS_PARTITION_MOVE) != 0) {
            HeapTuple.setCtid(page, t, 0xFFFFFFFF, HeapTuple.MOVED_PARTITIONS_OFFSET_NUMBER);
        } else {
            HeapTuple.setCtid(page, t, bufs.block(0).blockNo(), offnum);
        }
        BufPage.setLsn(page, rec.endLsn());
    }

    /** {@code heap_xlog_update} (UPDATE and HOT_UPDATE). */
    static void update(RedoBuffers bufs, boolean hot) {
        WalRecord rec = bufs.record();
        byte[] d = rec.mainData();
        need(d, 14, "xl_heap_update");
        int oldXmax = BufPage.i32(d, 0);
        int oldOffnum = BufPage.u16(d, 4);
        int oldInfobits = d[6] & 0xFF;
        int flags = d[7] & 0xFF;
        int newXmax = BufPage.i32(d, 8);
        int newOffnum = BufPage.u16(d, 12);
        BlockReference nb = bufs.block(0);
        int newBlk = nb.blockNo();
        boolean sameBlock = !bufs.has(1);
        int oldBlockId = sameBlock ? 0 : 1;

        // old page
        byte[] oldPage = bufs.forRedo(oldBlockId);
        int oldTup = -1;
        int oldLen = 0;
        if (oldPage != null) {
            oldTup = BufPage.normalItem(oldPage, oldOffnum);
            oldLen = BufPage.lpLen(BufPage.itemId(oldPage, oldOffnum));
            HeapTuple.clearXmaxBits(oldPage, oldTup);
            int im2 = HeapTuple.infomask2(oldPage, oldTup);
            HeapTuple.setInfomask2(oldPage, oldTup,
                    hot ? im2 | HeapTuple.HEAP_HOT_UPDATED : im2 & ~HeapTuple.HEAP_HOT_UPDATED);
            HeapTuple.fixInfomaskFromInfobits(oldPage, oldTup, oldInfobits);
            HeapTuple.setXmax(oldPage, oldTup, oldXmax);
            HeapTuple.setCid(oldPage, oldTup, HeapTuple.FIRST_COMMAND_ID);
            HeapTuple.setCtid(oldPage, oldTup, newBlk, newOffnum);
            BufPage.setPrunable(oldPage, rec.xid());
            if ((flags & XLH_UPDATE_OLD_ALL_VISIBLE_CLEARED) != 0) {
                BufPage.clearAllVisible(oldPage);
            }
            BufPage.setLsn(oldPage, rec.endLsn());
        }

        // new page
        byte[] page;
        if (sameBlock) {
            page = oldPage;
        } else if ((rec.info() & XLOG_HEAP_INIT_PAGE) != 0) {
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
        byte[] data = nb.data();
        int p = 0;
        int prefixLen = 0;
        int suffixLen = 0;
        if ((flags & XLH_UPDATE_PREFIX_FROM_OLD) != 0) {
            need(data, p + 2, "update prefix length");
            prefixLen = BufPage.u16(data, p);
            p += 2;
        }
        if ((flags & XLH_UPDATE_SUFFIX_FROM_OLD) != 0) {
            need(data, p + 2, "update suffix length");
            suffixLen = BufPage.u16(data, p);
            p += 2;
        }
        need(data, p + SIZE_OF_HEAP_HEADER, "xl_heap_header");
        int infomask2 = BufPage.u16(data, p);
        int infomask = BufPage.u16(data, p + 2);
        int hoff = data[p + 4] & 0xFF;
        p += SIZE_OF_HEAP_HEADER;
        int tupLen = data.length - p;
        if ((prefixLen > 0 || suffixLen > 0) && oldTup < 0) {
            throw new RedoException("update takes a prefix/suffix from an old tuple that is not redone");
        }
        byte[] tup = new byte[HeapTuple.HEADER_SIZE + tupLen + prefixLen + suffixLen];
        int np = HeapTuple.HEADER_SIZE;
        if (prefixLen > 0) {
            int bitmapLen = hoff - HeapTuple.HEADER_SIZE;
            System.arraycopy(data, p, tup, np, bitmapLen);
            p += bitmapLen;
            np += bitmapLen;
            int oldHoff = oldPage[oldTup + HeapTuple.HOFF] & 0xFF;
            System.arraycopy(oldPage, oldTup + oldHoff, tup, np, prefixLen);
            np += prefixLen;
            int rest = tupLen - bitmapLen;
            System.arraycopy(data, p, tup, np, rest);
            np += rest;
        } else {
            System.arraycopy(data, p, tup, np, tupLen);
            np += tupLen;
        }
        if (suffixLen > 0) {
            System.arraycopy(oldPage, oldTup + oldLen - suffixLen, tup, np, suffixLen);
        }
        BufPage.putU16(tup, HeapTuple.INFOMASK2, infomask2);
        BufPage.putU16(tup, HeapTuple.INFOMASK, infomask);
        tup[HeapTuple.HOFF] = (byte) hoff;
        HeapTuple.setXmin(tup, 0, rec.xid());
        HeapTuple.setCid(tup, 0, HeapTuple.FIRST_COMMAND_ID);
        HeapTuple.setXmax(tup, 0, newXmax);
        HeapTuple.setCtid(tup, 0, newBlk, newOffnum);
        addTuple(page, tup, newOffnum);
        if ((flags & XLH_UPDATE_NEW_ALL_VISIBLE_CLEARED) != 0) {
            BufPage.clearAllVisible(page);
        }
        BufPage.setLsn(page, rec.endLsn());
    }

    /** {@code heap_xlog_confirm}: the speculative tuple's {@code t_ctid} points at itself. */
    static void confirm(RedoBuffers bufs) {
        WalRecord rec = bufs.record();
        byte[] d = rec.mainData();
        need(d, 2, "xl_heap_confirm");
        int offnum = BufPage.u16(d, 0);
        byte[] page = bufs.forRedo(0);
        if (page == null) {
            return;
        }
        int t = BufPage.normalItem(page, offnum);
        HeapTuple.setCtid(page, t, bufs.block(0).blockNo(), offnum);
        BufPage.setLsn(page, rec.endLsn());
    }

    /** {@code heap_xlog_lock}. */
    static void lock(RedoBuffers bufs) {
        WalRecord rec = bufs.record();
        byte[] d = rec.mainData();
        need(d, 8, "xl_heap_lock");
        int lockingXid = BufPage.i32(d, 0);
        int offnum = BufPage.u16(d, 4);
        int infobits = d[6] & 0xFF;
        byte[] page = bufs.forRedo(0);
        if (page == null) {
            return;
        }
        int t = BufPage.normalItem(page, offnum);
        HeapTuple.clearXmaxBits(page, t);
        HeapTuple.fixInfomaskFromInfobits(page, t, infobits);
        if (HeapTuple.xmaxIsLockedOnly(HeapTuple.infomask(page, t))) {
            HeapTuple.setInfomask2(page, t, HeapTuple.infomask2(page, t) & ~HeapTuple.HEAP_HOT_UPDATED);
            HeapTuple.setCtid(page, t, bufs.block(0).blockNo(), offnum);
        }
        HeapTuple.setXmax(page, t, lockingXid);
        HeapTuple.setCid(page, t, HeapTuple.FIRST_COMMAND_ID);
        BufPage.setLsn(page, rec.endLsn());
    }

    /** {@code heap_xlog_inplace}: the block data overwrites the tuple's data (after {@code t_hoff}). */
    static void inplace(RedoBuffers bufs) {
        WalRecord rec = bufs.record();
        byte[] d = rec.mainData();
        need(d, 2, "xl_heap_inplace");
        int offnum = BufPage.u16(d, 0);
        byte[] page = bufs.forRedo(0);
        if (page == null) {
            return;
        }
        byte[] newData = bufs.block(0).data();
        int t = BufPage.normalItem(page, offnum);
        int hoff = page[t + HeapTuple.HOFF] & 0xFF;
        int oldLen = BufPage.lpLen(BufPage.itemId(page, offnum)) - hoff;
        if (oldLen != newData.length) {
            throw new RedoException("wrong tuple length " + newData.length + " for in-place update of " + oldLen);
        }
        System.arraycopy(newData, 0, page, t + hoff, newData.length);
        BufPage.setLsn(page, rec.endLsn());
    }
}
