package io.forkline.wal.testing;

import io.forkline.wal.record.XLogPageHeaderDescriptor;
import io.forkline.wal.record.XLogRecordBlockDescriptor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * A hand-built first WAL page of segment {@link #SEG_START} (long page header, two records, the rest
 * zero), for tests that need real-looking WAL without PostgreSQL:
 *
 * <pre>
 *   0x1000000  long page header (40 bytes)
 *   REC1       rmid {@code firstRmid}, xid 7, info 0x10, 5 bytes main data "hello"; 31 bytes, ends at REC2
 *   REC2       rmid 10 (Heap), xid 8, block 0 (1663/5/16384 blk 7, data "abc"), main data "xy";
 *              51 bytes, ends at REC2 + 56
 *   zeros      (end of written WAL)
 * </pre>
 */
public final class WalPages {
    /** Start of the segment (and of the page). */
    public static final long SEG_START = 0x1000000L;
    /** Start of the first record, right after the long page header. */
    public static final long REC1 = SEG_START + XLogPageHeaderDescriptor.LONG_HEADER_LENGTH;
    /** Length of the first record ({@code xl_tot_len}), bytes. */
    public static final int REC1_LENGTH = 31;
    /** Start of the second record ({@code MAXALIGN(REC1 + 31)}). */
    public static final long REC2 = REC1 + 32;
    /** Length of the second record ({@code xl_tot_len}), bytes. */
    public static final int REC2_LENGTH = 51;
    /** End LSN of the second record ({@code MAXALIGN(REC2 + 51)}). */
    public static final long REC2_END = REC2 + 56;

    private WalPages() {
    }

    /**
     * The 8192-byte page.
     *
     * @param firstRmid  {@code xl_rmid} of the first record (21 = LogicalMessage is valid; 99 is not)
     * @param secondPrev {@code xl_prev} of the second record ({@link #REC1} is right)
     */
    public static byte[] page(int firstRmid, long secondPrev) {
        ByteBuffer b = ByteBuffer.allocate(XLogPageHeaderDescriptor.WAL_PAGE_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort((short) XLogPageHeaderDescriptor.XLOG_PAGE_MAGIC)
                .putShort((short) XLogPageHeaderDescriptor.XLP_LONG_HEADER).putInt(1)
                .putLong(SEG_START).putInt(0).putInt(0).putLong(123456789L)
                .putInt(XLogPageHeaderDescriptor.WAL_SEGMENT_SIZE).putInt(XLogPageHeaderDescriptor.WAL_PAGE_SIZE);
        // record 1: header + DATA_SHORT(5) + "hello"
        record(b, (int) (REC1 - SEG_START), 7, 0x0FFFFF0L, 0x10, firstRmid,
                new byte[] {(byte) 255, 5, 'h', 'e', 'l', 'l', 'o'});
        ByteBuffer frag = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        frag.put((byte) 0).put((byte) XLogRecordBlockDescriptor.BKPBLOCK_HAS_DATA).putShort((short) 3)
                .putInt(1663).putInt(5).putInt(16384).putInt(7)
                .put((byte) 255).put((byte) 2).put("abc".getBytes(StandardCharsets.US_ASCII))
                .put("xy".getBytes(StandardCharsets.US_ASCII));
        byte[] f = new byte[frag.position()];
        frag.flip().get(f);
        record(b, (int) (REC2 - SEG_START), 8, secondPrev, 0x00, 10, f);
        return b.array();
    }

    private static void record(ByteBuffer b, int off, int xid, long prev, int info, int rmid, byte[] payload) {
        int tot = 24 + payload.length;
        b.position(off);
        b.putInt(tot).putInt(xid).putLong(prev).put((byte) info).put((byte) rmid).putShort((short) 0).putInt(0);
        b.put(payload);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), off + 24, payload.length);
        crc.update(b.array(), off, 20);
        b.putInt(off + 20, (int) crc.getValue());
    }
}
