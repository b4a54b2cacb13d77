package io.forkline.pageserver.api;

/**
 * An error the admin API reports as {@code {"error":{"code","message"}}} with an HTTP status:
 * 400 bad input, 403 a quota would be exceeded, 404 unknown tenant/branch, 409 conflict with existing
 * state, 503 not ready.
 */
public class ApiException extends RuntimeException {
    private final int status;
    private final String code;

    /**
     * @param status  HTTP status, e.g. 409
     * @param code    machine-readable error code, snake_case, e.g. {@code below_gc_cutoff}
     * @param message for people: names the offending value and, where it helps, what to do
     */
    public ApiException(int status, String code, String message) {
        super(message);
        this.status = status;
        this.code = code;
    }

    /** The HTTP status. */
    public int status() {
        return status;
    }

    /** The error code of the JSON body, e.g. {@code not_found}. */
    public String code() {
        return code;
    }

    /** 400 {@code bad_request}: malformed or invalid input; the message names the value. */
    public static ApiException badRequest(String message) {
        return new ApiException(400, "bad_request", message);
    }

    /** 403 {@code quota_exceeded}: the message gives the limit and the current usage. */
    public static ApiException forbidden(String message) {
        return new ApiException(403, "quota_exceeded", message);
    }

    /** 404 {@code not_found}: an unknown tenant, branch, backup, ...; the message names it. */
    public static ApiException notFound(String message) {
        return new ApiException(404, "not_found", message);
    }

    /** 409 {@code conflict}: the request contradicts existing state (exists already, protected, ...). */
    public static ApiException conflict(String message) {
        return new ApiException(409, "conflict", message);
    }

    /** 503 {@code unavailable}: a compute or another resource cannot be used now; retrying may succeed. */
    public static ApiException unavailable(String message) {
        return new ApiException(503, "unavailable", message);
    }
}
