package io.forkline.wal.ingest.slru;

import io.forkline.wal.record.XLogRecordBlockDescriptor;

/**
 * Layout of CLOG ({@code pg_xact}) SLRU pages ({@code src/backend/access/transam/clog.c}): 8192-byte
 * pages without a header, 2 status bits per transaction, 4 transactions per byte, the lowest xid in
 * the lowest bits, so {@code CLOG_XACTS_PER_PAGE = 32768}:
 *
 * <pre>
 *   byte:  | xid+3 (b7..6) | xid+2 (b5..4) | xid+1 (b3..2) | xid (b1..0) |
 *   status 00 in progress, 01 committed, 10 aborted, 11 sub-committed
 * </pre>
 *
 * Xids are unsigned 32-bit values carried in {@code int}. 32 pages form one segment file.
 */
public final class ClogDescriptor {
    /** SLRU page size, bytes ({@code BLCKSZ}, {@link XLogRecordBlockDescriptor#BLCKSZ}). */
    public static final int PAGE_SIZE = XLogRecordBlockDescriptor.BLCKSZ;
    /** {@code CLOG_BITS_PER_XACT}. */
    public static final int BITS_PER_XACT = 2;
    public static final int XACTS_PER_BYTE = 4;
    /** {@code CLOG_XACTS_PER_PAGE}. */
    public static final int XACTS_PER_PAGE = PAGE_SIZE * XACTS_PER_BYTE;
    /** {@code TRANSACTION_STATUS_IN_PROGRESS}. */
    public static final int STATUS_IN_PROGRESS = 0x00;
    /** {@code TRANSACTION_STATUS_COMMITTED}. */
    public static final int STATUS_COMMITTED = 0x01;
    /** {@code TRANSACTION_STATUS_ABORTED}. */
    public static final int STATUS_ABORTED = 0x02;
    /** {@code TRANSACTION_STATUS_SUB_COMMITTED}. */
    public static final int STATUS_SUB_COMMITTED = 0x03;

    private ClogDescriptor() {
    }

    /** {@code TransactionIdToPage}. */
    public static int page(int xid) {
        return Integer.divideUnsigned(xid, XACTS_PER_PAGE);
    }

    /** {@code TransactionIdToByte}: byte within the page. */
    public static int byteInPage(int xid) {
        return Integer.remainderUnsigned(xid, XACTS_PER_PAGE) / XACTS_PER_BYTE;
    }

    /** {@code TransactionIdToBIndex(xid) * CLOG_BITS_PER_XACT}: bit shift within the byte. */
    public static int bitShift(int xid) {
        return Integer.remainderUnsigned(xid, XACTS_PER_BYTE) * BITS_PER_XACT;
    }

    /** Sets the 2-bit status of {@code xid} in {@code page} ({@code TransactionIdSetStatusBit}). */
    public static void setStatus(byte[] page, int xid, int status) {
        int idx = byteInPage(xid);
        int shift = bitShift(xid);
        int v = page[idx] & 0xFF;
        v = (v & ~(0x03 << shift)) | ((status & 0x03) << shift);
        page[idx] = (byte) v;
    }

    /** The 2-bit status of {@code xid} in {@code page} ({@code TransactionIdGetStatus}). */
    public static int status(byte[] page, int xid) {
        return ((page[byteInPage(xid)] & 0xFF) >>> bitShift(xid)) & 0x03;
    }
}
