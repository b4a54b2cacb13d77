package io.forkline.pageserver.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.forkline.pageserver.tenant.BranchInfo;
import io.forkline.pageserver.tenant.TenantService;
import io.forkline.storage.lsn.Lsn;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The admin HTTP API behind the CLI, on {@code 127.0.0.1:PORT} (JDK {@code com.sun.net.httpserver}).
 * JSON in and out; every error is {@code {"error":{"code","message"}}} with status 400, 404, 405
 * (with {@code Allow}), 409, 500 or 503. A body must be one JSON object of at most 1 MiB (trailing
 * content is malformed). Request lines the JDK server cannot parse (e.g. a bad {@code %} escape)
 * are refused by it with a plain 400 before they reach this handler.
 *
 * <pre>
 *   GET    /v1/status
 *   GET    /v1/tenants                                       -> [{name, created_at, init_lsn}]
 *   POST   /v1/tenants                {"name"}               -> tenant (201)
 *   GET    /v1/tenants/{t}/branches                          -> [{ref, timeline_id, parent, ancestor_lsn,
 *                                                                 last_record_lsn, created_at, endpoint}]
 *   POST   /v1/tenants/{t}/branches   {"ref","parent"?,"lsn"?,"at"?} -> branch (201)
 *   DELETE /v1/tenants/{t}/branches/{ref}
 *   POST   /v1/tenants/{t}/branches/{ref}/endpoint/start    -> {"uri"}
 *   POST   /v1/tenants/{t}/branches/{ref}/endpoint/stop     -> {}
 * </pre>
 * Branch refs may contain {@code /}; in paths they are percent-encoded ({@code %2F}).
 */
public final class AdminHttpServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AdminHttpServer.class);
    private static final int MAX_BODY_BYTES = 1 << 20;

    private final HttpServer server;
    private final ExecutorService executor;
    private final TenantService tenants;
    /** Strict: {@code {"ref":"a"} {"ref":"b"}} is malformed, not the first object. */
    private final ObjectMapper json = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private AdminHttpServer(HttpServer server, ExecutorService executor, TenantService tenants) {
        this.server = server;
        this.executor = executor;
        this.tenants = tenants;
    }

    /**
     * Binds {@code 127.0.0.1:port} and starts serving.
     *
     * @throws IOException when the port is in use (the message names it)
     */
    public static AdminHttpServer start(int port, TenantService tenants) throws IOException {
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 64);
        } catch (BindException e) {
            throw new BindException("port " + port + " on 127.0.0.1 is in use (is another forkline server running? use --port)");
        }
        ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor();
        server.setExecutor(ex);
        AdminHttpServer api = new AdminHttpServer(server, ex, tenants);
        server.createContext("/", api::handle);
        server.start();
        return api;
    }

    /** The bound port. */
    public int port() {
        return server.getAddress().getPort();
    }

    private void handle(HttpExchange x) throws IOException {
        try (x) {
            try {
                Object result = route(x);
                int status = x.getRequestMethod().equals("POST") && result instanceof Created c ? 201 : 200;
                send(x, status, result instanceof Created c ? c.body() : result);
            } catch (MethodNotAllowed e) {
                x.getResponseHeaders().set("Allow", e.allowed);
                sendError(x, e.status(), e.code(), e.getMessage());
            } catch (ApiException e) {
                sendError(x, e.status(), e.code(), e.getMessage());
            } catch (JsonProcessingException e) {
                sendError(x, 400, "bad_request", "request body is not valid JSON: " + e.getOriginalMessage());
            } catch (RuntimeException e) {
                log.error("{} {} failed", x.getRequestMethod(), x.getRequestURI(), e);
                sendError(x, 500, "internal", e.toString());
            }
        }
    }

    private record Created(Object body) {
    }

    /** 405, with the methods the resource does allow (the {@code Allow} header, RFC 9110 section 15.5.6). */
    private static final class MethodNotAllowed extends ApiException {
        private final String allowed;

        MethodNotAllowed(String method, HttpExchange x, String allowed) {
            super(405, "method_not_allowed", method + " is not allowed on " + x.getRequestURI().getPath()
                    + " (allowed: " + allowed + ")");
            this.allowed = allowed;
        }
    }

    private Object route(HttpExchange x) throws IOException {
        String method = x.getRequestMethod();
        String[] p = x.getRequestURI().getRawPath().replaceAll("/+$", "").split("/");
        // p[0] = "", p[1] = "v1", ...
        if (p.length < 3 || !p[1].equals("v1")) {
            throw ApiException.notFound("no such resource: " + x.getRequestURI().getPath());
        }
        if (p.length == 3 && p[2].equals("status")) {
            if (!method.equals("GET")) {
                throw new MethodNotAllowed(method, x, "GET");
            }
            return json.createObjectNode().put("status", "ok");
        }
        if (!p[2].equals("tenants")) {
            throw ApiException.notFound("no such resource: " + x.getRequestURI().getPath());
        }
        if (p.length == 3) {
            return switch (method) {
                case "GET" -> tenants.listTenants();
                case "POST" -> new Created(tenants.createTenant(text(body(x), "name", true)));
                default -> throw new MethodNotAllowed(method, x, "GET, POST");
            };
        }
        String tenant = decode(p[3]);
        if (p.length == 5 && p[4].equals("branches")) {
            return switch (method) {
                case "GET" -> branchList(tenant);
                case "POST" -> {
                    JsonNode b = body(x);
                    yield new Created(tenants.createBranch(tenant, text(b, "ref", true), text(b, "parent", false),
                            text(b, "lsn", false), text(b, "at", false)));
                }
                default -> throw new MethodNotAllowed(method, x, "GET, POST");
            };
        }
        if (p.length >= 6 && p[4].equals("branches")) {
            String ref = decode(p[5]);
            if (p.length == 6) {
                return switch (method) {
                    case "DELETE" -> {
                        tenants.deleteBranch(tenant, ref);
                        yield json.createObjectNode();
                    }
                    case "GET" -> tenants.branch(tenant, ref);
                    default -> throw new MethodNotAllowed(method, x, "GET, DELETE");
                };
            }
            if (p.length == 8 && p[6].equals("endpoint") && (p[7].equals("start") || p[7].equals("stop"))
                    && !method.equals("POST")) {
                throw new MethodNotAllowed(method, x, "POST");
            }
            if (p.length == 8 && p[6].equals("endpoint") && method.equals("POST")) {
                switch (p[7]) {
                    case "start":
                        return json.createObjectNode().put("uri", tenants.startEndpoint(tenant, ref));
                    case "stop":
                        tenants.stopEndpoint(tenant, ref);
                        return json.createObjectNode();
                    default:
                        break;
                }
            }
        }
        throw ApiException.notFound("no such resource: " + method + " " + x.getRequestURI().getPath());
    }

    private ArrayNode branchList(String tenant) {
        ArrayNode arr = json.createArrayNode();
        for (TenantService.BranchView v : tenants.listBranches(tenant)) {
            BranchInfo b = v.info();
            ObjectNode n = arr.addObject();
            n.put("ref", b.ref());
            n.put("timeline_id", b.timelineId());
            n.put("parent", b.parent());
            n.put("ancestor_lsn", b.ancestorLsn());
            n.put("last_record_lsn", Lsn.format(v.lastRecordLsn()));
            n.put("created_at", b.createdAt());
            ObjectNode e = n.putObject("endpoint");
            e.put("state", v.endpointState());
            e.put("uri", v.uri());
        }
        return arr;
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
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

    private static String text(JsonNode body, String field, boolean required) {
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

    private void send(HttpExchange x, int status, Object body) throws IOException {
        byte[] bytes = json.writeValueAsBytes(body);
        x.getResponseHeaders().set("Content-Type", "application/json");
        x.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(bytes);
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
