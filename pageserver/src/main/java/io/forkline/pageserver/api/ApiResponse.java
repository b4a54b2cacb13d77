package io.forkline.pageserver.api;

/**
 * What a route handler returns when the default (200, JSON of the returned object) is not right.
 *
 * @param status      HTTP status
 * @param contentType media type of {@code body} when it is raw bytes; {@code null} for JSON
 * @param body        an object serialized as JSON, or {@code byte[]} sent as is
 */
public record ApiResponse(int status, String contentType, Object body) {
    /** 201 with a JSON body. */
    public static ApiResponse created(Object body) {
        return new ApiResponse(201, null, body);
    }

    /** 200 with raw bytes of the given media type (e.g. Prometheus text). */
    public static ApiResponse raw(String contentType, byte[] body) {
        return new ApiResponse(200, contentType, body);
    }
}
