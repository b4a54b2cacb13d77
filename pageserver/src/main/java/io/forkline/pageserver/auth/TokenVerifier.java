package io.forkline.pageserver.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;

import java.text.ParseException;
import java.time.Clock;
import java.time.Instant;
import java.util.Date;
import java.util.Objects;

/**
 * Checks a bearer token and says what it allows: the one gate of the admin HTTP API and the page
 * service handshake.
 *
 * <p>A token passes when it is a compact JWS signed {@code ES256} by this server's
 * {@link SigningKey} (same {@code kid}), with {@code iss = "forkline"}, a {@code scope} claim of
 * {@code admin} or {@code tenant:<name>}, and, if it has an {@code exp}, {@code exp} after now (the
 * injected clock; no leeway: the issuer is this same server). Anything else is
 * {@link AuthException.Code#UNAUTHORIZED} with a message that says which check failed; no message
 * contains the token (only its length), since logs and error bodies are not secret.
 *
 * <p>With authentication off ({@link #disabled()}, {@code forkline server --auth off}) every call,
 * even with no token, returns {@link AuthScope#admin()}.
 *
 * <p>An ECDSA P-256 check is expensive (20-40 HMAC-SHA256 checks; milliseconds on a loaded core:
 * {@code TokenVerifyBenchmark}, benchmarks/README.md section 6), so tokens that passed are remembered (at most
 * {@value #CACHE_TOKENS}, by their full text): a token seen again is checked for expiry only. That is
 * as strict as checking it again: the key never changes while the server runs, and every other check
 * depends on the token's bytes alone.
 *
 * <p>Thread-safe.
 */
public final class TokenVerifier {
    /** How many verified tokens are remembered. */
    static final int CACHE_TOKENS = 4096;
    private static final TokenVerifier DISABLED = new TokenVerifier();

    /** A token that passed every check but expiry: its scope and {@code exp} (null: never expires). */
    private record Verified(AuthScope scope, Instant expiresAt) {
    }

    private final SigningKey key;
    private final Clock clock;
    private final Cache<String, Verified> verified;

    /**
     * @param key   the server's signing key
     * @param clock "now" for expiry
     */
    public TokenVerifier(SigningKey key, Clock clock) {
        this(key, clock, CACHE_TOKENS);
    }

    /** With room for {@code cacheTokens} verified tokens (0: every call checks the signature; benchmarks). */
    TokenVerifier(SigningKey key, Clock clock, int cacheTokens) {
        this.key = Objects.requireNonNull(key, "key");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.verified = cacheTokens > 0 ? Caffeine.newBuilder().maximumSize(cacheTokens).build() : null;
    }

    private TokenVerifier() {
        this.key = null;
        this.clock = null;
        this.verified = null;
    }

    /** A verifier that accepts anything, even no token, as {@code admin} (authentication off). */
    public static TokenVerifier disabled() {
        return DISABLED;
    }

    /** Whether tokens are checked ({@code false} only for {@link #disabled()}). */
    public boolean enabled() {
        return key != null;
    }

    /**
     * Verifies {@code token}.
     *
     * @param token the compact JWS, as sent after {@code Bearer }; surrounding white space is ignored
     * @return the token's scope ({@link AuthScope#admin()} for anything when disabled)
     * @throws AuthException {@link AuthException.Code#UNAUTHORIZED} when {@code token} is null or
     *                       blank, malformed, signed with another algorithm or key, has a bad signature,
     *                       is expired, or lacks a valid {@code iss} or {@code scope}
     */
    public AuthScope verify(String token) throws AuthException {
        if (key == null) {
            return AuthScope.admin();
        }
        if (token == null || token.isBlank()) {
            throw AuthException.unauthorized("no token given: send 'Authorization: Bearer <token>' (the admin token is"
                    + " in <data-dir>/auth/admin.token; tenant tokens come from 'forkline token create')");
        }
        String t = token.strip();
        Verified v = verified == null ? null : verified.getIfPresent(t);
        if (v == null) {
            v = check(t);
            if (verified != null) {
                verified.put(t, v);
            }
        }
        if (v.expiresAt() != null) {
            Instant now = clock.instant();
            if (!now.isBefore(v.expiresAt())) {
                throw AuthException.unauthorized("token expired at " + v.expiresAt() + " (now " + now
                        + "); ask for a new one ('forkline token create')");
            }
        }
        return v.scope();
    }

    /** Every check but expiry. */
    private Verified check(String t) throws AuthException {
        SignedJWT jwt;
        JWTClaimsSet claims;
        try {
            jwt = SignedJWT.parse(t);
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            throw AuthException.unauthorized("malformed token (" + t.length() + " characters): not a signed JWT ("
                    + shorten(e.getMessage()) + ")");
        }
        if (!SigningKey.ALGORITHM.equals(jwt.getHeader().getAlgorithm())) {
            throw AuthException.unauthorized("token signed with " + jwt.getHeader().getAlgorithm() + ", expected "
                    + SigningKey.ALGORITHM);
        }
        String kid = jwt.getHeader().getKeyID();
        if (!key.keyId().equals(kid)) {
            throw AuthException.unauthorized("token signed by key '" + shorten(kid) + "', not by this server's key '"
                    + key.keyId() + "' (issued by another server, or before its auth directory was recreated?)");
        }
        boolean valid;
        try {
            valid = jwt.verify(key.verifier());
        } catch (JOSEException e) {
            valid = false;
        }
        if (!valid) {
            throw AuthException.unauthorized("bad token signature (key " + key.keyId() + ")");
        }
        if (!TokenIssuer.ISSUER.equals(claims.getIssuer())) {
            throw AuthException.unauthorized("token issuer '" + shorten(claims.getIssuer()) + "' is not '"
                    + TokenIssuer.ISSUER + "'");
        }
        Date exp = claims.getExpirationTime();
        Object scope = claims.getClaim(TokenIssuer.SCOPE_CLAIM);
        if (!(scope instanceof String s)) {
            throw AuthException.unauthorized("token has no '" + TokenIssuer.SCOPE_CLAIM + "' claim of type string");
        }
        try {
            return new Verified(AuthScope.parse(s), exp == null ? null : exp.toInstant());
        } catch (IllegalArgumentException e) {
            throw AuthException.unauthorized(shorten(e.getMessage()));
        }
    }

    private static String shorten(String s) {
        if (s == null) {
            return "null";
        }
        return s.length() <= 120 ? s : s.substring(0, 120) + "...";
    }
}
