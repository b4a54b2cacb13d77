package io.forkline.pageserver.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.forkline.pageserver.server.PageServer;
import io.forkline.pageserver.testing.Sql;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The admin HTTP API under bad input, against a real server: every refusal is a JSON
 * {@code {"error":{"code","message"}}} with the right status and a message naming the bad value,
 * nothing is half-created, and afterwards the server still answers and a running endpoint still
 * serves queries.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AdminApiIT {
    private static final String TENANT = "api";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** When set, the server's clock reads this instant (branch creation times); else the system clock. */
    private static final AtomicReference<Instant> FIXED_TIME = new AtomicReference<>();
    private static final Clock CLOCK = new Clock() {
        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Instant instant() {
            Instant t = FIXED_TIME.get();
            return t != null ? t : Instant.now();
        }
    };

    private static PageServer server;
    private static Path dir;
    private static String base;
    private static String mainUri;

    private record Response(int status, JsonNode body, HttpResponse<byte[]> raw) {
    }

    @BeforeAll
    static void start() throws Exception {
        dir = Path.of("target", "it", "admin-api-" + System.nanoTime()).toAbsolutePath();
        server = PageServer.start(dir, 0, CLOCK);
        base = "http://127.0.0.1:" + server.port();
        assertThat(post("/v1/tenants", "{\"name\":\"" + TENANT + "\"}").status()).isEqualTo(201);
        Response ep = post("/v1/tenants/" + TENANT + "/branches/main/endpoint/start", "");
        assertThat(ep.status()).isEqualTo(200);
        mainUri = ep.body().path("uri").asText();
        Sql.exec(mainUri, "postgres", "CREATE TABLE survivor (x int)", "INSERT INTO survivor VALUES (1)");
    }

    @AfterAll
    static void stop() throws IOException {
        if (server != null) {
            server.close();
        }
        if (dir != null && Files.isDirectory(dir)) {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static Response send(HttpRequest.Builder b) throws IOException, InterruptedException {
        HttpResponse<byte[]> r = HTTP.send(b.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofByteArray());
        JsonNode body = r.body().length == 0 ? null : JSON.readTree(r.body());
        return new Response(r.statusCode(), body, r);
    }

    private static Response get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
    }

    private static Response post(String path, String body) throws IOException, InterruptedException {
        return post(path, body.getBytes(StandardCharsets.UTF_8));
    }

    private static Response post(String path, byte[] body) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
    }

    private static Response method(String method, String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(base + path)).method(method, HttpRequest.BodyPublishers.noBody()));
    }

    /** Asserts a JSON error with this status and code, and returns its message. */
    private static String error(Response r, int status, String code) {
        assertThat(r.status()).as("status of %s", r.body()).isEqualTo(status);
        assertThat(r.raw().headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(r.body()).as("error body").isNotNull();
        assertThat(r.body().size()).as("only 'error' in %s", r.body()).isEqualTo(1);
        JsonNode e = r.body().path("error");
        assertThat(e.path("code").asText()).isEqualTo(code);
        assertThat(e.path("message").isTextual()).isTrue();
        return e.path("message").asText();
    }

    private static List<String> refs() throws IOException, InterruptedException {
        Response r = get("/v1/tenants/" + TENANT + "/branches");
        assertThat(r.status()).isEqualTo(200);
        return r.body().findValuesAsText("ref");
    }

    @Test
    @Order(1)
    void malformedJsonIs400() throws Exception {
        String m = error(post("/v1/tenants", "{\"name\": "), 400, "bad_request");
        assertThat(m).contains("not valid JSON");
        assertThat(error(post("/v1/tenants/" + TENANT + "/branches", "{ref: 'x'}"), 400, "bad_request")).contains("not valid JSON");
        byte[] notUtf8 = {'{', '"', 'r', 'e', 'f', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
        error(post("/v1/tenants/" + TENANT + "/branches", notUtf8), 400, "bad_request");
    }

    @Test
    @Order(2)
    void trailingGarbageAfterTheObjectIs400AndCreatesNothing() throws Exception {
        String m = error(post("/v1/tenants/" + TENANT + "/branches", "{\"ref\":\"trailing\"} {\"ref\":\"second\"}"),
                400, "bad_request");
        assertThat(m).contains("not valid JSON");
        assertThat(refs()).doesNotContain("trailing", "second");
    }

    @Test
    @Order(3)
    void bodyThatIsNotAnObjectIs400() throws Exception {
        for (String body : List.of("[1,2]", "\"main\"", "42", "null", "true")) {
            String m = error(post("/v1/tenants/" + TENANT + "/branches", body), 400, "bad_request");
            assertThat(m).as(body).contains("must be a JSON object").contains(body);
        }
    }

    @Test
    @Order(4)
    void missingOrWronglyTypedFieldsAre400NamingTheField() throws Exception {
        assertThat(error(post("/v1/tenants", "{\"name\": 5}"), 400, "bad_request")).contains("'name'").contains("5");
        assertThat(error(post("/v1/tenants", "{}"), 400, "bad_request")).contains("missing field 'name'");
        assertThat(error(post("/v1/tenants", ""), 400, "bad_request")).contains("missing field 'name'");
        String branches = "/v1/tenants/" + TENANT + "/branches";
        assertThat(error(post(branches, "{\"ref\": [\"a\"]}"), 400, "bad_request")).contains("'ref'").contains("[\"a\"]");
        assertThat(error(post(branches, "{\"ref\": \"typed\", \"lsn\": 16}"), 400, "bad_request")).contains("'lsn'").contains("16");
        assertThat(error(post(branches, "{\"ref\": \"typed\", \"parent\": {}}"), 400, "bad_request")).contains("'parent'");
        assertThat(error(post(branches, "{\"ref\": \"typed\", \"lsn\": \"0/zz\"}"), 400, "bad_request")).contains("'0/zz'");
        assertThat(error(post(branches, "{\"ref\": \"typed\", \"lsn\": \"0/1\", \"at\": \"2020-01-01T00:00:00Z\"}"),
                400, "bad_request")).contains("not both");
        assertThat(error(post(branches, "{\"ref\": \"../etc\"}"), 400, "bad_request")).contains("'../etc'");
        assertThat(error(post("/v1/tenants", "{\"name\": \"Not Valid\"}"), 400, "bad_request")).contains("'Not Valid'");
        assertThat(refs()).doesNotContain("typed");
    }

    @Test
    @Order(5)
    void conflictsAre409AndUnknownsAre404() throws Exception {
        assertThat(error(post("/v1/tenants", "{\"name\":\"" + TENANT + "\"}"), 409, "conflict")).contains("'" + TENANT + "'");
        assertThat(error(post("/v1/tenants/" + TENANT + "/branches", "{\"ref\":\"main\"}"), 409, "conflict")).contains("'main'");
        assertThat(error(method("DELETE", "/v1/tenants/" + TENANT + "/branches/main"), 409, "conflict")).contains("'main'");
        assertThat(error(get("/v1/tenants/nosuch/branches"), 404, "not_found")).contains("'nosuch'");
        assertThat(error(get("/v1/tenants/" + TENANT + "/branches/nosuch"), 404, "not_found")).contains("'nosuch'");
        assertThat(error(get("/v1/tenants/nosuch/branches/main"), 404, "not_found")).contains("tenant 'nosuch'");
        assertThat(error(get("/v1/tenants/NoSuch/branches/main"), 400, "bad_request")).contains("'NoSuch'");
        assertThat(error(post("/v1/tenants/" + TENANT + "/branches/nosuch/endpoint/start", ""), 404, "not_found")).contains("'nosuch'");
    }

    @Test
    @Order(6)
    void unknownPathsAre404() throws Exception {
        for (String path : List.of("/", "/nope", "/v2/tenants", "/v1/nope", "/v1/tenants/" + TENANT + "/nope",
                "/v1/tenants/" + TENANT + "/branches/main/nope", "/v1/tenants/" + TENANT + "/branches/main/endpoint/restart")) {
            String m = error(path.endsWith("restart") ? post(path, "") : get(path), 404, "not_found");
            assertThat(m).as(path).contains(path);
        }
    }

    @Test
    @Order(7)
    void wrongMethodsAre405() throws Exception {
        String main = "/v1/tenants/" + TENANT + "/branches/main";
        List<String[]> cases = List.of(
                new String[]{"PUT", "/v1/tenants"},
                new String[]{"DELETE", "/v1/tenants"},
                new String[]{"PATCH", "/v1/tenants/" + TENANT + "/branches"},
                new String[]{"POST", main},
                new String[]{"GET", main + "/endpoint/start"},
                new String[]{"DELETE", main + "/endpoint/stop"},
                new String[]{"POST", "/v1/status"});
        for (String[] c : cases) {
            Response r = method(c[0], c[1]);
            String m = error(r, 405, "method_not_allowed");
            assertThat(m).as("%s %s", c[0], c[1]).contains(c[0]).contains(c[1]);
            assertThat(r.raw().headers().firstValue("Allow")).as("Allow of %s", c[1]).isPresent()
                    .get().asString().doesNotContain(c[0]);
        }
    }

    @Test
    @Order(8)
    void badPercentEncodingIs400() throws Exception {
        // the JDK server itself refuses a request line that is not a URI (a plain 400, before our handler)
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write("GET /v1/tenants/%zz/branches HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.ISO_8859_1));
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(answer).startsWith("HTTP/1.1 400 ");
        }
        // a well-formed escape of bytes that are not UTF-8 reaches the handler and is named
        assertThat(error(get("/v1/tenants/%C3%28/branches"), 400, "bad_request")).contains("invalid tenant name");
        // an escaped slash is part of a branch ref, not a path separator
        assertThat(error(get("/v1/tenants/" + TENANT + "/branches/no%2Fsuch"), 404, "not_found")).contains("'no/such'");
    }

    @Test
    @Order(9)
    void hugeBodyIs400() throws Exception {
        byte[] huge = new byte[3 << 20];
        Arrays.fill(huge, (byte) ' ');
        huge[0] = '{';
        huge[huge.length - 1] = '}';
        String m = error(post("/v1/tenants/" + TENANT + "/branches", huge), 400, "bad_request");
        assertThat(m).contains("larger than");
    }

    @Test
    @Order(10)
    void garbageOnTheSocketDoesNotHurt() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write("\u0000\u0001GARBAGE NOT HTTP\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            try {
                in.readAllBytes();
            } catch (IOException e) {
                // a reset is an acceptable answer to garbage; the point is what follows
            }
        }
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            // a request that never finishes its headers must not block others
            s.getOutputStream().write("POST /v1/tenants HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.ISO_8859_1));
            assertThat(get("/v1/status").status()).isEqualTo(200);
        }
    }

    @Test
    @Order(50)
    void branchesAreListedInCreationOrderWithinOneSecond() throws Exception {
        Instant second = Instant.parse("2030-01-01T00:00:00Z");
        try {
            FIXED_TIME.set(second);
            assertThat(post("/v1/tenants/" + TENANT + "/branches", "{\"ref\":\"z-first\"}").status()).isEqualTo(201);
            FIXED_TIME.set(second.plusMillis(500));
            assertThat(post("/v1/tenants/" + TENANT + "/branches", "{\"ref\":\"a-second\"}").status()).isEqualTo(201);
        } finally {
            FIXED_TIME.set(null);
        }
        List<String> refs = refs();
        assertThat(refs.indexOf("z-first")).isGreaterThanOrEqualTo(0).isLessThan(refs.indexOf("a-second"));
    }

    @Test
    @Order(100)
    void afterAllThatTheServerAndTheEndpointStillWork() throws Exception {
        Response status = get("/v1/status");
        assertThat(status.status()).isEqualTo(200);
        assertThat(status.body().path("status").asText()).isEqualTo("ok");

        Response again = post("/v1/tenants/" + TENANT + "/branches/main/endpoint/start", "");
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.body().path("uri").asText()).isEqualTo(mainUri);
        Sql.exec(mainUri, "postgres", "INSERT INTO survivor VALUES (2)");
        assertThat(Sql.queryLong(mainUri, "postgres", "SELECT sum(x) FROM survivor")).isEqualTo(3);

        Response created = post("/v1/tenants/" + TENANT + "/branches", "{\"ref\":\"after-abuse\"}");
        assertThat(created.status()).isEqualTo(201);
        assertThat(created.body().path("parent").asText()).isEqualTo("main");
        assertThat(refs()).contains("main", "after-abuse");

        assertThat(post("/v1/tenants/" + TENANT + "/branches/main/endpoint/stop", "").status()).isEqualTo(200);
        String restarted = post("/v1/tenants/" + TENANT + "/branches/main/endpoint/start", "").body().path("uri").asText();
        assertThat(Sql.queryLong(restarted, "postgres", "SELECT sum(x) FROM survivor")).isEqualTo(3);
        assertThat(post("/v1/tenants/" + TENANT + "/branches/main/endpoint/stop", "").status()).isEqualTo(200);
        Response list = get("/v1/tenants/" + TENANT + "/branches");
        for (JsonNode b : list.body()) {
            assertThat(b.path("endpoint").path("state").asText()).isEqualTo("stopped");
        }
    }
}
