package io.forkline.wal.record;

import io.forkline.storage.lsn.Lsn;

/**
 * Invalid or corrupt WAL: a page header, record header, CRC, block header or page image that
 * PostgreSQL's {@code xlogreader.c} would also reject. The message names the LSN (as {@code X/Y})
 * and the offending value. The decoder that threw it is unusable afterwards.
 */
public final class WalDecodeException extends RuntimeException {
    private final long lsn;

    /**
     * @param lsn     the WAL position of the bad record (its start) or page (its start)
     * @param message what is wrong, without the LSN: it is appended as {@code " at X/Y"}
     */
    public WalDecodeException(long lsn, String message) {
        super(message + " at " + Lsn.format(lsn));
        this.lsn = lsn;
    }

    /**
     * @param lsn     the WAL position of the bad record or page
     * @param message what is wrong, without the LSN
     * @param cause   the underlying failure (e.g. of a decompressor)
     */
    public WalDecodeException(long lsn, String message, Throwable cause) {
        super(message + " at " + Lsn.format(lsn), cause);
        this.lsn = lsn;
    }

    /** The WAL position of the bad record (its start) or page (its start), bytes. */
    public long lsn() {
        return lsn;
    }
}
