package io.forkline.pageserver.pageservice;

import io.forkline.page.client.PageClientConfig;
import io.forkline.page.client.PageServiceClient;
import io.forkline.page.client.PageServiceException;
import io.forkline.page.protocol.proto.ErrorCode;
import io.forkline.pageserver.auth.SigningKey;
import io.forkline.pageserver.auth.TokenIssuer;
import io.forkline.pageserver.testing.TestClock;
import io.forkline.pageserver.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The page service handshake checks the same tokens as the admin API ({@link TokenSessionAuthorizer}
 * over the server's {@code TokenVerifier}): no token, a bad signature, a foreign key and an expired
 * token are {@code UNAUTHORIZED}; another tenant's token is {@code FORBIDDEN}; the tenant's own token
 * and the admin token open a session; with {@code --auth off} anything does.
 */
class PageServiceAuthIT {
    private static final TestClock CLOCK = new TestClock();
    private static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start("pageservice-auth", CLOCK, TestServer.Option.NO_BACKGROUND_GC);
        server.post("/v1/tenants", "{\"name\":\"a\"}").expect(201);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static PageServiceClient connect(TestServer s, String tenant, String token) {
        return PageServiceClient.connect(PageClientConfig.of("127.0.0.1", s.server().pagePort(), tenant, null, "main", token));
    }

    private static void refused(String tenant, String token, ErrorCode code, String message) {
        assertThatThrownBy(() -> connect(server, tenant, token).close())
                .isInstanceOf(PageServiceException.class)
                .satisfies(e -> assertThat(((PageServiceException) e).code()).isEqualTo(code))
                .hasMessageContaining(message)
                .satisfies(e -> {
                    if (token.length() > 8) {
                        assertThat(e.getMessage()).doesNotContain(token);
                    }
                });
    }

    @Test
    void theTenantsOwnTokenAndTheAdminTokenOpenASession() throws Exception {
        try (PageServiceClient c = connect(server, "a", server.tenantToken("a", Optional.empty()))) {
            assertThat(PageServiceClient.await(c.ping(new byte[]{7}))).containsExactly(7);
        }
        try (PageServiceClient c = connect(server, "a", server.adminToken())) {
            assertThat(PageServiceClient.await(c.ping(new byte[]{8}))).containsExactly(8);
        }
    }

    @Test
    void noTokenIsUnauthorized() {
        refused("a", "", ErrorCode.UNAUTHORIZED, "no token given");
    }

    @Test
    void aBadSignatureIsUnauthorized() {
        String token = server.tenantToken("a", Optional.empty());
        String[] p = token.split("\\.");
        String claims = new String(Base64.getUrlDecoder().decode(p[1]), StandardCharsets.UTF_8);
        String forged = p[0] + "." + Base64.getUrlEncoder().withoutPadding()
                .encodeToString(claims.replace("tenant:a", "admin").getBytes(StandardCharsets.UTF_8)) + "." + p[2];
        refused("a", forged, ErrorCode.UNAUTHORIZED, "bad token signature");
        refused("a", new TokenIssuer(SigningKey.generate(), CLOCK).adminToken().token(), ErrorCode.UNAUTHORIZED,
                "not by this server's key");
        refused("a", "garbage", ErrorCode.UNAUTHORIZED, "malformed token");
    }

    @Test
    void anExpiredTokenIsUnauthorized() {
        String token = server.tenantToken("a", Optional.of(Duration.ofMinutes(5)));
        try {
            CLOCK.setOffset(Duration.ofMinutes(6));
            refused("a", token, ErrorCode.UNAUTHORIZED, "token expired at");
        } finally {
            CLOCK.setOffset(Duration.ZERO);
        }
    }

    @Test
    void anotherTenantsTokenIsForbidden() {
        refused("a", server.tenantToken("b", Optional.empty()), ErrorCode.FORBIDDEN, "does not cover tenant 'a'");
    }

    @Test
    void endpointsFetchTheirBasebackupWithATokenOfTheirTenant() throws Exception {
        // the endpoint start goes over the page service (GetBasebackup); with auth on it must pass the handshake
        String uri = server.post("/v1/tenants/a/branches/main/endpoint/start", "").expect(200).path("uri").asText();
        assertThat(uri).startsWith("postgresql://");
        server.post("/v1/tenants/a/branches/main/endpoint/stop", "").expect(200);
    }

    @Test
    void withAuthOffAnyTokenOpensASession() throws Exception {
        try (TestServer off = TestServer.start("pageservice-auth-off", TestServer.Option.AUTH_OFF,
                TestServer.Option.NO_BACKGROUND_GC)) {
            off.post("/v1/tenants", "{\"name\":\"a\"}").expect(201);
            try (PageServiceClient c = connect(off, "a", "")) {
                assertThat(PageServiceClient.await(c.ping(new byte[]{9}))).containsExactly(9);
            }
        }
    }
}
