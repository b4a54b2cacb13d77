package io.forkline.wal.record;

import io.forkline.storage.lsn.Lsn;

/**
 * Layout of the header at the start of every WAL page: {@code XLogPageHeaderData} and, on the first
 * page of each segment, {@code XLogLongPageHeaderData} (PostgreSQL 15
 * {@code src/include/access/xlog_internal.h}). All fields little-endian; a WAL page is
 * {@link #WAL_PAGE_SIZE} bytes and a segment {@link #WAL_SEGMENT_SIZE} bytes.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-------------------------------+-------------------------------+
 *  |      xlp_magic (0xD110)       |          xlp_info             |  0
 *  +-------------------------------+-------------------------------+
 *  |                           xlp_tli                             |  4
 *  +---------------------------------------------------------------+
 *  |                     xlp_pageaddr (8 bytes)                    |  8
 *  +---------------------------------------------------------------+
 *  |                         xlp_rem_len                           | 16
 *  +---------------------------------------------------------------+
 *  |                  padding (MAXALIGN to 24)                     | 20
 *  +===============================================================+  short header ends: 24
 *  |                      xlp_sysid (8 bytes)                      | 24  only with XLP_LONG_HEADER
 *  +---------------------------------------------------------------+
 *  |                        xlp_seg_size                           | 32
 *  +---------------------------------------------------------------+
 *  |                       xlp_xlog_blcksz                         | 36
 *  +===============================================================+  long header ends: 40
 * </pre>
 *
 * {@code xlp_rem_len} is the number of bytes of a record begun on an earlier page that remain
 * (it is set, with {@link #XLP_FIRST_IS_CONTRECORD}, when the page starts with a continuation).
 */
public final class XLogPageHeaderDescriptor {
    /** {@code XLOG_PAGE_MAGIC} of PostgreSQL 15. */
    public static final int XLOG_PAGE_MAGIC = 0xD110;
    /** {@code XLOG_BLCKSZ}: WAL page size, bytes; the same value as {@link Lsn#WAL_PAGE_SIZE}. */
    public static final int WAL_PAGE_SIZE = Lsn.WAL_PAGE_SIZE;
    /** WAL segment size, bytes (initdb's default, 16 MiB); the same value as {@link Lsn#WAL_SEGMENT_SIZE}. */
    public static final int WAL_SEGMENT_SIZE = Lsn.WAL_SEGMENT_SIZE;

    /** {@code XLP_FIRST_IS_CONTRECORD}: the page begins with the continuation of a record. */
    public static final int XLP_FIRST_IS_CONTRECORD = 0x0001;
    /** {@code XLP_LONG_HEADER}: this is an {@code XLogLongPageHeaderData} (first page of a segment). */
    public static final int XLP_LONG_HEADER = 0x0002;
    /** {@code XLP_BKP_REMOVABLE}: full-page images on this page may be removed by archivers. */
    public static final int XLP_BKP_REMOVABLE = 0x0004;
    /** {@code XLP_FIRST_IS_OVERWRITE_CONTRECORD}: a record that was aborted before this page is overwritten here. */
    public static final int XLP_FIRST_IS_OVERWRITE_CONTRECORD = 0x0008;
    /** {@code XLP_ALL_FLAGS}: any other bit in {@code xlp_info} is invalid. */
    public static final int XLP_ALL_FLAGS = 0x000F;

    /** Offset of {@code xlp_magic} (uint16). */
    public static final int MAGIC_OFFSET = 0;
    /** Offset of {@code xlp_info} (uint16). */
    public static final int INFO_OFFSET = 2;
    /** Offset of {@code xlp_tli} (uint32, {@code TimeLineID}). */
    public static final int TLI_OFFSET = 4;
    /** Offset of {@code xlp_pageaddr} (uint64, {@code XLogRecPtr}). */
    public static final int PAGEADDR_OFFSET = 8;
    /** Offset of {@code xlp_rem_len} (uint32). */
    public static final int REM_LEN_OFFSET = 16;
    /** {@code SizeOfXLogShortPHD}. */
    public static final int SHORT_HEADER_LENGTH = 24;
    /** Offset of {@code xlp_sysid} (uint64) in the long header. */
    public static final int SYSID_OFFSET = 24;
    /** Offset of {@code xlp_seg_size} (uint32) in the long header. */
    public static final int SEG_SIZE_OFFSET = 32;
    /** Offset of {@code xlp_xlog_blcksz} (uint32) in the long header. */
    public static final int XLOG_BLCKSZ_OFFSET = 36;
    /** {@code SizeOfXLogLongPHD}. */
    public static final int LONG_HEADER_LENGTH = 40;

    private XLogPageHeaderDescriptor() {
    }

    /** {@code XLogPageHeaderSize}: header length in bytes (24 or 40) given {@code xlp_info}. */
    public static int headerLength(int xlpInfo) {
        return (xlpInfo & XLP_LONG_HEADER) != 0 ? LONG_HEADER_LENGTH : SHORT_HEADER_LENGTH;
    }

    /** {@code xlp_magic} of the header at {@code off}. */
    public static int magic(byte[] b, int off) {
        return LittleEndian.u16(b, off + MAGIC_OFFSET);
    }

    /** {@code xlp_info} of the header at {@code off}. */
    public static int info(byte[] b, int off) {
        return LittleEndian.u16(b, off + INFO_OFFSET);
    }

    /** {@code xlp_tli} (unsigned, as a long) of the header at {@code off}. */
    public static long tli(byte[] b, int off) {
        return LittleEndian.i32(b, off + TLI_OFFSET) & 0xFFFFFFFFL;
    }

    /** {@code xlp_pageaddr}: the LSN the page claims to be at. */
    public static long pageAddr(byte[] b, int off) {
        return LittleEndian.i64(b, off + PAGEADDR_OFFSET);
    }

    /** {@code xlp_rem_len} (unsigned, as a long), bytes. */
    public static long remLen(byte[] b, int off) {
        return LittleEndian.i32(b, off + REM_LEN_OFFSET) & 0xFFFFFFFFL;
    }

    /** {@code xlp_sysid} of a long header at {@code off}. */
    public static long sysid(byte[] b, int off) {
        return LittleEndian.i64(b, off + SYSID_OFFSET);
    }

    /** {@code xlp_seg_size} of a long header at {@code off}, bytes. */
    public static int segSize(byte[] b, int off) {
        return LittleEndian.i32(b, off + SEG_SIZE_OFFSET);
    }

    /** {@code xlp_xlog_blcksz} of a long header at {@code off}, bytes. */
    public static int xlogBlcksz(byte[] b, int off) {
        return LittleEndian.i32(b, off + XLOG_BLCKSZ_OFFSET);
    }

    /**
     * Writes a long page header with no continuation at offset 0 of {@code page}, as
     * {@code pg_resetwal.c WriteEmptyXLOG} does for the first page of a segment.
     *
     * @param page       at least {@link #LONG_HEADER_LENGTH} bytes
     * @param tli        PostgreSQL timeline id of the page
     * @param pageAddr   LSN of the segment's first byte
     * @param sysid      {@code system_identifier} from pg_control
     * @param segSize    WAL segment size, bytes
     * @param xlogBlcksz WAL page size, bytes
     */
    public static void writeLongHeader(byte[] page, int tli, long pageAddr, long sysid, int segSize, int xlogBlcksz) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(page).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putShort(MAGIC_OFFSET, (short) XLOG_PAGE_MAGIC);
        b.putShort(INFO_OFFSET, (short) XLP_LONG_HEADER);
        b.putInt(TLI_OFFSET, tli);
        b.putLong(PAGEADDR_OFFSET, pageAddr);
        b.putInt(REM_LEN_OFFSET, 0);
        b.putInt(REM_LEN_OFFSET + 4, 0);
        b.putLong(SYSID_OFFSET, sysid);
        b.putInt(SEG_SIZE_OFFSET, segSize);
        b.putInt(XLOG_BLCKSZ_OFFSET, xlogBlcksz);
    }
}
