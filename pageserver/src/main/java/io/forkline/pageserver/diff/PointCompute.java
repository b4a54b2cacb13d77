package io.forkline.pageserver.diff;

import io.forkline.pageserver.branch.BranchOptions;
import io.forkline.pageserver.branch.BranchService;
import io.forkline.pageserver.branch.Ttl;
import io.forkline.pageserver.tenant.BranchInfo;
import io.forkline.pageserver.tenant.TenantService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.forkline.compute.proxy.ComputeAddress;
import io.forkline.pageserver.endpoint.EndpointManager;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * A running compute that shows one {@link DiffSide}. The present state of a branch whose endpoint
 * runs is read from that endpoint; every other side (a past point, or a stopped branch) gets a
 * temporary branch {@code diff-tmp-<hex>} at that point (TTL 1 h, so the reaper removes it should the
 * server die meanwhile) with a compute started on demand, deleted with its compute on {@link #close()}.
 */
final class PointCompute implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PointCompute.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final BranchService branches;
    private final String tenant;
    private final String temporaryRef;
    private final ComputeAddress address;
    private final String lsn;
    private final EndpointManager.Endpoint endpoint;

    private PointCompute(BranchService branches, String tenant, String temporaryRef, ComputeAddress address, String lsn,
                         EndpointManager.Endpoint endpoint) {
        this.branches = branches;
        this.tenant = tenant;
        this.temporaryRef = temporaryRef;
        this.address = address;
        this.lsn = lsn;
        this.endpoint = endpoint;
    }

    /**
     * Finds or starts a compute for {@code side}.
     *
     * @throws io.forkline.pageserver.api.ApiException as branch creation and endpoint start do (404
     *         unknown ref, 400/409 a point outside the branch's history, 403 quotas, 503 start failures)
     */
    static PointCompute open(TenantService tenants, String tenant, DiffSide side) {
        BranchService branches = tenants.branches();
        BranchInfo b = branches.get(tenant, side.ref());
        if (side.latest()) {
            TenantService.BranchView v = branches.view(tenant, b.ref());
            ComputeAddress running = addressOf(tenants, tenant, b.ref());
            if ("running".equals(v.endpointState()) && running != null) {
                return new PointCompute(branches, tenant, null, running,
                        io.forkline.storage.lsn.Lsn.format(v.lastRecordLsn()), tenants.endpoints().get(tenant, b.ref()));
            }
        }
        String ref = "diff-tmp-" + HexFormat.of().formatHex(bytes());
        BranchInfo tmp = branches.create(tenant, ref, b.ref(), side.lsn(), side.at(),
                new BranchOptions(Ttl.parse("1h"), null, false, false));
        try {
            branches.startEndpoint(tenant, ref, "xs");
            ComputeAddress started = addressOf(tenants, tenant, ref);
            if (started == null) {
                throw io.forkline.pageserver.api.ApiException.unavailable("the compute of temporary branch '" + ref
                        + "' stopped right after its start");
            }
            log.info("diff: {} of tenant {} on temporary branch {} at {}", side.text(), tenant, ref, tmp.ancestorLsn());
            return new PointCompute(branches, tenant, ref, started, tmp.ancestorLsn(), tenants.endpoints().get(tenant, ref));
        } catch (RuntimeException e) {
            branches.delete(tenant, ref, false, true);
            throw e;
        }
    }

    /**
     * Where the server itself reaches the running compute of {@code ref} (its private Unix socket;
     * TCP on a compute node), never the proxy's connection string; null when it does not run.
     */
    private static ComputeAddress addressOf(TenantService tenants, String tenant, String ref) {
        EndpointManager.Endpoint e = tenants.endpoints().get(tenant, ref);
        return e == null || !e.active() ? null : e.address();
    }

    private static byte[] bytes() {
        byte[] b = new byte[4];
        RANDOM.nextBytes(b);
        return b;
    }

    /** Where the server connects to the compute (user {@code postgres}). */
    ComputeAddress address() {
        return address;
    }

    /**
     * The compute's endpoint (its timeline and WAL receiver), or {@code null} when it is gone. The
     * timeline is the one the compute reads and writes: the branch's, or the temporary branch's.
     */
    EndpointManager.Endpoint endpoint() {
        return endpoint;
    }

    /** The LSN the side resolved to, {@code X/Y}. */
    String lsn() {
        return lsn;
    }

    /** Deletes the temporary branch and its compute, if one was made. */
    @Override
    public void close() {
        if (temporaryRef != null) {
            try {
                branches.delete(tenant, temporaryRef, false, true);
            } catch (RuntimeException e) {
                log.warn("diff: cannot delete temporary branch {} of tenant {} (its TTL will): {}", temporaryRef, tenant,
                        e.getMessage());
            }
        }
    }
}
