package io.forkline.wal.redo;

import io.forkline.wal.record.WalRecord;

/**
 * Redo of the BRIN resource manager ({@code brin_redo}, {@code src/backend/access/brin/brin_xlog.c}
 * of PostgreSQL 15), with the page layout of {@code brin_page.h} / {@code brin_pageops.c} /
 * {@code brin_revmap.c}:
 *
 * <ul>
 *   <li>every BRIN page has 8 bytes of special space ({@code BrinSpecialSpace}): the flags
 *       ({@code BRIN_EVACUATE_PAGE}) at {@code pd_special + 4}, the page type at {@code pd_special + 6}
 *       (meta {@code 0xF091}, revmap {@code 0xF092}, regular {@code 0xF093});</li>
 *   <li>the metapage holds {@code BrinMetaPageData} (magic, version, pagesPerRange, lastRevmapPage:
 *       4 x uint32) at offset 24, {@code pd_lower} just past it (40);</li>
 *   <li>a revmap page holds 1360 {@code ItemPointerData} (6 bytes: block hi, block lo, offset) from
 *       offset 24; heap range {@code heapBlk} is item {@code (heapBlk / pagesPerRange) % 1360};</li>
 *   <li>regular pages hold the index tuples as line pointer items.</li>
 * </ul>
 * Record layouts (main data, little-endian): {@code xl_brin_createidx} (pagesPerRange u32, version
 * u16), {@code xl_brin_insert} (heapBlk u32, pagesPerRange u32, offnum u16), {@code xl_brin_update}
 * (oldOffnum u16, 2 pad bytes, then an {@code xl_brin_insert}), {@code xl_brin_samepage_update}
 * (offnum u16), {@code xl_brin_revmap_extend} (targetBlk u32), {@code xl_brin_desummarize}
 * (pagesPerRange u32, heapBlk u32, regOffset u16).
 */
public final class BrinRedo {
    public static final int XLOG_BRIN_CREATE_INDEX = 0x00;
    public static final int XLOG_BRIN_INSERT = 0x10;
    public static final int XLOG_BRIN_UPDATE = 0x20;
    public static final int XLOG_BRIN_SAMEPAGE_UPDATE = 0x30;
    public static final int XLOG_BRIN_REVMAP_EXTEND = 0x40;
    public static final int XLOG_BRIN_DESUMMARIZE = 0x50;
    public static final int XLOG_BRIN_OPMASK = 0x70;
    public static final int XLOG_BRIN_INIT_PAGE = 0x80;

    static final int PAGETYPE_META = 0xF091;
    static final int PAGETYPE_REVMAP = 0xF092;
    static final int PAGETYPE_REGULAR = 0xF093;
    static final int EVACUATE_PAGE = 0x0001;
    static final int SPECIAL_SIZE = 8;
    static final int META_MAGIC = 0xA8109CFA;
    static final int CONTENTS = BufPage.HEADER_SIZE; // PageGetContents: MAXALIGN(SizeOfPageHeaderData)
    static final int META_SIZE = 16;
    static final int REVMAP_PAGE_MAXITEMS = (BufPage.BLCKSZ - CONTENTS - SPECIAL_SIZE) / 6;

    private BrinRedo() {
    }

    /** {@code brin_redo}. */
    public static void redo(RedoBuffers bufs) {
        WalRecord rec = bufs.record();
        byte[] d = rec.mainData();
        switch (rec.info() & XLOG_BRIN_OPMASK) {
            case XLOG_BRIN_CREATE_INDEX -> createIndex(bufs, d);
            case XLOG_BRIN_INSERT -> {
                HeapRedo.need(d, 10, "xl_brin_insert");
                insertUpdate(bufs, d, 0);
            }
            case XLOG_BRIN_UPDATE -> update(bufs, d);
            case XLOG_BRIN_SAMEPAGE_UPDATE -> samepageUpdate(bufs, d);
            case XLOG_BRIN_REVMAP_EXTEND -> revmapExtend(bufs, d);
            case XLOG_BRIN_DESUMMARIZE -> desummarize(bufs, d);
            default -> throw new RedoException("brin_redo: unknown op code 0x" + Integer.toHexString(rec.info()));
        }
    }

    /** {@code brin_xlog_createidx}: the metapage, by {@code brin_metapage_init}. */
    private static void createIndex(RedoBuffers bufs, byte[] d) {
        HeapRedo.need(d, 6, "xl_brin_createidx");
        byte[] page = bufs.init(0);
        if (page == null) {
            return;
        }
        metapageInit(page, BufPage.i32(d, 0), BufPage.u16(d, 4));
        BufPage.setLsn(page, bufs.record().endLsn());
    }

    /** {@code brin_metapage_init}. */
    static void metapageInit(byte[] page, int pagesPerRange, int version) {
        pageInit(page, PAGETYPE_META);
        BufPage.putI32(page, CONTENTS, META_MAGIC);
        BufPage.putI32(page, CONTENTS + 4, version);
        BufPage.putI32(page, CONTENTS + 8, pagesPerRange);
        BufPage.putI32(page, CONTENTS + 12, 0); // lastRevmapPage
        BufPage.setLower(page, CONTENTS + META_SIZE);
    }

    /** {@code brin_page_init}. */
    static void pageInit(byte[] page, int type) {
        BufPage.init(page, SPECIAL_SIZE);
        BufPage.putU16(page, BufPage.special(page) + 6, type);
    }

    /**
     * {@code brin_xlog_insert_update}: the tuple into the regular page (block 0, reinitialized with
     * {@code XLOG_BRIN_INIT_PAGE}), then its TID into the revmap (block 1).
     *
     * @param at offset of the {@code xl_brin_insert} in the main data
     */
    private static void insertUpdate(RedoBuffers bufs, byte[] d, int at) {
        WalRecord rec = bufs.record();
        int heapBlk = BufPage.i32(d, at);
        int pagesPerRange = BufPage.i32(d, at + 4);
        int offnum = BufPage.u16(d, at + 8);
        byte[] page;
        if ((rec.info() & XLOG_BRIN_INIT_PAGE) != 0) {
            page = bufs.init(0);
            if (page != null) {
                pageInit(page, PAGETYPE_REGULAR);
            }
        } else {
            page = bufs.forRedo(0);
        }
        int regpgno = bufs.block(0).blockNo();
        if (page != null) {
            byte[] tuple = bufs.block(0).data();
            if (tuple == null) {
                throw new RedoException("brin_xlog_insert_update: block 0 carries no tuple");
            }
            if (BufPage.maxOffset(page) + 1 < offnum) {
                throw new RedoException("brin_xlog_insert_update: invalid max offset number");
            }
            if (BufPage.addItem(page, tuple, 0, tuple.length, offnum, BufPage.PAI_OVERWRITE) == 0) {
                throw new RedoException("brin_xlog_insert_update: failed to add tuple");
            }
            BufPage.setLsn(page, rec.endLsn());
        }
        byte[] revmap = bufs.forRedo(1);
        if (revmap != null) {
            setHeapBlockItemptr(revmap, pagesPerRange, heapBlk, regpgno, offnum);
            BufPage.setLsn(revmap, rec.endLsn());
        }
    }

    /** {@code brinSetHeapBlockItemptr}: item {@code (heapBlk / pagesPerRange) % REVMAP_PAGE_MAXITEMS}. */
    static void setHeapBlockItemptr(byte[] page, int pagesPerRange, int heapBlk, int blk, int offnum) {
        long index = (Integer.toUnsignedLong(heapBlk) / Integer.toUnsignedLong(pagesPerRange)) % REVMAP_PAGE_MAXITEMS;
        int pos = CONTENTS + (int) index * 6;
        BufPage.putU16(page, pos, blk >>> 16);
        BufPage.putU16(page, pos + 2, blk & 0xFFFF);
        BufPage.putU16(page, pos + 4, offnum);
    }

    /** {@code brin_xlog_update}: delete the old tuple (block 2), then insert as an insert does. */
    private static void update(RedoBuffers bufs, byte[] d) {
        HeapRedo.need(d, 14, "xl_brin_update");
        if (bufs.has(2)) {
            byte[] old = bufs.forRedo(2);
            if (old != null) {
                BufPage.indexTupleDeleteNoCompact(old, BufPage.u16(d, 0));
                BufPage.setLsn(old, bufs.record().endLsn());
            }
        }
        insertUpdate(bufs, d, 4);
    }

    /** {@code brin_xlog_samepage_update}: {@code PageIndexTupleOverwrite}. */
    private static void samepageUpdate(RedoBuffers bufs, byte[] d) {
        HeapRedo.need(d, 2, "xl_brin_samepage_update");
        byte[] page = bufs.forRedo(0);
        if (page == null) {
            return;
        }
        byte[] tuple = bufs.block(0).data();
        if (tuple == null || !BufPage.indexTupleOverwrite(page, BufPage.u16(d, 0), tuple, 0, tuple.length)) {
            throw new RedoException("brin_xlog_samepage_update: failed to replace tuple");
        }
        BufPage.setLsn(page, bufs.record().endLsn());
    }

    /** {@code brin_xlog_revmap_extend}: metapage's lastRevmapPage (block 0), new revmap page (block 1). */
    private static void revmapExtend(RedoBuffers bufs, byte[] d) {
        HeapRedo.need(d, 4, "xl_brin_revmap_extend");
        int target = BufPage.i32(d, 0);
        byte[] meta = bufs.forRedo(0);
        if (meta != null) {
            BufPage.putI32(meta, CONTENTS + 12, target);
            BufPage.setLsn(meta, bufs.record().endLsn());
            BufPage.setLower(meta, CONTENTS + META_SIZE);
        }
        byte[] page = bufs.init(1);
        if (page != null) {
            pageInit(page, PAGETYPE_REVMAP);
            BufPage.setLsn(page, bufs.record().endLsn());
        }
    }

    /** {@code brin_xlog_desummarize_page}: invalid TID in the revmap (block 0), item gone from block 1. */
    private static void desummarize(RedoBuffers bufs, byte[] d) {
        HeapRedo.need(d, 10, "xl_brin_desummarize");
        int pagesPerRange = BufPage.i32(d, 0);
        int heapBlk = BufPage.i32(d, 4);
        int regOffset = BufPage.u16(d, 8);
        byte[] revmap = bufs.forRedo(0);
        if (revmap != null) {
            setHeapBlockItemptr(revmap, pagesPerRange, heapBlk, 0xFFFFFFFF, 0);
            BufPage.setLsn(revmap, bufs.record().endLsn());
        }
        byte[] reg = bufs.forRedo(1);
        if (reg != null) {
            BufPage.indexTupleDeleteNoCompact(reg, regOffset);
            BufPage.setLsn(reg, bufs.record().endLsn());
        }
    }

    /** {@code brin_mask}. */
    static void mask(byte[] p) {
        PageMasks.maskLsnAndChecksum(p);
        PageMasks.maskHintBits(p);
        int special = BufPage.special(p);
        if (special + SPECIAL_SIZE > BufPage.BLCKSZ) {
            return;
        }
        int type = BufPage.u16(p, special + 6);
        if (type == PAGETYPE_REGULAR || (type == PAGETYPE_META && BufPage.lower(p) > BufPage.HEADER_SIZE)) {
            PageMasks.maskUnusedSpace(p);
        }
        BufPage.putU16(p, special + 4, BufPage.u16(p, special + 4) & ~EVACUATE_PAGE);
    }
}
