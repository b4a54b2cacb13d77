package io.forkline.wal.ingest.rmgr;

/**
 * The main data of a WAL record does not have the layout its rmgr and info byte promise (too short,
 * negative counts, bad magic). The message names the offending value; {@code WalIngest} wraps it
 * in a {@code WalIngestException} that adds the record's LSN and rmgr.
 */
public final class RecordFormatException extends RuntimeException {
    public RecordFormatException(String message) {
        super(message);
    }
}
