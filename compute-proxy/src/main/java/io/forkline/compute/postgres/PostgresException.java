package io.forkline.compute.postgres;

/** A PostgreSQL binary is missing, failed, or could not be run; the message says which and why. */
public class PostgresException extends RuntimeException {
    public PostgresException(String message) {
        super(message);
    }

    public PostgresException(String message, Throwable cause) {
        super(message, cause);
    }
}
