package io.forkline.pageserver.auth;

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
 * <p>Thread-safe; a verification costs one ECDSA P-256 check (tens of microseconds).
 */
public final class TokenVerifier {
    private static final TokenVerifier DISABLED = new TokenVerifier();

    private final SigningKey key;
    private final Clock clock;

    /**
     * @param key   the server's signing key
     * @param clock "now" for expiry
     */
    public TokenVerifier(SigningKey key, Clock clock) {
        this.key = Objects.requireNonNull(key, "key");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    private TokenVerifier() {
        this.key = null;
        this.clock = null;
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
        if (exp != null) {
            Instant now = clock.instant();
            if (!now.isBefore(exp.toInstant())) {
                throw AuthException.unauthorized("token expired at " + exp.toInstant() + " (now " + now
                        + "); ask for a new one ('forkline token create')");
            }
        }
        Object scope = claims.getClaim(TokenIssuer.SCOPE_CLAIM);
        if (!(scope instanceof String s)) {
            throw AuthException.unauthorized("token has no '" + TokenIssuer.SCOPE_CLAIM + "' claim of type string");
        }
        try {
            return AuthScope.parse(s);
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
