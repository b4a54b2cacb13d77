package io.forkline.pageserver.importer;

/**
 * A data directory cannot be imported: not a cleanly shut down PostgreSQL 15 cluster, a file of
 * the wrong shape (size not a multiple of 8192, unparsable SLRU segment name), a WAL record at the
 * checkpoint location that is not the expected shutdown checkpoint, or an I/O failure. The message
 * names the file, value and LSN involved.
 */
public final class ImportException extends RuntimeException {
    /** @param message what is wrong, with the offending file / value */
    public ImportException(String message) {
        super(message);
    }

    /**
     * @param message what is wrong, with the offending file / value
     * @param cause   the underlying failure
     */
    public ImportException(String message, Throwable cause) {
        super(message, cause);
    }
}
