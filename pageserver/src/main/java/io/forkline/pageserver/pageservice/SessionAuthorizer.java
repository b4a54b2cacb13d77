package io.forkline.pageserver.pageservice;

/**
 * Decides whether a handshake's token opens a tenant (the server plugs in its JWT verifier).
 */
@FunctionalInterface
public interface SessionAuthorizer {
    /**
     * @param token  the handshake's bearer token (may be empty)
     * @param tenant the tenant the session asks for
     * @throws PageServiceError {@code UNAUTHORIZED} for a missing, malformed, badly signed or expired
     *                          token; {@code FORBIDDEN} for a valid token of another tenant
     */
    void authorize(String token, String tenant);
}
