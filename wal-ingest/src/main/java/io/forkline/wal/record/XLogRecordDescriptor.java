package io.forkline.wal.record;

/**
 * Layout of the fixed header of every WAL record, {@code XLogRecord} (PostgreSQL 15
 * {@code src/include/access/xlogrecord.h}). Records start on 8-byte ({@code MAXALIGN}) boundaries;
 * the header is followed, without padding, by block headers and the main-data header (see
 * {@link XLogRecordBlockDescriptor}), then the block images/data and the main data. All fields
 * little-endian.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |        xl_tot_len (whole record, this header included)        |  0
 *  +---------------------------------------------------------------+
 *  |                            xl_xid                             |  4
 *  +---------------------------------------------------------------+
 *  |               xl_prev (8 bytes, previous record LSN)          |  8
 *  +---------------+---------------+-------------------------------+
 *  |    xl_info    |    xl_rmid    |        padding (zero)         | 16
 *  +---------------+---------------+-------------------------------+
 *  |                     xl_crc (CRC-32C)                          | 20
 *  +---------------------------------------------------------------+ 24 = SizeOfXLogRecord
 * </pre>
 *
 * <p>{@code xl_crc} is CRC-32C (Castagnoli; init {@code 0xFFFFFFFF}, final xor {@code 0xFFFFFFFF},
 * i.e. exactly {@link java.util.zip.CRC32C}) over bytes {@code [24, xl_tot_len)} of the record
 * followed by bytes {@code [0, 20)} of the header ({@code ValidXLogRecord} in
 * {@code src/backend/access/transam/xlogreader.c}, {@code XLogRecordAssemble} in
 * {@code xloginsert.c}).
 */
public final class XLogRecordDescriptor {
    /** Offset of {@code xl_tot_len} (uint32). */
    public static final int TOT_LEN_OFFSET = 0;
    /** Offset of {@code xl_xid} (uint32 {@code TransactionId}). */
    public static final int XID_OFFSET = 4;
    /** Offset of {@code xl_prev} (uint64 {@code XLogRecPtr}). */
    public static final int PREV_OFFSET = 8;
    /** Offset of {@code xl_info} (uint8). */
    public static final int INFO_OFFSET = 16;
    /** Offset of {@code xl_rmid} (uint8 {@code RmgrId}). */
    public static final int RMID_OFFSET = 17;
    /** Offset of {@code xl_crc} (uint32 {@code pg_crc32c}); also the number of header bytes the CRC covers. */
    public static final int CRC_OFFSET = 20;
    /** {@code SizeOfXLogRecord}. */
    public static final int HEADER_LENGTH = 24;
    /** {@code MAXIMUM_ALIGNOF}: records start at multiples of this. */
    public static final int MAXALIGN = 8;

    /** {@code XLR_INFO_MASK}: the bits of {@code xl_info} owned by the WAL machinery. */
    public static final int XLR_INFO_MASK = 0x0F;
    /** {@code XLR_RMGR_INFO_MASK}: the bits of {@code xl_info} owned by the resource manager. */
    public static final int XLR_RMGR_INFO_MASK = 0xF0;
    /** {@code XLR_SPECIAL_REL_UPDATE}. */
    public static final int XLR_SPECIAL_REL_UPDATE = 0x01;
    /** {@code XLR_CHECK_CONSISTENCY}: the record carries images for {@code wal_consistency_checking}. */
    public static final int XLR_CHECK_CONSISTENCY = 0x02;

    /** {@code RM_XLOG_ID}. */
    public static final int RM_XLOG_ID = 0;
    /** {@code XLOG_SWITCH} ({@code src/include/catalog/pg_control.h}): the rest of the segment is unused. */
    public static final int XLOG_SWITCH = 0x40;
    /** {@code RM_MAX_BUILTIN_ID} of PostgreSQL 15 ({@code RM_LOGICALMSG_ID}, 21). */
    public static final int RM_MAX_BUILTIN_ID = 21;
    /** {@code RM_MIN_CUSTOM_ID}: custom resource managers (PostgreSQL 15+) use ids 128..255. */
    public static final int RM_MIN_CUSTOM_ID = 128;
    /**
     * Largest {@code xl_tot_len} accepted, bytes: PostgreSQL rejects records whose decode space
     * exceeds {@code MaxAllocSize} (1 GiB - 1); PostgreSQL 16 names the limit
     * {@code XLogRecordMaxSize} (1020 MiB), used here.
     */
    public static final int MAX_RECORD_LENGTH = 1020 * 1024 * 1024;

    private XLogRecordDescriptor() {
    }

    /** {@code xl_tot_len} (unsigned, as a long) of the record at {@code off}, bytes. */
    public static long totalLength(byte[] b, int off) {
        return LittleEndian.i32(b, off + TOT_LEN_OFFSET) & 0xFFFFFFFFL;
    }

    /** {@code xl_xid} of the record at {@code off}. */
    public static int xid(byte[] b, int off) {
        return LittleEndian.i32(b, off + XID_OFFSET);
    }

    /** {@code xl_prev} of the record at {@code off}. */
    public static long prev(byte[] b, int off) {
        return LittleEndian.i64(b, off + PREV_OFFSET);
    }

    /** {@code xl_info} of the record at {@code off}, 0..255. */
    public static int info(byte[] b, int off) {
        return LittleEndian.u8(b, off + INFO_OFFSET);
    }

    /** {@code xl_rmid} of the record at {@code off}, 0..255. */
    public static int rmid(byte[] b, int off) {
        return LittleEndian.u8(b, off + RMID_OFFSET);
    }

    /** {@code xl_crc} of the record at {@code off}. */
    public static int crc(byte[] b, int off) {
        return LittleEndian.i32(b, off + CRC_OFFSET);
    }

    /** {@code RmgrIdIsValid} ({@code src/include/access/rmgr.h}): built-in 0..21 or custom 128..255. */
    public static boolean isValidRmid(int rmid) {
        return (rmid >= 0 && rmid <= RM_MAX_BUILTIN_ID) || (rmid >= RM_MIN_CUSTOM_ID && rmid <= 255);
    }

    /** {@code MAXALIGN(lsn)}: rounds up to a multiple of 8. */
    public static long maxAlign(long lsn) {
        return (lsn + (MAXALIGN - 1)) & ~(long) (MAXALIGN - 1);
    }

    /** {@code XLOG_CHECKPOINT_SHUTDOWN}: info of a shutdown checkpoint record (rmgr XLOG, {@code pg_control.h}). */
    public static final int XLOG_CHECKPOINT_SHUTDOWN = 0x00;
    /** {@code XLOG_CHECKPOINT_ONLINE}: info of an online checkpoint record (rmgr XLOG, {@code pg_control.h}). */
    public static final int XLOG_CHECKPOINT_ONLINE = 0x10;
    /** {@code XLOG_NEXTOID}: info of a next-OID record, main data the new {@code nextOid} (rmgr XLOG, {@code pg_control.h}). */
    public static final int XLOG_NEXTOID = 0x30;
    /**
     * {@code XLOG_PARAMETER_CHANGE}: info of a record carrying the new {@code xl_parameter_change}
     * (rmgr XLOG, {@code pg_control.h}; written by {@code XLogReportParameters} at startup).
     */
    public static final int XLOG_PARAMETER_CHANGE = 0x60;
    /** {@code SizeOfXLogRecordDataHeaderShort}: block id 255 plus a 1-byte main data length. */
    public static final int DATA_HEADER_SHORT_LENGTH = 2;

    /**
     * The record CRC ({@code xl_crc}) of a contiguous record, computed the way
     * {@code XLogRecordAssemble} / {@code ValidXLogRecord} do: CRC-32C over the bytes after the
     * header, then over the header up to {@code xl_crc}. Used to write records (the synthesized
     * shutdown checkpoint of a basebackup).
     *
     * @param record bytes holding the whole record at {@code offset}
     * @param offset where the record header starts
     * @param totLen {@code xl_tot_len}, bytes
     * @throws IllegalArgumentException when {@code totLen} is below the header length or exceeds the array
     */
    public static int computeCrc(byte[] record, int offset, int totLen) {
        if (totLen < HEADER_LENGTH || offset + totLen > record.length) {
            throw new IllegalArgumentException("record length " + totLen + " at offset " + offset
                    + " does not fit a " + record.length + "-byte buffer with a " + HEADER_LENGTH + "-byte header");
        }
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(record, offset + HEADER_LENGTH, totLen - HEADER_LENGTH);
        crc.update(record, offset, CRC_OFFSET);
        return (int) crc.getValue();
    }

    /** Whether a record of resource manager {@code rmid} with {@code info} is an {@code XLOG_SWITCH}. */
    public static boolean isSwitch(int rmid, int info) {
        return rmid == RM_XLOG_ID && (info & XLR_RMGR_INFO_MASK) == XLOG_SWITCH;
    }
}
