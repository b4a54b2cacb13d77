package io.forkline.pageserver.auth;

/**
 * A request is not authenticated ({@link Code#UNAUTHORIZED}: no token, a malformed, expired or
 * wrongly signed one) or its token's scope does not cover it ({@link Code#FORBIDDEN}). The message
 * says why and what to do; it never contains the token itself (at most its length).
 *
 * <p>Transports map the code: the admin HTTP API to 401 {@code unauthorized} / 403 {@code forbidden},
 * the page service to its {@code UNAUTHORIZED} / {@code FORBIDDEN} error responses.
 */
public class AuthException extends Exception {
    /** Why a request was refused. */
    public enum Code {
        /** No valid token: missing, malformed, bad signature, expired, unknown scope. HTTP 401. */
        UNAUTHORIZED,
        /** A valid token whose scope does not cover the request (another tenant, an admin-only action). HTTP 403. */
        FORBIDDEN
    }

    private final Code code;

    /**
     * @param code    why
     * @param message for people; must not contain the token
     */
    public AuthException(Code code, String message) {
        super(message);
        this.code = java.util.Objects.requireNonNull(code, "code");
    }

    /** Why the request was refused. */
    public Code code() {
        return code;
    }

    /** {@link Code#UNAUTHORIZED} with {@code message}. */
    public static AuthException unauthorized(String message) {
        return new AuthException(Code.UNAUTHORIZED, message);
    }

    /** {@link Code#FORBIDDEN} with {@code message}. */
    public static AuthException forbidden(String message) {
        return new AuthException(Code.FORBIDDEN, message);
    }
}
