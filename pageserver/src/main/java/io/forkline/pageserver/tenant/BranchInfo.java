package io.forkline.pageserver.tenant;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * A branch as the API and the store's metadata records ({@code branch/<tenant>/<ref>}) show it
 * (JSON, snake_case). Unknown fields of a stored record are ignored, so records written by a newer
 * server still load.
 *
 * @param ref          the branch name, e.g. {@code main}, {@code pr-42}, {@code feat/login-redesign}
 * @param timelineId   32 hex digits: the timeline the branch currently points at (a reset or restore
 *                     points it at a new one)
 * @param parent       parent branch ref, {@code null} for {@code main}
 * @param ancestorLsn  branch point on the parent, {@code X/Y}; {@code null} for {@code main}
 * @param createdAt    RFC 3339 UTC
 * @param isProtected  JSON {@code protected}: the branch cannot be deleted, reset or expire
 * @param expiresAt    RFC 3339 UTC time after which the reaper deletes the branch; {@code null} = never
 * @param ttl          the TTL that set {@code expiresAt}, as given ({@code 4h}, {@code 7d}); {@code null} = none
 * @param size         default compute size ({@code xs}, {@code s}, {@code m}, {@code l}); {@code null} = {@code s}
 * @param schemaOnly   the branch keeps its parent's schema without rows: every reset truncates again
 * @param restores     the in-place restores done on this branch, oldest first ({@code null} or empty: none);
 *                     each names the timeline the branch left, whose history up to the restore point
 *                     stays reachable from the branch
 * @param endpointId   the stable, DNS-label-safe id clients route to the branch's compute with
 *                     ({@code ep-} and 8 of {@code [a-z0-9]}); kept across reset, restore, put and rename;
 *                     {@code null} only in records of servers before endpoint ids (given one at load)
 * @param suspendAfter how long the compute runs without a client session before it is suspended
 *                     ({@code 30s}, {@code 5m}, {@code 1h}; {@code 0} = never); {@code null} = the default, 5m
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record BranchInfo(@JsonProperty("ref") String ref,
                         @JsonProperty("timeline_id") String timelineId,
                         @JsonProperty("parent") String parent,
                         @JsonProperty("ancestor_lsn") String ancestorLsn,
                         @JsonProperty("created_at") String createdAt,
                         @JsonProperty("protected") boolean isProtected,
                         @JsonProperty("expires_at") String expiresAt,
                         @JsonProperty("ttl") String ttl,
                         @JsonProperty("size") String size,
                         @JsonProperty("schema_only") boolean schemaOnly,
                         @JsonProperty("restores") java.util.List<Restore> restores,
                         @JsonProperty("endpoint_id") String endpointId,
                         @JsonProperty("suspend_after") String suspendAfter) {

    /**
     * One in-place restore of a branch.
     *
     * @param at              RFC 3339 UTC time of the restore
     * @param lsn             the restore point on {@code fromTimelineId}, {@code X/Y}
     * @param fromTimelineId  the timeline the branch pointed at before (the restored timeline's ancestor)
     * @param keptAs          the branch that was made to keep the state before the restore
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Restore(@JsonProperty("at") String at, @JsonProperty("lsn") String lsn,
                          @JsonProperty("from_timeline_id") String fromTimelineId, @JsonProperty("kept_as") String keptAs) {
    }

    /** A branch without restores. */
    public BranchInfo(String ref, String timelineId, String parent, String ancestorLsn, String createdAt, boolean isProtected,
                      String expiresAt, String ttl, String size, boolean schemaOnly) {
        this(ref, timelineId, parent, ancestorLsn, createdAt, isProtected, expiresAt, ttl, size, schemaOnly, null, null, null);
    }

    /** A plain branch: not protected, no expiry, default size, full data. */
    public BranchInfo(String ref, String timelineId, String parent, String ancestorLsn, String createdAt) {
        this(ref, timelineId, parent, ancestorLsn, createdAt, false, null, null, null, false, null, null, null);
    }

    /** The restores done, oldest first (never null). */
    public java.util.List<Restore> restoresDone() {
        return restores == null ? java.util.List.of() : restores;
    }

    /** This branch with one more restore recorded. */
    public BranchInfo withRestore(Restore r) {
        java.util.List<Restore> all = new java.util.ArrayList<>(restoresDone());
        all.add(r);
        return new BranchInfo(ref, timelineId, parent, ancestorLsn, createdAt, isProtected, expiresAt, ttl, size, schemaOnly,
                java.util.List.copyOf(all), endpointId, suspendAfter);
    }

    /** This branch under another name (a rename). */
    public BranchInfo withRef(String newRef) {
        return new BranchInfo(newRef, timelineId, parent, ancestorLsn, createdAt, isProtected, expiresAt, ttl, size, schemaOnly,
                restores, endpointId, suspendAfter);
    }

    /** This branch with another parent ref (its parent was renamed); timeline and point unchanged. */
    public BranchInfo withParent(String newParent) {
        return new BranchInfo(ref, timelineId, newParent, ancestorLsn, createdAt, isProtected, expiresAt, ttl, size, schemaOnly,
                restores, endpointId, suspendAfter);
    }

    /** This branch pointing at another timeline, branched from {@code parent} at {@code ancestorLsn}. */
    public BranchInfo withTimeline(String newTimelineId, String newParent, String newAncestorLsn) {
        return new BranchInfo(ref, newTimelineId, newParent, newAncestorLsn, createdAt, isProtected, expiresAt, ttl, size,
                schemaOnly, restores, endpointId, suspendAfter);
    }

    /** This branch with protection on or off. */
    public BranchInfo withProtected(boolean on) {
        return new BranchInfo(ref, timelineId, parent, ancestorLsn, createdAt, on, expiresAt, ttl, size, schemaOnly, restores, endpointId, suspendAfter);
    }

    /** This branch with an expiry ({@code null}s: none). */
    public BranchInfo withExpiry(String newExpiresAt, String newTtl) {
        return new BranchInfo(ref, timelineId, parent, ancestorLsn, createdAt, isProtected, newExpiresAt, newTtl, size,
                schemaOnly, restores, endpointId, suspendAfter);
    }

    /** This branch with another default compute size ({@code null}: the default). */
    public BranchInfo withSize(String newSize) {
        return new BranchInfo(ref, timelineId, parent, ancestorLsn, createdAt, isProtected, expiresAt, ttl, newSize,
                schemaOnly, restores, endpointId, suspendAfter);
    }

    /** This branch with the schema-only flag set or cleared. */
    public BranchInfo withSchemaOnly(boolean on) {
        return new BranchInfo(ref, timelineId, parent, ancestorLsn, createdAt, isProtected, expiresAt, ttl, size, on, restores, endpointId, suspendAfter);
    }

    /** This branch with endpoint id {@code id}. */
    public BranchInfo withEndpointId(String id) {
        return new BranchInfo(ref, timelineId, parent, ancestorLsn, createdAt, isProtected, expiresAt, ttl, size, schemaOnly,
                restores, id, suspendAfter);
    }

    /** This branch with another suspend timeout ({@code null}: the default). */
    public BranchInfo withSuspendAfter(String text) {
        return new BranchInfo(ref, timelineId, parent, ancestorLsn, createdAt, isProtected, expiresAt, ttl, size, schemaOnly,
                restores, endpointId, text);
    }
}
