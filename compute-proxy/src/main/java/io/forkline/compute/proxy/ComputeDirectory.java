package io.forkline.compute.proxy;

import java.util.concurrent.CompletableFuture;

/**
 * What the Postgres proxy asks the server about endpoints: the contract between
 * {@code compute-proxy} (the wire protocol) and {@code pageserver} (branches, credentials, the
 * compute lifecycle). Implementations are thread-safe; the proxy calls them from Netty event loops,
 * so none of these methods may block for long ({@link #wake} returns a future).
 */
public interface ComputeDirectory {
    /**
     * The credentials and state of the endpoint {@code endpointId} (a branch's stable, DNS-label-safe
     * id such as {@code ep-k3v9q2xd}), or {@code null} when no branch has that id.
     */
    Endpoint lookup(String endpointId);

    /**
     * Makes the endpoint's compute run (waking it when suspended or stopped) and completes with
     * where it accepts connections. Concurrent calls during one wake share that start. Completes
     * exceptionally with {@link WakeException} (message for the client) when it cannot start, or
     * when it did not start within the server's bound (60 s).
     */
    CompletableFuture<ComputeAddress> wake(String endpointId);

    /** An authenticated client session to {@code endpointId} began (holds the compute awake). */
    void sessionOpened(String endpointId);

    /** A session from {@link #sessionOpened} ended; the last one starts the suspend timer. */
    void sessionClosed(String endpointId);

    /**
     * An endpoint as the proxy needs it.
     *
     * @param endpointId the id clients route with
     * @param tenant     its tenant's name (for logs and errors)
     * @param branch     its branch's ref (for logs and errors)
     * @param verifier   the SCRAM-SHA-256 verifier of the branch's password
     */
    record Endpoint(String endpointId, String tenant, String branch, ScramVerifier verifier) {
    }

    /** Why a compute could not be woken: the message goes to the client in a FATAL error. */
    final class WakeException extends RuntimeException {
        public WakeException(String message) {
            super(message);
        }

        public WakeException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
