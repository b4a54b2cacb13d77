package io.forkline.pageserver.branch;

import io.forkline.compute.endpoint.ComputeSize;

import java.time.Duration;

/**
 * What a branch create or put asks for beyond parent and point.
 *
 * @param ttl        time to live from now; {@code null} = no expiry
 * @param size       default compute size; {@code null} = keep the branch's (default {@code s} for a new one)
 * @param schemaOnly keep the parent's schema but no rows in user tables
 * @param start      leave the branch's endpoint running afterwards
 */
public record BranchOptions(Duration ttl, ComputeSize size, boolean schemaOnly, boolean start) {
    /** No expiry, default size, full data, endpoint not started. */
    public static final BranchOptions NONE = new BranchOptions(null, null, false, false);
}
