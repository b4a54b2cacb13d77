package io.forkline.pageserver.auth;

import java.time.Instant;
import java.util.Optional;

/**
 * A token as {@link TokenIssuer} made it.
 *
 * @param token     the compact JWS ({@code header.claims.signature}, base64url): the bearer secret
 * @param scope     what it allows
 * @param issuedAt  its {@code iat} (whole seconds)
 * @param expiresAt its {@code exp} (whole seconds), empty when it never expires
 */
public record IssuedToken(String token, AuthScope scope, Instant issuedAt, Optional<Instant> expiresAt) {
    @Override
    public String toString() { // never the token itself: records end up in logs
        return "IssuedToken[scope=" + scope + ", issuedAt=" + issuedAt + ", expiresAt=" + expiresAt.map(Instant::toString).orElse("never") + "]";
    }
}
