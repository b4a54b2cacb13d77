package io.forkline.pageserver.endpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.forkline.compute.endpoint.ComputeSize;
import io.forkline.compute.node.LaunchedCompute;
import io.forkline.compute.proxy.tls.ComputeClientTls;
import io.forkline.compute.proxy.tls.PinnedCertificateTrust;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * The server's client of a compute node's control API ({@code forkline compute-node}, see
 * {@code io.forkline.compute.node.ComputeNodeApi}): starts and stops the computes of branches
 * there over HTTPS, trusting only the node's own certificate (pinned: {@link PinnedCertificateTrust},
 * the file given as {@code --compute-node-cert}), authenticated with a bearer token the node was
 * started with (the server's admin token), so the token goes encrypted and only to that node.
 * The compute's PostgreSQL listens on the node's host, over TLS only, admitting the server's client
 * certificate ({@link ComputeClientTls}: its CA goes with every start), and presents the same node
 * certificate, which the server's clients (WAL receiver, the Postgres proxy, pgjdbc, libpq tools)
 * verify ({@code sslmode=verify-ca} with it as the root).
 *
 * <p>Thread-safe.
 */
public final class RemoteComputeNode {
    /** System property naming the compute node's API URL ({@code forkline server --compute-node URL}). */
    public static final String PROPERTY = "forkline.compute.node";
    /** Environment variable naming it when the property is not set. */
    public static final String ENV = "FORKLINE_COMPUTE_NODE";
    /** System property naming the node's certificate file ({@code forkline server --compute-node-cert FILE}). */
    public static final String CERT_PROPERTY = "forkline.compute.node.cert";
    /** Environment variable naming it when the property is not set. */
    public static final String CERT_ENV = "FORKLINE_COMPUTE_NODE_CERT";
    /** A start fetches at most a basebackup without relation pages; a full one can take longer. */
    private static final Duration START_TIMEOUT = Duration.ofMinutes(35);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration STATUS_TIMEOUT = Duration.ofSeconds(3);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI base;
    private final String token;
    private final ComputeClientTls tls;
    private final HttpClient http;

    /**
     * A compute node to use: its API URL and the certificate it presents.
     *
     * @param url         {@code https://HOST:PORT}
     * @param certificate the node's certificate (PEM), pinned
     */
    public record Target(URI url, Path certificate) {
    }

    /**
     * @param base            the node's API, e.g. {@code https://10.0.0.7:9899}
     * @param nodeCertificate the node's certificate (PEM, its {@code tls/compute.crt}): the only one trusted
     * @param token           what the node requires as bearer token
     * @param tls             the server's client certificate: its CA goes with every start, and the node's
     *                        computes then accept TCP connections only over TLS with that certificate
     *                        ({@code null}: none sent, which a node refuses)
     * @throws IllegalArgumentException naming the URL when it is not {@code https://HOST:PORT}, or the
     *                                  file when it holds no certificate
     */
    public RemoteComputeNode(URI base, Path nodeCertificate, String token, ComputeClientTls tls) {
        this.base = check(base);
        this.token = token;
        try {
            this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).version(HttpClient.Version.HTTP_1_1)
                    .sslContext(PinnedCertificateTrust.clientContext(nodeCertificate)).build();
        } catch (IOException e) {
            throw new IllegalArgumentException("invalid compute node certificate: " + e.getMessage(), e);
        }
        this.tls = tls == null ? null : tls.verifyingServer(nodeCertificate);
    }

    /** The client certificate computes on this node require, or null. */
    public ComputeClientTls tls() {
        return tls;
    }

    /**
     * Parses a compute node URL.
     *
     * @throws IllegalArgumentException naming the text when it is not {@code https://HOST:PORT}
     */
    public static URI parseUrl(String text) {
        try {
            return check(URI.create(text.strip()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage().startsWith("invalid compute node URL") ? e.getMessage()
                    : "invalid compute node URL '" + text + "': expected https://HOST:PORT", e);
        }
    }

    private static URI check(URI u) {
        if ("http".equals(u.getScheme())) {
            throw new IllegalArgumentException("invalid compute node URL '" + u + "': the compute node API is HTTPS "
                    + "(https://HOST:PORT, with the node's certificate as --compute-node-cert)");
        }
        if (!"https".equals(u.getScheme()) || u.getHost() == null || u.getPort() <= 0
                || (u.getPath() != null && !u.getPath().isEmpty() && !u.getPath().equals("/"))) {
            throw new IllegalArgumentException("invalid compute node URL '" + u + "': expected https://HOST:PORT");
        }
        return URI.create("https://" + u.getHost() + ":" + u.getPort());
    }

    /**
     * The configured compute node ({@link #PROPERTY} else {@link #ENV}, with {@link #CERT_PROPERTY}
     * else {@link #CERT_ENV}), or null for computes in the server.
     *
     * @throws IllegalArgumentException when the URL is malformed, or the certificate is not given or not a readable file
     */
    public static Target configured() {
        String v = System.getProperty(PROPERTY, System.getenv(ENV));
        if (v == null || v.isBlank()) {
            return null;
        }
        URI url = parseUrl(v);
        String cert = System.getProperty(CERT_PROPERTY, System.getenv(CERT_ENV));
        if (cert == null || cert.isBlank()) {
            throw new IllegalArgumentException("compute node " + url + " needs its certificate (--compute-node-cert FILE "
                    + "or " + CERT_ENV + "): the node prints its path at start");
        }
        Path file = Path.of(cert.strip());
        if (!Files.isReadable(file)) {
            throw new IllegalArgumentException("compute node certificate '" + cert + "' is not a readable file");
        }
        return new Target(url, file);
    }

    /** The node's API URL. */
    public URI url() {
        return base;
    }

    /** The host computes on this node listen on (the URL's host). */
    public String host() {
        return base.getHost();
    }

    /**
     * A compute running on the node.
     *
     * @param lsn the LSN its data directory was built at
     */
    public record Compute(String host, int port, String storage, long lsn, long blocksFetched) {
    }

    /**
     * Starts the compute of {@code tenant/ref} on {@code timelineId}'s last record LSN (one that
     * runs there is stopped first).
     *
     * @throws IOException naming the node when it cannot be reached or refuses (its message)
     */
    public Compute start(String tenant, String ref, String timelineId, ComputeSize size, int port, StorageMode storage)
            throws IOException {
        return start(tenant, ref, timelineId, size, port, storage, java.util.Map.of());
    }

    /**
     * As {@link #start(String, String, String, ComputeSize, int, StorageMode)} with per-endpoint
     * settings ({@code name → value} as postgresql.conf takes it, values already quoted), which the
     * node writes beside the compute's data directory as the server does for its own computes.
     *
     * @throws IOException naming the node when it cannot be reached or refuses (its message)
     */
    public Compute start(String tenant, String ref, String timelineId, ComputeSize size, int port, StorageMode storage,
                         java.util.Map<String, String> settings) throws IOException {
        ObjectNode b = JSON.createObjectNode();
        b.put("tenant", tenant).put("ref", ref).put("timeline_id", timelineId).put("size", size.apiName())
                .put("port", port).put("storage", storage.apiName());
        if (tls != null) {
            b.put("client_ca", tls.caPem());
        }
        ObjectNode extra = b.putObject("settings");
        settings.forEach(extra::put);
        return compute(call("POST", "/v1/computes/start", b, START_TIMEOUT));
    }

    /**
     * Stops the compute of {@code tenant/ref} with a fast shutdown.
     *
     * @return its shutdown checkpoint LSN, 0 when unknown (it did not run there)
     * @throws IOException naming the node when it cannot be reached or refuses
     */
    public long stop(String tenant, String ref) throws IOException {
        ObjectNode b = JSON.createObjectNode().put("tenant", tenant).put("ref", ref);
        JsonNode r = call("POST", "/v1/computes/stop", b, STOP_TIMEOUT);
        return r.path("checkpoint_lsn").isTextual() ? LaunchedCompute.parseLsn(r.path("checkpoint_lsn").asText()) : 0;
    }

    /**
     * Whether the compute of {@code tenant/ref} runs there on {@code port}: false when the node
     * does not answer, does not know it or reports it failed.
     */
    public boolean running(String tenant, String ref, int port) {
        try {
            for (JsonNode c : call("GET", "/v1/computes", null, STATUS_TIMEOUT)) {
                if (c.path("tenant").asText().equals(tenant) && c.path("ref").asText().equals(ref)
                        && c.path("port").asInt() == port) {
                    return "running".equals(c.path("state").asText());
                }
            }
            return false;
        } catch (IOException e) {
            return false;
        }
    }

    private Compute compute(JsonNode c) {
        return new Compute(host(), c.path("port").asInt(), c.path("storage").asText("lazy").toLowerCase(Locale.ROOT),
                LaunchedCompute.parseLsn(c.path("lsn").asText()), c.path("blocks_fetched").asLong(-1));
    }

    private JsonNode call(String method, String path, JsonNode body, Duration timeout) throws IOException {
        HttpRequest.Builder rb = HttpRequest.newBuilder(base.resolve(path)).timeout(timeout)
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json");
        rb.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
        HttpResponse<byte[]> resp;
        try {
            resp = http.send(rb.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted calling the compute node " + base, e);
        } catch (IOException e) {
            throw new IOException("compute node " + base + " unreachable: " + e, e);
        }
        JsonNode n;
        try {
            n = JSON.readTree(resp.body());
        } catch (IOException e) {
            throw new IOException("compute node " + base + " answered " + resp.statusCode() + " with no JSON", e);
        }
        if (resp.statusCode() != 200) {
            throw new IOException("compute node " + base + ": " + n.path("error").asText("HTTP " + resp.statusCode()));
        }
        return n;
    }
}
