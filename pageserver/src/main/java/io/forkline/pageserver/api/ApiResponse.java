package io.forkline.pageserver.api;

import java.util.Map;

/**
 * What a route handler returns when the default (200, JSON of the returned object) is not right.
 *
 * @param status      HTTP status
 * @param contentType media type of {@code body} when it is raw bytes; {@code null} for JSON
 * @param body        an object serialized as JSON, {@code byte[]} sent as is, a {@link BodyWriter} streamed,
 *                    or {@code null} for no body (redirects)
 * @param headers     extra response headers (e.g. {@code Set-Cookie}, {@code Location}), in order
 */
public record ApiResponse(int status, String contentType, Object body, java.util.List<Map.Entry<String, String>> headers) {
    public ApiResponse {
        headers = java.util.List.copyOf(headers);
    }

    /** A response without extra headers. */
    public ApiResponse(int status, String contentType, Object body) {
        this(status, contentType, body, java.util.List.of());
    }

    /** This response with header {@code name: value} added. */
    public ApiResponse withHeader(String name, String value) {
        java.util.List<Map.Entry<String, String>> h = new java.util.ArrayList<>(headers);
        h.add(Map.entry(name, value));
        return new ApiResponse(status, contentType, body, h);
    }

    /** 303 See Other to {@code location} (a path of this server), no body. */
    public static ApiResponse seeOther(String location) {
        return new ApiResponse(303, null, null).withHeader("Location", location);
    }

    /** 200 with a JSON body. */
    public static ApiResponse ok(Object body) {
        return new ApiResponse(200, null, body);
    }
    /** 201 with a JSON body. */
    public static ApiResponse created(Object body) {
        return new ApiResponse(201, null, body);
    }

    /** Writes a streamed response body. */
    @FunctionalInterface
    public interface BodyWriter {
        /**
         * Writes the whole body to {@code out} (do not close it). An exception after the first byte
         * cannot become an error status any more: the transport logs it and ends the response, so a
         * streamed format should make truncation detectable (e.g. a tar's end-of-archive blocks).
         */
        void writeTo(java.io.OutputStream out) throws java.io.IOException;
    }

    /** 200 with a body of the given media type streamed by {@code writer} (chunked; no length up front). */
    public static ApiResponse stream(String contentType, BodyWriter writer) {
        return new ApiResponse(200, contentType, writer);
    }

    /** 200 with raw bytes of the given media type (e.g. Prometheus text). */
    public static ApiResponse raw(String contentType, byte[] body) {
        return new ApiResponse(200, contentType, body);
    }
}
