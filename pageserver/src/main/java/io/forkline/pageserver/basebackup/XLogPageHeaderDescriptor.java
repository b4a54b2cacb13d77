package io.forkline.pageserver.basebackup;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Layout of the WAL page headers {@code XLogPageHeaderData} and {@code XLogLongPageHeaderData}
 * ({@code src/include/access/xlog_internal.h}, PostgreSQL 15), little-endian. Every WAL page
 * ({@code XLOG_BLCKSZ} = 8192 bytes) starts with the short header; the first page of each segment
 * has the long one ({@code XLP_LONG_HEADER}).
 *
 * <pre>
 *   0         2         4         8                16          20     24
 *   +---------+---------+---------+----------------+-----------+------+
 *   | magic   | info    | tli     | pageaddr       | rem_len   | pad  |   SizeOfXLogShortPHD = 24
 *   +---------+---------+---------+----------------+-----------+------+
 *   24                  32          36           40
 *   +-------------------+-----------+------------+
 *   | sysid             | seg_size  | xlog_blcksz|                         SizeOfXLogLongPHD = 40
 *   +-------------------+-----------+------------+
 * </pre>
 *
 * {@code magic} is {@code XLOG_PAGE_MAGIC} (0xD110 for PostgreSQL 15); {@code pageaddr} is the LSN
 * of the page's first byte; {@code rem_len} the bytes of a record continued from the previous page.
 */
public final class XLogPageHeaderDescriptor {
    /** {@code XLOG_PAGE_MAGIC} of PostgreSQL 15. */
    public static final int XLOG_PAGE_MAGIC = 0xD110;
    /** {@code XLP_FIRST_IS_CONTRECORD}. */
    public static final int XLP_FIRST_IS_CONTRECORD = 0x0001;
    /** {@code XLP_LONG_HEADER}. */
    public static final int XLP_LONG_HEADER = 0x0002;

    public static final int MAGIC_OFFSET = 0;
    public static final int INFO_OFFSET = 2;
    public static final int TLI_OFFSET = 4;
    public static final int PAGEADDR_OFFSET = 8;
    public static final int REM_LEN_OFFSET = 16;
    /** {@code SizeOfXLogShortPHD}, bytes (MAXALIGNed). */
    public static final int SHORT_SIZE = 24;
    public static final int SYSID_OFFSET = 24;
    public static final int SEG_SIZE_OFFSET = 32;
    public static final int XLOG_BLCKSZ_OFFSET = 36;
    /** {@code SizeOfXLogLongPHD}, bytes (MAXALIGNed). */
    public static final int LONG_SIZE = 40;

    private XLogPageHeaderDescriptor() {
    }

    /**
     * Size of the header of the WAL page starting at {@code pageAddr}: long on a segment's first page.
     *
     * @param pageAddr   LSN of a page start (a multiple of the WAL page size)
     * @param segSizeBytes WAL segment size, bytes
     * @return {@link #LONG_SIZE} or {@link #SHORT_SIZE}
     */
    public static int headerSize(long pageAddr, int segSizeBytes) {
        return Long.remainderUnsigned(pageAddr, segSizeBytes) == 0 ? LONG_SIZE : SHORT_SIZE;
    }

    /**
     * Writes a long page header (no continuation) at offset 0 of {@code page}, as
     * {@code pg_resetwal.c WriteEmptyXLOG} does.
     *
     * @param page        at least {@link #LONG_SIZE} bytes
     * @param tli         PostgreSQL timeline id of the page
     * @param pageAddr    LSN of the segment's first byte
     * @param sysid       {@code system_identifier} from pg_control
     * @param segSize     WAL segment size, bytes
     * @param xlogBlcksz  WAL page size, bytes
     */
    public static void writeLongHeader(byte[] page, int tli, long pageAddr, long sysid, int segSize, int xlogBlcksz) {
        ByteBuffer b = ByteBuffer.wrap(page).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort(MAGIC_OFFSET, (short) XLOG_PAGE_MAGIC);
        b.putShort(INFO_OFFSET, (short) XLP_LONG_HEADER);
        b.putInt(TLI_OFFSET, tli);
        b.putLong(PAGEADDR_OFFSET, pageAddr);
        b.putInt(REM_LEN_OFFSET, 0);
        b.putInt(20, 0);
        b.putLong(SYSID_OFFSET, sysid);
        b.putInt(SEG_SIZE_OFFSET, segSize);
        b.putInt(XLOG_BLCKSZ_OFFSET, xlogBlcksz);
    }
}
