package io.forkline.pageserver.basebackup;

import io.forkline.wal.record.XLogPageHeaderDescriptor;
import io.forkline.wal.record.XLogRecordBlockDescriptor;
import io.forkline.wal.record.XLogRecordDescriptor;

import io.forkline.storage.lsn.Lsn;
import io.forkline.wal.xlog.CheckPoint;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The first page of a WAL segment that holds nothing but one {@code XLOG_CHECKPOINT_SHUTDOWN}
 * record right after the long page header, exactly as {@code pg_resetwal.c WriteEmptyXLOG} writes
 * it: {@code xl_prev = 0}, {@code xl_xid = 0}, rmid {@code RM_XLOG_ID}, the 88-byte
 * {@link CheckPoint} as short main data. The rest of the 16 MiB segment is zeros.
 *
 * <pre>
 *   segStart          +40                  +64   +66                 +154
 *   | long page header | XLogRecord header  | FF 58 | CheckPoint (88) | zeros ...
 * </pre>
 *
 * The checkpoint record's LSN is {@code segStart + 40}, its end (next record position) is
 * {@code segStart + 40 + MAXALIGN(114)} = {@code segStart + 160}.
 */
public final class ShutdownCheckpointWal {
    /** {@code xl_tot_len} of the record: header, short data header, CheckPoint = 114 bytes. */
    public static final int RECORD_LENGTH = XLogRecordDescriptor.HEADER_LENGTH + XLogRecordDescriptor.DATA_HEADER_SHORT_LENGTH
            + CheckPoint.SIZE;

    private ShutdownCheckpointWal() {
    }

    /**
     * LSN of the synthesized checkpoint record for a basebackup at {@code lsn}: just after the long
     * page header of the next segment ({@code pg_resetwal}'s placement).
     */
    public static long checkpointLsn(long lsn) {
        return Lsn.nextSegmentStart(lsn) + XLogPageHeaderDescriptor.LONG_HEADER_LENGTH;
    }

    /** End LSN (MAXALIGNed next-record position) of the record at {@code checkpointLsn}. */
    public static long checkpointEndLsn(long checkpointLsn) {
        return checkpointLsn + XLogRecordDescriptor.maxAlign(RECORD_LENGTH);
    }

    /**
     * Builds the segment's first WAL page.
     *
     * @param checkpointLsn where the record goes: a segment start + {@link XLogPageHeaderDescriptor#LONG_SIZE}
     * @param tli           PostgreSQL timeline id for the page header
     * @param sysid         {@code system_identifier} of the cluster
     * @param checkPoint    the record's main data; its {@code redo} should equal {@code checkpointLsn}
     * @return a new {@link Lsn#WAL_PAGE_SIZE}-byte page
     * @throws IllegalArgumentException when {@code checkpointLsn} is not right after a segment's long header
     */
    public static byte[] firstPage(long checkpointLsn, int tli, long sysid, CheckPoint checkPoint) {
        long segStart = checkpointLsn - XLogPageHeaderDescriptor.LONG_HEADER_LENGTH;
        if (Lsn.segmentStart(segStart) != segStart) {
            throw new IllegalArgumentException("checkpoint LSN " + Lsn.format(checkpointLsn)
                    + " is not a WAL segment start + " + XLogPageHeaderDescriptor.LONG_HEADER_LENGTH);
        }
        byte[] page = new byte[Lsn.WAL_PAGE_SIZE];
        XLogPageHeaderDescriptor.writeLongHeader(page, tli, segStart, sysid, Lsn.WAL_SEGMENT_SIZE, Lsn.WAL_PAGE_SIZE);
        int rec = XLogPageHeaderDescriptor.LONG_HEADER_LENGTH;
        ByteBuffer b = ByteBuffer.wrap(page).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(rec + XLogRecordDescriptor.TOT_LEN_OFFSET, RECORD_LENGTH);
        b.putInt(rec + XLogRecordDescriptor.XID_OFFSET, 0);
        b.putLong(rec + XLogRecordDescriptor.PREV_OFFSET, 0L);
        page[rec + XLogRecordDescriptor.INFO_OFFSET] = (byte) XLogRecordDescriptor.XLOG_CHECKPOINT_SHUTDOWN;
        page[rec + XLogRecordDescriptor.RMID_OFFSET] = (byte) XLogRecordDescriptor.RM_XLOG_ID;
        int data = rec + XLogRecordDescriptor.HEADER_LENGTH;
        page[data] = (byte) XLogRecordBlockDescriptor.XLR_BLOCK_ID_DATA_SHORT;
        page[data + 1] = (byte) CheckPoint.SIZE;
        System.arraycopy(checkPoint.encode(), 0, page, data + XLogRecordDescriptor.DATA_HEADER_SHORT_LENGTH, CheckPoint.SIZE);
        b.putInt(rec + XLogRecordDescriptor.CRC_OFFSET, XLogRecordDescriptor.computeCrc(page, rec, RECORD_LENGTH));
        return page;
    }
}
