package io.forkline.pageserver.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.forkline.pageserver.auth.SigningKey;
import io.forkline.pageserver.auth.TokenIssuer;
import io.forkline.pageserver.testing.TestClock;
import io.forkline.pageserver.testing.TestServer;
import io.forkline.pageserver.testing.TestServer.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Authentication of the admin HTTP API against a real server: 401 for no, malformed, foreign or
 * expired tokens (checked before routing), 403 for a tenant token outside its tenant or on an
 * admin-only route, 200 for what a token covers; {@code GET /v1/status} without a token; tokens issued
 * over {@code POST /v1/tokens}; the files of the first start; and a server with {@code --auth off}.
 */
class AuthApiIT {
    private static final TestClock CLOCK = new TestClock();
    private static TestServer server;
    private static String tokenA;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start("auth-api", CLOCK);
        server.post("/v1/tenants", "{\"name\":\"a\"}").expect(201);
        server.post("/v1/tenants", "{\"name\":\"b\"}").expect(201);
        tokenA = server.post("/v1/tokens", "{\"tenant\":\"a\"}").expect(201).path("token").asText();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static String unauthorized(Response r) {
        String m = r.error(401, "unauthorized");
        assertThat(r.headers().firstValue("WWW-Authenticate")).get().asString().startsWith("Bearer");
        return m;
    }

    @Test
    void statusNeedsNoTokenAndSaysTheServerIsUp() throws Exception {
        JsonNode s = server.httpAs(null, "GET", "/v1/status", null).expect(200);
        assertThat(s.path("status").asText()).isEqualTo("ok");
        assertThat(s.path("version").asText()).matches("[0-9]+\\.[0-9]+\\.[0-9]+.*");
        assertThat(s.path("uptime_seconds").asDouble()).isPositive();
        assertThat(Instant.parse(s.path("started_at").asText())).isBefore(Instant.now().plusSeconds(1));
        assertThat(s.path("auth").asText()).isEqualTo("on");
        // a bad token on the public route does not matter
        server.httpAs("garbage", "GET", "/v1/status", null).expect(200);
    }

    @Test
    void everyOtherRouteNeedsAToken() throws Exception {
        for (String[] c : List.of(new String[]{"GET", "/v1/tenants"}, new String[]{"POST", "/v1/tenants"},
                new String[]{"GET", "/v1/tenants/a/branches"}, new String[]{"DELETE", "/v1/tenants/a/branches/main"},
                new String[]{"GET", "/metrics"}, new String[]{"POST", "/v1/tokens"},
                new String[]{"GET", "/v1/tenants/a/backups"}, new String[]{"POST", "/v1/tenants/a/gc"},
                // unknown routes and methods too: nothing but 401 before authentication
                new String[]{"GET", "/v1/no-such-thing"}, new String[]{"PATCH", "/v1/tenants"})) {
            String m = unauthorized(server.httpAs(null, c[0], c[1], null));
            assertThat(m).as("%s %s", c[0], c[1]).contains("no token given").contains("Authorization: Bearer");
        }
        assertThat(server.refs("a")).containsExactly("main");
    }

    @Test
    void malformedAndForeignTokensAre401WithoutEchoingThem() throws Exception {
        String m = unauthorized(server.httpAs("not.a.token-at-all", "GET", "/v1/tenants", null));
        assertThat(m).contains("malformed token").doesNotContain("not.a.token-at-all");

        String foreign = new TokenIssuer(SigningKey.generate(), CLOCK).adminToken().token();
        m = unauthorized(server.httpAs(foreign, "POST", "/v1/tenants", "{\"name\":\"foreign\"}"));
        assertThat(m).contains("not by this server's key").doesNotContain(foreign);
        assertThat(server.get("/v1/tenants").expect(200).findValuesAsText("name")).doesNotContain("foreign");

        // another scheme than Bearer
        var r = server.rawGet("/v1/tenants", "Basic YWRtaW46YWRtaW4=");
        assertThat(unauthorized(r)).contains("must be 'Bearer <token>'").contains("'Basic'");
        unauthorized(server.rawGet("/v1/tenants", "Bearer"));
        // the scheme is case-insensitive (RFC 6750 refers to RFC 7235's auth-scheme)
        server.rawGet("/v1/tenants", "bearer " + server.adminToken()).expect(200);
    }

    @Test
    void aTamperedTokenIs401() throws Exception {
        String[] p = tokenA.split("\\.");
        String claims = new String(java.util.Base64.getUrlDecoder().decode(p[1]), java.nio.charset.StandardCharsets.UTF_8);
        String forged = p[0] + "." + java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
                claims.replace("tenant:a", "tenant:b").getBytes(java.nio.charset.StandardCharsets.UTF_8)) + "." + p[2];
        assertThat(unauthorized(server.httpAs(forged, "GET", "/v1/tenants/b/branches", null))).contains("bad token signature");
    }

    @Test
    void anExpiredTokenIs401() throws Exception {
        String t = server.post("/v1/tokens", "{\"tenant\":\"a\",\"ttl\":\"1h\"}").expect(201).path("token").asText();
        server.httpAs(t, "GET", "/v1/tenants/a/branches", null).expect(200);
        try {
            CLOCK.setOffset(Duration.ofMinutes(61));
            assertThat(unauthorized(server.httpAs(t, "GET", "/v1/tenants/a/branches", null))).contains("token expired at");
            // the never-expiring tokens still work
            server.httpAs(tokenA, "GET", "/v1/tenants/a/branches", null).expect(200);
            server.get("/v1/tenants").expect(200);
        } finally {
            CLOCK.setOffset(Duration.ZERO);
        }
    }

    @Test
    void aTenantTokenWorksOnItsTenant() throws Exception {
        assertThat(server.httpAs(tokenA, "GET", "/v1/tenants/a/branches", null).expect(200).findValuesAsText("ref"))
                .contains("main");
        server.httpAs(tokenA, "GET", "/v1/tenants/a/size", null).expect(200);
        server.httpAs(tokenA, "GET", "/v1/tenants/a/config", null).expect(200);
        server.httpAs(tokenA, "GET", "/v1/tenants/a/retention", null).expect(200);
        server.httpAs(tokenA, "GET", "/v1/tenants/a/backups", null).expect(200);
        server.httpAs(tokenA, "POST", "/v1/tenants/a/branches", "{\"ref\":\"by-tenant-token\"}").expect(201);
        server.httpAs(tokenA, "DELETE", "/v1/tenants/a/branches/by-tenant-token", null).expect(200);
        // the tenant list shows only its own tenant
        JsonNode list = server.httpAs(tokenA, "GET", "/v1/tenants", null).expect(200);
        assertThat(list.findValuesAsText("name")).containsExactly("a");
        assertThat(server.get("/v1/tenants").expect(200).findValuesAsText("name")).contains("a", "b");
        // errors inside its tenant are the usual ones
        server.httpAs(tokenA, "GET", "/v1/tenants/a/branches/nope", null).error(404, "not_found");
    }

    @Test
    void aTenantTokenIs403OnAnotherTenantAndOnAdminRoutes() throws Exception {
        String m = server.httpAs(tokenA, "GET", "/v1/tenants/b/branches", null).error(403, "forbidden");
        assertThat(m).contains("tenant:a").contains("'b'");
        server.httpAs(tokenA, "POST", "/v1/tenants/b/branches", "{\"ref\":\"intruder\"}").error(403, "forbidden");
        server.httpAs(tokenA, "DELETE", "/v1/tenants/b/branches/main", null).error(403, "forbidden");
        server.httpAs(tokenA, "GET", "/v1/tenants/b/backups", null).error(403, "forbidden");
        server.httpAs(tokenA, "POST", "/v1/tenants/b/gc", "{}").error(403, "forbidden");
        // a tenant that does not exist is still someone else's: 403, not 404
        server.httpAs(tokenA, "GET", "/v1/tenants/zz/branches", null).error(403, "forbidden");
        assertThat(server.refs("b")).containsExactly("main");

        for (String[] c : List.of(new String[]{"POST", "/v1/tenants", "{\"name\":\"c\"}"},
                new String[]{"POST", "/v1/tenants/import", "{\"name\":\"c\",\"path\":\"/etc\"}"},
                new String[]{"POST", "/v1/tenants/a/config", "{\"max_branches\":1000}"},
                new String[]{"POST", "/v1/tokens", "{\"tenant\":\"a\"}"},
                new String[]{"GET", "/metrics", null})) {
            String msg = server.httpAs(tokenA, c[0], c[1], c[2]).error(403, "forbidden");
            assertThat(msg).as("%s %s", c[0], c[1]).contains("needs an admin token").contains("tenant:a");
        }
        assertThat(server.get("/v1/tenants").expect(200).findValuesAsText("name")).doesNotContain("c");
        assertThat(server.get("/v1/tenants/a/config").expect(200).path("limits").path("max_branches").asInt())
                .isNotEqualTo(1000);
    }

    @Test
    void tokensAreIssuedForExistingTenantsWithAValidTtl() throws Exception {
        JsonNode t = server.post("/v1/tokens", "{\"tenant\":\"b\",\"ttl\":\"2h\"}").expect(201);
        assertThat(t.path("scope").asText()).isEqualTo("tenant:b");
        assertThat(Duration.between(Instant.parse(t.path("issued_at").asText()), Instant.parse(t.path("expires_at").asText())))
                .isEqualTo(Duration.ofHours(2));
        server.httpAs(t.path("token").asText(), "GET", "/v1/tenants/b/branches", null).expect(200);
        assertThat(server.post("/v1/tokens", "{\"tenant\":\"b\",\"ttl\":\"0\"}").expect(201).path("expires_at").isNull())
                .isTrue();

        assertThat(server.post("/v1/tokens", "{\"tenant\":\"nobody\"}").error(404, "not_found")).contains("'nobody'");
        assertThat(server.post("/v1/tokens", "{\"tenant\":\"Bad!\"}").error(400, "bad_request")).contains("'Bad!'");
        assertThat(server.post("/v1/tokens", "{}").error(400, "bad_request")).contains("'tenant'");
        assertThat(server.post("/v1/tokens", "{\"tenant\":\"b\",\"ttl\":\"soon\"}").error(400, "bad_request"))
                .contains("'soon'");
    }

    @Test
    void theFirstStartWroteTheKeyAndTheAdminTokenForOwnerOnly() throws Exception {
        var auth = server.dir().resolve("auth");
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(auth)))
                .isEqualTo("rwx------");
        for (String f : List.of("signing-key.jwk", "admin.token")) {
            assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(auth.resolve(f))))
                    .as(f).isEqualTo("rw-------");
        }
        assertThat(Files.readString(auth.resolve("admin.token")).strip()).isEqualTo(server.adminToken());
        assertThat(Files.readString(server.clientTokenFile()).strip()).isEqualTo(server.adminToken());
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(server.clientTokenFile())))
                .isEqualTo("rw-------");
        assertThat(server.server().tokenVerifier().verify(server.adminToken()).isAdmin()).isTrue();
    }

    @Test
    void withAuthOffEveryCallerIsAdmin() throws Exception {
        try (TestServer off = TestServer.start("auth-off", TestServer.Option.AUTH_OFF, TestServer.Option.NO_BACKGROUND_GC)) {
            assertThat(off.httpAs(null, "GET", "/v1/status", null).expect(200).path("auth").asText()).isEqualTo("off");
            off.httpAs(null, "GET", "/v1/tenants", null).expect(200);
            assertThat(off.httpAs("garbage", "GET", "/metrics", null).status()).isEqualTo(200);
            off.httpAs(null, "GET", "/v1/tenants/x/branches", null).error(404, "not_found");
            assertThat(off.server().tokenVerifier().enabled()).isFalse();
            // the key and admin token exist anyway, so turning auth on later needs nothing
            assertThat(off.dir().resolve("auth").resolve("admin.token")).exists();
        }
    }
}
