package io.forkline.pageserver.retention;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.time.Instant;

/**
 * An LSN lease as the API and the store's metadata record
 * {@code lease/<tenant>/<timeline_id>/<lsn as 16 hex digits>} show it (JSON, snake_case): until
 * {@code expiresAt}, GC keeps {@code (timeline, lsn)} readable and branchable. A lease pins the
 * timeline the ref pointed at when it was taken, not the ref (a later reset of the ref does not move
 * it): a reset or delete of the branch keeps that timeline, retired, until the lease expires
 * ({@link RetentionService#pins}). One lease per (timeline, LSN): taking it again renews it. Neon's
 * {@code POST /v1/tenant/{t}/timeline/{tl}/lsn_lease} is the model.
 *
 * @param tenant     tenant name
 * @param ref        the branch ref it was taken on
 * @param timelineId 32 hex digits
 * @param lsn        {@code X/Y}
 * @param createdAt  RFC 3339 UTC, when first taken
 * @param expiresAt  RFC 3339 UTC; from then on the lease no longer counts
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record LsnLease(@JsonProperty("tenant") String tenant,
                       @JsonProperty("ref") String ref,
                       @JsonProperty("timeline_id") String timelineId,
                       @JsonProperty("lsn") String lsn,
                       @JsonProperty("created_at") String createdAt,
                       @JsonProperty("expires_at") String expiresAt) {

    /** Whether the lease still counts at {@code now} (strictly before its expiry). */
    public boolean activeAt(Instant now) {
        return now.isBefore(Instant.parse(expiresAt));
    }
}
