package io.forkline.pageserver.api;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Maps {@code METHOD /path/{param}/...} patterns to handlers. Matching is by path segments of the
 * raw (still percent-encoded) path, so an encoded {@code %2F} stays inside one parameter; literal
 * segments win over parameters. A path that matches with another method gives 405 with the allowed
 * methods; no match gives 404. Every route has an {@link Access}: by default {@link Access#TENANT}
 * when its pattern has a {@code {tenant}} parameter, else {@link Access#ADMIN}, so a new route is
 * never public by accident. Thread-safe once built.
 */
public final class Router {
    /** A route handler: returns the response body (serialized as JSON) or an {@link ApiResponse}. */
    @FunctionalInterface
    public interface Handler {
        Object handle(ApiRequest request) throws Exception;
    }

    /** A group of routes (tenants and branches, backups, ...). */
    public interface Module {
        void register(Router router);
    }

    /** Which tokens a route accepts (checked by the transport before the handler runs). */
    public enum Access {
        /** No token needed ({@code GET /v1/status}). */
        PUBLIC,
        /** Any valid token; the handler narrows what it shows to {@link ApiRequest#scope()} (the tenant list). */
        AUTHENTICATED,
        /** An admin token, or a token of the tenant named by the route's {@code {tenant}} parameter. */
        TENANT,
        /** An admin token only (tenant create/import, quotas, tokens, metrics). */
        ADMIN
    }

    private record Route(String method, String[] segments, Access access, Handler handler) {
    }

    /** A match: the handler, who may call it, and the decoded path parameters. */
    public record Match(Handler handler, Access access, Map<String, String> params) {
    }

    /** A registered route as documentation and tests see it. */
    public record RouteInfo(String method, String pattern, Access access) {
    }

    private final List<Route> routes = new ArrayList<>();

    /** Every registered route, in registration order. */
    public List<RouteInfo> routes() {
        List<RouteInfo> out = new ArrayList<>();
        for (Route r : routes) {
            out.add(new RouteInfo(r.method(), "/" + String.join("/", r.segments()), r.access()));
        }
        return out;
    }

    /**
     * Adds a route with the default access: {@link Access#TENANT} when {@code pattern} has a
     * {@code {tenant}} parameter, else {@link Access#ADMIN}.
     *
     * @param method  GET, POST, PUT, DELETE
     * @param pattern e.g. {@code /v1/tenants/{tenant}/branches/{ref}}
     */
    public Router add(String method, String pattern, Handler handler) {
        return add(method, pattern, pattern.contains("{tenant}") ? Access.TENANT : Access.ADMIN, handler);
    }

    /**
     * Adds a route with an explicit access.
     *
     * @throws IllegalArgumentException when {@code access} is {@link Access#TENANT} and the pattern has no {@code {tenant}}
     */
    public Router add(String method, String pattern, Access access, Handler handler) {
        if (access == Access.TENANT && !pattern.contains("{tenant}")) {
            throw new IllegalArgumentException("route " + method + " " + pattern + " has no {tenant} for TENANT access");
        }
        routes.add(new Route(method, split(pattern), access, handler));
        return this;
    }

    /**
     * Finds the handler for a request.
     *
     * @param rawPath the request's raw path (percent-encoded)
     * @throws ApiException 404 when nothing matches, 405 ({@link MethodNotAllowed}) when only the method is wrong
     */
    public Match match(String method, String rawPath) {
        String[] segs = split(rawPath);
        Set<String> allowed = new LinkedHashSet<>();
        Match best = null;
        int bestLiterals = -1;
        for (Route r : routes) {
            Map<String, String> params = bind(r.segments(), segs);
            if (params == null) {
                continue;
            }
            if (!r.method().equals(method)) {
                allowed.add(r.method());
                continue;
            }
            int literals = 0;
            for (String s : r.segments()) {
                if (!s.startsWith("{")) {
                    literals++;
                }
            }
            if (literals > bestLiterals) {
                best = new Match(r.handler(), r.access(), params);
                bestLiterals = literals;
            }
        }
        if (best != null) {
            return best;
        }
        if (!allowed.isEmpty()) {
            throw new MethodNotAllowed(method, rawPath, String.join(", ", allowed));
        }
        throw ApiException.notFound("no such resource: " + method + " " + decode(rawPath));
    }

    private static Map<String, String> bind(String[] pattern, String[] path) {
        if (pattern.length != path.length) {
            return null;
        }
        Map<String, String> params = new HashMap<>();
        for (int i = 0; i < pattern.length; i++) {
            String p = pattern[i];
            if (p.startsWith("{") && p.endsWith("}")) {
                params.put(p.substring(1, p.length() - 1), decode(path[i]));
            } else if (!p.equals(path[i])) {
                return null;
            }
        }
        return params;
    }

    private static String[] split(String path) {
        String p = path.replaceAll("/+$", "");
        return p.startsWith("/") ? p.substring(1).split("/") : p.split("/");
    }

    static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("bad percent-encoding in '" + s + "'");
        }
    }

    /** 405, with the methods the resource does allow (the {@code Allow} header, RFC 9110 section 15.5.6). */
    public static final class MethodNotAllowed extends ApiException {
        private final String allowed;

        MethodNotAllowed(String method, String path, String allowed) {
            super(405, "method_not_allowed", method + " is not allowed on " + decode(path) + " (allowed: " + allowed + ")");
            this.allowed = allowed;
        }

        public String allowed() {
            return allowed;
        }
    }
}
