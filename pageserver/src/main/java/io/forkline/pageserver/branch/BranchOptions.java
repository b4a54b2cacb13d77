package io.forkline.pageserver.branch;

import io.forkline.compute.endpoint.ComputeSize;
import io.forkline.pageserver.endpoint.StorageMode;

import java.time.Duration;

/**
 * What a branch create or put asks for beyond parent and point. Every setting may be left out
 * ({@code null}): a new branch then gets the default, an existing one (a later put) keeps what it
 * has.
 *
 * @param ttl        time to live from now; {@link Duration#ZERO} = no expiry; {@code null} = not given
 *                   (a new branch: no expiry; a put: the branch's own TTL, renewed from now)
 * @param size       default compute size; {@code null} = keep the branch's (default {@code s} for a new one)
 * @param schemaOnly keep the parent's schema but no rows in user tables; {@code null} = keep the
 *                   branch's setting (off for a new one)
 * @param start      leave the branch's endpoint running afterwards
 * @param storage    how the branch's endpoint builds its data directory from its next start on
 *                   ({@code lazy} or {@code full}, see {@link StorageMode}); {@code null} = keep the
 *                   endpoint's choice (the server's default for a new branch)
 * @param suspendAfter the compute's idle timeout as {@link io.forkline.pageserver.access.SuspendAfter} checked it
 *                   ({@code 30s}, {@code 5m}, {@code 0}); {@code null} = keep the branch's (the default, 5m, for a new one)
 */
public record BranchOptions(Duration ttl, ComputeSize size, Boolean schemaOnly, boolean start, StorageMode storage,
                            String suspendAfter) {
    /** Nothing given: a new branch has no expiry, the default size and full data; endpoint not started. */
    public static final BranchOptions NONE = new BranchOptions(null, null, null, false, null, null);

    /** The options with no suspend timeout given. */
    public BranchOptions(Duration ttl, ComputeSize size, Boolean schemaOnly, boolean start, StorageMode storage) {
        this(ttl, size, schemaOnly, start, storage, null);
    }

    /** The options with no storage choice (the endpoint's, else the server's default). */
    public BranchOptions(Duration ttl, ComputeSize size, Boolean schemaOnly, boolean start) {
        this(ttl, size, schemaOnly, start, null, null);
    }

    /** Whether the (new) branch is schema-only: as given, else off. */
    public boolean schemaOnlyOrDefault() {
        return Boolean.TRUE.equals(schemaOnly);
    }
}
