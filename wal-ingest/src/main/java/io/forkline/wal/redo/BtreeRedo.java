package io.forkline.wal.redo;

import io.forkline.wal.record.WalRecord;

/**
 * Redo of the Btree resource manager ({@code btree_redo}, {@code src/backend/access/nbtree/nbtxlog.c},
 * PostgreSQL 15), with the posting list helpers of {@code nbtdedup.c} ({@link IndexTuple}).
 *
 * <pre>
 *   page special (BTPageOpaqueData, 16 B at pd_special = 8176): btpo_prev(4) btpo_next(4) btpo_level(4)
 *                                                              btpo_flags(2) btpo_cycleid(2)
 *   xl_btree_insert       offnum(2)                        block 0: tuple ([postingoff(2)] first for INSERT_POST)
 *   xl_btree_split        level(4) firstrightoff(2) newitemoff(2) postingoff(2)
 *   xl_btree_dedup        nintervals(2)                    block 0: BTDedupInterval {baseoff(2), nitems(2)}[]
 *   xl_btree_vacuum       ndeleted(2) nupdated(2)          block 0: deleted[], updated[], xl_btree_update[]
 *   xl_btree_delete       latestRemovedXid(4) ndeleted(2) nupdated(2)   (same block data)
 *   xl_btree_mark_page_halfdead  poffset(2) pad(2) leafblk(4) leftblk(4) rightblk(4) topparent(4)
 *   xl_btree_unlink_page  leftsib(4) rightsib(4) level(4) pad(4) safexid(8) leafleftsib(4) leafrightsib(4) leaftopparent(4)
 *   xl_btree_newroot      rootblk(4) level(4)
 *   xl_btree_metadata     version(4) root(4) level(4) fastroot(4) fastlevel(4) last_cleanup_num_delpages(4) allequalimage(1)
 * </pre>
 */
public final class BtreeRedo {
    public static final int INSERT_LEAF = 0x00;
    public static final int INSERT_UPPER = 0x10;
    public static final int INSERT_META = 0x20;
    public static final int SPLIT_L = 0x30;
    public static final int SPLIT_R = 0x40;
    public static final int INSERT_POST = 0x50;
    public static final int DEDUP = 0x60;
    public static final int DELETE = 0x70;
    public static final int UNLINK_PAGE = 0x80;
    public static final int UNLINK_PAGE_META = 0x90;
    public static final int NEWROOT = 0xA0;
    public static final int MARK_PAGE_HALFDEAD = 0xB0;
    public static final int VACUUM = 0xC0;
    public static final int REUSE_PAGE = 0xD0;
    public static final int META_CLEANUP = 0xE0;

    static final int BTP_LEAF = 1;
    static final int BTP_ROOT = 2;
    static final int BTP_DELETED = 4;
    static final int BTP_META = 8;
    static final int BTP_HALF_DEAD = 16;
    static final int BTP_SPLIT_END = 32;
    static final int BTP_HAS_GARBAGE = 64;
    static final int BTP_INCOMPLETE_SPLIT = 128;
    static final int BTP_HAS_FULLXID = 256;
    static final int OPAQUE_SIZE = 16;
    static final int BTREE_MAGIC = 0x053162;
    static final int P_NONE = 0;
    static final int P_HIKEY = 1;

    private BtreeRedo() {
    }

    /** {@code btree_redo}. */
    public static void redo(RedoBuffers bufs) {
        int info = bufs.record().info() & 0xF0;
        switch (info) {
            case INSERT_LEAF -> insert(bufs, true, false, false);
            case INSERT_UPPER -> insert(bufs, false, false, false);
            case INSERT_META -> insert(bufs, false, true, false);
            case SPLIT_L -> split(bufs, true);
            case SPLIT_R -> split(bufs, false);
            case INSERT_POST -> insert(bufs, true, false, true);
            case DEDUP -> dedup(bufs);
            case VACUUM -> vacuumOrDelete(bufs, 0);
            case DELETE -> vacuumOrDelete(bufs, 4);
            case MARK_PAGE_HALFDEAD -> markPageHalfdead(bufs);
            case UNLINK_PAGE, UNLINK_PAGE_META -> unlinkPage(bufs, info);
            case NEWROOT -> newroot(bufs);
            case REUSE_PAGE -> {
                // recovery conflict only
            }
            case META_CLEANUP -> restoreMeta(bufs, 0);
            default -> throw new RedoException("unknown btree record type 0x" + Integer.toHexString(info));
        }
    }

    // ------------------------------------------------------------------ opaque

    static int opaque(byte[] p) {
        return BufPage.special(p);
    }

    static int flags(byte[] p) {
        return BufPage.u16(p, opaque(p) + 12);
    }

    static void setFlags(byte[] p, int f) {
        BufPage.putU16(p, opaque(p) + 12, f);
    }

    static void setPrev(byte[] p, int blk) {
        BufPage.putI32(p, opaque(p), blk);
    }

    static int next(byte[] p) {
        return BufPage.i32(p, opaque(p) + 4);
    }

    static void setNext(byte[] p, int blk) {
        BufPage.putI32(p, opaque(p) + 4, blk);
    }

    static void setLevel(byte[] p, int level) {
        BufPage.putI32(p, opaque(p) + 8, level);
    }

    static void setCycleId(byte[] p, int id) {
        BufPage.putU16(p, opaque(p) + 14, id);
    }

    /** {@code _bt_pageinit}. */
    static void pageInit(byte[] p) {
        BufPage.init(p, OPAQUE_SIZE);
    }

    /** {@code P_FIRSTDATAKEY}. */
    static int firstDataKey(byte[] p) {
        return next(p) == P_NONE ? P_HIKEY : P_HIKEY + 1;
    }

    static void addOrFail(byte[] page, byte[] item, int from, int size, int offnum, String what) {
        if (BufPage.addItem(page, item, from, size, offnum, 0) == 0) {
            throw new RedoException("failed to add " + what + " at offset " + offnum);
        }
    }

    /** {@code PageGetTempPageCopySpecial}: an initialized page with {@code page}'s special space. */
    static byte[] tempPageCopySpecial(byte[] page) {
        byte[] t = new byte[BufPage.BLCKSZ];
        int special = BufPage.special(page);
        BufPage.init(t, BufPage.BLCKSZ - special);
        System.arraycopy(page, special, t, special, BufPage.BLCKSZ - special);
        return t;
    }

    // ------------------------------------------------------------------ routines

    /** {@code _bt_clear_incomplete_split}. */
    static void clearIncompleteSplit(RedoBuffers bufs, int blockId) {
        byte[] p = bufs.forRedo(blockId);
        if (p != null) {
            setFlags(p, flags(p) & ~BTP_INCOMPLETE_SPLIT);
            BufPage.setLsn(p, bufs.record().endLsn());
        }
    }

    /** {@code _bt_restore_meta}. */
    static void restoreMeta(RedoBuffers bufs, int blockId) {
        byte[] d = bufs.block(blockId).data();
        HeapRedo.need(d, 25, "xl_btree_metadata");
        byte[] p = bufs.init(blockId);
        if (p == null) {
            return;
        }
        pageInit(p);
        int md = BufPage.HEADER_SIZE;
        BufPage.putI32(p, md, BTREE_MAGIC);
        System.arraycopy(d, 0, p, md + 4, 20); // version, root, level, fastroot, fastlevel
        BufPage.putI32(p, md + 24, BufPage.i32(d, 20)); // last_cleanup_num_delpages
        long minusOne = Double.doubleToRawLongBits(-1.0);
        BufPage.putI32(p, md + 32, (int) minusOne);
        BufPage.putI32(p, md + 36, (int) (minusOne >>> 32));
        p[md + 40] = d[24];
        setFlags(p, BTP_META);
        BufPage.setLower(p, md + 48);
        BufPage.setLsn(p, bufs.record().endLsn());
    }

    /** {@code btree_xlog_insert}. */
    static void insert(RedoBuffers bufs, boolean isLeaf, boolean isMeta, boolean posting) {
        WalRecord rec = bufs.record();
        byte[] d = rec.mainData();
        HeapRedo.need(d, 2, "xl_btree_insert");
        int offnum = BufPage.u16(d, 0);
        if (!isLeaf) {
            clearIncompleteSplit(bufs, 1);
        }
        byte[] page = bufs.forRedo(0);
        if (page != null) {
            byte[] data = bufs.block(0).data();
            if (!posting) {
                addOrFail(page, data, 0, data.length, offnum, "new item");
            } else {
                HeapRedo.need(data, 2 + IndexTuple.HEADER_SIZE, "posting split insert");
                int postingoff = BufPage.u16(data, 0);
                byte[] newItem = java.util.Arrays.copyOfRange(data, 2, data.length);
                int oposting = BufPage.normalItemAnyFlags(page, offnum - 1);
                byte[] nposting = IndexTuple.swapPosting(newItem, page, oposting, postingoff);
                System.arraycopy(nposting, 0, page, oposting, BufPage.maxAlign(IndexTuple.size(nposting, 0)));
                addOrFail(page, newItem, 0, newItem.length, offnum, "posting split new item");
            }
            BufPage.setLsn(page, rec.endLsn());
        }
        if (isMeta) {
            restoreMeta(bufs, 2);
        }
    }

    /** {@code _bt_restore_page}: tuples logged from {@code pd_upper} to {@code pd_special}, last item first. */
    static void restorePage(byte[] page, byte[] data) {
        int[] starts = new int[BufPage.BLCKSZ / 8];
        int[] sizes = new int[starts.length];
        int n = 0;
        int p = 0;
        while (p < data.length) {
            HeapRedo.need(data, p + IndexTuple.HEADER_SIZE, "index tuple");
            int size = BufPage.maxAlign(IndexTuple.size(data, p));
            if (size == 0) {
                throw new RedoException("index tuple of size 0 in restored page data");
            }
            starts[n] = p;
            sizes[n] = size;
            n++;
            p += size;
        }
        for (int i = n - 1; i >= 0; i--) {
            addOrFail(page, data, starts[i], sizes[i], n - i, "restored item");
        }
    }

    /** {@code btree_xlog_split}. */
    static void split(RedoBuffers bufs, boolean newItemOnLeft) {
        WalRecord rec = bufs.record();
        byte[] d = rec.mainData();
        HeapRedo.need(d, 10, "xl_btree_split");
        int level = BufPage.i32(d, 0);
        int firstRightOff = BufPage.u16(d, 4);
        int newItemOff = BufPage.u16(d, 6);
        int postingOff = BufPage.u16(d, 8);
        boolean isLeaf = level == 0;
        int origBlk = bufs.block(0).blockNo();
        int rightBlk = bufs.block(1).blockNo();
        int sBlk = bufs.has(2) ? bufs.block(2).blockNo() : P_NONE;
        if (!isLeaf) {
            clearIncompleteSplit(bufs, 3);
        }
        byte[] right = bufs.init(1);
        if (right != null) {
            pageInit(right);
            setPrev(right, origBlk);
            setNext(right, sBlk);
            setLevel(right, level);
            setFlags(right, isLeaf ? BTP_LEAF : 0);
            setCycleId(right, 0);
            restorePage(right, bufs.block(1).data());
            BufPage.setLsn(right, rec.endLsn());
        }

        byte[] orig = bufs.forRedo(0);
        if (orig != null) {
            byte[] data = bufs.block(0).data();
            int p = 0;
            byte[] newItem = null;
            int newItemSz = 0;
            byte[] nposting = null;
            int replacePostingOff = 0;
            if (newItemOnLeft || postingOff != 0) {
                HeapRedo.need(data, IndexTuple.HEADER_SIZE, "split new item");
                newItemSz = BufPage.maxAlign(IndexTuple.size(data, 0));
                newItem = java.util.Arrays.copyOfRange(data, 0, newItemSz);
                p += newItemSz;
                if (postingOff != 0) {
                    replacePostingOff = newItemOff - 1;
                    int oposting = BufPage.normalItemAnyFlags(orig, replacePostingOff);
                    nposting = IndexTuple.swapPosting(newItem, orig, oposting, postingOff);
                }
            }
            HeapRedo.need(data, p + IndexTuple.HEADER_SIZE, "split left high key");
            int hikeySz = BufPage.maxAlign(IndexTuple.size(data, p));
            byte[] left = tempPageCopySpecial(orig);
            addOrFail(left, data, p, hikeySz, P_HIKEY, "left high key");
            int leftOff = P_HIKEY + 1;
            int off;
            for (off = firstDataKey(orig); off < firstRightOff; off++) {
                if (off == replacePostingOff) {
                    addOrFail(left, nposting, 0, BufPage.maxAlign(IndexTuple.size(nposting, 0)), leftOff++,
                            "new posting list item");
                    continue;
                } else if (newItemOnLeft && off == newItemOff) {
                    addOrFail(left, newItem, 0, newItemSz, leftOff++, "new item");
                }
                int id = BufPage.itemId(orig, off);
                addOrFail(left, orig, BufPage.lpOff(id), BufPage.lpLen(id), leftOff++, "old item");
            }
            if (newItemOnLeft && off == newItemOff) {
                addOrFail(left, newItem, 0, newItemSz, leftOff++, "new item");
            }
            System.arraycopy(left, 0, orig, 0, BufPage.BLCKSZ);
            setFlags(orig, BTP_INCOMPLETE_SPLIT | (isLeaf ? BTP_LEAF : 0));
            setNext(orig, rightBlk);
            setCycleId(orig, 0);
            BufPage.setLsn(orig, rec.endLsn());
        }
        if (sBlk != P_NONE) {
            byte[] s = bufs.forRedo(2);
            if (s != null) {
                setPrev(s, rightBlk);
                BufPage.setLsn(s, rec.endLsn());
            }
        }
    }

    /** {@code btree_xlog_dedup} with {@code _bt_dedup_start_pending} / {@code _save_htid} / {@code _finish_pending}. */
    static void dedup(RedoBuffers bufs) {
        WalRecord rec = bufs.record();
        byte[] d = rec.mainData();
        HeapRedo.need(d, 2, "xl_btree_dedup");
        int nintervals = BufPage.u16(d, 0);
        byte[] page = bufs.forRedo(0);
        if (page == null) {
            return;
        }
        byte[] iv = bufs.block(0).data();
        HeapRedo.need(iv, 4 * nintervals, "dedup intervals");
        int minOff = firstDataKey(page);
        int maxOff = BufPage.maxOffset(page);
        byte[] newPage = tempPageCopySpecial(page);
        if (next(page) != P_NONE) {
            int id = BufPage.itemId(page, P_HIKEY);
            addOrFail(newPage, page, BufPage.lpOff(id), BufPage.lpLen(id), P_HIKEY, "high key");
        }
        Dedup state = new Dedup(page, newPage);
        for (int off = minOff; off <= maxOff; off++) {
            int t = BufPage.lpOff(BufPage.itemId(page, off));
            if (off == minOff) {
                state.start(t, off);
            } else if (state.nintervals < nintervals && state.baseOff == BufPage.u16(iv, 4 * state.nintervals)
                    && state.nitems < BufPage.u16(iv, 4 * state.nintervals + 2)) {
                state.save(t);
            } else {
                state.finish();
                state.start(t, off);
            }
        }
        state.finish();
        if (state.nintervals != nintervals) {
            throw new RedoException("deduplication formed " + state.nintervals + " posting lists, record says "
                    + nintervals);
        }
        if ((flags(newPage) & BTP_HAS_GARBAGE) != 0) {
            setFlags(newPage, flags(newPage) & ~BTP_HAS_GARBAGE);
        }
        System.arraycopy(newPage, 0, page, 0, BufPage.BLCKSZ);
        BufPage.setLsn(page, rec.endLsn());
    }

    /** {@code BTDedupStateData} as redo uses it (no size limit: the record's intervals decide). */
    private static final class Dedup {
        final byte[] page;
        final byte[] newPage;
        byte[] htids = new byte[BufPage.BLCKSZ];
        int nhtids;
        int nitems;
        int base;
        int baseOff;
        int baseTupSize;
        int nintervals;

        Dedup(byte[] page, byte[] newPage) {
            this.page = page;
            this.newPage = newPage;
        }

        void start(int t, int off) {
            nhtids = 0;
            if (!IndexTuple.isPosting(page, t)) {
                System.arraycopy(page, t, htids, 0, IndexTuple.TID_SIZE);
                nhtids = 1;
                baseTupSize = IndexTuple.size(page, t);
            } else {
                int n = IndexTuple.nPosting(page, t);
                System.arraycopy(page, t + IndexTuple.postingOffset(page, t), htids, 0, n * IndexTuple.TID_SIZE);
                nhtids = n;
                baseTupSize = IndexTuple.postingOffset(page, t);
            }
            nitems = 1;
            base = t;
            baseOff = off;
        }

        void save(int t) {
            int n;
            int from;
            if (!IndexTuple.isPosting(page, t)) {
                n = 1;
                from = t;
            } else {
                n = IndexTuple.nPosting(page, t);
                from = t + IndexTuple.postingOffset(page, t);
            }
            if ((nhtids + n) * IndexTuple.TID_SIZE > htids.length) {
                htids = java.util.Arrays.copyOf(htids, 2 * (nhtids + n) * IndexTuple.TID_SIZE);
            }
            System.arraycopy(page, from, htids, nhtids * IndexTuple.TID_SIZE, n * IndexTuple.TID_SIZE);
            nhtids += n;
            nitems++;
        }

        void finish() {
            int tupOff = BufPage.maxOffset(newPage) + 1;
            if (nitems == 1) {
                addOrFail(newPage, page, base, IndexTuple.size(page, base), tupOff, "deduplicated tuple");
            } else {
                byte[] fin = IndexTuple.formPosting(page, base, baseTupSize, htids, nhtids);
                addOrFail(newPage, fin, 0, IndexTuple.size(fin, 0), tupOff, "posting list tuple");
                nintervals++;
            }
            nhtids = 0;
            nitems = 0;
        }
    }

    /** {@code btree_xlog_vacuum} / {@code btree_xlog_delete} with {@code btree_xlog_updates}. */
    static void vacuumOrDelete(RedoBuffers bufs, int countsAt) {
        WalRecord rec = bufs.record();
        byte[] d = rec.mainData();
        HeapRedo.need(d, countsAt + 4, "xl_btree_vacuum/delete");
        int ndeleted = BufPage.u16(d, countsAt);
        int nupdated = BufPage.u16(d, countsAt + 2);
        byte[] page = bufs.forRedo(0);
        if (page == null) {
            return;
        }
        byte[] data = bufs.block(0).data();
        HeapRedo.need(data, 2 * (ndeleted + nupdated), "deleted/updated offsets");
        if (nupdated > 0) {
            int upd = 2 * (ndeleted + nupdated);
            for (int i = 0; i < nupdated; i++) {
                int offnum = BufPage.u16(data, 2 * ndeleted + 2 * i);
                HeapRedo.need(data, upd + 2, "xl_btree_update");
                int ndel = BufPage.u16(data, upd);
                HeapRedo.need(data, upd + 2 + 2 * ndel, "xl_btree_update TIDs");
                int[] deleted = new int[ndel];
                for (int k = 0; k < ndel; k++) {
                    deleted[k] = BufPage.u16(data, upd + 2 + 2 * k);
                }
                upd += 2 + 2 * ndel;
                int t = BufPage.lpOff(BufPage.itemId(page, offnum));
                byte[] updated = IndexTuple.updatePosting(page, t, deleted);
                if (!BufPage.indexTupleOverwrite(page, offnum, updated, 0, BufPage.maxAlign(updated.length))) {
                    throw new RedoException("failed to update partially dead item at offset " + offnum);
                }
            }
        }
        if (ndeleted > 0) {
            int[] offs = new int[ndeleted];
            for (int i = 0; i < ndeleted; i++) {
                offs[i] = BufPage.u16(data, 2 * i);
            }
            BufPage.indexMultiDelete(page, offs, ndeleted);
        }
        setFlags(page, flags(page) & ~BTP_HAS_GARBAGE);
        BufPage.setLsn(page, rec.endLsn());
    }

    /** A half-dead leaf's dummy high key pointing to {@code topParent} ({@code BTreeTupleSetTopParent}). */
    private static void addTopParentHikey(byte[] page, int topParent) {
        byte[] t = new byte[IndexTuple.HEADER_SIZE];
        BufPage.putU16(t, 6, IndexTuple.HEADER_SIZE | IndexTuple.INDEX_ALT_TID_MASK);
        IndexTuple.setBlockNumber(t, 0, topParent);
        IndexTuple.setOffsetNumber(t, 0, 0);
        addOrFail(page, t, 0, t.length, P_HIKEY, "dummy high key");
    }

    /** {@code btree_xlog_mark_page_halfdead}. */
    static void markPageHalfdead(RedoBuffers bufs) {
        WalRecord rec = bufs.record();
        byte[] d = rec.mainData();
        HeapRedo.need(d, 20, "xl_btree_mark_page_halfdead");
        int poffset = BufPage.u16(d, 0);
        int leftBlk = BufPage.i32(d, 8);
        int rightBlk = BufPage.i32(d, 12);
        int topParent = BufPage.i32(d, 16);
        byte[] parent = bufs.forRedo(1);
        if (parent != null) {
            int nextT = BufPage.lpOff(BufPage.itemId(parent, poffset + 1));
            int rightSib = IndexTuple.blockNumber(parent, nextT);
            int t = BufPage.lpOff(BufPage.itemId(parent, poffset));
            IndexTuple.setBlockNumber(parent, t, rightSib);
            BufPage.indexTupleDelete(parent, poffset + 1);
            BufPage.setLsn(parent, rec.endLsn());
        }
        byte[] leaf = bufs.init(0);
        if (leaf == null) {
            return;
        }
        pageInit(leaf);
        setPrev(leaf, leftBlk);
        setNext(leaf, rightBlk);
        setLevel(leaf, 0);
        setFlags(leaf, BTP_HALF_DEAD | BTP_LEAF);
        setCycleId(leaf, 0);
        addTopParentHikey(leaf, topParent);
        BufPage.setLsn(leaf, rec.endLsn());
    }

    /** {@code btree_xlog_unlink_page} with {@code BTPageSetDeleted}. */
    static void unlinkPage(RedoBuffers bufs, int info) {
        WalRecord rec = bufs.record();
        byte[] d = rec.mainData();
        HeapRedo.need(d, 36, "xl_btree_unlink_page");
        int leftSib = BufPage.i32(d, 0);
        int rightSib = BufPage.i32(d, 4);
        int level = BufPage.i32(d, 8);
        boolean isLeaf = level == 0;
        if (leftSib != P_NONE) {
            byte[] l = bufs.forRedo(1);
            if (l != null) {
                setNext(l, rightSib);
                BufPage.setLsn(l, rec.endLsn());
            }
        }
        byte[] target = bufs.init(0);
        if (target != null) {
            pageInit(target);
            setPrev(target, leftSib);
            setNext(target, rightSib);
            setLevel(target, level);
            // BTPageSetDeleted
            setFlags(target, (flags(target) & ~BTP_HALF_DEAD) | BTP_DELETED | BTP_HAS_FULLXID);
            BufPage.setLower(target, BufPage.HEADER_SIZE + 8);
            BufPage.setUpper(target, BufPage.special(target));
            System.arraycopy(d, 16, target, BufPage.HEADER_SIZE, 8);
            if (isLeaf) {
                setFlags(target, flags(target) | BTP_LEAF);
            }
            setCycleId(target, 0);
            BufPage.setLsn(target, rec.endLsn());
        }
        byte[] r = bufs.forRedo(2);
        if (r != null) {
            setPrev(r, leftSib);
            BufPage.setLsn(r, rec.endLsn());
        }
        if (bufs.has(3)) {
            byte[] leaf = bufs.init(3);
            if (leaf != null) {
                pageInit(leaf);
                setFlags(leaf, BTP_HALF_DEAD | BTP_LEAF);
                setPrev(leaf, BufPage.i32(d, 24));
                setNext(leaf, BufPage.i32(d, 28));
                setLevel(leaf, 0);
                setCycleId(leaf, 0);
                addTopParentHikey(leaf, BufPage.i32(d, 32));
                BufPage.setLsn(leaf, rec.endLsn());
            }
        }
        if (info == UNLINK_PAGE_META) {
            restoreMeta(bufs, 4);
        }
    }

    /** {@code btree_xlog_newroot}. */
    static void newroot(RedoBuffers bufs) {
        WalRecord rec = bufs.record();
        byte[] d = rec.mainData();
        HeapRedo.need(d, 8, "xl_btree_newroot");
        int level = BufPage.i32(d, 4);
        byte[] page = bufs.init(0);
        if (page != null) {
            pageInit(page);
            setFlags(page, BTP_ROOT | (level == 0 ? BTP_LEAF : 0));
            setPrev(page, P_NONE);
            setNext(page, P_NONE);
            setLevel(page, level);
            setCycleId(page, 0);
            if (level > 0) {
                restorePage(page, bufs.block(0).data());
            }
            BufPage.setLsn(page, rec.endLsn());
        }
        if (level > 0) {
            clearIncompleteSplit(bufs, 1);
        }
        restoreMeta(bufs, 2);
    }
}
