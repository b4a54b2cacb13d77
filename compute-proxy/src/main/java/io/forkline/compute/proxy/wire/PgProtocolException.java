package io.forkline.compute.proxy.wire;

/**
 * Bad input from a client (or a compute) that ends its connection with a FATAL ErrorResponse.
 *
 * <p>{@link #sqlState()} is the SQLSTATE to send, {@link #getMessage()} the message, {@link #hint()}
 * the optional hint.
 */
public final class PgProtocolException extends RuntimeException {
    private final String sqlState;
    private final String hint;

    public PgProtocolException(String sqlState, String message) {
        this(sqlState, message, null);
    }

    public PgProtocolException(String sqlState, String message, String hint) {
        super(message, null, false, false);
        this.sqlState = sqlState;
        this.hint = hint;
    }

    /** SQLSTATE, five characters. */
    public String sqlState() {
        return sqlState;
    }

    /** Hint for the client, or {@code null}. */
    public String hint() {
        return hint;
    }
}
