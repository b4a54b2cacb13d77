package io.forkline.pageserver.mirror;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * That a tenant's {@code main} mirrors a running primary, and where: the JSON record
 * {@code mirror/<tenant>} the server resumes streaming from after a restart.
 *
 * @param tenant        tenant name
 * @param primary       the primary's libpq URI as given, with its password, sealed with the server's
 *                      secret key ({@code sealed:} + AES-GCM bound to the record key, opened by
 *                      {@link MirrorService#primaryOf}); never shown by the API
 * @param slot          the physical replication slot on the primary
 * @param systemId      the primary's system identifier (unsigned decimal)
 * @param pgTimeline    the primary's PostgreSQL timeline at import
 * @param timelineId    the mirror timeline ({@code main}'s at import)
 * @param startLsn      the base backup's start LSN (WAL is streamed from there)
 * @param consistentLsn the base backup's end LSN: the first point branches may use
 * @param dataChecksums whether the primary has data checksums
 * @param createdAt     RFC 3339 UTC
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record MirrorRecord(@JsonProperty("tenant") String tenant,
                           @JsonProperty("primary") String primary,
                           @JsonProperty("slot") String slot,
                           @JsonProperty("system_id") String systemId,
                           @JsonProperty("pg_timeline") int pgTimeline,
                           @JsonProperty("timeline_id") String timelineId,
                           @JsonProperty("start_lsn") String startLsn,
                           @JsonProperty("consistent_lsn") String consistentLsn,
                           @JsonProperty("data_checksums") boolean dataChecksums,
                           @JsonProperty("created_at") String createdAt) {
    /** Metadata key of a tenant's record. */
    public static String key(String tenant) {
        return "mirror/" + tenant;
    }
}
