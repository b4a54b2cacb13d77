package io.forkline.wal.ingest.page;

import io.forkline.wal.ingest.rmgr.LittleEndianReader;
import io.forkline.wal.record.XLogRecordBlockDescriptor;

/**
 * {@code PageHeaderData} of an 8192-byte page ({@code src/include/storage/bufpage.h}),
 * little-endian, 24 bytes:
 *
 * <pre>
 *   0                   4                   8         10        12        14        16        18        20
 *   +---------+---------+---------+---------+---------+---------+---------+---------+---------+
 *   | pd_lsn.xlogid     | pd_lsn.xrecoff    | checksum| flags   | lower   | upper   | special | size_ver| prune_xid(4)
 *   +-------------------+-------------------+---------+---------+---------+---------+---------+---------+
 * </pre>
 *
 * {@code pd_lsn} is stored as two uint32 halves (high word first), each little-endian.
 */
public final class PageHeaderDescriptor {
    /** {@code BLCKSZ}: page size, bytes ({@link XLogRecordBlockDescriptor#BLCKSZ}). */
    public static final int PAGE_SIZE = XLogRecordBlockDescriptor.BLCKSZ;
    /** {@code SizeOfPageHeaderData}. */
    public static final int SIZE = 24;
    public static final int LSN_OFFSET = 0;
    public static final int CHECKSUM_OFFSET = 8;
    public static final int LOWER_OFFSET = 12;
    public static final int UPPER_OFFSET = 14;
    /** {@code MAXALIGN(SizeOfPageHeaderData)}: where {@code PageGetContents} starts. */
    public static final int CONTENTS_OFFSET = 24;

    private PageHeaderDescriptor() {
    }

    /** {@code PageGetLSN}. */
    public static long lsn(byte[] page) {
        long hi = LittleEndianReader.i32(page, 0) & 0xFFFFFFFFL;
        long lo = LittleEndianReader.i32(page, 4) & 0xFFFFFFFFL;
        return hi << 32 | lo;
    }

    /** {@code PageSetLSN}: writes {@code lsn} as xlogid / xrecoff. */
    public static void setLsn(byte[] page, long lsn) {
        LittleEndianReader.putI32(page, 0, (int) (lsn >>> 32));
        LittleEndianReader.putI32(page, 4, (int) lsn);
    }

    /** {@code PageIsNew}: {@code pd_upper == 0} (an all-zero, never initialized page). */
    public static boolean isNew(byte[] page) {
        return page[UPPER_OFFSET] == 0 && page[UPPER_OFFSET + 1] == 0;
    }

    /** {@code pd_checksum}. */
    public static int checksum(byte[] page) {
        return LittleEndianReader.u16(page, CHECKSUM_OFFSET);
    }
}
