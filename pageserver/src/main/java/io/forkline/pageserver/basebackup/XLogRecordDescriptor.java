package io.forkline.pageserver.basebackup;

import java.util.zip.CRC32C;

/**
 * Layout of a WAL record header {@code XLogRecord} and the short main-data header
 * {@code XLogRecordDataHeaderShort} ({@code src/include/access/xlogrecord.h}, PostgreSQL 15),
 * little-endian. Records start MAXALIGNed (8 bytes).
 *
 * <pre>
 *   0           4           8                     16     17     18      20          24
 *   +-----------+-----------+---------------------+------+------+-------+-----------+
 *   | tot_len   | xid       | prev                | info | rmid | pad 2 | crc       |  SizeOfXLogRecord
 *   +-----------+-----------+---------------------+------+------+-------+-----------+
 *   then block headers (none here), then for main data of at most 255 bytes:
 *   +------+--------+-------------------+
 *   | 0xFF | len u8 | main data (len)   |    XLR_BLOCK_ID_DATA_SHORT
 *   +------+--------+-------------------+
 * </pre>
 *
 * The CRC is CRC-32C first over bytes {@code [SIZE, tot_len)} of the record, then over the header
 * bytes {@code [0, CRC_OFFSET)} ({@code xloginsert.c XLogRecordAssemble}, {@code xlog.c
 * XLogInsertRecord}, {@code xlogreader.c ValidXLogRecord}).
 */
public final class XLogRecordDescriptor {
    public static final int TOT_LEN_OFFSET = 0;
    public static final int XID_OFFSET = 4;
    public static final int PREV_OFFSET = 8;
    public static final int INFO_OFFSET = 16;
    public static final int RMID_OFFSET = 17;
    public static final int CRC_OFFSET = 20;
    /** {@code SizeOfXLogRecord}, bytes. */
    public static final int SIZE = 24;

    /** {@code XLR_BLOCK_ID_DATA_SHORT}. */
    public static final int XLR_BLOCK_ID_DATA_SHORT = 255;
    /** {@code XLR_BLOCK_ID_DATA_LONG}. */
    public static final int XLR_BLOCK_ID_DATA_LONG = 254;
    /** {@code SizeOfXLogRecordDataHeaderShort}, bytes. */
    public static final int DATA_HEADER_SHORT_SIZE = 2;

    /** {@code RM_XLOG_ID}. */
    public static final int RM_XLOG_ID = 0;
    /** {@code XLOG_CHECKPOINT_SHUTDOWN} ({@code src/include/catalog/pg_control.h}). */
    public static final int XLOG_CHECKPOINT_SHUTDOWN = 0x00;
    /** {@code XLOG_CHECKPOINT_ONLINE}. */
    public static final int XLOG_CHECKPOINT_ONLINE = 0x10;

    /** {@code MAXIMUM_ALIGNOF} on x86-64. */
    public static final int MAXALIGN = 8;

    private XLogRecordDescriptor() {
    }

    /** {@code MAXALIGN(x)} for a length or an LSN. */
    public static long maxAlign(long x) {
        return (x + MAXALIGN - 1) & ~(long) (MAXALIGN - 1);
    }

    /**
     * The record CRC over a contiguous record.
     *
     * @param record bytes holding the whole record at {@code offset}
     * @param offset where the record header starts
     * @param totLen {@code xl_tot_len}
     * @return the CRC to store at {@link #CRC_OFFSET}
     * @throws IllegalArgumentException when {@code totLen} is below {@link #SIZE} or exceeds the array
     */
    public static int computeCrc(byte[] record, int offset, int totLen) {
        if (totLen < SIZE || offset + totLen > record.length) {
            throw new IllegalArgumentException("record length " + totLen + " at offset " + offset
                    + " does not fit a " + record.length + "-byte buffer with a " + SIZE + "-byte header");
        }
        CRC32C crc = new CRC32C();
        crc.update(record, offset + SIZE, totLen - SIZE);
        crc.update(record, offset, CRC_OFFSET);
        return (int) crc.getValue();
    }
}
