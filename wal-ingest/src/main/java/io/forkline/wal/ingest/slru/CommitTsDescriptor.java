package io.forkline.wal.ingest.slru;

import io.forkline.wal.ingest.control.ControlState;
import io.forkline.wal.ingest.rmgr.LittleEndianReader;
import io.forkline.wal.record.XLogRecordBlockDescriptor;

/**
 * Layout of commit timestamp ({@code pg_commit_ts}) SLRU pages
 * ({@code src/backend/access/transam/commit_ts.c}): 8192-byte pages without a header, one packed
 * 10-byte {@code CommitTimestampEntry} per transaction ({@code SizeOfCommitTimestampEntry}:
 * {@code offsetof(nodeid) + sizeof(RepOriginId)}), so {@code COMMIT_TS_XACTS_PER_PAGE = 8192 / 10 = 819}
 * and the last 2 bytes of a page are unused:
 *
 * <pre>
 *   entry of xid at byte 10 * (xid % 819) of page xid / 819, little-endian, unaligned:
 *   | time (TimestampTz: microseconds since 2000-01-01, 8) | nodeid (RepOriginId, 2) |
 * </pre>
 *
 * A zero time means "no commit timestamp" ({@code TransactionIdGetCommitTsData} returns false).
 * 32 pages form one segment file ({@code SLRU_PAGES_PER_SEGMENT}); page numbers wrap at
 * {@code 0xFFFFFFFF / 819 = 5244160} pages (the last segment is partial), so page order for
 * truncation follows {@code CommitTsPagePrecedes}. Xids are unsigned 32-bit values carried in {@code int}.
 */
public final class CommitTsDescriptor {
    /** SLRU page size, bytes ({@code BLCKSZ}). */
    public static final int PAGE_SIZE = XLogRecordBlockDescriptor.BLCKSZ;
    /** {@code SizeOfCommitTimestampEntry}: 8-byte time + 2-byte origin, packed. */
    public static final int ENTRY_SIZE = 10;
    /** {@code COMMIT_TS_XACTS_PER_PAGE}. */
    public static final int XACTS_PER_PAGE = PAGE_SIZE / ENTRY_SIZE;
    /** {@code SLRU_PAGES_PER_SEGMENT}. */
    public static final int PAGES_PER_SEGMENT = 32;
    /** Page of xid {@code 0xFFFFFFFF}: the highest page number; xid 0 wraps to page 0 after it. */
    public static final int LAST_PAGE = Integer.divideUnsigned(-1, XACTS_PER_PAGE);
    /** Segment of {@link #LAST_PAGE}: the highest segment number (a partial segment). */
    public static final int LAST_SEGMENT = LAST_PAGE / PAGES_PER_SEGMENT;
    /** {@code InvalidRepOriginId}: a commit without replication origin. */
    public static final int INVALID_ORIGIN = 0;

    private CommitTsDescriptor() {
    }

    /** {@code TransactionIdToCTsPage}: page number (unsigned) of {@code xid}. */
    public static int page(int xid) {
        return Integer.divideUnsigned(xid, XACTS_PER_PAGE);
    }

    /** {@code TransactionIdToCTsEntry}: index of {@code xid}'s entry in its page, 0..818. */
    public static int entry(int xid) {
        return Integer.remainderUnsigned(xid, XACTS_PER_PAGE);
    }

    /** Byte offset of {@code xid}'s entry in its page ({@code SizeOfCommitTimestampEntry * entryno}). */
    public static int entryOffset(int xid) {
        return entry(xid) * ENTRY_SIZE;
    }

    /** Segment number of page {@code pageNo} (unsigned). */
    public static int segment(int pageNo) {
        return Integer.divideUnsigned(pageNo, PAGES_PER_SEGMENT);
    }

    /**
     * The segments from the one holding {@code fromPage} to the one holding {@code toPage}, both
     * included, in xid order: past {@link #LAST_SEGMENT} the numbering wraps to 0 as xids do.
     */
    public static int[] segmentsBetween(int fromPage, int toPage) {
        int from = segment(fromPage);
        int to = segment(toPage);
        int n = to >= from ? to - from + 1 : LAST_SEGMENT - from + 1 + to + 1;
        int[] out = new int[n];
        for (int i = 0, seg = from; i < n; i++, seg = seg == LAST_SEGMENT ? 0 : seg + 1) {
            out[i] = seg;
        }
        return out;
    }

    /**
     * {@code TransactionIdSetCommitTs}: writes {@code xid}'s entry into {@code page}.
     *
     * @param time   commit time, microseconds since 2000-01-01 (PostgreSQL's {@code TimestampTz})
     * @param nodeid replication origin id ({@code RepOriginId}, 0..65535), {@link #INVALID_ORIGIN} for none
     */
    public static void setEntry(byte[] page, int xid, long time, int nodeid) {
        int off = entryOffset(xid);
        LittleEndianReader.putI64(page, off, time);
        LittleEndianReader.putU16(page, off + 8, nodeid);
    }

    /** The commit time of {@code xid}'s entry in {@code page} (0: none). */
    public static long time(byte[] page, int xid) {
        return LittleEndianReader.i64(page, entryOffset(xid));
    }

    /** The replication origin of {@code xid}'s entry in {@code page}, 0..65535. */
    public static int nodeId(byte[] page, int xid) {
        return LittleEndianReader.u16(page, entryOffset(xid) + 8);
    }

    /**
     * {@code CommitTsPagePrecedes}: whether page {@code page1} is older than {@code page2} for
     * truncation, comparing the xids {@code page * 819 + FirstNormalTransactionId + 1} modulo 2^32
     * and also against the last xid of {@code page2}.
     */
    public static boolean pagePrecedes(int page1, int page2) {
        int xid1 = page1 * XACTS_PER_PAGE + ControlState.FIRST_NORMAL_XID + 1;
        int xid2 = page2 * XACTS_PER_PAGE + ControlState.FIRST_NORMAL_XID + 1;
        return ControlState.precedes(xid1, xid2) && ControlState.precedes(xid1, xid2 + XACTS_PER_PAGE - 1);
    }

    /**
     * {@code SlruMayDeleteSegment} as {@code SimpleLruTruncate} uses it: whether the segment starting at
     * page {@code segPage} lies wholly before {@code cutoffPage} (already rounded down to its segment start).
     */
    public static boolean mayDeleteSegment(int segPage, int cutoffPage) {
        int segLastPage = segPage + PAGES_PER_SEGMENT - 1;
        return pagePrecedes(segPage, cutoffPage) && pagePrecedes(segLastPage, cutoffPage);
    }
}
