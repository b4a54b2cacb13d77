package io.forkline.pageserver.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.forkline.pageserver.auth.AuthException;
import io.forkline.pageserver.auth.AuthScope;
import io.forkline.pageserver.auth.TokenVerifier;
import io.forkline.pageserver.console.ConsoleSessions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The admin HTTP API behind the CLI, on {@code 127.0.0.1:PORT} (JDK {@code com.sun.net.httpserver}):
 * the transport. Routes come from {@link Router.Module}s ({@link TenantRoutes}, ...). JSON in and
 * out; every error is {@code {"error":{"code","message"}}} with status 400, 401, 403, 404, 405 (with
 * {@code Allow}), 409, 500 or 503.
 *
 * <p>Authentication: every route but the {@link Router.Access#PUBLIC} ones needs
 * {@code Authorization: Bearer <token>} that the {@link TokenVerifier} accepts; a missing, malformed,
 * wrongly signed or expired token gets 401 {@code unauthorized} (with
 * {@code WWW-Authenticate: Bearer}), checked before the route is looked up, so an unauthenticated
 * caller learns nothing but that. A valid token whose scope does not cover the route
 * ({@link Router.Access}) gets 403 {@code forbidden}. A body must be one JSON object of at most 1 MiB (trailing
 * content is malformed). Request lines the JDK server cannot parse (e.g. a bad {@code %} escape)
 * are refused by it with a plain 400 before they reach this handler. Branch refs may contain
 * {@code /}; in paths they are percent-encoded ({@code %2F}).
 *
 * <p>The web console's session cookie ({@link ConsoleSessions#COOKIE}) is accepted instead of the
 * bearer header (the header wins when both are sent). A cookie-authenticated request other than
 * GET/HEAD to a non-public route must carry {@link ConsoleSessions#CSRF_HEADER} (403 {@code forbidden}
 * otherwise, before the handler runs).
 */
public final class AdminHttpServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AdminHttpServer.class);
    /** The JDK server's switch for {@code TCP_NODELAY} ({@code sun.net.httpserver.ServerConfig}). */
    static final String NODELAY_PROPERTY = "sun.net.httpserver.nodelay";
    private static final int MAX_BODY_BYTES = 1 << 20;

    private final HttpServer server;
    private final ExecutorService executor;
    private final Router router;
    private final TokenVerifier verifier;
    private final ConsoleSessions sessions;
    /** Strict: {@code {"ref":"a"} {"ref":"b"}} is malformed, not the first object. */
    private final ObjectMapper json = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private AdminHttpServer(HttpServer server, ExecutorService executor, Router router, TokenVerifier verifier,
                            ConsoleSessions sessions) {
        this.sessions = sessions;
        this.server = server;
        this.executor = executor;
        this.router = router;
        this.verifier = verifier;
    }

    /**
     * Binds {@code 127.0.0.1:port} and serves the routes of {@code modules}.
     *
     * @param verifier checks the bearer token of every non-public request ({@link TokenVerifier#disabled()}: none)
     * @throws IOException when the port is in use (the message names it)
     */
    public static AdminHttpServer start(int port, TokenVerifier verifier, Router.Module... modules) throws IOException {
        return start(port, verifier, null, modules);
    }

    /**
     * Binds {@code 127.0.0.1:port} and serves the routes of {@code modules}, accepting the console's
     * session cookie as well as the bearer header.
     *
     * @param sessions the console's sessions (cookie name, CSRF check); {@code null}: bearer tokens only
     * @throws IOException when the port is in use (the message names it)
     */
    public static AdminHttpServer start(int port, TokenVerifier verifier, ConsoleSessions sessions,
                                        Router.Module... modules) throws IOException {
        Router router = new Router();
        for (Router.Module m : modules) {
            m.register(router);
        }
        // TCP_NODELAY on accepted connections: the JDK server writes the headers and the body of a
        // response separately, and with Nagle's algorithm the body may wait for the client's
        // (delayed, up to 40 ms) ACK of the headers. Read once, when the JDK server's config loads.
        if (System.getProperty(NODELAY_PROPERTY) == null) {
            System.setProperty(NODELAY_PROPERTY, "true");
        }
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 64);
        } catch (BindException e) {
            throw new BindException("port " + port + " on 127.0.0.1 is in use (is another forkline server running? use --port)");
        }
        ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor();
        server.setExecutor(ex);
        AdminHttpServer api = new AdminHttpServer(server, ex, router, java.util.Objects.requireNonNull(verifier, "verifier"),
                sessions);
        server.createContext("/", api::handle);
        server.start();
        return api;
    }

    /** Every route this server answers (method, pattern, access). */
    public java.util.List<Router.RouteInfo> routes() {
        return router.routes();
    }

    /** The bound port. */
    public int port() {
        return server.getAddress().getPort();
    }

    private void handle(HttpExchange x) throws IOException {
        try (x) {
            try {
                String method = x.getRequestMethod();
                Router.Match m = null;
                ApiException noRoute = null;
                try {
                    m = router.match(method, x.getRequestURI().getRawPath());
                } catch (ApiException e) {
                    noRoute = e; // reported only to an authenticated caller
                }
                AuthScope scope = null;
                String token = bearerToken(x);
                String cookieSession = null;
                if (token == null && sessions != null && verifier.enabled()) {
                    cookieSession = ConsoleSessions.sessionFromCookieHeader(x.getRequestHeaders().getFirst("Cookie"));
                    token = cookieSession;
                }
                if (m == null || m.access() != Router.Access.PUBLIC) {
                    scope = verifier.verify(token);
                    if (cookieSession != null && !method.equals("GET") && !method.equals("HEAD")) {
                        sessions.checkCsrf(cookieSession, x.getRequestHeaders().getFirst(ConsoleSessions.CSRF_HEADER),
                                method + " " + x.getRequestURI().getPath());
                    }
                }
                if (noRoute != null) {
                    throw noRoute;
                }
                authorize(m, scope, method, x.getRequestURI().getPath());
                ApiRequest req = new ApiRequest(method, x.getRequestURI().getPath(), m.params(),
                        query(x.getRequestURI().getRawQuery()), body(x), scope, x.getRequestHeaders(),
                        scope == null ? null : cookieSession);
                Object result = m.handler().handle(req);
                if (result instanceof ApiResponse r) {
                    for (Map.Entry<String, String> h : r.headers()) {
                        x.getResponseHeaders().add(h.getKey(), h.getValue());
                    }
                    if (r.body() == null) {
                        x.sendResponseHeaders(r.status(), -1);
                    } else if (r.body() instanceof byte[] raw) {
                        sendRaw(x, r.status(), r.contentType(), raw);
                    } else if (r.body() instanceof ApiResponse.BodyWriter w) {
                        sendStream(x, r.status(), r.contentType(), w);
                    } else {
                        send(x, r.status(), r.body());
                    }
                } else {
                    send(x, 200, result);
                }
            } catch (Router.MethodNotAllowed e) {
                x.getResponseHeaders().set("Allow", e.allowed());
                sendError(x, e.status(), e.code(), e.getMessage());
            } catch (ApiException e) {
                sendError(x, e.status(), e.code(), e.getMessage());
            } catch (AuthException e) {
                log.info("{} {} refused ({}): {}", x.getRequestMethod(), x.getRequestURI().getPath(), e.code(), e.getMessage());
                if (e.code() == AuthException.Code.UNAUTHORIZED) {
                    x.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"forkline\", error=\"invalid_token\"");
                    sendError(x, 401, "unauthorized", e.getMessage());
                } else {
                    sendError(x, 403, "forbidden", e.getMessage());
                }
            } catch (JsonProcessingException e) {
                sendError(x, 400, "bad_request", "request body is not valid JSON: " + e.getOriginalMessage());
            } catch (Exception e) {
                log.error("{} {} failed", x.getRequestMethod(), x.getRequestURI(), e);
                sendError(x, 500, "internal", e.toString());
            }
        }
    }

    /**
     * The token of an {@code Authorization: Bearer <token>} header (scheme case-insensitive, RFC 6750
     * section 2.1); null when there is no such header (the verifier then says a token is missing).
     *
     * @throws AuthException 401 when the header uses another scheme
     */
    private String bearerToken(HttpExchange x) throws AuthException {
        String h = x.getRequestHeaders().getFirst("Authorization");
        if (h == null || !verifier.enabled()) {
            return null;
        }
        String v = h.strip();
        int sp = v.indexOf(' ');
        String scheme = sp < 0 ? v : v.substring(0, sp);
        if (!scheme.equalsIgnoreCase("Bearer")) {
            throw AuthException.unauthorized("the Authorization header must be 'Bearer <token>', not scheme '"
                    + (scheme.length() > 20 ? scheme.substring(0, 20) + "..." : scheme) + "'");
        }
        return sp < 0 ? "" : v.substring(sp + 1).strip();
    }

    /**
     * Checks the route's {@link Router.Access} against the caller's scope.
     *
     * @throws AuthException 403 when the scope does not cover the route
     */
    private static void authorize(Router.Match m, AuthScope scope, String method, String path) throws AuthException {
        switch (m.access()) {
            case PUBLIC, AUTHENTICATED -> {
            }
            case TENANT -> scope.requireTenant(m.params().get("tenant"));
            case ADMIN -> scope.requireAdmin(method + " " + path);
        }
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> out = new HashMap<>();
        if (raw == null || raw.isEmpty()) {
            return out;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String k = Router.decode(eq < 0 ? pair : pair.substring(0, eq));
            out.put(k, eq < 0 ? "" : Router.decode(pair.substring(eq + 1)));
        }
        return out;
    }

    private JsonNode body(HttpExchange x) throws IOException {
        byte[] bytes;
        try (InputStream in = x.getRequestBody()) {
            bytes = in.readNBytes(MAX_BODY_BYTES + 1);
        }
        if (bytes.length > MAX_BODY_BYTES) {
            throw ApiException.badRequest("request body larger than " + MAX_BODY_BYTES + " bytes");
        }
        if (bytes.length == 0) {
            return json.createObjectNode();
        }
        JsonNode n = json.readTree(bytes);
        if (n == null || !n.isObject()) {
            throw ApiException.badRequest("request body must be a JSON object, got: "
                    + new String(bytes, 0, Math.min(bytes.length, 100), StandardCharsets.UTF_8));
        }
        return n;
    }

    private void send(HttpExchange x, int status, Object body) throws IOException {
        byte[] bytes = json.writeValueAsBytes(body);
        x.getResponseHeaders().set("Content-Type", "application/json");
        x.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static void sendRaw(HttpExchange x, int status, String contentType, byte[] bytes) throws IOException {
        x.getResponseHeaders().set("Content-Type", contentType);
        x.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(bytes);
        }
    }

    /** A chunked body; a failure after the headers went out is logged and ends the body early. */
    private static void sendStream(HttpExchange x, int status, String contentType, ApiResponse.BodyWriter w) throws IOException {
        x.getResponseHeaders().set("Content-Type", contentType);
        x.sendResponseHeaders(status, 0);
        try (OutputStream out = new java.io.BufferedOutputStream(x.getResponseBody(), 1 << 16)) {
            w.writeTo(out);
        } catch (IOException e) {
            // the client went away (closed the connection, could not write its file): its problem, one line
            log.warn("{} {}: the client stopped reading ({}); the body is truncated", x.getRequestMethod(),
                    x.getRequestURI(), e.getMessage());
        } catch (Exception e) {
            log.error("{} {} failed after the response started; the body is truncated", x.getRequestMethod(),
                    x.getRequestURI(), e);
        }
    }

    private void sendError(HttpExchange x, int status, String code, String message) throws IOException {
        ObjectNode n = json.createObjectNode();
        ObjectNode e = n.putObject("error");
        e.put("code", code);
        e.put("message", message);
        send(x, status, n);
    }

    /** Stops accepting requests (in-flight ones get up to a second). */
    @Override
    public void close() {
        server.stop(1);
        executor.shutdownNow();
    }
}
