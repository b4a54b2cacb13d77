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
                         @JsonProperty("schema_only") boolean schemaOnly) {

    /** A plain branch: not protected, no expiry, default size, full data. */
    public BranchInfo(String ref, String timelineId, String parent, String ancestorLsn, String createdAt) {
        this(ref, timelineId, parent, ancestorLsn, createdAt, false, null, null, null, false);
    }

    /** This branch pointing at another timeline, branched from {@code parent} at {@code ancestorLsn}. */
    public BranchInfo withTimeline(String newTimelineId, String newParent, String newAncestorLsn) {
        return new BranchInfo(ref, newTimelineId, newParent, newAncestorLsn, createdAt, isProtected, expiresAt, ttl, size,
                schemaOnly);
    }

    /** This branch with protection on or off. */
    public BranchInfo withProtected(boolean on) {
        return new BranchInfo(ref, timelineId, parent, ancestorLsn, createdAt, on, expiresAt, ttl, size, schemaOnly);
    }

    /** This branch with an expiry ({@code null}s: none). */
    public BranchInfo withExpiry(String newExpiresAt, String newTtl) {
        return new BranchInfo(ref, timelineId, parent, ancestorLsn, createdAt, isProtected, newExpiresAt, newTtl, size,
                schemaOnly);
    }

    /** This branch with another default compute size ({@code null}: the default). */
    public BranchInfo withSize(String newSize) {
        return new BranchInfo(ref, timelineId, parent, ancestorLsn, createdAt, isProtected, expiresAt, ttl, newSize,
                schemaOnly);
    }

    /** This branch with the schema-only flag set or cleared. */
    public BranchInfo withSchemaOnly(boolean on) {
        return new BranchInfo(ref, timelineId, parent, ancestorLsn, createdAt, isProtected, expiresAt, ttl, size, on);
    }
}
