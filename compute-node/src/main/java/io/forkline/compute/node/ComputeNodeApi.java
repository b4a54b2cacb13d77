package io.forkline.compute.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.forkline.compute.proxy.tls.PemFiles;
import io.forkline.compute.endpoint.ComputeSize;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.concurrent.Executors;

/**
 * The compute node's control API (HTTP/1.1 over TLS, JSON), what the server calls to run computes
 * there. The API presents the node's own certificate ({@link ComputeNode#certificate()}, the one
 * its computes present too), which the server pins, so the bearer token travels encrypted and only
 * to this node; a plain-HTTP request gets no answer (the TLS handshake fails). Every request needs
 * {@code Authorization: Bearer TOKEN} with the node's token (the one it was started with, which the
 * server issued); anything else is 401.
 *
 * <pre>
 *   GET  /v1/computes                         -> [compute]
 *   POST /v1/computes/start {"tenant","ref","timeline_id","size"?,"port"?,"storage"?: "lazy"|"full",
 *                            "client_ca": PEM, "settings"?: {name: value}} -> compute
 *   POST /v1/computes/stop  {"tenant","ref"}  -> {"checkpoint_lsn": "X/Y" | null}
 * </pre>
 *
 * A compute is {@code {tenant, ref, timeline_id, port, storage, state: running|failed, lsn, blocks_fetched}}.
 * {@code client_ca} is the certificate of the CA that issued the server's TLS client certificate:
 * the compute accepts TCP connections only over TLS with a certificate it issued. {@code settings}
 * are postgresql.conf lines for this compute (values as the file takes them).
 * Errors are {@code {"error": message}}: 400 for a bad body (naming the value), 404 for an unknown
 * path, 503 when a compute cannot start.
 */
public final class ComputeNodeApi implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ComputeNodeApi.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer http;
    private final ComputeNode node;
    private final byte[] token;

    private ComputeNodeApi(HttpServer http, ComputeNode node, String token) {
        this.http = http;
        this.node = node;
        this.token = token.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Listens with TLS on {@code host:port} (0: a free port), presenting the node's certificate.
     *
     * @throws IOException when the address cannot be bound (names it) or the certificate not loaded (names the files)
     */
    public static ComputeNodeApi start(ComputeNode node, String token, String host, int port) throws IOException {
        javax.net.ssl.SSLContext tls = PemFiles.serverContext(node.certificate(), node.certificateKey());
        HttpsServer http;
        try {
            http = HttpsServer.create(new InetSocketAddress(host, port), 64);
        } catch (IOException e) {
            throw new IOException("cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
        }
        http.setHttpsConfigurator(new HttpsConfigurator(tls));
        ComputeNodeApi api = new ComputeNodeApi(http, node, token);
        http.createContext("/", api::handle);
        http.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        http.start();
        return api;
    }

    /** The bound port. */
    public int port() {
        return http.getAddress().getPort();
    }

    private static final class HttpError extends RuntimeException {
        final int status;

        HttpError(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    private void handle(HttpExchange ex) {
        try (ex) {
            int status = 200;
            JsonNode body;
            try {
                if (!authorized(ex.getRequestHeaders().getFirst("Authorization"))) {
                    throw new HttpError(401, "missing or wrong bearer token");
                }
                body = route(ex.getRequestMethod(), ex.getRequestURI().getPath(), ex.getRequestBody());
            } catch (HttpError e) {
                status = e.status;
                body = JSON.createObjectNode().put("error", e.getMessage());
            } catch (Exception e) {
                status = 503;
                log.warn("{} {} failed: {}", ex.getRequestMethod(), ex.getRequestURI(), e.toString());
                body = JSON.createObjectNode().put("error", String.valueOf(e.getMessage()));
            }
            byte[] out = JSON.writeValueAsBytes(body);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(status, out.length);
            ex.getResponseBody().write(out);
        } catch (IOException e) {
            log.debug("response not sent: {}", e.toString());
        }
    }

    private boolean authorized(String header) {
        if (header == null || !header.startsWith("Bearer ")) {
            return false;
        }
        return MessageDigest.isEqual(header.substring("Bearer ".length()).strip().getBytes(StandardCharsets.UTF_8), token);
    }

    private JsonNode route(String method, String path, InputStream in) throws IOException {
        switch (method + " " + path) {
            case "GET /v1/computes" -> {
                ArrayNode arr = JSON.createArrayNode();
                node.list().forEach(s -> arr.add(json(s)));
                return arr;
            }
            case "POST /v1/computes/start" -> {
                JsonNode b = body(in);
                String storage = text(b, "storage", false);
                if (storage != null && !storage.equals("lazy") && !storage.equals("full")) {
                    throw new HttpError(400, "invalid storage '" + storage + "': expected lazy or full");
                }
                String sizeText = text(b, "size", false);
                ComputeSize size;
                try {
                    size = sizeText == null ? ComputeSize.DEFAULT : ComputeSize.parse(sizeText);
                } catch (IllegalArgumentException e) {
                    throw new HttpError(400, e.getMessage());
                }
                int port = b.path("port").asInt(0);
                if (port < 0 || port > 65535) {
                    throw new HttpError(400, "invalid port " + b.path("port") + ": expected 0..65535");
                }
                String timeline = text(b, "timeline_id", true);
                if (!timeline.matches("[0-9a-f]{32}")) {
                    throw new HttpError(400, "invalid timeline_id '" + timeline + "': expected 32 hex digits");
                }
                String ca = text(b, "client_ca", false);
                if (ca == null) {
                    throw new HttpError(400, "missing field 'client_ca': computes here accept only TLS connections with a"
                            + " client certificate, so the server must send the certificate of the CA that issued its own");
                }
                if (!ca.strip().startsWith("-----BEGIN CERTIFICATE-----") || !ca.strip().endsWith("-----END CERTIFICATE-----")
                        || ca.length() > 64 * 1024) {
                    throw new HttpError(400, "invalid client_ca: expected one PEM certificate (-----BEGIN CERTIFICATE----- ...)");
                }
                return json(node.start(new ComputeNode.ComputeSpec(name(b, "tenant"), name(b, "ref"), timeline, size, port,
                        storage == null ? "lazy" : storage, ca, settings(b))));
            }
            case "POST /v1/computes/stop" -> {
                JsonNode b = body(in);
                long ckpt = node.stop(name(b, "tenant"), name(b, "ref"));
                ObjectNode n = JSON.createObjectNode();
                if (ckpt == 0) {
                    n.putNull("checkpoint_lsn");
                } else {
                    n.put("checkpoint_lsn", LaunchedCompute.formatLsn(ckpt));
                }
                return n;
            }
            default -> throw new HttpError(404, "no route " + method + " " + path);
        }
    }

    private static JsonNode body(InputStream in) throws IOException {
        try {
            JsonNode b = JSON.readTree(in.readNBytes(1 << 20));
            if (b == null || !b.isObject()) {
                throw new HttpError(400, "the body must be a JSON object");
            }
            return b;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new HttpError(400, "the body is not JSON: " + e.getOriginalMessage());
        }
    }

    private static String text(JsonNode b, String field, boolean required) {
        JsonNode v = b.get(field);
        if (v == null || v.isNull()) {
            if (required) {
                throw new HttpError(400, "missing field '" + field + "'");
            }
            return null;
        }
        if (!v.isTextual()) {
            throw new HttpError(400, "field '" + field + "' must be a string, got " + v);
        }
        return v.asText();
    }

    private static final java.util.regex.Pattern SETTING_NAME = java.util.regex.Pattern.compile("[a-z_][a-z0-9_.]{0,62}");

    /** {@code settings}: an object of postgresql.conf names and one-line string values. */
    private static java.util.Map<String, String> settings(JsonNode b) {
        JsonNode v = b.get("settings");
        if (v == null || v.isNull()) {
            return java.util.Map.of();
        }
        if (!v.isObject()) {
            throw new HttpError(400, "field 'settings' must be an object of names and string values, got " + v);
        }
        java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
        for (var it = v.fields(); it.hasNext(); ) {
            var f = it.next();
            if (!SETTING_NAME.matcher(f.getKey()).matches()) {
                throw new HttpError(400, "invalid setting name '" + f.getKey() + "'");
            }
            String value = f.getValue().isTextual() ? f.getValue().asText() : null;
            if (value == null || value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0 || value.indexOf('\0') >= 0) {
                throw new HttpError(400, "invalid value of setting '" + f.getKey() + "': " + f.getValue()
                        + " (expected a string on one line)");
            }
            out.put(f.getKey(), value);
        }
        return out;
    }

    /** A tenant or ref: becomes a directory name, so no {@code ..}, no NUL, not empty. */
    private static String name(JsonNode b, String field) {
        String v = text(b, field, true);
        if (v.isEmpty() || v.length() > 200 || v.contains("..") || v.startsWith("/") || v.indexOf('\0') >= 0
                || (field.equals("tenant") && v.contains("/"))) {
            throw new HttpError(400, "invalid " + field + " '" + v + "'");
        }
        return v;
    }

    private static ObjectNode json(ComputeNode.ComputeStatus s) {
        ObjectNode n = JSON.createObjectNode();
        n.put("tenant", s.tenant());
        n.put("ref", s.ref());
        n.put("timeline_id", s.timelineId());
        n.put("port", s.port());
        n.put("storage", s.storage());
        n.put("state", s.state());
        n.put("lsn", LaunchedCompute.formatLsn(s.lsn()));
        if (s.blocksFetched() >= 0) {
            n.put("blocks_fetched", s.blocksFetched());
        }
        return n;
    }

    /** Stops listening (running computes are the node's to stop). */
    @Override
    public void close() {
        http.stop(0);
    }
}
