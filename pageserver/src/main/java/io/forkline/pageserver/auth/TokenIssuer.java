package io.forkline.pageserver.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * Signs tokens with the server's {@link SigningKey}: a JWT (RFC 7519) with header
 * {@code {"alg":"ES256","typ":"JWT","kid":<key id>}} and claims
 * {@code {"iss":"forkline","scope":"admin"|"tenant:<name>","iat":<s>,"exp"?:<s>,"jti":<uuid>}}.
 * {@link TokenVerifier} checks exactly these. There is no revocation list: a token is valid until it
 * expires or the signing key is replaced (delete {@code <data-dir>/auth/} and restart: every token,
 * the admin token included, is then new).
 *
 * <p>Thread-safe.
 */
public final class TokenIssuer {
    /** The {@code iss} claim of every token. */
    public static final String ISSUER = "forkline";
    /** The claim that carries {@link AuthScope#claim()}. */
    public static final String SCOPE_CLAIM = "scope";

    private final SigningKey key;
    private final Clock clock;

    /**
     * @param key   the signing key
     * @param clock {@code iat} and {@code exp} come from it
     */
    public TokenIssuer(SigningKey key, Clock clock) {
        this.key = Objects.requireNonNull(key, "key");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * Issues a token.
     *
     * @param scope what it allows
     * @param ttl   how long it is valid from now (at least one second; whole seconds), empty for never expiring
     * @throws IllegalArgumentException when {@code ttl} is below one second
     */
    public IssuedToken issue(AuthScope scope, Optional<Duration> ttl) {
        Objects.requireNonNull(scope, "scope");
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        Optional<Instant> exp = ttl.map(d -> {
            if (d.compareTo(Duration.ofSeconds(1)) < 0) {
                throw new IllegalArgumentException("token ttl " + d + " is below one second");
            }
            return now.plusSeconds(d.getSeconds());
        });
        JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder()
                .issuer(ISSUER)
                .claim(SCOPE_CLAIM, scope.claim())
                .issueTime(Date.from(now))
                .jwtID(UUID.randomUUID().toString());
        exp.ifPresent(e -> claims.expirationTime(Date.from(e)));
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(SigningKey.ALGORITHM).type(JOSEObjectType.JWT)
                .keyID(key.keyId()).build(), claims.build());
        try {
            jwt.sign(key.signer());
        } catch (JOSEException e) {
            throw new IllegalStateException("cannot sign a token with key " + key.keyId() + ": " + e.getMessage(), e);
        }
        return new IssuedToken(jwt.serialize(), scope, now, exp);
    }

    /** A never-expiring {@code admin} token. */
    public IssuedToken adminToken() {
        return issue(AuthScope.admin(), Optional.empty());
    }

    /**
     * A {@code tenant:<name>} token.
     *
     * @param ttl empty for never expiring
     * @throws IllegalArgumentException for an invalid tenant name or a ttl below one second
     */
    public IssuedToken tenantToken(String tenant, Optional<Duration> ttl) {
        return issue(AuthScope.forTenant(tenant), ttl);
    }
}
