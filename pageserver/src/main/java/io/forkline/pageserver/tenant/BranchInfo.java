package io.forkline.pageserver.tenant;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * A branch as the API and the store's metadata records show it (JSON, snake_case).
 *
 * @param ref           the branch name, e.g. {@code main}, {@code before-accident}
 * @param timelineId    32 hex digits
 * @param parent        parent branch ref, {@code null} for {@code main}
 * @param ancestorLsn   branch point on the parent, {@code X/Y}; {@code null} for {@code main}
 * @param createdAt     RFC 3339 UTC
 */
public record BranchInfo(@JsonProperty("ref") String ref,
                         @JsonProperty("timeline_id") String timelineId,
                         @JsonProperty("parent") String parent,
                         @JsonProperty("ancestor_lsn") String ancestorLsn,
                         @JsonProperty("created_at") String createdAt) {
}
