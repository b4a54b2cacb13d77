package io.forkline.wal.redo;

import io.forkline.wal.record.WalRecord;
import io.forkline.wal.redo.SpGistRecordDescriptor.AddLeaf;
import io.forkline.wal.redo.SpGistRecordDescriptor.AddNode;
import io.forkline.wal.redo.SpGistRecordDescriptor.MoveLeafs;
import io.forkline.wal.redo.SpGistRecordDescriptor.PickSplit;
import io.forkline.wal.redo.SpGistRecordDescriptor.SplitTuple;
import io.forkline.wal.redo.SpGistRecordDescriptor.VacuumLeaf;
import io.forkline.wal.redo.SpGistRecordDescriptor.VacuumRedirect;
import io.forkline.wal.redo.SpGistRecordDescriptor.VacuumRoot;

/**
 * Redo of the SP-GiST resource manager ({@code spg_redo}, {@code src/backend/access/spgist/spgxlog.c}
 * of PostgreSQL 15). Page layout, tuple helpers and mask in {@link SpGistPage}, record layouts in
 * {@link SpGistRecordDescriptor}. Every tuple and offset comes from the record's main data.
 */
public final class SpGistRedo {
    private SpGistRedo() {
    }

    /**
     * {@code spg_redo}.
     *
     * @throws RedoException on an unknown op code, malformed main data, a tuple to replace that is not
     *                       a placeholder, or a tuple that does not fit its page
     */
    public static void redo(RedoBuffers bufs) {
        WalRecord rec = bufs.record();
        byte[] d = rec.mainData();
        switch (rec.info() & 0xF0) {
            case SpGistRecordDescriptor.ADD_LEAF -> addLeaf(bufs, d, AddLeaf.parse(d));
            case SpGistRecordDescriptor.MOVE_LEAFS -> moveLeafs(bufs, d, MoveLeafs.parse(d));
            case SpGistRecordDescriptor.ADD_NODE -> addNode(bufs, d, AddNode.parse(d));
            case SpGistRecordDescriptor.SPLIT_TUPLE -> splitTuple(bufs, d, SplitTuple.parse(d));
            case SpGistRecordDescriptor.PICKSPLIT -> pickSplit(bufs, d, PickSplit.parse(d));
            case SpGistRecordDescriptor.VACUUM_LEAF -> vacuumLeaf(bufs, d, VacuumLeaf.parse(d));
            case SpGistRecordDescriptor.VACUUM_ROOT -> vacuumRoot(bufs, d, VacuumRoot.parse(d));
            case SpGistRecordDescriptor.VACUUM_REDIRECT -> vacuumRedirect(bufs, d, VacuumRedirect.parse(d));
            default -> throw new RedoException("spg_redo: unknown op code 0x" + Integer.toHexString(rec.info() & 0xF0));
        }
    }

    /**
     * {@code XLogInitBufferForRedo} + {@code SpGistInitBuffer} when {@code init}, else
     * {@code XLogReadBufferForRedo}: the page to change, or {@code null}.
     */
    private static byte[] initOrRead(RedoBuffers bufs, int id, boolean init, int flags) {
        if (!init) {
            return bufs.forRedo(id);
        }
        byte[] page = bufs.init(id);
        if (page != null) {
            SpGistPage.initPage(page, flags);
        }
        return page;
    }

    private static int leafFlags(boolean storesNulls) {
        return SpGistPage.SPGIST_LEAF | (storesNulls ? SpGistPage.SPGIST_NULLS : 0);
    }

    /**
     * {@code spgRedoAddLeaf}: the leaf tuple placed on block 0 ({@code addOrReplaceTuple}, then the
     * chain head's next link pointed at it; or, when it replaces a dead tuple at the head offset,
     * deleted and re-added there); the parent's downlink (block 1) set to it when
     * {@code offnumParent} is valid.
     */
    private static void addLeaf(RedoBuffers bufs, byte[] d, AddLeaf x) {
        int at = SpGistRecordDescriptor.SIZE_OF_ADD_LEAF;
        int size = SpGistPage.leafSize(d, at, d.length, "spgRedoAddLeaf");
        byte[] page = initOrRead(bufs, 0, x.newPage(), leafFlags(x.storesNulls()));
        if (page != null) {
            if (x.offnumLeaf() != x.offnumHeadLeaf()) {
                SpGistPage.addOrReplaceTuple(page, d, at, size, x.offnumLeaf());
                if (x.offnumHeadLeaf() != 0) {
                    int head = BufPage.normalItemAnyFlags(page, x.offnumHeadLeaf());
                    SpGistPage.setNextOffset(page, head, x.offnumLeaf());
                }
            } else {
                SpGistPage.replaceTuple(page, d, at, size, x.offnumLeaf());
            }
            setLsn(bufs, page);
        }
        if (x.offnumParent() != 0) {
            byte[] parent = bufs.forRedo(1);
            if (parent != null) {
                int tuple = BufPage.normalItemAnyFlags(parent, x.offnumParent());
                SpGistPage.updateNodeLink(parent, tuple, x.nodeI(), bufs.block(0).blockNo(), x.offnumLeaf());
                setLsn(bufs, parent);
            }
        }
    }

    /**
     * {@code spgRedoMoveLeafs}: the tuples inserted on the destination (block 1, first, so the
     * redirect is valid); the moved ones replaced on the source (block 0) by a redirect to the last
     * inserted (a placeholder during a build) and placeholders; the parent's downlink (block 2) set to it.
     */
    private static void moveLeafs(RedoBuffers bufs, byte[] d, MoveLeafs x) {
        int blknoDst = bufs.block(1).blockNo();
        int nInsert = x.nInsert();
        int at = SpGistRecordDescriptor.SIZE_OF_MOVE_LEAFS;
        int[] toDelete = SpGistRecordDescriptor.offsets(d, at, x.nMoves(), "spgRedoMoveLeafs toDelete");
        at += 2 * x.nMoves();
        int[] toInsert = SpGistRecordDescriptor.offsets(d, at, nInsert, "spgRedoMoveLeafs toInsert");
        at += 2 * nInsert;
        byte[] dst = initOrRead(bufs, 1, x.newPage(), leafFlags(x.storesNulls()));
        if (dst != null) {
            for (int i = 0; i < nInsert; i++) {
                int size = SpGistPage.leafSize(d, at, d.length, "spgRedoMoveLeafs");
                SpGistPage.addOrReplaceTuple(dst, d, at, size, toInsert[i]);
                at += size;
            }
            setLsn(bufs, dst);
        }
        byte[] src = bufs.forRedo(0);
        if (src != null) {
            SpGistPage.multiDeleteWithDeadTuples(src, toDelete, x.nMoves(),
                    x.stateSrc().isBuild() ? SpGistPage.SPGIST_PLACEHOLDER : SpGistPage.SPGIST_REDIRECT,
                    SpGistPage.SPGIST_PLACEHOLDER, blknoDst, toInsert[nInsert - 1], x.stateSrc().myXid());
            setLsn(bufs, src);
        }
        byte[] parent = bufs.forRedo(2);
        if (parent != null) {
            int tuple = BufPage.normalItemAnyFlags(parent, x.offnumParent());
            SpGistPage.updateNodeLink(parent, tuple, x.nodeI(), blknoDst, toInsert[nInsert - 1]);
            setLsn(bufs, parent);
        }
    }

    /**
     * {@code spgRedoAddNode}: the inner tuple with its new node replaces the old one in place (no
     * block 1), or goes to block 1 (first; {@code addOrReplaceTuple}) while the old one becomes a
     * redirect to it (a placeholder during a build) on block 0; the parent's downlink, on block 0, 1
     * or 2 ({@code parentBlk}), set to the new tuple.
     */
    private static void addNode(RedoBuffers bufs, byte[] d, AddNode x) {
        int at = SpGistRecordDescriptor.SIZE_OF_ADD_NODE;
        int size = SpGistPage.innerSize(d, at, d.length, "spgRedoAddNode");
        if (!bufs.has(1)) {
            byte[] page = bufs.forRedo(0);
            if (page != null) {
                SpGistPage.replaceTuple(page, d, at, size, x.offnum());
                setLsn(bufs, page);
            }
            return;
        }
        int blknoNew = bufs.block(1).blockNo();
        byte[] nw = initOrRead(bufs, 1, x.newPage(), 0);
        if (nw != null) {
            SpGistPage.addOrReplaceTuple(nw, d, at, size, x.offnumNew());
            if (x.parentBlk() == 1) {
                int parent = BufPage.normalItemAnyFlags(nw, x.offnumParent());
                SpGistPage.updateNodeLink(nw, parent, x.nodeI(), blknoNew, x.offnumNew());
            }
            setLsn(bufs, nw);
        }
        byte[] old = bufs.forRedo(0);
        if (old != null) {
            boolean build = x.stateSrc().isBuild();
            byte[] dead = build
                    ? SpGistPage.formDeadTuple(SpGistPage.SPGIST_PLACEHOLDER, SpGistPage.INVALID_BLOCK, 0, 0)
                    : SpGistPage.formDeadTuple(SpGistPage.SPGIST_REDIRECT, blknoNew, x.offnumNew(),
                    x.stateSrc().myXid());
            SpGistPage.replaceTuple(old, dead, 0, dead.length, x.offnum());
            if (build) {
                SpGistPage.setNPlaceholder(old, SpGistPage.nPlaceholder(old) + 1);
            } else {
                SpGistPage.setNRedirection(old, SpGistPage.nRedirection(old) + 1);
            }
            if (x.parentBlk() == 0) {
                int parent = BufPage.normalItemAnyFlags(old, x.offnumParent());
                SpGistPage.updateNodeLink(old, parent, x.nodeI(), blknoNew, x.offnumNew());
            }
            setLsn(bufs, old);
        }
        if (x.parentBlk() == 2) {
            byte[] parentPage = bufs.forRedo(2);
            if (parentPage != null) {
                int parent = BufPage.normalItemAnyFlags(parentPage, x.offnumParent());
                SpGistPage.updateNodeLink(parentPage, parent, x.nodeI(), blknoNew, x.offnumNew());
                setLsn(bufs, parentPage);
            }
        }
    }

    /**
     * {@code spgRedoSplitTuple}: the postfix tuple added first (block 1, unless on the same page);
     * the prefix tuple replaces the original on block 0, and the postfix goes there too when
     * {@code postfixBlkSame}.
     */
    private static void splitTuple(RedoBuffers bufs, byte[] d, SplitTuple x) {
        int prefix = SpGistRecordDescriptor.SIZE_OF_SPLIT_TUPLE;
        int prefixSize = SpGistPage.innerSize(d, prefix, d.length, "spgRedoSplitTuple prefix");
        int postfix = prefix + prefixSize;
        int postfixSize = SpGistPage.innerSize(d, postfix, d.length, "spgRedoSplitTuple postfix");
        if (!x.postfixBlkSame()) {
            byte[] page = initOrRead(bufs, 1, x.newPage(), 0);
            if (page != null) {
                SpGistPage.addOrReplaceTuple(page, d, postfix, postfixSize, x.offnumPostfix());
                setLsn(bufs, page);
            }
        }
        byte[] page = bufs.forRedo(0);
        if (page != null) {
            SpGistPage.replaceTuple(page, d, prefix, prefixSize, x.offnumPrefix());
            if (x.postfixBlkSame()) {
                SpGistPage.addOrReplaceTuple(page, d, postfix, postfixSize, x.offnumPostfix());
            }
            setLsn(bufs, page);
        }
    }

    /**
     * {@code spgRedoPickSplit}: the source leaf page (block 0, absent in a root split) re-initialized
     * or stripped of the moved tuples (a redirect to the new inner tuple, then placeholders); the leaf
     * tuples put on the source or the destination (block 1) as their page selector says; the new inner
     * tuple added to the inner page (block 2, re-initialized when asked), with the parent's downlink
     * updated there when the inner page is the parent, else on block 3.
     */
    private static void pickSplit(RedoBuffers bufs, byte[] d, PickSplit x) {
        int blknoInner = bufs.block(2).blockNo();
        int at = SpGistRecordDescriptor.SIZE_OF_PICKSPLIT;
        int[] toDelete = SpGistRecordDescriptor.offsets(d, at, x.nDelete(), "spgRedoPickSplit toDelete");
        at += 2 * x.nDelete();
        int[] toInsert = SpGistRecordDescriptor.offsets(d, at, x.nInsert(), "spgRedoPickSplit toInsert");
        at += 2 * x.nInsert();
        HeapRedo.need(d, at + x.nInsert(), "spgRedoPickSplit leaf page selectors");
        int select = at;
        at += x.nInsert();
        int inner = at;
        int innerSize = SpGistPage.innerSize(d, inner, d.length, "spgRedoPickSplit");
        at += innerSize;

        byte[] src = null;
        if (x.isRootSplit()) {
            // the root is touched only as the new inner tuple's page
        } else if (x.initSrc()) {
            src = initOrRead(bufs, 0, true, leafFlags(x.storesNulls()));
        } else {
            src = bufs.forRedo(0);
            if (src != null) {
                if (!x.stateSrc().isBuild()) {
                    SpGistPage.multiDeleteWithDeadTuples(src, toDelete, x.nDelete(), SpGistPage.SPGIST_REDIRECT,
                            SpGistPage.SPGIST_PLACEHOLDER, blknoInner, x.offnumInner(), x.stateSrc().myXid());
                } else {
                    SpGistPage.multiDeleteWithDeadTuples(src, toDelete, x.nDelete(), SpGistPage.SPGIST_PLACEHOLDER,
                            SpGistPage.SPGIST_PLACEHOLDER, SpGistPage.INVALID_BLOCK, 0, x.stateSrc().myXid());
                }
            }
        }
        byte[] dest = null;
        if (bufs.has(1)) {
            dest = initOrRead(bufs, 1, x.initDest(), leafFlags(x.storesNulls()));
        }
        for (int i = 0; i < x.nInsert(); i++) {
            int size = SpGistPage.leafSize(d, at, d.length, "spgRedoPickSplit");
            byte[] page = d[select + i] != 0 ? dest : src;
            if (page != null) {
                SpGistPage.addOrReplaceTuple(page, d, at, size, toInsert[i]);
            }
            at += size;
        }
        if (src != null) {
            setLsn(bufs, src);
        }
        if (dest != null) {
            setLsn(bufs, dest);
        }
        byte[] innerPage = initOrRead(bufs, 2, x.initInner(), x.storesNulls() ? SpGistPage.SPGIST_NULLS : 0);
        if (innerPage != null) {
            SpGistPage.addOrReplaceTuple(innerPage, d, inner, innerSize, x.offnumInner());
            if (x.innerIsParent()) {
                int parent = BufPage.normalItemAnyFlags(innerPage, x.offnumParent());
                SpGistPage.updateNodeLink(innerPage, parent, x.nodeI(), blknoInner, x.offnumInner());
            }
            setLsn(bufs, innerPage);
        }
        if (bufs.has(3)) {
            byte[] parentPage = bufs.forRedo(3);
            if (parentPage != null) {
                int parent = BufPage.normalItemAnyFlags(parentPage, x.offnumParent());
                SpGistPage.updateNodeLink(parentPage, parent, x.nodeI(), blknoInner, x.offnumInner());
                setLsn(bufs, parentPage);
            }
        }
    }

    /**
     * {@code spgRedoVacuumLeaf}: on block 0, the dead tuples and the placeholders formed; each moved
     * tuple's line pointer swapped with its destination's and the source made a placeholder; the
     * re-chained tuples' next links set.
     */
    private static void vacuumLeaf(RedoBuffers bufs, byte[] d, VacuumLeaf x) {
        int at = SpGistRecordDescriptor.SIZE_OF_VACUUM_LEAF;
        int[] toDead = SpGistRecordDescriptor.offsets(d, at, x.nDead(), "spgRedoVacuumLeaf toDead");
        at += 2 * x.nDead();
        int[] toPlaceholder = SpGistRecordDescriptor.offsets(d, at, x.nPlaceholder(), "spgRedoVacuumLeaf toPlaceholder");
        at += 2 * x.nPlaceholder();
        int[] moveSrc = SpGistRecordDescriptor.offsets(d, at, x.nMove(), "spgRedoVacuumLeaf moveSrc");
        at += 2 * x.nMove();
        int[] moveDest = SpGistRecordDescriptor.offsets(d, at, x.nMove(), "spgRedoVacuumLeaf moveDest");
        at += 2 * x.nMove();
        int[] chainSrc = SpGistRecordDescriptor.offsets(d, at, x.nChain(), "spgRedoVacuumLeaf chainSrc");
        at += 2 * x.nChain();
        int[] chainDest = SpGistRecordDescriptor.offsets(d, at, x.nChain(), "spgRedoVacuumLeaf chainDest");
        byte[] page = bufs.forRedo(0);
        if (page == null) {
            return;
        }
        int xid = x.stateSrc().myXid();
        SpGistPage.multiDeleteWithDeadTuples(page, toDead, x.nDead(), SpGistPage.SPGIST_DEAD, SpGistPage.SPGIST_DEAD,
                SpGistPage.INVALID_BLOCK, 0, xid);
        SpGistPage.multiDeleteWithDeadTuples(page, toPlaceholder, x.nPlaceholder(), SpGistPage.SPGIST_PLACEHOLDER,
                SpGistPage.SPGIST_PLACEHOLDER, SpGistPage.INVALID_BLOCK, 0, xid);
        for (int i = 0; i < x.nMove(); i++) {
            checkOffset(page, moveSrc[i], "spgRedoVacuumLeaf moveSrc");
            checkOffset(page, moveDest[i], "spgRedoVacuumLeaf moveDest");
            int src = BufPage.itemId(page, moveSrc[i]);
            BufPage.setItemId(page, moveSrc[i], BufPage.itemId(page, moveDest[i]));
            BufPage.setItemId(page, moveDest[i], src);
        }
        SpGistPage.multiDeleteWithDeadTuples(page, moveSrc, x.nMove(), SpGistPage.SPGIST_PLACEHOLDER,
                SpGistPage.SPGIST_PLACEHOLDER, SpGistPage.INVALID_BLOCK, 0, xid);
        for (int i = 0; i < x.nChain(); i++) {
            int lt = BufPage.normalItemAnyFlags(page, chainSrc[i]);
            SpGistPage.setNextOffset(page, lt, chainDest[i]);
        }
        setLsn(bufs, page);
    }

    /** {@code spgRedoVacuumRoot}: the offsets deleted from the root leaf page (block 0, {@code PageIndexMultiDelete}). */
    private static void vacuumRoot(RedoBuffers bufs, byte[] d, VacuumRoot x) {
        int[] toDelete = SpGistRecordDescriptor.offsets(d, SpGistRecordDescriptor.SIZE_OF_VACUUM_ROOT, x.nDelete(),
                "spgRedoVacuumRoot");
        byte[] page = bufs.forRedo(0);
        if (page != null) {
            BufPage.indexMultiDelete(page, toDelete, x.nDelete());
            setLsn(bufs, page);
        }
    }

    /**
     * {@code spgRedoVacuumRedirect}: the listed redirects on block 0 become placeholders (state and
     * pointer; their xid stays), the counts follow; then the placeholders from
     * {@code firstPlaceholder} to the end of the page are removed.
     */
    private static void vacuumRedirect(RedoBuffers bufs, byte[] d, VacuumRedirect x) {
        int[] items = SpGistRecordDescriptor.offsets(d, SpGistRecordDescriptor.SIZE_OF_VACUUM_REDIRECT,
                x.nToPlaceholder(), "spgRedoVacuumRedirect");
        byte[] page = bufs.forRedo(0);
        if (page == null) {
            return;
        }
        for (int item : items) {
            int dt = BufPage.normalItemAnyFlags(page, item);
            SpGistPage.setTupstate(page, dt, SpGistPage.SPGIST_PLACEHOLDER);
            SpGistPage.setPointer(page, dt, SpGistPage.INVALID_BLOCK, 0);
        }
        SpGistPage.setNRedirection(page, SpGistPage.nRedirection(page) - x.nToPlaceholder());
        SpGistPage.setNPlaceholder(page, SpGistPage.nPlaceholder(page) + x.nToPlaceholder());
        if (x.firstPlaceholder() != 0) {
            int max = BufPage.maxOffset(page);
            int n = max - x.firstPlaceholder() + 1;
            if (n > 0) {
                int[] toDelete = new int[n];
                for (int i = 0; i < n; i++) {
                    toDelete[i] = x.firstPlaceholder() + i;
                }
                SpGistPage.setNPlaceholder(page, SpGistPage.nPlaceholder(page) - n);
                BufPage.indexMultiDelete(page, toDelete, n);
            }
        }
        setLsn(bufs, page);
    }

    private static void checkOffset(byte[] page, int offnum, String what) {
        if (offnum < 1 || offnum > BufPage.maxOffset(page)) {
            throw new RedoException(what + ": offset " + offnum + " beyond the " + BufPage.maxOffset(page)
                    + " line pointers");
        }
    }

    private static void setLsn(RedoBuffers bufs, byte[] page) {
        BufPage.setLsn(page, bufs.record().endLsn());
    }
}
