package io.forkline.pageserver.auth;

import io.forkline.storage.id.TenantId;

import java.util.Objects;
import java.util.Optional;

/**
 * What a verified token may do: everything ({@code admin}) or one tenant's data
 * ({@code tenant:<name>}). The text form {@link #claim()} is the token's {@code scope} claim.
 *
 * <ul>
 *   <li>{@code admin}: every route and every tenant, tenant creation and import, {@code /metrics},
 *       issuing tokens;</li>
 *   <li>{@code tenant:<name>}: the routes under {@code /v1/tenants/<name>/} (except changing its quotas)
 *       and that tenant's timelines on the page service; the tenant list shows only that tenant.</li>
 * </ul>
 *
 * @param tenant empty for {@code admin}, else the tenant the token is limited to
 */
public record AuthScope(Optional<String> tenant) {
    /** The {@code scope} claim of an admin token. */
    public static final String ADMIN_CLAIM = "admin";
    /** The prefix of a tenant token's {@code scope} claim: {@code tenant:<name>}. */
    public static final String TENANT_PREFIX = "tenant:";
    private static final AuthScope ADMIN = new AuthScope(Optional.empty());

    public AuthScope {
        Objects.requireNonNull(tenant, "tenant");
    }

    /** The {@code admin} scope. */
    public static AuthScope admin() {
        return ADMIN;
    }

    /**
     * The {@code tenant:<name>} scope.
     *
     * @throws IllegalArgumentException naming {@code name} when it is not a valid tenant name ({@link TenantId})
     */
    public static AuthScope forTenant(String name) {
        return new AuthScope(Optional.of(new TenantId(name).name()));
    }

    /**
     * Parses a {@code scope} claim: {@code admin} or {@code tenant:<name>}.
     *
     * @throws IllegalArgumentException naming the claim when it is neither
     */
    public static AuthScope parse(String claim) {
        if (ADMIN_CLAIM.equals(claim)) {
            return ADMIN;
        }
        if (claim != null && claim.startsWith(TENANT_PREFIX)) {
            return forTenant(claim.substring(TENANT_PREFIX.length()));
        }
        throw new IllegalArgumentException("unknown token scope '" + claim + "': expected 'admin' or 'tenant:<name>'");
    }

    /** Whether this is the {@code admin} scope. */
    public boolean isAdmin() {
        return tenant.isEmpty();
    }

    /** Whether this scope covers the data of tenant {@code tenantName}: admin, or that very tenant. */
    public boolean allowsTenant(String tenantName) {
        return isAdmin() || tenant.get().equals(tenantName);
    }

    /**
     * Passes when this scope covers {@code tenantName}.
     *
     * @throws AuthException {@link AuthException.Code#FORBIDDEN} naming both tenants otherwise
     */
    public void requireTenant(String tenantName) throws AuthException {
        if (!allowsTenant(tenantName)) {
            throw AuthException.forbidden("the token's scope is " + claim() + "; it does not cover tenant '"
                    + tenantName + "'");
        }
    }

    /**
     * Passes when this is the admin scope.
     *
     * @param what the action, for the message, e.g. {@code "POST /v1/tenants"}
     * @throws AuthException {@link AuthException.Code#FORBIDDEN} otherwise
     */
    public void requireAdmin(String what) throws AuthException {
        if (!isAdmin()) {
            throw AuthException.forbidden(what + " needs an admin token; the token's scope is " + claim());
        }
    }

    /** The {@code scope} claim: {@code admin} or {@code tenant:<name>}. */
    public String claim() {
        return tenant.map(t -> TENANT_PREFIX + t).orElse(ADMIN_CLAIM);
    }

    @Override
    public String toString() {
        return claim();
    }
}
