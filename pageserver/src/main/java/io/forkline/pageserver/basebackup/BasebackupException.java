package io.forkline.pageserver.basebackup;

/**
 * A basebackup could not be built: the timeline or LSN is not servable, required state (the
 * {@code CONTROL} key, the tenant's original {@code pg_control}) is missing, a stored value has the
 * wrong shape, or writing the output failed. The message names the timeline, key and LSN involved.
 */
public final class BasebackupException extends RuntimeException {
    /** @param message what is wrong, with the offending value and LSN */
    public BasebackupException(String message) {
        super(message);
    }

    /**
     * @param message what is wrong, with the offending value and LSN
     * @param cause   the underlying failure (I/O, storage)
     */
    public BasebackupException(String message, Throwable cause) {
        super(message, cause);
    }
}
