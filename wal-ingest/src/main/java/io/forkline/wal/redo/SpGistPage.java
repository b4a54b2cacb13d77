package io.forkline.wal.redo;

/**
 * SP-GiST index pages and tuples ({@code src/include/access/spgist_private.h} of PostgreSQL 15), the
 * routines redo shares with the AM ({@code SpGistInitPage}, {@code spgFormDeadTuple} in
 * {@code spgutils.c}; {@code spgUpdateNodeLink}, {@code spgPageIndexMultiDelete} in
 * {@code spgdoinsert.c}; {@code addOrReplaceTuple} in {@code spgxlog.c}), and {@code spg_mask}.
 *
 * <pre>
 *   special (SpGistPageOpaqueData, 8 B at pd_special = 8184):
 *       flags(2) nRedirection(2) nPlaceholder(2) spgist_page_id(2) = 0xFF82
 *   flags: SPGIST_META 0x1, SPGIST_DELETED 0x2, SPGIST_LEAF 0x4, SPGIST_NULLS 0x8
 *   leaf tuple (SpGistLeafTupleData):  word(4) = tupstate:2 | size:30 &lt;&lt; 2, t_info(2) = nextOffset:14
 *       | hasnulls 0x8000, heapPtr(6), then datums at MAXALIGN
 *   dead tuple (SpGistDeadTupleData, SGDTSIZE 16 B): word(4) = tupstate | 16 &lt;&lt; 2, t_info(2) = 0,
 *       pointer(6: bi_hi bi_lo posid), xid(4)
 *   inner tuple (SpGistInnerTupleData): word(4) = tupstate:2 | allTheSame:1 &lt;&lt; 2 | nNodes:13 &lt;&lt; 3
 *       | prefixSize:16 &lt;&lt; 16, size(2), pad(2); prefix (prefixSize bytes) at 8; then nNodes node
 *       tuples, each an IndexTupleData whose t_tid is the downlink
 *   tupstate: SPGIST_LIVE 0, SPGIST_REDIRECT 1, SPGIST_DEAD 2, SPGIST_PLACEHOLDER 3
 * </pre>
 *
 * Tuples in records are unaligned byte runs; offsets and sizes are bytes. Stateless.
 */
final class SpGistPage {
    static final int SPGIST_META = 1;
    static final int SPGIST_LEAF = 1 << 2;
    static final int SPGIST_NULLS = 1 << 3;
    /** {@code SPGIST_PAGE_ID}. */
    static final int SPGIST_PAGE_ID = 0xFF82;
    /** {@code sizeof(SpGistPageOpaqueData)}. */
    static final int OPAQUE_SIZE = 8;

    static final int SPGIST_LIVE = 0;
    static final int SPGIST_REDIRECT = 1;
    static final int SPGIST_DEAD = 2;
    static final int SPGIST_PLACEHOLDER = 3;
    /** {@code SGDTSIZE}: {@code MAXALIGN(sizeof(SpGistDeadTupleData))}. */
    static final int SGDTSIZE = 16;
    /** {@code SGITHDRSZ}: {@code MAXALIGN(sizeof(SpGistInnerTupleData))}. */
    static final int SGITHDRSZ = 8;
    /** {@code InvalidBlockNumber}. */
    static final int INVALID_BLOCK = 0xFFFFFFFF;

    private static final int FLAGS = 0;
    private static final int N_REDIRECTION = 2;
    private static final int N_PLACEHOLDER = 4;
    private static final int PAGE_ID = 6;
    /** Offset of a dead tuple's {@code pointer}. */
    private static final int DEAD_POINTER = 6;
    /** Offset of a dead tuple's {@code xid}. */
    private static final int DEAD_XID = 12;

    private SpGistPage() {
    }

    // ------------------------------------------------------------------ special space

    static int flags(byte[] p) {
        return BufPage.u16(p, BufPage.special(p) + FLAGS);
    }

    static int nRedirection(byte[] p) {
        return BufPage.u16(p, BufPage.special(p) + N_REDIRECTION);
    }

    static void setNRedirection(byte[] p, int n) {
        BufPage.putU16(p, BufPage.special(p) + N_REDIRECTION, n);
    }

    static int nPlaceholder(byte[] p) {
        return BufPage.u16(p, BufPage.special(p) + N_PLACEHOLDER);
    }

    static void setNPlaceholder(byte[] p, int n) {
        BufPage.putU16(p, BufPage.special(p) + N_PLACEHOLDER, n);
    }

    /** {@code SpGistInitPage} ({@code SpGistInitBuffer}): {@code PageInit} with an 8-byte special space, {@code flags}, the page id. */
    static void initPage(byte[] p, int flags) {
        BufPage.init(p, OPAQUE_SIZE);
        BufPage.putU16(p, BufPage.special(p) + FLAGS, flags);
        BufPage.putU16(p, BufPage.special(p) + PAGE_ID, SPGIST_PAGE_ID);
    }

    // ------------------------------------------------------------------ tuples

    /** {@code tupstate} of the leaf, dead or inner tuple at {@code t}. */
    static int tupstate(byte[] d, int t) {
        return d[t] & 3;
    }

    /**
     * The size of the leaf or dead tuple at {@code d[t]} ({@code SpGistLeafTupleData.size}, 30 bits),
     * checked to lie within {@code [t, to)}.
     *
     * @throws RedoException naming {@code what} when the tuple overruns {@code to}
     */
    static int leafSize(byte[] d, int t, int to, String what) {
        HeapRedo.need(d, t + 8, what + " leaf tuple header at " + t);
        int size = BufPage.i32(d, t) >>> 2;
        if (size < 8 || t + (long) size > to) {
            throw new RedoException(what + ": leaf tuple of " + size + " bytes at " + t + " overruns the data (" + to
                    + " bytes)");
        }
        return size;
    }

    /**
     * The size of the inner tuple at {@code d[t]} ({@code SpGistInnerTupleData.size}), checked to lie
     * within {@code [t, to)}.
     *
     * @throws RedoException naming {@code what} when the tuple overruns {@code to}
     */
    static int innerSize(byte[] d, int t, int to, String what) {
        HeapRedo.need(d, t + SGITHDRSZ, what + " inner tuple header at " + t);
        int size = BufPage.u16(d, t + 4);
        if (size < SGITHDRSZ || t + size > to) {
            throw new RedoException(what + ": inner tuple of " + size + " bytes at " + t + " overruns the data (" + to
                    + " bytes)");
        }
        return size;
    }

    /** {@code SGLT_SET_NEXTOFFSET} on the leaf tuple at page offset {@code t}: keeps {@code t_info}'s top two bits. */
    static void setNextOffset(byte[] p, int t, int offnum) {
        BufPage.putU16(p, t + 4, (BufPage.u16(p, t + 4) & 0xC000) | (offnum & 0x3FFF));
    }

    /** {@code SGLT_GET_NEXTOFFSET}. */
    static int nextOffset(byte[] d, int t) {
        return BufPage.u16(d, t + 4) & 0x3FFF;
    }

    /**
     * {@code spgFormDeadTuple}: a 16-byte dead tuple in state {@code tupstate}; a redirect points at
     * {@code (blkno, offnum)} and carries {@code xid}, the others an invalid pointer and xid 0.
     */
    static byte[] formDeadTuple(int tupstate, int blkno, int offnum, int xid) {
        byte[] t = new byte[SGDTSIZE];
        BufPage.putI32(t, 0, tupstate | SGDTSIZE << 2);
        if (tupstate == SPGIST_REDIRECT) {
            setPointer(t, 0, blkno, offnum);
            BufPage.putI32(t, DEAD_XID, xid);
        } else {
            setPointer(t, 0, INVALID_BLOCK, 0);
        }
        return t;
    }

    /** {@code ItemPointerSet} on the dead tuple at {@code t}'s {@code pointer} ({@code ItemPointerSetInvalid}: {@code INVALID_BLOCK, 0}). */
    static void setPointer(byte[] p, int t, int blkno, int offnum) {
        IndexTuple.setBlockNumber(p, t + DEAD_POINTER, blkno);
        IndexTuple.setOffsetNumber(p, t + DEAD_POINTER, offnum);
    }

    /** Sets the {@code tupstate} bits of the tuple at {@code t}, keeping its size. */
    static void setTupstate(byte[] p, int t, int tupstate) {
        p[t] = (byte) ((p[t] & ~3) | tupstate);
    }

    /**
     * {@code spgUpdateNodeLink}: sets the downlink ({@code t_tid}) of node {@code nodeN} of the inner
     * tuple at page offset {@code t} to {@code (blkno, offnum)}.
     *
     * @throws RedoException when the tuple has fewer nodes ({@code "failed to find requested node"})
     */
    static void updateNodeLink(byte[] p, int t, int nodeN, int blkno, int offnum) {
        int word = BufPage.i32(p, t);
        int nNodes = (word >>> 3) & 0x1FFF;
        int prefixSize = word >>> 16;
        int node = t + SGITHDRSZ + prefixSize;
        for (int i = 0; i < nNodes; i++) {
            if (i == nodeN) {
                IndexTuple.setBlockNumber(p, node, blkno);
                IndexTuple.setOffsetNumber(p, node, offnum);
                return;
            }
            int sz = IndexTuple.size(p, node);
            if (sz == 0) {
                break;
            }
            node += sz;
        }
        throw new RedoException("failed to find requested node " + nodeN + " in SPGiST inner tuple");
    }

    /**
     * {@code spgPageIndexMultiDelete}: deletes the items {@code itemnos[0..n)} (any order) and puts a
     * dead tuple at each offset instead: the first listed gets {@code firststate}, the others
     * {@code reststate} (a redirect to {@code (blkno, offnum)} with {@code xid}); counts the redirects
     * and placeholders in the special space.
     */
    static void multiDeleteWithDeadTuples(byte[] p, int[] itemnos, int n, int firststate, int reststate, int blkno,
                                          int offnum, int xid) {
        if (n == 0) {
            return;
        }
        int[] sorted = java.util.Arrays.copyOf(itemnos, n);
        java.util.Arrays.sort(sorted);
        BufPage.indexMultiDelete(p, sorted, n);
        int first = itemnos[0];
        for (int i = 0; i < n; i++) {
            int itemno = sorted[i];
            int tupstate = itemno == first ? firststate : reststate;
            byte[] dead = formDeadTuple(tupstate, blkno, offnum, xid);
            if (BufPage.addItem(p, dead, 0, SGDTSIZE, itemno, 0) != itemno) {
                throw new RedoException("failed to add item of size " + SGDTSIZE + " to SPGiST index page at " + itemno);
            }
            if (tupstate == SPGIST_REDIRECT) {
                setNRedirection(p, nRedirection(p) + 1);
            } else if (tupstate == SPGIST_PLACEHOLDER) {
                setNPlaceholder(p, nPlaceholder(p) + 1);
            }
        }
    }

    /**
     * {@code addOrReplaceTuple} ({@code spgxlog.c}): puts {@code size} bytes of {@code d[from..]} at
     * {@code offset}; an existing item there must be a placeholder, which it replaces
     * ({@code nPlaceholder} decremented).
     *
     * @throws RedoException when the item to replace is not a placeholder or the tuple does not fit
     */
    static void addOrReplaceTuple(byte[] p, byte[] d, int from, int size, int offset) {
        if (offset <= BufPage.maxOffset(p)) {
            int at = BufPage.normalItemAnyFlags(p, offset);
            if (tupstate(p, at) != SPGIST_PLACEHOLDER) {
                throw new RedoException("SPGiST tuple to be replaced is not a placeholder (offset " + offset + ")");
            }
            setNPlaceholder(p, nPlaceholder(p) - 1);
            BufPage.indexTupleDelete(p, offset);
        }
        if (BufPage.addItem(p, d, from, size, offset, 0) != offset) {
            throw new RedoException("failed to add item of size " + size + " to SPGiST index page at " + offset);
        }
    }

    /**
     * Replaces the item at {@code offset} by {@code size} bytes of {@code d[from..]}
     * ({@code PageIndexTupleDelete} then {@code PageAddItem} at the same offset, as the redo routines do).
     *
     * @throws RedoException when the tuple does not fit
     */
    static void replaceTuple(byte[] p, byte[] d, int from, int size, int offset) {
        BufPage.indexTupleDelete(p, offset);
        if (BufPage.addItem(p, d, from, size, offset, 0) != offset) {
            throw new RedoException("failed to add item of size " + size + " to SPGiST index page at " + offset);
        }
    }

    // ------------------------------------------------------------------ masking

    /**
     * {@code spg_mask}: LSN and checksum, hint bits, and the unused space when {@code pd_lower} looks
     * set ({@code >= 24}; a metapage written before 9.x left it 0). Tuples, line pointer flags and
     * the special space are compared as they are.
     */
    static void mask(byte[] p) {
        PageMasks.maskLsnAndChecksum(p);
        PageMasks.maskHintBits(p);
        if (BufPage.lower(p) >= BufPage.HEADER_SIZE) {
            PageMasks.maskUnusedSpace(p);
        }
    }
}
