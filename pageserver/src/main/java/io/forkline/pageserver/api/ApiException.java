package io.forkline.pageserver.api;

/**
 * An error the admin API reports as {@code {"error":{"code","message"}}} with an HTTP status:
 * 400 bad input, 403 a quota would be exceeded, 404 unknown tenant/branch, 409 conflict with existing
 * state, 503 not ready.
 */
public class ApiException extends RuntimeException {
    private final int status;
    private final String code;

    public ApiException(int status, String code, String message) {
        super(message);
        this.status = status;
        this.code = code;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public static ApiException badRequest(String message) {
        return new ApiException(400, "bad_request", message);
    }

    /** 403 {@code quota_exceeded}: the message gives the limit and the current usage. */
    public static ApiException forbidden(String message) {
        return new ApiException(403, "quota_exceeded", message);
    }

    public static ApiException notFound(String message) {
        return new ApiException(404, "not_found", message);
    }

    public static ApiException conflict(String message) {
        return new ApiException(409, "conflict", message);
    }

    public static ApiException unavailable(String message) {
        return new ApiException(503, "unavailable", message);
    }
}
