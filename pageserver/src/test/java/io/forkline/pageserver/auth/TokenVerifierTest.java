package io.forkline.pageserver.auth;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.forkline.pageserver.testing.TestClock;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What {@link TokenVerifier} accepts and refuses: real ES256 tokens from {@link TokenIssuer}, and
 * tokens forged or tampered with by hand with nimbus-jose-jwt. Every refusal is
 * {@link AuthException.Code#UNAUTHORIZED} with a message that says why and never contains the token.
 */
class TokenVerifierTest {
    private final TestClock clock = new TestClock();
    private final SigningKey key = SigningKey.generate();
    private final TokenIssuer issuer = new TokenIssuer(key, clock);
    private final TokenVerifier verifier = new TokenVerifier(key, clock);

    /** Asserts a 401-kind refusal whose message contains {@code expected} and not the token; returns the message. */
    private String refused(String token, String expected) {
        AuthException e = org.junit.jupiter.api.Assertions.assertThrows(AuthException.class, () -> verifier.verify(token));
        assertThat(e.code()).isEqualTo(AuthException.Code.UNAUTHORIZED);
        assertThat(e.getMessage()).contains(expected);
        if (token != null && token.length() > 8) {
            assertThat(e.getMessage()).as("message echoes the token").doesNotContain(token);
            // not even one of its three parts
            for (String part : token.split("\\.")) {
                if (part.length() > 16) {
                    assertThat(e.getMessage()).doesNotContain(part);
                }
            }
        }
        return e.getMessage();
    }

    @Test
    void adminTokenIsAdminAndCoversEveryTenant() throws Exception {
        AuthScope s = verifier.verify(issuer.adminToken().token());
        assertThat(s.isAdmin()).isTrue();
        assertThat(s.tenant()).isEmpty();
        assertThat(s.allowsTenant("a")).isTrue();
        assertThat(s.allowsTenant("b")).isTrue();
        s.requireAdmin("POST /v1/tenants");
        s.requireTenant("anything");
    }

    @Test
    void tenantTokenCoversOnlyItsTenant() throws Exception {
        String token = issuer.tenantToken("acme", Optional.empty()).token();
        AuthScope s = verifier.verify(token);
        assertThat(s.isAdmin()).isFalse();
        assertThat(s.tenant()).contains("acme");
        assertThat(s.allowsTenant("acme")).isTrue();
        assertThat(s.allowsTenant("other")).isFalse();
        s.requireTenant("acme");

        AuthException other = org.junit.jupiter.api.Assertions.assertThrows(AuthException.class, () -> s.requireTenant("other"));
        assertThat(other.code()).isEqualTo(AuthException.Code.FORBIDDEN);
        assertThat(other.getMessage()).contains("tenant:acme").contains("'other'");
        AuthException admin = org.junit.jupiter.api.Assertions.assertThrows(AuthException.class,
                () -> s.requireAdmin("POST /v1/tenants"));
        assertThat(admin.code()).isEqualTo(AuthException.Code.FORBIDDEN);
        assertThat(admin.getMessage()).contains("POST /v1/tenants").contains("admin token");
    }

    @Test
    void surroundingWhiteSpaceIsIgnored() throws Exception {
        assertThat(verifier.verify("  " + issuer.adminToken().token() + "\n").isAdmin()).isTrue();
    }

    @Test
    void noTokenIsRefused() {
        refused(null, "no token given");
        refused("", "no token given");
        refused("   ", "no token given");
    }

    @Test
    void malformedTokensAreRefused() {
        refused("not-a-jwt", "malformed token (9 characters)");
        refused("a.b.c", "malformed token");
        refused("secretsecretsecretsecret.secretsecretsecretsecret.secretsecretsecretsecret", "malformed token");
        String good = issuer.adminToken().token();
        refused(good.substring(0, good.lastIndexOf('.')), "malformed token"); // signature part missing
    }

    @Test
    void aTamperedClaimBreaksTheSignature() throws Exception {
        String token = issuer.tenantToken("acme", Optional.empty()).token();
        verifier.verify(token); // the original is remembered as verified; the forgery is not

        String[] p = token.split("\\.");
        String claims = new String(Base64URL.from(p[1]).decode(), StandardCharsets.UTF_8);
        assertThat(claims).contains("\"scope\":\"tenant:acme\"");
        String forged = p[0] + "." + Base64URL.encode(claims.replace("tenant:acme", "admin")) + "." + p[2];
        refused(forged, "bad token signature");
    }

    @Test
    void aSignatureOfAnotherKeyWithThisKeysIdIsRefused() throws Exception {
        SigningKey other = SigningKey.generate();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(key.keyId()).build(), claims("admin"));
        jwt.sign(other.signer());
        refused(jwt.serialize(), "bad token signature");
    }

    @Test
    void aTokenOfAnotherServerIsRefusedNamingTheKeys() {
        SigningKey other = SigningKey.generate();
        String token = new TokenIssuer(other, clock).adminToken().token();
        refused(token, "signed by key '" + other.keyId() + "'").contains(key.keyId());
    }

    @Test
    void otherAlgorithmsAreRefused() throws Exception {
        // HS256 with a guessable secret and our key id: the classic algorithm confusion
        SignedJWT hs = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID(key.keyId()).build(), claims("admin"));
        hs.sign(new MACSigner(new byte[32]));
        refused(hs.serialize(), "signed with HS256, expected ES256");
        // alg none: header {"alg":"none"}, claims, empty signature
        String none = Base64URL.encode("{\"alg\":\"none\",\"kid\":\"" + key.keyId() + "\"}") + "."
                + Base64URL.encode(claims("admin").toString()) + ".";
        refused(none, "malformed token");
    }

    @Test
    void expiredTokensAreRefusedAtTheirExpiryToTheSecond() throws Exception {
        Instant t0 = Instant.parse("2030-01-01T00:00:00Z");
        clock.setFixed(t0);
        IssuedToken t = issuer.tenantToken("acme", Optional.of(Duration.ofHours(1)));
        assertThat(t.expiresAt()).contains(t0.plus(Duration.ofHours(1)));
        clock.setFixed(t0.plus(Duration.ofHours(1)).minusMillis(1));
        assertThat(verifier.verify(t.token()).tenant()).contains("acme");
        // now remembered as verified: its expiry still counts
        clock.setFixed(t0.plus(Duration.ofHours(1)));
        refused(t.token(), "token expired at 2030-01-01T01:00:00Z");
        // and without the cache
        assertThatThrownBy(() -> new TokenVerifier(key, clock, 0).verify(t.token()))
                .hasMessageContaining("token expired at 2030-01-01T01:00:00Z");
        clock.setFixed(t0.plus(Duration.ofDays(400)));
        refused(t.token(), "expired");
        // a token without exp does not expire
        clock.setFixed(t0);
        String forever = issuer.adminToken().token();
        clock.setFixed(t0.plus(Duration.ofDays(3650)));
        assertThat(verifier.verify(forever).isAdmin()).isTrue();
    }

    @Test
    void properlySignedTokensWithBadClaimsAreRefused() throws Exception {
        refused(sign(new JWTClaimsSet.Builder().claim("scope", "admin").build()), "token issuer 'null'");
        refused(sign(new JWTClaimsSet.Builder().issuer("someone-else").claim("scope", "admin").build()),
                "token issuer 'someone-else'");
        refused(sign(new JWTClaimsSet.Builder().issuer("forkline").build()), "no 'scope' claim");
        refused(sign(new JWTClaimsSet.Builder().issuer("forkline").claim("scope", 42).build()), "no 'scope' claim");
        refused(sign(new JWTClaimsSet.Builder().issuer("forkline").claim("scope", "root").build()),
                "unknown token scope 'root'");
        refused(sign(new JWTClaimsSet.Builder().issuer("forkline").claim("scope", "tenant:Bad Name").build()),
                "invalid tenant name 'Bad Name'");
    }

    @Test
    void theDisabledVerifierTakesAnythingAsAdmin() throws Exception {
        TokenVerifier off = TokenVerifier.disabled();
        assertThat(off.enabled()).isFalse();
        assertThat(off.verify(null).isAdmin()).isTrue();
        assertThat(off.verify("garbage").isAdmin()).isTrue();
        assertThat(verifier.enabled()).isTrue();
    }

    @Test
    void scopesRoundTripThroughTheirClaim() {
        assertThat(AuthScope.parse("admin")).isEqualTo(AuthScope.admin());
        assertThat(AuthScope.parse("tenant:a-1_b")).isEqualTo(AuthScope.forTenant("a-1_b"));
        assertThat(AuthScope.forTenant("acme").claim()).isEqualTo("tenant:acme");
        assertThat(AuthScope.admin().claim()).isEqualTo("admin");
        assertThatThrownBy(() -> AuthScope.parse("tenant:")).hasMessageContaining("invalid tenant name ''");
        assertThatThrownBy(() -> AuthScope.parse("Admin")).hasMessageContaining("unknown token scope 'Admin'");
        assertThatThrownBy(() -> AuthScope.forTenant("UPPER")).hasMessageContaining("'UPPER'");
    }

    @Test
    void issuedTokensNeverPrintTheirSecret() {
        IssuedToken t = issuer.adminToken();
        assertThat(t.toString()).doesNotContain(t.token()).contains("admin");
    }

    @Test
    void ttlBelowOneSecondIsRefused() {
        assertThatThrownBy(() -> issuer.tenantToken("acme", Optional.of(Duration.ofMillis(500))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("below one second");
    }

    private JWTClaimsSet claims(String scope) {
        return new JWTClaimsSet.Builder().issuer("forkline").claim("scope", scope).issueTime(new Date()).build();
    }

    private String sign(JWTClaimsSet claims) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).type(JOSEObjectType.JWT)
                .keyID(key.keyId()).build(), claims);
        jwt.sign(key.signer());
        return jwt.serialize();
    }
}
