package io.forkline.pageserver.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.forkline.pageserver.testing.TestClock;
import io.forkline.pageserver.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The console's files and sessions against a real server: public {@code /} and assets with a strict
 * CSP, single-use and expiring sign-in links, the HttpOnly/Secure/SameSite session cookie accepted
 * by the admin API like a bearer token, CSRF refusal of cookie-authenticated state changes without
 * (or with a foreign) {@code X-CSRF-Token}, tenant-limited sessions, signing in with a token (origin
 * and content-type checks) and signing out.
 */
class ConsoleApiIT {
    private static final TestClock CLOCK = new TestClock();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private static final Pattern COOKIE = Pattern.compile("forkline_session=([^;]*)");
    private static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start("console-api", CLOCK, TestServer.Option.NO_BACKGROUND_GC);
        server.post("/v1/tenants", "{\"name\":\"a\"}").expect(201);
        server.post("/v1/tenants", "{\"name\":\"b\"}").expect(201);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static HttpResponse<String> send(String method, String path, String body, String... headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url() + path)).timeout(Duration.ofMinutes(1))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String sessionCookie(HttpResponse<String> r) {
        String setCookie = r.headers().firstValue("Set-Cookie").orElseThrow();
        Matcher m = COOKIE.matcher(setCookie);
        assertThat(m.find()).isTrue();
        return m.group(1);
    }

    /** A sign-in link made with {@code token} for {@code body}, redeemed: the session cookie's value. */
    private static String signIn(String token, String body) throws Exception {
        JsonNode link = server.httpAs(token, "POST", "/v1/console/signin-links", body).expect(201);
        HttpResponse<String> r = send("GET", link.path("path").asText(), null);
        assertThat(r.statusCode()).isEqualTo(303);
        return sessionCookie(r);
    }

    private static JsonNode json(HttpResponse<String> r) throws IOException {
        return JSON.readTree(r.body());
    }

    @Test
    void consoleFilesArePublicWithAStrictPolicy() throws Exception {
        HttpResponse<String> index = send("GET", "/", null);
        assertThat(index.statusCode()).isEqualTo(200);
        assertThat(index.headers().firstValue("Content-Type")).get().asString().startsWith("text/html");
        assertThat(index.headers().firstValue("Content-Security-Policy")).get().asString()
                .contains("default-src 'self'").contains("frame-ancestors 'none'");
        Matcher js = Pattern.compile("src=\"/assets/([^\"]+\\.js)\"").matcher(index.body());
        assertThat(js.find()).as(index.body()).isTrue();
        HttpResponse<String> asset = send("GET", "/assets/" + js.group(1), null);
        assertThat(asset.statusCode()).isEqualTo(200);
        assertThat(asset.headers().firstValue("Content-Type")).get().asString().startsWith("text/javascript");
        assertThat(asset.headers().firstValue("Cache-Control")).get().asString().contains("immutable");
        HttpResponse<String> missing = send("GET", "/assets/nope.js", null);
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(json(missing).at("/error/message").asText()).contains("nope.js");
        assertThat(send("GET", "/assets/..%2Findex.html", null).statusCode()).isEqualTo(404);
    }

    @Test
    void aSignInLinkWorksOnceAndSetsASecureHttpOnlyCookie() throws Exception {
        JsonNode link = server.post("/v1/console/signin-links", "{}").expect(201);
        assertThat(link.path("path").asText()).matches("/console/signin\\?code=[A-Za-z0-9_-]{43}");
        assertThat(link.path("scope").asText()).isEqualTo("admin");
        HttpResponse<String> first = send("GET", link.path("path").asText(), null);
        assertThat(first.statusCode()).isEqualTo(303);
        assertThat(first.headers().firstValue("Location")).contains("/#/");
        String setCookie = first.headers().firstValue("Set-Cookie").orElseThrow();
        assertThat(setCookie).contains("HttpOnly").contains("Secure").contains("SameSite=Strict").contains("Path=/");
        String cookie = sessionCookie(first);

        HttpResponse<String> again = send("GET", link.path("path").asText(), null);
        assertThat(again.statusCode()).isEqualTo(303);
        assertThat(again.headers().firstValue("Set-Cookie")).isEmpty();
        String location = URLDecoder.decode(again.headers().firstValue("Location").orElseThrow(), StandardCharsets.UTF_8);
        assertThat(location).startsWith("/#/signin?error=").contains("already used");

        // the cookie authenticates API reads like a bearer token
        HttpResponse<String> tenants = send("GET", "/v1/tenants", null, "Cookie", "forkline_session=" + cookie);
        assertThat(tenants.statusCode()).isEqualTo(200);
        assertThat(json(tenants).findValuesAsText("name")).contains("a", "b");
        // a bad cookie is a bad token
        HttpResponse<String> bad = send("GET", "/v1/tenants", null, "Cookie", "forkline_session=x.y.z");
        assertThat(bad.statusCode()).isEqualTo(401);
    }

    @Test
    void anExpiredLinkIsRefused() throws Exception {
        JsonNode link = server.post("/v1/console/signin-links", "{}").expect(201);
        CLOCK.setOffset(ConsoleSessions.LINK_TTL.plusSeconds(1));
        try {
            HttpResponse<String> r = send("GET", link.path("path").asText(), null);
            assertThat(r.headers().firstValue("Set-Cookie")).isEmpty();
            assertThat(URLDecoder.decode(r.headers().firstValue("Location").orElseThrow(), StandardCharsets.UTF_8))
                    .contains("expired");
        } finally {
            CLOCK.setOffset(Duration.ZERO);
        }
    }

    @Test
    void cookieStateChangesNeedTheSessionsCsrfToken() throws Exception {
        String cookie = signIn(server.adminToken(), "{}");
        String c = "forkline_session=" + cookie;
        String body = "{\"pitr_interval\":\"7d\"}";
        HttpResponse<String> none = send("POST", "/v1/tenants/a/retention", body, "Cookie", c, "Content-Type", "application/json");
        assertThat(none.statusCode()).isEqualTo(403);
        assertThat(json(none).at("/error/message").asText()).contains("X-CSRF-Token");

        // the CSRF token of another session of the same scope does not fit this one
        String other = json(send("GET", "/v1/console/session", null, "Cookie",
                "forkline_session=" + signIn(server.adminToken(), "{}"))).path("csrf_token").asText();
        HttpResponse<String> foreign = send("POST", "/v1/tenants/a/retention", body, "Cookie", c, "X-CSRF-Token", other);
        assertThat(foreign.statusCode()).isEqualTo(403);
        assertThat(json(foreign).at("/error/message").asText()).contains("does not belong to this session");

        JsonNode session = json(send("GET", "/v1/console/session", null, "Cookie", c));
        assertThat(session.path("scope").asText()).isEqualTo("admin");
        assertThat(session.path("auth").asText()).isEqualTo("on");
        String csrf = session.path("csrf_token").asText();
        assertThat(csrf).hasSize(43).isNotEqualTo(other);
        HttpResponse<String> ok = send("POST", "/v1/tenants/a/retention", body, "Cookie", c, "X-CSRF-Token", csrf);
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);

        // a bearer token needs no CSRF token, even with a cookie beside it
        HttpResponse<String> bearer = send("POST", "/v1/tenants/a/retention", body, "Cookie", c,
                "Authorization", "Bearer " + server.adminToken());
        assertThat(bearer.statusCode()).isEqualTo(200);
        // with a bearer token, no csrf_token is handed out
        assertThat(server.get("/v1/console/session").expect(200).path("csrf_token").isNull()).isTrue();

        // signing out clears the cookie (and needs the CSRF token too)
        assertThat(send("DELETE", "/v1/console/session", null, "Cookie", c).statusCode()).isEqualTo(403);
        HttpResponse<String> out = send("DELETE", "/v1/console/session", null, "Cookie", c, "X-CSRF-Token", csrf);
        assertThat(out.statusCode()).isEqualTo(200);
        assertThat(out.headers().firstValue("Set-Cookie")).get().asString().contains("Max-Age=0");
    }

    @Test
    void tenantSessionsSeeOnlyTheirTenant() throws Exception {
        String tokenA = server.tenantToken("a", java.util.Optional.empty());
        // a tenant token cannot make a link for another tenant; an unknown tenant is 404
        server.httpAs(tokenA, "POST", "/v1/console/signin-links", "{\"tenant\":\"b\"}").error(403, "forbidden");
        server.post("/v1/console/signin-links", "{\"tenant\":\"nope\"}").expect(404);

        // an admin link narrowed to tenant b: lands on b's page, sees b only
        JsonNode link = server.post("/v1/console/signin-links", "{\"tenant\":\"b\"}").expect(201);
        assertThat(link.path("scope").asText()).isEqualTo("tenant:b");
        HttpResponse<String> r = send("GET", link.path("path").asText(), null);
        assertThat(r.headers().firstValue("Location")).contains("/#/t/b");
        String c = "forkline_session=" + sessionCookie(r);
        assertThat(json(send("GET", "/v1/tenants", null, "Cookie", c)).findValuesAsText("name")).containsExactly("b");
        assertThat(send("GET", "/v1/tenants/a/branches", null, "Cookie", c).statusCode()).isEqualTo(403);
        assertThat(send("GET", "/v1/tenants/b/branches", null, "Cookie", c).statusCode()).isEqualTo(200);
        JsonNode s = json(send("GET", "/v1/console/session", null, "Cookie", c));
        assertThat(s.path("tenant").asText()).isEqualTo("b");
    }

    @Test
    void signingInWithATokenChecksOriginAndContentType() throws Exception {
        String tokenA = server.tenantToken("a", java.util.Optional.empty());
        String body = "{\"token\":\"" + tokenA + "\"}";
        HttpResponse<String> form = send("POST", "/v1/console/session", body, "Content-Type", "text/plain");
        assertThat(form.statusCode()).isEqualTo(400);
        assertThat(json(form).at("/error/message").asText()).contains("application/json");
        HttpResponse<String> evil = send("POST", "/v1/console/session", body, "Content-Type", "application/json",
                "Origin", "http://evil.example");
        assertThat(evil.statusCode()).isEqualTo(403);
        assertThat(json(evil).at("/error/message").asText()).contains("http://evil.example");
        HttpResponse<String> bad = send("POST", "/v1/console/session", "{\"token\":\"garbage\"}", "Content-Type", "application/json");
        assertThat(bad.statusCode()).isEqualTo(401);

        HttpResponse<String> ok = send("POST", "/v1/console/session", body, "Content-Type", "application/json",
                "Origin", server.url());
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
        JsonNode s = json(ok);
        assertThat(s.path("scope").asText()).isEqualTo("tenant:a");
        assertThat(s.path("expires_at").asText()).isNotEmpty();
        String c = "forkline_session=" + sessionCookie(ok);
        // the session token is a new, expiring one, not the pasted token
        assertThat(c).doesNotContain(tokenA);
        assertThat(json(send("GET", "/v1/console/session", null, "Cookie", c)).path("csrf_token").asText())
                .isEqualTo(s.path("csrf_token").asText());
    }
}
