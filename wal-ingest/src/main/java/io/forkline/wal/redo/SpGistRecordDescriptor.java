package io.forkline.wal.redo;

/**
 * The main data of the SP-GiST resource manager's records ({@code src/include/access/spgxlog.h} of
 * PostgreSQL 15), each parsed from its C layout (little-endian, natural alignment). All of a record's
 * tuples and offset arrays are in its main data; its blocks carry no data.
 *
 * <pre>
 *   spgxlogState         myXid(4) isBuild(1) pad(3)                                             8 B
 *   0x10 spgxlogAddLeaf      newPage(1) storesNulls(1) offnumLeaf(2) offnumHeadLeaf(2)
 *                            offnumParent(2) nodeI(2)                                          10 B, then the leaf tuple
 *   0x20 spgxlogMoveLeafs    nMoves(2) newPage(1) replaceDead(1) storesNulls(1) pad(1) offnumParent(2)
 *                            nodeI(2) pad(2) stateSrc(8)                                        20 B, then nMoves
 *                            offsets to delete, nInsert (replaceDead ? 1 : nMoves + 1) offsets to insert,
 *                            nInsert leaf tuples
 *   0x30 spgxlogAddNode      offnum(2) offnumNew(2) newPage(1) parentBlk(int8) offnumParent(2) nodeI(2)
 *                            pad(2) stateSrc(8)                                                 20 B, then the inner tuple
 *   0x40 spgxlogSplitTuple   offnumPrefix(2) offnumPostfix(2) newPage(1) postfixBlkSame(1)        6 B, then the
 *                            prefix and the postfix inner tuples
 *   0x50 spgxlogPickSplit    isRootSplit(1) pad(1) nDelete(2) nInsert(2) initSrc(1) initDest(1)
 *                            offnumInner(2) initInner(1) storesNulls(1) innerIsParent(1) pad(1)
 *                            offnumParent(2) nodeI(2) pad(2) stateSrc(8)                        28 B, then nDelete
 *                            offsets, nInsert offsets, nInsert page selector bytes, the inner tuple,
 *                            nInsert leaf tuples
 *   0x60 spgxlogVacuumLeaf   nDead(2) nPlaceholder(2) nMove(2) nChain(2) stateSrc(8)            16 B, then the
 *                            offsets: toDead, toPlaceholder, moveSrc, moveDest, chainSrc, chainDest
 *   0x70 spgxlogVacuumRoot   nDelete(2) pad(2) stateSrc(8)                                      12 B, then nDelete offsets
 *   0x80 spgxlogVacuumRedirect nToPlaceholder(2) firstPlaceholder(2) newestRedirectXid(4)         8 B, then
 *                            nToPlaceholder offsets
 * </pre>
 *
 * Tuples are unaligned and back to back, each its own {@code size} long. 0x00 (CREATE_INDEX) is no
 * longer used.
 */
final class SpGistRecordDescriptor {
    static final int ADD_LEAF = 0x10;
    static final int MOVE_LEAFS = 0x20;
    static final int ADD_NODE = 0x30;
    static final int SPLIT_TUPLE = 0x40;
    static final int PICKSPLIT = 0x50;
    static final int VACUUM_LEAF = 0x60;
    static final int VACUUM_ROOT = 0x70;
    static final int VACUUM_REDIRECT = 0x80;

    static final int SIZE_OF_ADD_LEAF = 10;
    static final int SIZE_OF_MOVE_LEAFS = 20;
    static final int SIZE_OF_ADD_NODE = 20;
    static final int SIZE_OF_SPLIT_TUPLE = 6;
    static final int SIZE_OF_PICKSPLIT = 28;
    static final int SIZE_OF_VACUUM_LEAF = 16;
    static final int SIZE_OF_VACUUM_ROOT = 12;
    static final int SIZE_OF_VACUUM_REDIRECT = 8;

    private SpGistRecordDescriptor() {
    }

    /** {@code spgxlogState}: the inserting transaction (for redirects) and whether an index build wrote it. */
    record State(int myXid, boolean isBuild) {
        static State parse(byte[] d, int at) {
            return new State(BufPage.i32(d, at), d[at + 4] != 0);
        }
    }

    /** {@code spgxlogAddLeaf}; the leaf tuple starts at {@link #SIZE_OF_ADD_LEAF}. */
    record AddLeaf(boolean newPage, boolean storesNulls, int offnumLeaf, int offnumHeadLeaf, int offnumParent,
                   int nodeI) {
        static AddLeaf parse(byte[] d) {
            HeapRedo.need(d, SIZE_OF_ADD_LEAF, "spgxlogAddLeaf");
            return new AddLeaf(d[0] != 0, d[1] != 0, BufPage.u16(d, 2), BufPage.u16(d, 4), BufPage.u16(d, 6),
                    BufPage.u16(d, 8));
        }
    }

    /** {@code spgxlogMoveLeafs}; offsets from {@link #SIZE_OF_MOVE_LEAFS}. */
    record MoveLeafs(int nMoves, boolean newPage, boolean replaceDead, boolean storesNulls, int offnumParent,
                     int nodeI, State stateSrc) {
        static MoveLeafs parse(byte[] d) {
            HeapRedo.need(d, SIZE_OF_MOVE_LEAFS, "spgxlogMoveLeafs");
            return new MoveLeafs(BufPage.u16(d, 0), d[2] != 0, d[3] != 0, d[4] != 0, BufPage.u16(d, 6),
                    BufPage.u16(d, 8), State.parse(d, 12));
        }

        /** Offsets (and tuples) to insert: 1 when replacing a dead tuple, else {@code nMoves + 1}. */
        int nInsert() {
            return replaceDead ? 1 : nMoves + 1;
        }
    }

    /**
     * {@code spgxlogAddNode}; the inner tuple starts at {@link #SIZE_OF_ADD_NODE}.
     *
     * @param parentBlk 0: the parent is the original page, 1: the new page, 2: block 2, -1: not updated
     */
    record AddNode(int offnum, int offnumNew, boolean newPage, int parentBlk, int offnumParent, int nodeI,
                   State stateSrc) {
        static AddNode parse(byte[] d) {
            HeapRedo.need(d, SIZE_OF_ADD_NODE, "spgxlogAddNode");
            return new AddNode(BufPage.u16(d, 0), BufPage.u16(d, 2), d[4] != 0, d[5], BufPage.u16(d, 6),
                    BufPage.u16(d, 8), State.parse(d, 12));
        }
    }

    /** {@code spgxlogSplitTuple}; the prefix tuple starts at {@link #SIZE_OF_SPLIT_TUPLE}. */
    record SplitTuple(int offnumPrefix, int offnumPostfix, boolean newPage, boolean postfixBlkSame) {
        static SplitTuple parse(byte[] d) {
            HeapRedo.need(d, SIZE_OF_SPLIT_TUPLE, "spgxlogSplitTuple");
            return new SplitTuple(BufPage.u16(d, 0), BufPage.u16(d, 2), d[4] != 0, d[5] != 0);
        }
    }

    /** {@code spgxlogPickSplit}; offsets from {@link #SIZE_OF_PICKSPLIT}. */
    record PickSplit(boolean isRootSplit, int nDelete, int nInsert, boolean initSrc, boolean initDest,
                     int offnumInner, boolean initInner, boolean storesNulls, boolean innerIsParent,
                     int offnumParent, int nodeI, State stateSrc) {
        static PickSplit parse(byte[] d) {
            HeapRedo.need(d, SIZE_OF_PICKSPLIT, "spgxlogPickSplit");
            return new PickSplit(d[0] != 0, BufPage.u16(d, 2), BufPage.u16(d, 4), d[6] != 0, d[7] != 0,
                    BufPage.u16(d, 8), d[10] != 0, d[11] != 0, d[12] != 0, BufPage.u16(d, 14), BufPage.u16(d, 16),
                    State.parse(d, 20));
        }
    }

    /** {@code spgxlogVacuumLeaf}; offsets from {@link #SIZE_OF_VACUUM_LEAF}. */
    record VacuumLeaf(int nDead, int nPlaceholder, int nMove, int nChain, State stateSrc) {
        static VacuumLeaf parse(byte[] d) {
            HeapRedo.need(d, SIZE_OF_VACUUM_LEAF, "spgxlogVacuumLeaf");
            return new VacuumLeaf(BufPage.u16(d, 0), BufPage.u16(d, 2), BufPage.u16(d, 4), BufPage.u16(d, 6),
                    State.parse(d, 8));
        }
    }

    /** {@code spgxlogVacuumRoot}; offsets from {@link #SIZE_OF_VACUUM_ROOT}. */
    record VacuumRoot(int nDelete, State stateSrc) {
        static VacuumRoot parse(byte[] d) {
            HeapRedo.need(d, SIZE_OF_VACUUM_ROOT, "spgxlogVacuumRoot");
            return new VacuumRoot(BufPage.u16(d, 0), State.parse(d, 4));
        }
    }

    /** {@code spgxlogVacuumRedirect}; offsets from {@link #SIZE_OF_VACUUM_REDIRECT}. */
    record VacuumRedirect(int nToPlaceholder, int firstPlaceholder, int newestRedirectXid) {
        static VacuumRedirect parse(byte[] d) {
            HeapRedo.need(d, SIZE_OF_VACUUM_REDIRECT, "spgxlogVacuumRedirect");
            return new VacuumRedirect(BufPage.u16(d, 0), BufPage.u16(d, 2), BufPage.i32(d, 4));
        }
    }

    /**
     * {@code n} offsets (2 B each) at {@code d[at]}.
     *
     * @throws RedoException naming {@code what} when the main data ends first
     */
    static int[] offsets(byte[] d, int at, int n, String what) {
        HeapRedo.need(d, at + 2 * n, what + " (" + n + " offsets at " + at + ")");
        return HashRecordDescriptor.offsets(d, at, n);
    }
}
