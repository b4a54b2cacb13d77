package io.forkline.wal.redo;

import io.forkline.wal.redo.GinRecordDescriptor.CreatePostingTree;
import io.forkline.wal.redo.GinRecordDescriptor.DeleteListPages;
import io.forkline.wal.redo.GinRecordDescriptor.DeletePage;
import io.forkline.wal.redo.GinRecordDescriptor.Insert;
import io.forkline.wal.redo.GinRecordDescriptor.InsertListPage;
import io.forkline.wal.redo.GinRecordDescriptor.Split;
import io.forkline.wal.redo.GinRecordDescriptor.UpdateMeta;
import io.forkline.wal.record.WalRecord;

import java.util.Arrays;

/**
 * Redo of the Gin resource manager ({@code gin_redo}, {@code src/backend/access/gin/ginxlog.c} of
 * PostgreSQL 15). Page layout, initializers and {@code gin_mask} in {@link GinPage}, record layouts
 * in {@link GinRecordDescriptor}, the posting-list codec in {@link GinPostingList}.
 *
 * <p>{@code SPLIT} (its left, right and root pages) and {@code VACUUM_PAGE} are logged with forced
 * full-page images ({@code REGBUF_FORCE_IMAGE}); redo only restores them (a record that lacks one is
 * an error, as in PostgreSQL). A non-leaf {@code SPLIT} also clears {@code GIN_INCOMPLETE_SPLIT} on the
 * child whose split it finishes (block 3), which is redone here.
 */
public final class GinRedo {
    private GinRedo() {
    }

    /**
     * {@code gin_redo}.
     *
     * @throws RedoException when the record is malformed or does not fit its pages
     */
    public static void redo(RedoBuffers bufs) {
        WalRecord rec = bufs.record();
        byte[] d = rec.mainData();
        switch (rec.info() & 0xF0) {
            case GinRecordDescriptor.CREATE_PTREE -> createPTree(bufs, d);
            case GinRecordDescriptor.INSERT -> insert(bufs, Insert.parse(d));
            case GinRecordDescriptor.SPLIT -> split(bufs, Split.parse(d));
            case GinRecordDescriptor.VACUUM_PAGE -> vacuumPage(bufs);
            case GinRecordDescriptor.VACUUM_DATA_LEAF_PAGE -> vacuumDataLeafPage(bufs);
            case GinRecordDescriptor.DELETE_PAGE -> deletePage(bufs, DeletePage.parse(d));
            case GinRecordDescriptor.UPDATE_META_PAGE -> updateMetapage(bufs, d, UpdateMeta.parse(d));
            case GinRecordDescriptor.INSERT_LISTPAGE -> insertListPage(bufs, InsertListPage.parse(d));
            case GinRecordDescriptor.DELETE_LISTPAGE -> deleteListPages(bufs, d, DeleteListPages.parse(d));
            default -> throw new RedoException("gin_redo: unknown op code 0x" + Integer.toHexString(rec.info()));
        }
    }

    /** {@code ginRedoClearIncompleteSplit}: {@code GIN_INCOMPLETE_SPLIT} cleared on block {@code id}. */
    private static void clearIncompleteSplit(RedoBuffers bufs, int id) {
        byte[] page = bufs.forRedo(id);
        if (page != null) {
            GinPage.setFlags(page, GinPage.flags(page) & ~GinPage.GIN_INCOMPLETE_SPLIT);
            setLsn(bufs, page);
        }
    }

    /**
     * {@code ginRedoCreatePTree}: block 0 initialized as a compressed posting-tree leaf holding the
     * posting list of the main data.
     */
    private static void createPTree(RedoBuffers bufs, byte[] d) {
        CreatePostingTree x = CreatePostingTree.parse(d);
        byte[] page = bufs.init(0);
        if (page != null) {
            GinPage.initPage(page, GinPage.GIN_DATA | GinPage.GIN_LEAF | GinPage.GIN_COMPRESSED);
            System.arraycopy(d, 4, page, GinPage.DATA, x.size());
            GinPage.setDataSize(page, x.size());
            setLsn(bufs, page);
        }
    }

    /**
     * {@code ginRedoInsert}: for a non-leaf insert first the split flag of the left child (block 1)
     * cleared, then the payload of block 0 applied to it by {@link #insertData} or
     * {@link #insertEntry}.
     */
    private static void insert(RedoBuffers bufs, Insert x) {
        if (!x.isLeaf()) {
            clearIncompleteSplit(bufs, 1);
        }
        byte[] page = bufs.forRedo(0);
        if (page != null) {
            byte[] payload = bufs.block(0).data();
            if (payload == null) {
                throw new RedoException("ginRedoInsert: block 0 has no data");
            }
            if (x.isData()) {
                insertData(page, x.isLeaf(), x.rightChild(), payload);
            } else {
                insertEntry(page, x.rightChild(), payload);
            }
            setLsn(bufs, page);
        }
    }

    /**
     * {@code ginRedoInsertEntry}: on a non-leaf page the downlink at the offset pointed to the right
     * child; with {@code isDelete} the old tuple at the offset removed; the new tuple added there.
     */
    private static void insertEntry(byte[] page, int rightblkno, byte[] data) {
        HeapRedo.need(data, 4 + IndexTuple.HEADER_SIZE, "ginxlogInsertEntry");
        int offset = BufPage.u16(data, 0);
        boolean isDelete = data[2] != 0;
        if (rightblkno != GinPage.INVALID_BLOCK) {
            if (offset < 1 || offset > BufPage.maxOffset(page)) {
                throw new RedoException("ginRedoInsertEntry: downlink offset " + offset + " not on the page");
            }
            int t = BufPage.normalItemAnyFlags(page, offset);
            IndexTuple.setBlockNumber(page, t, rightblkno); // GinSetDownlink: (blkno, InvalidOffsetNumber)
            IndexTuple.setOffsetNumber(page, t, 0);
        }
        if (isDelete) {
            if (offset < 1 || offset > BufPage.maxOffset(page)) {
                throw new RedoException("ginRedoInsertEntry: deleted offset " + offset + " not on the page");
            }
            BufPage.indexTupleDelete(page, offset);
        }
        int size = IndexTuple.size(data, 4);
        HeapRedo.need(data, 4 + size, "ginxlogInsertEntry tuple");
        if (BufPage.addItem(page, data, 4, size, offset, 0) == 0) {
            throw new RedoException("failed to add item to index page (offset " + offset + ", " + size + " bytes)");
        }
    }

    /**
     * {@code ginRedoInsertData}: a leaf's posting lists recompressed ({@link #recompress}); on an
     * internal page the posting item at the offset pointed to the right child and the new posting
     * item inserted there.
     */
    private static void insertData(byte[] page, boolean isLeaf, int rightblkno, byte[] data) {
        if (isLeaf) {
            recompress(page, data);
        } else {
            HeapRedo.need(data, 2 + GinPage.POSTING_ITEM_SIZE, "ginxlogInsertDataInternal");
            int offset = BufPage.u16(data, 0);
            if (offset < 1 || offset > GinPage.maxoff(page)) {
                throw new RedoException("ginRedoInsertData: offset " + offset + " beyond maxoff " + GinPage.maxoff(page));
            }
            GinPage.setPostingItemBlock(page, GinPage.postingItem(offset), rightblkno);
            GinPage.addPostingItem(page, data, 2, offset);
        }
    }

    /**
     * {@code ginRedoRecompress}: applies a {@code ginxlogRecompressDataLeaf} to a posting-tree leaf.
     * {@code data} is {@code nactions(2)}, then per action {@code segno(1) type(1)} and: for
     * {@code INSERT} / {@code REPLACE} a {@code GinPostingList} (its {@code SizeOfGinPostingList}
     * bytes), for {@code ADDITEMS} {@code nitems(2)} and that many {@code ItemPointerData}, for
     * {@code DELETE} nothing. Segments before an action's {@code segno} are kept; {@code ADDITEMS}
     * merges the items into the old segment and re-encodes it with {@code ginCompressPostingList}.
     * A leaf in the pre-9.4 uncompressed format is converted first. Bytes past the new
     * {@code pd_lower} keep what they held (PostgreSQL leaves them too; {@code gin_mask} hides them).
     */
    static void recompress(byte[] page, byte[] data) {
        if ((GinPage.flags(page) & GinPage.GIN_COMPRESSED) == 0) {
            int n = GinPage.maxoff(page);
            int total = 0;
            if (n > 0) {
                long[] items = new long[n];
                for (int i = 0; i < n; i++) {
                    items[i] = GinPostingList.readItemPointer(page, GinPage.DATA + 6 * i);
                }
                byte[] plist = GinPostingList.compress(items, n, BufPage.BLCKSZ, null);
                total = plist.length;
                System.arraycopy(plist, 0, page, GinPage.DATA, total);
            }
            GinPage.setDataSize(page, total);
            GinPage.setFlags(page, GinPage.flags(page) | GinPage.GIN_COMPRESSED);
            GinPage.setMaxoff(page, 0);
        }
        int oldSize = GinPage.postingListSize(page);
        if (oldSize < 0 || GinPage.DATA + oldSize > BufPage.special(page)) {
            throw new RedoException("ginRedoRecompress: posting list size " + oldSize + " does not fit the page");
        }
        byte[] old = Arrays.copyOfRange(page, GinPage.DATA, GinPage.DATA + oldSize);
        byte[] out = new byte[BufPage.BLCKSZ];
        int written = 0;
        int oldPos = 0;
        int segno = 0;
        HeapRedo.need(data, 2, "ginxlogRecompressDataLeaf");
        int nactions = BufPage.u16(data, 0);
        int pos = 2;
        for (int a = 0; a < nactions; a++) {
            HeapRedo.need(data, pos + 2, "ginxlogSegmentAction");
            int aSegno = data[pos] & 0xFF;
            int action = data[pos + 1] & 0xFF;
            pos += 2;
            byte[] newseg = null;
            int newsegFrom = 0;
            int newsegSize = 0;
            long[] items = null;
            if (action == GinRecordDescriptor.SEGMENT_INSERT || action == GinRecordDescriptor.SEGMENT_REPLACE) {
                HeapRedo.need(data, pos + GinPostingList.HEADER_SIZE, "ginxlogSegmentAction posting list");
                newseg = data;
                newsegFrom = pos;
                newsegSize = GinPostingList.segmentSize(data, pos);
                HeapRedo.need(data, pos + newsegSize, "ginxlogSegmentAction posting list");
                pos += newsegSize; // SHORTALIGN of an even size
            } else if (action == GinRecordDescriptor.SEGMENT_ADDITEMS) {
                HeapRedo.need(data, pos + 2, "ginxlogSegmentAction nitems");
                int nitems = BufPage.u16(data, pos);
                pos += 2;
                HeapRedo.need(data, pos + 6 * nitems, "ginxlogSegmentAction items");
                items = new long[nitems];
                for (int i = 0; i < nitems; i++) {
                    items[i] = GinPostingList.readItemPointer(data, pos + 6 * i);
                }
                pos += 6 * nitems;
            }
            if (aSegno < segno) {
                throw new RedoException("ginRedoRecompress: action on segment " + aSegno + " after segment " + segno);
            }
            while (segno < aSegno) {
                if (oldPos >= old.length) {
                    throw new RedoException("ginRedoRecompress: segment " + aSegno + " beyond the page's " + segno);
                }
                int segsize = GinPostingList.segmentSize(old, oldPos);
                written = append(out, written, old, oldPos, segsize);
                oldPos += segsize;
                segno++;
            }
            if (action == GinRecordDescriptor.SEGMENT_ADDITEMS) {
                if (oldPos >= old.length) {
                    throw new RedoException("ginRedoRecompress: ADDITEMS to segment " + aSegno + " past the last one");
                }
                long[] olditems = GinPostingList.decode(old, oldPos);
                long[] merged = GinPostingList.merge(items, olditems);
                newseg = GinPostingList.compress(merged, merged.length, BufPage.BLCKSZ, null);
                newsegFrom = 0;
                newsegSize = newseg.length;
                action = GinRecordDescriptor.SEGMENT_REPLACE;
            }
            int segsize;
            if (oldPos < old.length) {
                segsize = GinPostingList.segmentSize(old, oldPos);
            } else {
                if (action != GinRecordDescriptor.SEGMENT_INSERT) {
                    throw new RedoException("ginRedoRecompress: action " + action + " past the last segment");
                }
                segsize = 0;
            }
            switch (action) {
                case GinRecordDescriptor.SEGMENT_DELETE -> {
                    oldPos += segsize;
                    segno++;
                }
                case GinRecordDescriptor.SEGMENT_INSERT -> written = append(out, written, newseg, newsegFrom, newsegSize);
                case GinRecordDescriptor.SEGMENT_REPLACE -> {
                    written = append(out, written, newseg, newsegFrom, newsegSize);
                    oldPos += segsize;
                    segno++;
                }
                default -> throw new RedoException("unexpected GIN leaf action: " + action);
            }
        }
        if (oldPos < old.length) {
            written = append(out, written, old, oldPos, old.length - oldPos);
        }
        if (GinPage.DATA + written > BufPage.special(page)) {
            throw new RedoException("ginRedoRecompress: " + written + " bytes of posting lists do not fit the page");
        }
        System.arraycopy(out, 0, page, GinPage.DATA, written);
        GinPage.setDataSize(page, written);
    }

    private static int append(byte[] out, int at, byte[] src, int from, int len) {
        if (from + len > src.length || at + len > out.length) {
            throw new RedoException("ginRedoRecompress: segment of " + len + " bytes runs past its buffer");
        }
        System.arraycopy(src, from, out, at, len);
        return at + len;
    }

    /** {@code ginRedoSplit}: the child's split flag cleared (block 3, non-leaf); left, right and root pages are images. */
    private static void split(RedoBuffers bufs, Split x) {
        if (!x.isLeaf()) {
            clearIncompleteSplit(bufs, 3);
        }
        requireImage(bufs, 0, "GIN split record did not contain a full-page image of left page");
        requireImage(bufs, 1, "GIN split record did not contain a full-page image of right page");
        if (x.isRoot()) {
            requireImage(bufs, 2, "GIN split record did not contain a full-page image of root page");
        }
    }

    /** {@code ginRedoVacuumPage}: an entry leaf page vacuumed, logged as its image. */
    private static void vacuumPage(RedoBuffers bufs) {
        requireImage(bufs, 0, "replay of gin entry tree page vacuum did not restore the page");
    }

    private static void requireImage(RedoBuffers bufs, int id, String message) {
        bufs.forRedo(id);
        if (bufs.outcome(id) != RedoBuffers.Outcome.RESTORED) {
            throw new RedoException(message);
        }
    }

    /** {@code ginRedoVacuumDataLeafPage}: block 0's posting lists recompressed from its data. */
    private static void vacuumDataLeafPage(RedoBuffers bufs) {
        byte[] page = bufs.forRedo(0);
        if (page != null) {
            byte[] data = bufs.block(0).data();
            if (data == null) {
                throw new RedoException("ginRedoVacuumDataLeafPage: block 0 has no data");
            }
            recompress(page, data);
            setLsn(bufs, page);
        }
    }

    /**
     * {@code ginRedoDeletePage}: the left sibling's right link (block 2), the page marked deleted
     * with its delete xid in {@code pd_prune_xid} (block 0), its posting item removed from the
     * parent (block 1).
     */
    private static void deletePage(RedoBuffers bufs, DeletePage x) {
        if (bufs.has(2)) {
            byte[] left = bufs.forRedo(2);
            if (left != null) {
                GinPage.setRightlink(left, x.rightLink());
                setLsn(bufs, left);
            }
        }
        byte[] page = bufs.forRedo(0);
        if (page != null) {
            GinPage.setFlags(page, GinPage.flags(page) | GinPage.GIN_DELETED);
            BufPage.putI32(page, BufPage.PRUNE_XID_OFFSET, x.deleteXid());
            setLsn(bufs, page);
        }
        byte[] parent = bufs.forRedo(1);
        if (parent != null) {
            GinPage.deletePostingItem(parent, x.parentOffset());
            setLsn(bufs, parent);
        }
    }

    /**
     * {@code ginRedoUpdateMetapage}: the metapage rebuilt from the record (block 0); then either
     * {@code ntuples} tuples appended to the pending list's tail (block 1, whose {@code maxoff}, the
     * heap-tuple count, goes up by one) or, for a new sublist, the old tail's right link (block 1).
     */
    private static void updateMetapage(RedoBuffers bufs, byte[] d, UpdateMeta x) {
        byte[] meta = bufs.init(0);
        if (meta != null) {
            GinPage.initMetabuffer(meta);
            System.arraycopy(d, UpdateMeta.METADATA, meta, GinPage.CONTENTS, GinPage.META_SIZE);
            setLsn(bufs, meta);
        }
        if (x.ntuples() > 0) {
            byte[] page = bufs.forRedo(1);
            if (page != null) {
                byte[] tuples = bufs.block(1).data();
                int off = BufPage.isEmpty(page) ? 1 : BufPage.maxOffset(page) + 1;
                int end = addTuples(page, tuples, x.ntuples(), off);
                if (end != tuples.length) {
                    throw new RedoException("ginRedoUpdateMetapage: " + (tuples.length - end) + " bytes after the tuples");
                }
                GinPage.setMaxoff(page, GinPage.maxoff(page) + 1);
                setLsn(bufs, page);
            }
        } else if (x.prevTail() != GinPage.INVALID_BLOCK) {
            byte[] page = bufs.forRedo(1);
            if (page != null) {
                GinPage.setRightlink(page, x.newRightlink());
                setLsn(bufs, page);
            }
        }
    }

    /**
     * {@code ginRedoInsertListPage}: block 0 initialized as a pending-list page (the tail of its sublist,
     * {@code GIN_LIST_FULLROW} with {@code maxoff} 1, when it has no right link) with the tuples of its data.
     */
    private static void insertListPage(RedoBuffers bufs, InsertListPage x) {
        byte[] page = bufs.init(0);
        if (page == null) {
            return;
        }
        GinPage.initPage(page, GinPage.GIN_LIST);
        GinPage.setRightlink(page, x.rightlink());
        if (x.rightlink() == GinPage.INVALID_BLOCK) {
            GinPage.setFlags(page, GinPage.flags(page) | GinPage.GIN_LIST_FULLROW);
            GinPage.setMaxoff(page, 1);
        } else {
            GinPage.setMaxoff(page, 0);
        }
        byte[] tuples = bufs.block(0).data();
        int end = addTuples(page, tuples, x.ntuples(), 1);
        if (end != (tuples == null ? 0 : tuples.length)) {
            throw new RedoException("ginRedoInsertListPage: " + (tuples.length - end) + " bytes after the tuples");
        }
        setLsn(bufs, page);
    }

    /**
     * The tuple loops of {@code ginRedoUpdateMetapage} / {@code ginRedoInsertListPage}: {@code n}
     * tuples of {@code IndexTupleSize} bytes each, back to back, added at {@code off}, {@code off + 1},
     * ...; returns the end of the last one in {@code tuples}.
     */
    private static int addTuples(byte[] page, byte[] tuples, int n, int off) {
        int pos = 0;
        for (int i = 0; i < n; i++) {
            if (tuples == null) {
                throw new RedoException("GIN pending-list record has no tuple data");
            }
            HeapRedo.need(tuples, pos + IndexTuple.HEADER_SIZE, "GIN pending-list tuple header");
            int size = IndexTuple.size(tuples, pos);
            HeapRedo.need(tuples, pos + size, "GIN pending-list tuple");
            if (size == 0 || BufPage.addItem(page, tuples, pos, size, off, 0) == 0) {
                throw new RedoException("failed to add item to index page (offset " + off + ", " + size + " bytes)");
            }
            pos += size;
            off++;
        }
        return pos;
    }

    /**
     * {@code ginRedoDeleteListPages}: the metapage rebuilt from the record (block 0), the
     * {@code ndeleted} pending-list pages (blocks 1..ndeleted) reinitialized as empty deleted pages.
     */
    private static void deleteListPages(RedoBuffers bufs, byte[] d, DeleteListPages x) {
        byte[] meta = bufs.init(0);
        if (meta != null) {
            GinPage.initMetabuffer(meta);
            System.arraycopy(d, 0, meta, GinPage.CONTENTS, GinPage.META_SIZE);
            setLsn(bufs, meta);
        }
        for (int i = 0; i < x.ndeleted(); i++) {
            byte[] page = bufs.init(i + 1);
            if (page != null) {
                GinPage.initPage(page, GinPage.GIN_DELETED);
                setLsn(bufs, page);
            }
        }
    }

    private static void setLsn(RedoBuffers bufs, byte[] page) {
        BufPage.setLsn(page, bufs.record().endLsn());
    }
}
