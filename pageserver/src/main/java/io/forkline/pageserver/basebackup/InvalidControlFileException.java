package io.forkline.pageserver.basebackup;

/**
 * A {@code pg_control} image that Forkline cannot use: too short, a CRC mismatch, or a
 * {@code pg_control_version} / {@code catalog_version_no} other than PostgreSQL 15's. The message
 * names the offending value.
 */
public final class InvalidControlFileException extends RuntimeException {
    /** @param message what is wrong, with the offending value */
    public InvalidControlFileException(String message) {
        super(message);
    }
}
