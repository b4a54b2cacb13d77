package io.forkline.wal.redo;

import java.util.Arrays;

/**
 * GiST index pages ({@code src/include/access/gist.h} of PostgreSQL 15), the page routines redo
 * shares with the AM ({@code gistinitpage} and {@code gistfillbuffer} in {@code gistutil.c},
 * {@code GistPageSetDeleted} in {@code gist.h}), and {@code gist_mask} ({@code gistxlog.c}).
 *
 * <pre>
 *   special (GISTPageOpaqueData, 16 B at pd_special = 8176):
 *       nsn(8: xlogid(4) xrecoff(4), as pd_lsn) rightlink(4) flags(2) gist_page_id(2) = 0xFF81
 *   flags: F_LEAF 0x01, F_DELETED 0x02, F_TUPLES_DELETED 0x04, F_FOLLOW_RIGHT 0x08, F_HAS_GARBAGE 0x10
 *   items: index tuples (IndexTupleData, t_info's low 13 bits the size) as line pointer items;
 *          on internal pages the tuple's t_tid block number is the downlink
 *   deleted page: F_DELETED, no items, GISTDeletedPageContents {deleteXid (FullTransactionId, 8 B)}
 *          at PageGetContents = 24, pd_lower = 32
 * </pre>
 *
 * Stateless; pages are 8192-byte arrays, offsets bytes.
 */
final class GistPage {
    static final int F_LEAF = 1;
    static final int F_DELETED = 1 << 1;
    static final int F_TUPLES_DELETED = 1 << 2;
    static final int F_FOLLOW_RIGHT = 1 << 3;
    static final int F_HAS_GARBAGE = 1 << 4;
    /** {@code GIST_PAGE_ID}. */
    static final int GIST_PAGE_ID = 0xFF81;
    /** {@code sizeof(GISTPageOpaqueData)}. */
    static final int OPAQUE_SIZE = 16;
    /** {@code GIST_ROOT_BLKNO}. */
    static final int ROOT_BLKNO = 0;
    /** {@code InvalidBlockNumber}. */
    static final int INVALID_BLOCK = 0xFFFFFFFF;
    /** {@code PageGetContents}: {@code MAXALIGN(SizeOfPageHeaderData)}. */
    static final int CONTENTS = BufPage.HEADER_SIZE;
    /** {@code sizeof(GISTDeletedPageContents)}: one {@code FullTransactionId}. */
    static final int DELETED_CONTENTS_SIZE = 8;

    private static final int NSN = 0;
    private static final int RIGHTLINK = 8;
    private static final int FLAGS = 12;
    private static final int PAGE_ID = 14;

    private GistPage() {
    }

    // ------------------------------------------------------------------ special space

    /** {@code GistPageGetOpaque(page)->flags}. */
    static int flags(byte[] p) {
        return BufPage.u16(p, BufPage.special(p) + FLAGS);
    }

    static void setFlags(byte[] p, int flags) {
        BufPage.putU16(p, BufPage.special(p) + FLAGS, flags);
    }

    /** {@code GistPageIsLeaf}. */
    static boolean isLeaf(byte[] p) {
        return (flags(p) & F_LEAF) != 0;
    }

    /** {@code GistMarkFollowRight} / {@code GistClearFollowRight}. */
    static void setFollowRight(byte[] p, boolean on) {
        setFlags(p, on ? flags(p) | F_FOLLOW_RIGHT : flags(p) & ~F_FOLLOW_RIGHT);
    }

    /** {@code GistPageGetOpaque(page)->rightlink}. */
    static int rightlink(byte[] p) {
        return BufPage.i32(p, BufPage.special(p) + RIGHTLINK);
    }

    static void setRightlink(byte[] p, int blkno) {
        BufPage.putI32(p, BufPage.special(p) + RIGHTLINK, blkno);
    }

    /** {@code GistPageGetNSN}: an LSN, stored as {@code PageXLogRecPtr} (high word, then low word). */
    static long nsn(byte[] p) {
        int at = BufPage.special(p) + NSN;
        return (BufPage.i32(p, at) & 0xFFFFFFFFL) << 32 | (BufPage.i32(p, at + 4) & 0xFFFFFFFFL);
    }

    /** {@code GistPageSetNSN}. */
    static void setNsn(byte[] p, long nsn) {
        int at = BufPage.special(p) + NSN;
        BufPage.putI32(p, at, (int) (nsn >>> 32));
        BufPage.putI32(p, at + 4, (int) nsn);
    }

    // ------------------------------------------------------------------ gistutil.c / gist.h

    /**
     * {@code gistinitpage} ({@code GISTInitBuffer}): {@code PageInit} with a 16-byte special space,
     * {@code rightlink = InvalidBlockNumber}, {@code flags}, NSN 0, {@code gist_page_id}.
     */
    static void initPage(byte[] p, int flags) {
        BufPage.init(p, OPAQUE_SIZE);
        setRightlink(p, INVALID_BLOCK);
        setFlags(p, flags);
        BufPage.putU16(p, BufPage.special(p) + PAGE_ID, GIST_PAGE_ID);
    }

    /**
     * {@code gistfillbuffer}: adds the index tuples packed back to back in {@code data[from..to)}
     * (each {@code IndexTupleSize} bytes, not aligned) at consecutive offsets from {@code off}
     * ({@code 0}: after the last line pointer).
     *
     * @return the number of tuples added
     * @throws RedoException when a tuple's size runs past {@code to} or a tuple does not fit the page
     *                       ({@code "failed to add item to GiST index page"})
     */
    static int fillBuffer(byte[] p, byte[] data, int from, int to, int off, String routine) {
        if (off == 0) {
            off = BufPage.isEmpty(p) ? 1 : BufPage.maxOffset(p) + 1;
        }
        int n = 0;
        int pos = from;
        while (pos < to) {
            int sz = tupleSize(data, pos, to, routine);
            if (BufPage.addItem(p, data, pos, sz, off, 0) == 0) {
                throw new RedoException(routine + ": failed to add item to GiST index page, item " + n
                        + ", size " + sz + " bytes");
            }
            pos += sz;
            off++;
            n++;
        }
        return n;
    }

    /**
     * {@code IndexTupleSize} of the tuple at {@code data[pos]}, checked to lie within {@code [pos, to)}.
     *
     * @throws RedoException naming {@code routine} when the header or the tuple overruns {@code to}
     */
    static int tupleSize(byte[] data, int pos, int to, String routine) {
        if (pos + IndexTuple.HEADER_SIZE > to) {
            throw new RedoException(routine + ": index tuple header at " + pos + " overruns the data (" + to + " bytes)");
        }
        int sz = IndexTuple.size(data, pos);
        if (sz < IndexTuple.HEADER_SIZE || pos + sz > to) {
            throw new RedoException(routine + ": index tuple of " + sz + " bytes at " + pos + " overruns the data ("
                    + to + " bytes)");
        }
        return sz;
    }

    /**
     * {@code GistPageSetDeleted}: {@code F_DELETED}, {@code pd_lower = 24 + 8}, {@code deleteXid}
     * (a 64-bit {@code FullTransactionId}) at {@code PageGetContents}.
     */
    static void setDeleted(byte[] p, long deleteXid) {
        setFlags(p, flags(p) | F_DELETED);
        BufPage.setLower(p, CONTENTS + DELETED_CONTENTS_SIZE);
        BufPage.putI32(p, CONTENTS, (int) deleteXid);
        BufPage.putI32(p, CONTENTS + 4, (int) (deleteXid >>> 32));
    }

    // ------------------------------------------------------------------ masking

    /**
     * The strict check beyond {@link #mask}: the NSN and {@code F_FOLLOW_RIGHT} that {@code gist_mask}
     * hides must be equal, except on a left child whose flag the record clears after its image was
     * taken ({@code changedAfterImage}): that change reaches later images of the page, so a redo that
     * missed it fails this check on the page's next record.
     *
     * @return the first differing byte offset (of the NSN or the flags), or -1
     */
    static int strictDifference(byte[] actual, byte[] expected, boolean changedAfterImage) {
        if (changedAfterImage || BufPage.isNew(actual) || BufPage.isNew(expected)
                || BufPage.special(actual) != BufPage.special(expected)
                || BufPage.special(actual) + OPAQUE_SIZE > BufPage.BLCKSZ) {
            return -1;
        }
        int at = BufPage.special(actual);
        int off = PageMasks.firstDifference(actual, expected, at + NSN, at + NSN + 8);
        if (off >= 0) {
            return off;
        }
        if ((flags(actual) & F_FOLLOW_RIGHT) != (flags(expected) & F_FOLLOW_RIGHT)) {
            return at + FLAGS;
        }
        return -1;
    }

    /**
     * {@code gist_mask}: the common masks and unused space, the NSN (an LSN), {@code F_FOLLOW_RIGHT}
     * set (the AM clears it on the left child after its WAL record), line pointer flags on leaves
     * ({@code LP_DEAD} hints of {@code gistkillitems}), {@code F_HAS_GARBAGE} cleared; and, beyond
     * {@code gist_mask}, {@code F_TUPLES_DELETED} cleared: PostgreSQL 15.19's
     * {@code gistRedoPageUpdateRecord} (which {@link GistRedo} follows) sets it on a leaf whose tuples a
     * page update deletes, as 15.19's {@code gistvacuumpage} does, but 15.20's primary leaves it clear
     * (seen in 15.20's post-images of VACUUM's page updates), and nothing in PostgreSQL 15 reads the
     * flag (only {@code pageinspect} shows it), so either value is a correct page.
     */
    static void mask(byte[] p) {
        PageMasks.maskLsnAndChecksum(p);
        PageMasks.maskHintBits(p);
        PageMasks.maskUnusedSpace(p);
        int special = BufPage.special(p);
        if (special + OPAQUE_SIZE > BufPage.BLCKSZ) {
            return;
        }
        Arrays.fill(p, special + NSN, special + NSN + 8, (byte) 0);
        setFollowRight(p, true);
        if (isLeaf(p)) {
            PageMasks.maskLpFlags(p);
        }
        setFlags(p, flags(p) & ~(F_HAS_GARBAGE | F_TUPLES_DELETED));
    }
}
