package io.forkline.wal.redo;

import io.forkline.wal.record.WalRecord;
import io.forkline.wal.redo.GistRecordDescriptor.Delete;
import io.forkline.wal.redo.GistRecordDescriptor.PageDelete;
import io.forkline.wal.redo.GistRecordDescriptor.PageSplit;
import io.forkline.wal.redo.GistRecordDescriptor.PageUpdate;

/**
 * Redo of the GiST resource manager ({@code gist_redo}, {@code src/backend/access/gist/gistxlog.c}
 * of PostgreSQL 15). Page layout, initializer and mask in {@link GistPage}, record layouts in
 * {@link GistRecordDescriptor}.
 *
 * <p>The left child whose {@code F_FOLLOW_RIGHT} a downlink insertion clears ({@code PAGE_UPDATE}
 * block 1, {@code PAGE_SPLIT} block 0) is changed even when restored from its image, as
 * {@code gistRedoClearFollowRight} does: the AM sets the child's NSN and clears the flag after its
 * {@code XLogInsert}, so the image predates them ({@link RedoBuffers#forRedoOrRestored}).
 * {@code PAGE_REUSE} and {@code ASSIGN_LSN} touch no page (a hot standby's conflict point; a no-op
 * that only takes an LSN).
 */
public final class GistRedo {
    private GistRedo() {
    }

    /**
     * {@code gist_redo}.
     *
     * @throws RedoException on an unknown op code, malformed main or block data, or tuples that do
     *                       not fit their page
     */
    public static void redo(RedoBuffers bufs) {
        WalRecord rec = bufs.record();
        byte[] d = rec.mainData();
        switch (rec.info() & 0xF0) {
            case GistRecordDescriptor.PAGE_UPDATE -> pageUpdate(bufs, PageUpdate.parse(d));
            case GistRecordDescriptor.DELETE -> delete(bufs, Delete.parse(d));
            case GistRecordDescriptor.PAGE_REUSE, GistRecordDescriptor.ASSIGN_LSN -> {
                // gistRedoPageReuse: conflict resolution on a hot standby only; ASSIGN_LSN: nop
            }
            case GistRecordDescriptor.PAGE_SPLIT -> pageSplit(bufs, PageSplit.parse(d));
            case GistRecordDescriptor.PAGE_DELETE -> pageDelete(bufs, PageDelete.parse(d));
            default -> throw new RedoException("gist_redo: unknown op code 0x" + Integer.toHexString(rec.info() & 0xF0));
        }
    }

    /**
     * Whether block {@code blockId} of a record with {@code info} is the left child that
     * {@code gistRedoClearFollowRight} changes after its image was taken ({@code PAGE_UPDATE} block 1,
     * {@code PAGE_SPLIT} block 0).
     */
    static boolean changedAfterImage(int info, int blockId) {
        return switch (info & 0xF0) {
            case GistRecordDescriptor.PAGE_UPDATE -> blockId == 1;
            case GistRecordDescriptor.PAGE_SPLIT -> blockId == 0;
            default -> false;
        };
    }

    /** {@code gistRedoClearFollowRight}: NSN = this record's end LSN, {@code F_FOLLOW_RIGHT} cleared. */
    private static void clearFollowRight(RedoBuffers bufs, int blockId) {
        long lsn = bufs.record().endLsn();
        bufs.forRedoOrRestored(blockId, page -> {
            GistPage.setNsn(page, lsn);
            GistPage.setFollowRight(page, false);
            BufPage.setLsn(page, lsn);
        });
    }

    /**
     * {@code gistRedoPageUpdateRecord}: on block 0, one tuple replaced by one
     * ({@code PageIndexTupleOverwrite}, as {@code gistplacetopage}), or the offsets deleted
     * ({@code PageIndexMultiDelete}, {@code F_TUPLES_DELETED} on a leaf) and the tuples appended after
     * the last line pointer; then block 1's follow-right cleared.
     */
    private static void pageUpdate(RedoBuffers bufs, PageUpdate x) {
        byte[] page = bufs.forRedo(0);
        if (page != null) {
            byte[] data = bufs.block(0).data();
            int pos = 0;
            int ninserted = 0;
            if (x.ntodelete() == 1 && x.ntoinsert() == 1) {
                HeapRedo.need(data, 2, "gistRedoPageUpdateRecord offset");
                int offnum = BufPage.u16(data, 0);
                pos = 2;
                int sz = GistPage.tupleSize(data, pos, data.length, "gistRedoPageUpdateRecord");
                if (!BufPage.indexTupleOverwrite(page, offnum, data, pos, sz)) {
                    throw new RedoException("gistRedoPageUpdateRecord: failed to add item to GiST index page, size "
                            + sz + " bytes");
                }
                pos += sz;
                ninserted++;
            } else if (x.ntodelete() > 0) {
                HeapRedo.need(data, 2 * x.ntodelete(), "gistRedoPageUpdateRecord offsets");
                BufPage.indexMultiDelete(page, HashRecordDescriptor.offsets(data, 0, x.ntodelete()), x.ntodelete());
                pos = 2 * x.ntodelete();
                if (GistPage.isLeaf(page)) {
                    GistPage.setFlags(page, GistPage.flags(page) | GistPage.F_TUPLES_DELETED);
                }
            }
            if (pos < data.length) {
                ninserted += GistPage.fillBuffer(page, data, pos, data.length, 0, "gistRedoPageUpdateRecord");
            }
            if (ninserted != x.ntoinsert()) {
                throw new RedoException("gistRedoPageUpdateRecord: " + ninserted + " tuples in the record, "
                        + x.ntoinsert() + " announced");
            }
            setLsn(bufs, page);
        }
        if (bufs.has(1)) {
            clearFollowRight(bufs, 1);
        }
    }

    /**
     * {@code gistRedoDeleteRecord}: the offsets of the main data deleted from block 0 (dead tuples an
     * insert removed, {@code gistprunepage}); {@code F_HAS_GARBAGE} cleared, {@code F_TUPLES_DELETED} set.
     */
    private static void delete(RedoBuffers bufs, Delete x) {
        byte[] page = bufs.forRedo(0);
        if (page != null) {
            if (x.offsets().length > 0) {
                BufPage.indexMultiDelete(page, x.offsets(), x.ntodelete());
            }
            GistPage.setFlags(page, (GistPage.flags(page) & ~GistPage.F_HAS_GARBAGE) | GistPage.F_TUPLES_DELETED);
            setLsn(bufs, page);
        }
    }

    /**
     * {@code gistRedoPageSplitRecord}: each page of the split (blocks {@code 1..npage}) reinitialized
     * ({@code F_LEAF} when the split page was a leaf and this is not the root) and filled
     * ({@code gistfillbuffer}); the root (a root split's first page) gets no right link, the others the
     * next page of the split or the original right link, all the original NSN, and
     * {@code F_FOLLOW_RIGHT} on all but the last when {@code markfollowright} and not a root split;
     * then block 0's follow-right cleared.
     */
    private static void pageSplit(RedoBuffers bufs, PageSplit x) {
        boolean isRootSplit = false;
        for (int i = 0; i < x.npage(); i++) {
            int blkno = bufs.block(i + 1).blockNo();
            if (blkno == GistPage.ROOT_BLKNO) {
                if (i != 0) {
                    throw new RedoException("gistRedoPageSplitRecord: root block at split page " + i);
                }
                isRootSplit = true;
            }
            byte[] page = bufs.init(i + 1);
            if (page == null) {
                continue;
            }
            byte[] data = bufs.block(i + 1).data();
            HeapRedo.need(data, 4, "gistRedoPageSplitRecord tuple count");
            int num = BufPage.i32(data, 0);
            GistPage.initPage(page, x.origleaf() && blkno != GistPage.ROOT_BLKNO ? GistPage.F_LEAF : 0);
            int added = GistPage.fillBuffer(page, data, 4, data.length, 1, "gistRedoPageSplitRecord");
            if (added != num) {
                throw new RedoException("gistRedoPageSplitRecord: " + added + " tuples for page " + i + ", " + num
                        + " announced");
            }
            if (blkno == GistPage.ROOT_BLKNO) {
                GistPage.setRightlink(page, GistPage.INVALID_BLOCK);
                GistPage.setNsn(page, x.orignsn());
                GistPage.setFollowRight(page, false);
            } else {
                boolean last = i == x.npage() - 1;
                GistPage.setRightlink(page, last ? x.origrlink() : bufs.block(i + 2).blockNo());
                GistPage.setNsn(page, x.orignsn());
                GistPage.setFollowRight(page, !last && !isRootSplit && x.markfollowright());
            }
            setLsn(bufs, page);
        }
        if (bufs.has(0)) {
            clearFollowRight(bufs, 0);
        }
    }

    /**
     * {@code gistRedoPageDelete}: the emptied leaf (block 0) marked deleted with {@code deleteXid};
     * its downlink deleted from the parent (block 1, {@code PageIndexTupleDelete}).
     */
    private static void pageDelete(RedoBuffers bufs, PageDelete x) {
        byte[] leaf = bufs.forRedo(0);
        if (leaf != null) {
            GistPage.setDeleted(leaf, x.deleteXid());
            setLsn(bufs, leaf);
        }
        byte[] parent = bufs.forRedo(1);
        if (parent != null) {
            BufPage.indexTupleDelete(parent, x.downlinkOffset());
            setLsn(bufs, parent);
        }
    }

    private static void setLsn(RedoBuffers bufs, byte[] page) {
        BufPage.setLsn(page, bufs.record().endLsn());
    }
}
