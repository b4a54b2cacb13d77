package io.forkline.pageserver.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.forkline.pageserver.testing.Sql;
import io.forkline.pageserver.testing.TestClock;
import io.forkline.pageserver.testing.TestServer;
import io.forkline.pageserver.testing.TestServer.Response;
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
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

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
    private static final String BRANCHES = "/v1/tenants/" + TENANT + "/branches";

    /** The server's clock: fixed while a test sets an instant (branch creation times), else the system clock. */
    private static final TestClock CLOCK = new TestClock();

    private static TestServer server;
    private static String mainUri;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start("admin-api", CLOCK);
        assertThat(server.post("/v1/tenants", "{\"name\":\"" + TENANT + "\"}").status()).isEqualTo(201);
        Response ep = server.post(BRANCHES + "/main/endpoint/start", "");
        assertThat(ep.status()).isEqualTo(200);
        mainUri = ep.body().path("uri").asText();
        Sql.exec(mainUri, "postgres", "CREATE TABLE survivor (x int)", "INSERT INTO survivor VALUES (1)");
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    @Order(1)
    void malformedJsonIs400() throws Exception {
        String m = server.post("/v1/tenants", "{\"name\": ").error(400, "bad_request");
        assertThat(m).contains("not valid JSON");
        assertThat(server.post(BRANCHES, "{ref: 'x'}").error(400, "bad_request")).contains("not valid JSON");
        byte[] notUtf8 = {'{', '"', 'r', 'e', 'f', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
        server.post(BRANCHES, notUtf8).error(400, "bad_request");
    }

    @Test
    @Order(2)
    void trailingGarbageAfterTheObjectIs400AndCreatesNothing() throws Exception {
        String m = server.post(BRANCHES, "{\"ref\":\"trailing\"} {\"ref\":\"second\"}")
                .error(400, "bad_request");
        assertThat(m).contains("not valid JSON");
        assertThat(server.refs(TENANT)).doesNotContain("trailing", "second");
    }

    @Test
    @Order(3)
    void bodyThatIsNotAnObjectIs400() throws Exception {
        for (String body : List.of("[1,2]", "\"main\"", "42", "null", "true")) {
            String m = server.post(BRANCHES, body).error(400, "bad_request");
            assertThat(m).as(body).contains("must be a JSON object").contains(body);
        }
    }

    @Test
    @Order(4)
    void missingOrWronglyTypedFieldsAre400NamingTheField() throws Exception {
        assertThat(server.post("/v1/tenants", "{\"name\": 5}").error(400, "bad_request")).contains("'name'").contains("5");
        assertThat(server.post("/v1/tenants", "{}").error(400, "bad_request")).contains("missing field 'name'");
        assertThat(server.post("/v1/tenants", "").error(400, "bad_request")).contains("missing field 'name'");
        assertThat(server.post(BRANCHES, "{\"ref\": [\"a\"]}").error(400, "bad_request")).contains("'ref'").contains("[\"a\"]");
        assertThat(server.post(BRANCHES, "{\"ref\": \"typed\", \"lsn\": 16}").error(400, "bad_request")).contains("'lsn'").contains("16");
        assertThat(server.post(BRANCHES, "{\"ref\": \"typed\", \"parent\": {}}").error(400, "bad_request")).contains("'parent'");
        assertThat(server.post(BRANCHES, "{\"ref\": \"typed\", \"lsn\": \"0/zz\"}").error(400, "bad_request")).contains("'0/zz'");
        assertThat(server.post(BRANCHES, "{\"ref\": \"typed\", \"lsn\": \"0/1\", \"at\": \"2020-01-01T00:00:00Z\"}")
                .error(400, "bad_request")).contains("not both");
        assertThat(server.post(BRANCHES, "{\"ref\": \"../etc\"}").error(400, "bad_request")).contains("'../etc'");
        assertThat(server.post("/v1/tenants", "{\"name\": \"Not Valid\"}").error(400, "bad_request")).contains("'Not Valid'");
        assertThat(server.refs(TENANT)).doesNotContain("typed");
    }

    @Test
    @Order(5)
    void conflictsAre409AndUnknownsAre404() throws Exception {
        assertThat(server.post("/v1/tenants", "{\"name\":\"" + TENANT + "\"}").error(409, "conflict")).contains("'" + TENANT + "'");
        assertThat(server.post(BRANCHES, "{\"ref\":\"main\"}").error(409, "conflict")).contains("'main'");
        assertThat(server.http("DELETE", BRANCHES + "/main").error(409, "conflict")).contains("'main'");
        assertThat(server.get("/v1/tenants/nosuch/branches").error(404, "not_found")).contains("'nosuch'");
        assertThat(server.get(BRANCHES + "/nosuch").error(404, "not_found")).contains("'nosuch'");
        assertThat(server.get("/v1/tenants/nosuch/branches/main").error(404, "not_found")).contains("tenant 'nosuch'");
        assertThat(server.get("/v1/tenants/NoSuch/branches/main").error(400, "bad_request")).contains("'NoSuch'");
        assertThat(server.post(BRANCHES + "/nosuch/endpoint/start", "").error(404, "not_found")).contains("'nosuch'");
    }

    @Test
    @Order(6)
    void unknownPathsAre404() throws Exception {
        // "/" is the web console (ConsoleApiIT); everything else unknown is 404
        for (String path : List.of("/nope", "/v2/tenants", "/assets", "/console", "/v1/nope", "/v1/tenants/" + TENANT + "/nope",
                BRANCHES + "/main/nope", BRANCHES + "/main/endpoint/restart")) {
            String m = (path.endsWith("restart") ? server.post(path, "") : server.get(path)).error(404, "not_found");
            assertThat(m).as(path).contains(path);
        }
    }

    @Test
    @Order(7)
    void wrongMethodsAre405() throws Exception {
        String main = BRANCHES + "/main";
        List<String[]> cases = List.of(
                new String[]{"PUT", "/v1/tenants"},
                new String[]{"DELETE", "/v1/tenants"},
                new String[]{"PATCH", BRANCHES},
                new String[]{"POST", main},
                new String[]{"GET", main + "/endpoint/start"},
                new String[]{"DELETE", main + "/endpoint/stop"},
                new String[]{"POST", "/v1/status"});
        for (String[] c : cases) {
            Response r = server.http(c[0], c[1]);
            String m = r.error(405, "method_not_allowed");
            assertThat(m).as("%s %s", c[0], c[1]).contains(c[0]).contains(c[1]);
            assertThat(r.headers().firstValue("Allow")).as("Allow of %s", c[1]).isPresent()
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
        assertThat(server.get("/v1/tenants/%C3%28/branches").error(400, "bad_request")).contains("invalid tenant name");
        // an escaped slash is part of a branch ref, not a path separator
        assertThat(server.get(BRANCHES + "/no%2Fsuch").error(404, "not_found")).contains("'no/such'");
    }

    @Test
    @Order(9)
    void hugeBodyIs400() throws Exception {
        byte[] huge = new byte[3 << 20];
        Arrays.fill(huge, (byte) ' ');
        huge[0] = '{';
        huge[huge.length - 1] = '}';
        String m = server.post(BRANCHES, huge).error(400, "bad_request");
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
            assertThat(server.get("/v1/status").status()).isEqualTo(200);
        }
    }

    @Test
    @Order(50)
    void branchesAreListedInCreationOrderWithinOneSecond() throws Exception {
        Instant second = Instant.parse("2030-01-01T00:00:00Z");
        try {
            CLOCK.setFixed(second);
            assertThat(server.post(BRANCHES, "{\"ref\":\"z-first\"}").status()).isEqualTo(201);
            CLOCK.setFixed(second.plusMillis(500));
            assertThat(server.post(BRANCHES, "{\"ref\":\"a-second\"}").status()).isEqualTo(201);
        } finally {
            CLOCK.setFixed(null);
        }
        List<String> refs = server.refs(TENANT);
        assertThat(refs.indexOf("z-first")).isGreaterThanOrEqualTo(0).isLessThan(refs.indexOf("a-second"));
    }

    @Test
    @Order(100)
    void afterAllThatTheServerAndTheEndpointStillWork() throws Exception {
        Response status = server.get("/v1/status");
        assertThat(status.status()).isEqualTo(200);
        assertThat(status.body().path("status").asText()).isEqualTo("ok");

        Response again = server.post(BRANCHES + "/main/endpoint/start", "");
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.body().path("uri").asText()).isEqualTo(mainUri);
        Sql.exec(mainUri, "postgres", "INSERT INTO survivor VALUES (2)");
        assertThat(Sql.queryLong(mainUri, "postgres", "SELECT sum(x) FROM survivor")).isEqualTo(3);

        Response created = server.post(BRANCHES, "{\"ref\":\"after-abuse\"}");
        assertThat(created.status()).isEqualTo(201);
        assertThat(created.body().path("parent").asText()).isEqualTo("main");
        assertThat(server.refs(TENANT)).contains("main", "after-abuse");

        assertThat(server.post(BRANCHES + "/main/endpoint/stop", "").status()).isEqualTo(200);
        String restarted = server.post(BRANCHES + "/main/endpoint/start", "").body().path("uri").asText();
        assertThat(Sql.queryLong(restarted, "postgres", "SELECT sum(x) FROM survivor")).isEqualTo(3);
        assertThat(server.post(BRANCHES + "/main/endpoint/stop", "").status()).isEqualTo(200);
        Response list = server.get(BRANCHES);
        for (JsonNode b : list.body()) {
            assertThat(b.path("endpoint").path("state").asText()).isEqualTo("stopped");
        }
    }
}
