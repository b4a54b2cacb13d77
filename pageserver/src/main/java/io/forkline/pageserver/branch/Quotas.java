package io.forkline.pageserver.branch;

/**
 * The server's default per-tenant limits, which a tenant's {@link TenantConfig} overrides.
 *
 * @param maxBranches         branches per tenant, main included (default 50)
 * @param maxRunningEndpoints endpoints running or provisioning per tenant at once (default 10)
 */
public record Quotas(int maxBranches, int maxRunningEndpoints) {
    /** 50 branches, 10 running endpoints. */
    public static final Quotas DEFAULT = new Quotas(50, 10);

    /**
     * @throws IllegalArgumentException naming the value when a limit is negative or {@code maxBranches} is 0
     */
    public Quotas {
        if (maxBranches < 1) {
            throw new IllegalArgumentException("invalid max_branches " + maxBranches + ": at least 1 (main)");
        }
        if (maxRunningEndpoints < 0) {
            throw new IllegalArgumentException("invalid max_running_endpoints " + maxRunningEndpoints + ": at least 0");
        }
    }

    /** The effective limits of a tenant: its overrides, else these defaults. */
    public Quotas apply(TenantConfig c) {
        return new Quotas(c.maxBranches() != null ? c.maxBranches() : maxBranches,
                c.maxRunningEndpoints() != null ? c.maxRunningEndpoints() : maxRunningEndpoints);
    }
}
