package io.forkline.pageserver.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.forkline.pageserver.auth.AuthMode;
import io.forkline.pageserver.auth.ClientTokenFiles;
import io.forkline.pageserver.backup.BackupService;
import io.forkline.pageserver.pageservice.PageServiceConfig;
import io.forkline.pageserver.retention.GcSettings;
import io.forkline.pageserver.server.PageServer;
import io.forkline.pageserver.tenant.TenantService;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;
import org.awaitility.Awaitility;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real {@link PageServer} for one integration test class, and an HTTP client of its admin API.
 *
 * <p>The data directory is {@code target/it/<name>-<nanoTime>} under the module (the
 * {@code postgres} user can traverse it; see {@code PostgresInstallation.prepareDirectory}); the
 * admin API listens on a free port of 127.0.0.1. {@link #close()} deletes the data directory unless
 * the test asked for {@link Option#KEEP_DATA} or the run sets {@code -Dforkline.keepTestData=true}
 * ({@link TestData#KEEP_PROPERTY}). A test class starts one in its {@code BeforeAll}
 * ({@code server = TestServer.start("sizes", Option.NO_BACKGROUND_GC)}), closes it in its
 * {@code AfterAll}, and talks to it with {@link #get}, {@link #post} etc., e.g.
 * {@code server.post("/v1/tenants", "{\"name\":\"t\"}").expect(201)}. Those helpers send the
 * server's admin token ({@code Authorization: Bearer}); {@link #httpAs} sends another one or none.
 * The server writes its client token file under {@link TestData#configHome()} (inside
 * {@code target/}), which {@link #close()} deletes again.
 *
 * <p>Thread-safe for requests; start and close from one thread.
 */
public final class TestServer implements AutoCloseable {
    /** How the server is set up and torn down. */
    public enum Option {
        /**
         * Background GC off ({@link GcSettings#INTERVAL_PROPERTY} = 0 while the server starts, cleared
         * on close): GC runs only when the test asks for it.
         */
        NO_BACKGROUND_GC,
        /**
         * {@link #close()} keeps the data directory (by default it deletes it unless
         * {@link TestData#keep()}); for a test that inspects the files after the server stopped.
         */
        KEEP_DATA,
        /** The server runs with {@code --auth off}: no token is checked, every caller is admin. */
        AUTH_OFF
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    /** Long enough for an endpoint start or a reset of a running one on the 2-core machine. */
    private static final Duration REQUEST_TIMEOUT = Duration.ofMinutes(2);
    /** How long {@link #awaitIngested} waits; ingest of a few MB takes well under a second. */
    private static final Duration INGEST_TIMEOUT = Duration.ofSeconds(30);

    private final PageServer server;
    private final Path dir;
    private final EnumSet<Option> options;
    private final String url;

    private TestServer(PageServer server, Path dir, EnumSet<Option> options) {
        this.server = server;
        this.dir = dir;
        this.options = options;
        this.url = "http://127.0.0.1:" + server.port();
    }

    /** A server on the system UTC clock; see {@link #start(String, Clock, Option...)}. */
    public static TestServer start(String name, Option... options) throws IOException {
        return start(name, Clock.systemUTC(), options);
    }

    /**
     * Starts a server on data directory {@code target/it/<name>-<nanoTime>} (absolute) and a free port.
     *
     * @param name  the directory's prefix, e.g. the test's name in kebab case
     * @param clock the server's clock (e.g. a {@link TestClock} the test moves)
     * @throws IOException when the server cannot start (see {@link PageServer#start})
     */
    public static TestServer start(String name, Clock clock, Option... options) throws IOException {
        EnumSet<Option> set = EnumSet.noneOf(Option.class);
        set.addAll(List.of(options));
        Path dir = TestData.newDirectory(name);
        TestData.configHome();
        if (set.contains(Option.NO_BACKGROUND_GC)) {
            System.setProperty(GcSettings.INTERVAL_PROPERTY, "0");
        }
        try {
            return new TestServer(PageServer.start(dir, 0, PageServiceConfig.defaults(0), clock,
                    set.contains(Option.AUTH_OFF) ? AuthMode.OFF : AuthMode.ON),
                    dir, set);
        } catch (IOException | RuntimeException e) {
            if (set.contains(Option.NO_BACKGROUND_GC)) {
                System.clearProperty(GcSettings.INTERVAL_PROPERTY);
            }
            throw e;
        }
    }

    /** The server itself. */
    public PageServer server() {
        return server;
    }

    /** The server's tenants, branches and endpoints (to act without HTTP). */
    public TenantService tenants() {
        return server.tenants();
    }

    /** The server's backups and schedules. */
    public BackupService backups() {
        return server.backups();
    }

    /** The server's page store. */
    public PageStore store() {
        return server.store();
    }

    /** The data directory (absolute). */
    public Path dir() {
        return dir;
    }

    /** The admin API's port on 127.0.0.1. */
    public int port() {
        return server.port();
    }

    /** The server's admin token (what {@code <dir>/auth/admin.token} holds); {@link #http} sends it. */
    public String adminToken() {
        return server.auth().adminToken();
    }

    /**
     * A new token for {@code tenant} signed by this server.
     *
     * @param ttl empty for never expiring
     */
    public String tenantToken(String tenant, java.util.Optional<Duration> ttl) {
        return server.auth().issuer().tenantToken(tenant, ttl).token();
    }

    /** The client token file this server wrote: {@code <config-home>/tokens/127.0.0.1_<port>}. */
    public Path clientTokenFile() {
        return ClientTokenFiles.forLocalPort(TestData.configHome(), port());
    }

    /** {@code http://127.0.0.1:PORT}, the admin API's base URL (also what {@code FORKLINE_URL} takes). */
    public String url() {
        return url;
    }

    /**
     * Waits until this server's store has ingested everything the compute at {@code uri} wrote so
     * far: reads the compute's {@code pg_current_wal_insert_lsn()} once, then polls
     * {@link PageStore#lastRecordLsn} of {@code timeline} every 10 ms until it covers that position
     * ({@link Lsn#covers}: when the last record ends exactly on a WAL page boundary, the insert
     * position lies after the next page's header, which no ingested record end ever reaches).
     *
     * @param timeline the compute's timeline
     * @param uri      the compute's libpq URI, e.g. {@code postgresql://postgres@127.0.0.1:PORT/postgres}
     * @return the insert position waited for (WAL byte position)
     * @throws SQLException when the compute cannot be queried
     * @throws org.awaitility.core.ConditionTimeoutException when ingest does not cover it within 30 s
     */
    public long awaitIngested(TimelineId timeline, String uri) throws SQLException {
        long insert = Lsn.parse(Sql.queryString(uri, "postgres", "SELECT pg_current_wal_insert_lsn()"));
        Awaitility.await("ingest of " + timeline + " up to " + Lsn.format(insert)).atMost(INGEST_TIMEOUT)
                .pollInterval(Duration.ofMillis(10))
                .until(() -> Lsn.covers(server.store().lastRecordLsn(timeline), insert));
        return insert;
    }

    // ------------------------------------------------------------------ HTTP

    /**
     * Sends {@code method path} with a UTF-8 body ({@code Content-Type: application/json}), or none
     * when {@code body} is null; waits up to 2 minutes for the answer.
     *
     * @param path the path and query from the root, e.g. {@code /v1/tenants/t/branches?x=1}
     */
    public Response http(String method, String path, String body) throws IOException, InterruptedException {
        return http(method, path, body == null ? null : body.getBytes(StandardCharsets.UTF_8));
    }

    /** {@link #http(String, String, String)} with a body of raw bytes (e.g. not UTF-8 on purpose). */
    public Response http(String method, String path, byte[] body) throws IOException, InterruptedException {
        return send(adminToken(), method, path, body);
    }

    /**
     * {@link #http(String, String, String)} with {@code Authorization: Bearer token}, or with no
     * {@code Authorization} header when {@code token} is null.
     */
    public Response httpAs(String token, String method, String path, String body) throws IOException, InterruptedException {
        return send(token, method, path, body == null ? null : body.getBytes(StandardCharsets.UTF_8));
    }

    private Response send(String token, String method, String path, byte[] body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url + path)).timeout(REQUEST_TIMEOUT);
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        if (body == null) {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofByteArray(body));
        }
        HttpResponse<byte[]> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        return new Response(r.statusCode(), r.headers(), r.body());
    }

    /** {@code GET path} with {@code Authorization: authorization} sent as is (e.g. another scheme than Bearer). */
    public Response rawGet(String path, String authorization) throws IOException, InterruptedException {
        HttpResponse<byte[]> r = HTTP.send(HttpRequest.newBuilder(URI.create(url + path)).timeout(REQUEST_TIMEOUT)
                .header("Authorization", authorization).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        return new Response(r.statusCode(), r.headers(), r.body());
    }

    /** {@code method path} with no body and no {@code Content-Type}. */
    public Response http(String method, String path) throws IOException, InterruptedException {
        return http(method, path, (byte[]) null);
    }

    /** {@code GET path}. */
    public Response get(String path) throws IOException, InterruptedException {
        return http("GET", path);
    }

    /** {@code POST path} with a JSON body ({@code ""} for an empty one). */
    public Response post(String path, String body) throws IOException, InterruptedException {
        return http("POST", path, body);
    }

    /** {@code POST path} with a body of raw bytes. */
    public Response post(String path, byte[] body) throws IOException, InterruptedException {
        return http("POST", path, body);
    }

    /** {@code PUT path} with a JSON body. */
    public Response put(String path, String body) throws IOException, InterruptedException {
        return http("PUT", path, body);
    }

    /** {@code DELETE path}, no body. */
    public Response delete(String path) throws IOException, InterruptedException {
        return http("DELETE", path);
    }

    /** GETs a streamed body (e.g. a backup export) into {@code file}; the caller checks the status. */
    public HttpResponse<Path> download(String path, Path file) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url + path)).timeout(REQUEST_TIMEOUT)
                        .header("Authorization", "Bearer " + adminToken()).GET().build(),
                HttpResponse.BodyHandlers.ofFile(file));
    }

    /** The refs of a tenant's branches in list order ({@code GET .../branches}, asserted 200). */
    public List<String> refs(String tenant) throws IOException, InterruptedException {
        return get("/v1/tenants/" + tenant + "/branches").expect(200).findValuesAsText("ref");
    }

    /**
     * Stops the server; with {@link Option#NO_BACKGROUND_GC}, clears the GC interval property; deletes
     * its client token file; then deletes the data directory unless {@link Option#KEEP_DATA} or
     * {@link TestData#keep()}.
     *
     * @throws UncheckedIOException when the directory or the token file cannot be deleted
     */
    @Override
    public void close() {
        Path tokenFile = clientTokenFile();
        try {
            server.close();
        } finally {
            if (options.contains(Option.NO_BACKGROUND_GC)) {
                System.clearProperty(GcSettings.INTERVAL_PROPERTY);
            }
        }
        try {
            java.nio.file.Files.deleteIfExists(tokenFile);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (!options.contains(Option.KEEP_DATA)) {
            TestData.deleteUnlessKept(dir);
        }
    }

    /**
     * One answer of the admin API: status, headers and the raw body; {@link #body()} reads it as JSON.
     */
    public static final class Response {
        private final int status;
        private final HttpHeaders headers;
        private final byte[] bytes;
        private JsonNode json;

        Response(int status, HttpHeaders headers, byte[] bytes) {
            this.status = status;
            this.headers = headers;
            this.bytes = bytes;
        }

        /** The HTTP status code. */
        public int status() {
            return status;
        }

        /** The response headers (e.g. {@code Content-Type}, {@code Allow}). */
        public HttpHeaders headers() {
            return headers;
        }

        /** The body as UTF-8 text (e.g. the Prometheus exposition of {@code /metrics}). */
        public String text() {
            return new String(bytes, StandardCharsets.UTF_8);
        }

        /**
         * The body as JSON, or {@code null} when it is empty.
         *
         * @throws UncheckedIOException when the body is not JSON
         */
        public synchronized JsonNode body() {
            if (json == null && bytes.length > 0) {
                try {
                    json = JSON.readTree(bytes);
                } catch (IOException e) {
                    throw new UncheckedIOException("status " + status + " body is not JSON: " + text(), e);
                }
            }
            return json;
        }

        /** Asserts a success (200 or 201) and returns the body. */
        public JsonNode ok() {
            assertThat(status).as("status of %s", text()).isBetween(200, 201);
            return body();
        }

        /** Asserts exactly this status and returns the body. */
        public JsonNode expect(int expected) {
            assertThat(status).as("status of %s", text()).isEqualTo(expected);
            return body();
        }

        /**
         * Asserts the API's error shape: this status, {@code Content-Type: application/json}, a body
         * that is only {@code {"error": {"code": code, "message": "..."}}}; returns the message.
         */
        public String error(int expected, String code) {
            assertThat(status).as("status of %s", text()).isEqualTo(expected);
            assertThat(headers.firstValue("Content-Type")).hasValue("application/json");
            assertThat(body()).as("error body").isNotNull();
            assertThat(body().size()).as("only 'error' in %s", body()).isEqualTo(1);
            JsonNode e = body().path("error");
            assertThat(e.path("code").asText()).isEqualTo(code);
            assertThat(e.path("message").isTextual()).isTrue();
            return e.path("message").asText();
        }

        @Override
        public String toString() {
            return status + " " + text();
        }
    }
}
