package io.forkline.wal.redo;

/**
 * The main data of the Gin resource manager's records ({@code src/include/access/ginxlog.h} of
 * PostgreSQL 15), each parsed from its C layout (little-endian, natural alignment; {@code sizeof}
 * with trailing padding, as {@code XLogRegisterData} logs them):
 *
 * <pre>
 *   ginxlogCreatePostingTree  size(4), then the posting list (size bytes)                    4 B + size
 *   ginxlogInsert             flags(2), then for a non-leaf insert the left and right child
 *                             (BlockIdData: bi_hi(2) bi_lo(2) each)                            2 B (+ 8)
 *   ginxlogSplit              node(12) rrlink(4) leftChildBlkno(4) rightChildBlkno(4) flags(2) 28 B
 *   ginxlogDeletePage         parentOffset(2) pad(2) rightLink(4) deleteXid(4)                12 B
 *   ginxlogUpdateMeta         node(12) pad(4) metadata(56) prevTail(4) newRightlink(4)
 *                             ntuples(4) pad(4)                                               88 B
 *   ginxlogInsertListPage     rightlink(4) ntuples(4)                                          8 B
 *   ginxlogDeleteListPages    metadata(56) ndeleted(4) pad(4)                                 64 B
 * </pre>
 *
 * Block data: {@code INSERT} block 0 a {@code ginxlogInsertEntry} (offset(2) isDelete(1) pad(1)
 * then the index tuple) on entry pages, a {@code ginxlogRecompressDataLeaf} (nactions(2) then the
 * segment actions, see {@link GinRedo#recompress}) on posting-tree leaves, a
 * {@code ginxlogInsertDataInternal} (offset(2) PostingItem(10)) on posting-tree internal pages;
 * {@code VACUUM_DATA_LEAF_PAGE} block 0 a {@code ginxlogRecompressDataLeaf};
 * {@code UPDATE_META_PAGE} block 1 and {@code INSERT_LISTPAGE} block 0 the tuples, back to back
 * ({@code IndexTupleSize} each).
 */
final class GinRecordDescriptor {
    static final int CREATE_PTREE = 0x10;
    static final int INSERT = 0x20;
    static final int SPLIT = 0x30;
    static final int VACUUM_PAGE = 0x40;
    static final int DELETE_PAGE = 0x50;
    static final int UPDATE_META_PAGE = 0x60;
    static final int INSERT_LISTPAGE = 0x70;
    static final int DELETE_LISTPAGE = 0x80;
    static final int VACUUM_DATA_LEAF_PAGE = 0x90;

    /** {@code GIN_INSERT_ISDATA}. */
    static final int INSERT_ISDATA = 0x01;
    /** {@code GIN_INSERT_ISLEAF}. */
    static final int INSERT_ISLEAF = 0x02;
    /** {@code GIN_SPLIT_ROOT}. */
    static final int SPLIT_ROOT = 0x04;

    /** {@code GIN_SEGMENT_DELETE}. */
    static final int SEGMENT_DELETE = 1;
    /** {@code GIN_SEGMENT_INSERT}. */
    static final int SEGMENT_INSERT = 2;
    /** {@code GIN_SEGMENT_REPLACE}. */
    static final int SEGMENT_REPLACE = 3;
    /** {@code GIN_SEGMENT_ADDITEMS}. */
    static final int SEGMENT_ADDITEMS = 4;

    private GinRecordDescriptor() {
    }

    /** {@code ginxlogCreatePostingTree}: the posting list is {@code d[4..4+size)}. */
    record CreatePostingTree(int size) {
        static CreatePostingTree parse(byte[] d) {
            HeapRedo.need(d, 4, "ginxlogCreatePostingTree");
            int size = BufPage.i32(d, 0);
            if (size < 0 || size > GinPage.DATA_MAX_SIZE) {
                throw new RedoException("ginxlogCreatePostingTree: posting list of " + size + " bytes");
            }
            HeapRedo.need(d, 4 + size, "ginxlogCreatePostingTree posting list");
            return new CreatePostingTree(size);
        }
    }

    /** {@code ginxlogInsert}; {@code rightChild} is {@code InvalidBlockNumber} for a leaf insert. */
    record Insert(int flags, int leftChild, int rightChild) {
        static Insert parse(byte[] d) {
            HeapRedo.need(d, 2, "ginxlogInsert");
            int flags = BufPage.u16(d, 0);
            if ((flags & INSERT_ISLEAF) != 0) {
                return new Insert(flags, GinPage.INVALID_BLOCK, GinPage.INVALID_BLOCK);
            }
            HeapRedo.need(d, 10, "ginxlogInsert child blocks");
            return new Insert(flags, blockId(d, 2), blockId(d, 6));
        }

        boolean isLeaf() {
            return (flags & INSERT_ISLEAF) != 0;
        }

        boolean isData() {
            return (flags & INSERT_ISDATA) != 0;
        }
    }

    /** {@code ginxlogSplit} (only the flags matter to redo: the split pages come as images). */
    record Split(int flags) {
        static Split parse(byte[] d) {
            HeapRedo.need(d, 26, "ginxlogSplit");
            return new Split(BufPage.u16(d, 24));
        }

        boolean isLeaf() {
            return (flags & INSERT_ISLEAF) != 0;
        }

        boolean isRoot() {
            return (flags & SPLIT_ROOT) != 0;
        }
    }

    /** {@code ginxlogDeletePage}. */
    record DeletePage(int parentOffset, int rightLink, int deleteXid) {
        static DeletePage parse(byte[] d) {
            HeapRedo.need(d, 12, "ginxlogDeletePage");
            return new DeletePage(BufPage.u16(d, 0), BufPage.i32(d, 4), BufPage.i32(d, 8));
        }
    }

    /** {@code ginxlogUpdateMeta}; the {@code GinMetaPageData} is {@code d[16..72)}. */
    record UpdateMeta(int prevTail, int newRightlink, int ntuples) {
        static final int METADATA = 16;

        static UpdateMeta parse(byte[] d) {
            HeapRedo.need(d, 84, "ginxlogUpdateMeta");
            return new UpdateMeta(BufPage.i32(d, 72), BufPage.i32(d, 76), BufPage.i32(d, 80));
        }
    }

    /** {@code ginxlogInsertListPage}. */
    record InsertListPage(int rightlink, int ntuples) {
        static InsertListPage parse(byte[] d) {
            HeapRedo.need(d, 8, "ginxlogInsertListPage");
            return new InsertListPage(BufPage.i32(d, 0), BufPage.i32(d, 4));
        }
    }

    /** {@code ginxlogDeleteListPages}; the {@code GinMetaPageData} is {@code d[0..56)}. */
    record DeleteListPages(int ndeleted) {
        static DeleteListPages parse(byte[] d) {
            HeapRedo.need(d, 60, "ginxlogDeleteListPages");
            int n = BufPage.i32(d, 56);
            if (n < 0 || n > 32) {
                throw new RedoException("ginxlogDeleteListPages: ndeleted " + n);
            }
            return new DeleteListPages(n);
        }
    }

    /** {@code BlockIdGetBlockNumber} of the {@code BlockIdData} at {@code at}. */
    static int blockId(byte[] d, int at) {
        return BufPage.u16(d, at) << 16 | BufPage.u16(d, at + 2);
    }
}
