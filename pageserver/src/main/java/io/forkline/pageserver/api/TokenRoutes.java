package io.forkline.pageserver.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.forkline.pageserver.auth.IssuedToken;
import io.forkline.pageserver.auth.TokenIssuer;
import io.forkline.format.interval.IntervalText;
import io.forkline.pageserver.tenant.TenantService;

import java.time.Duration;
import java.util.Optional;

/**
 * Issuing tokens (admin only):
 *
 * <pre>
 *   POST /v1/tokens {"tenant","ttl"?} -> 201 {"token","scope":"tenant:NAME","issued_at","expires_at"|null}
 * </pre>
 *
 * {@code ttl}: {@link IntervalText} ({@code 30s}, {@code 15m}, {@code 1h}, {@code 7d}, {@code 2w}; at
 * most 3660 days); absent or {@code 0}: the token never expires. The tenant must exist (404 otherwise).
 * Tokens are not stored; see {@link TokenIssuer} for what they hold and how to invalidate them.
 */
public final class TokenRoutes implements Router.Module {
    private final TokenIssuer issuer;
    private final TenantService tenants;
    private final ObjectMapper json = new ObjectMapper();

    public TokenRoutes(TokenIssuer issuer, TenantService tenants) {
        this.issuer = issuer;
        this.tenants = tenants;
    }

    @Override
    public void register(Router r) {
        r.add("POST", "/v1/tokens", Router.Access.ADMIN, q -> {
            String tenant = q.text("tenant", true);
            Optional<Duration> ttl = ttl(q.text("ttl", false));
            tenants.requireTenant(tenant);
            IssuedToken t = issuer.tenantToken(tenant, ttl);
            ObjectNode n = json.createObjectNode();
            n.put("token", t.token());
            n.put("scope", t.scope().claim());
            n.put("issued_at", t.issuedAt().toString());
            n.put("expires_at", t.expiresAt().map(Object::toString).orElse(null));
            return ApiResponse.created(n);
        });
    }

    private static Optional<Duration> ttl(String text) {
        if (text == null) {
            return Optional.empty();
        }
        Duration d;
        try {
            d = IntervalText.parse(text);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("invalid ttl: " + e.getMessage());
        }
        return d.isZero() ? Optional.empty() : Optional.of(d);
    }
}
