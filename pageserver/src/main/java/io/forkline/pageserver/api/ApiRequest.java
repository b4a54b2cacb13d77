package io.forkline.pageserver.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.forkline.pageserver.auth.AuthScope;

import java.util.Map;

/**
 * One admin API request as a route handler sees it.
 *
 * @param method HTTP method
 * @param path   decoded request path
 * @param params path parameters by name, percent-decoded (so a ref may contain {@code /})
 * @param query  query parameters, percent-decoded (last value wins)
 * @param body   the JSON object body ({@code {}} when empty); reading it happened before dispatch only
 *               for methods that carry one
 * @param scope  what the caller's token allows (already checked against the route's
 *               {@link Router.Access}); {@code null} on a {@link Router.Access#PUBLIC} route
 * @param headers        the request headers (names case-insensitive); empty when made without a transport
 * @param sessionCookie  the console session token when the caller was authenticated by the session
 *                       cookie ({@link io.forkline.pageserver.console.ConsoleSessions}), else {@code null}
 */
public record ApiRequest(String method, String path, Map<String, String> params, Map<String, String> query,
                         JsonNode body, AuthScope scope, com.sun.net.httpserver.Headers headers, String sessionCookie) {

    /** A request without headers, authenticated other than by the session cookie. */
    public ApiRequest(String method, String path, Map<String, String> params, Map<String, String> query,
                      JsonNode body, AuthScope scope) {
        this(method, path, params, query, body, scope, new com.sun.net.httpserver.Headers(), null);
    }

    /** The first value of request header {@code name} (case-insensitive), or {@code null}. */
    public String header(String name) {
        return headers.getFirst(name);
    }

    /** A path parameter that the route pattern guarantees. */
    public String param(String name) {
        String v = params.get(name);
        if (v == null) {
            throw new IllegalStateException("route has no parameter {" + name + "}");
        }
        return v;
    }

    /**
     * A string field of the body.
     *
     * @throws ApiException 400 when required and missing, or present and not a string
     */
    public String text(String field, boolean required) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            if (required) {
                throw ApiException.badRequest("missing field '" + field + "'");
            }
            return null;
        }
        if (!v.isTextual()) {
            throw ApiException.badRequest("field '" + field + "' must be a string, got " + v);
        }
        return v.asText();
    }

    /**
     * A boolean field of the body, {@code dflt} when absent.
     *
     * @throws ApiException 400 when present and not a boolean
     */
    public boolean bool(String field, boolean dflt) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isBoolean()) {
            throw ApiException.badRequest("field '" + field + "' must be true or false, got " + v);
        }
        return v.asBoolean();
    }

    /** Whether the body has {@code field} with a non-null value. */
    public boolean has(String field) {
        JsonNode v = body.get(field);
        return v != null && !v.isNull();
    }

    /**
     * A query parameter read as a boolean: absent, {@code false} or {@code 0} is false; present with no
     * value, {@code true} or {@code 1} is true.
     *
     * @throws ApiException 400 naming the parameter and the value otherwise
     */
    public boolean flag(String name) {
        String v = query.get(name);
        if (v == null || v.equals("false") || v.equals("0")) {
            return false;
        }
        if (v.isEmpty() || v.equals("true") || v.equals("1")) {
            return true;
        }
        throw ApiException.badRequest("invalid query parameter " + name + "='" + v + "': expected true or false");
    }
}
