package io.forkline.pageserver.mirror;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * A mirror as {@code tenant list} and the API show it ({@code "mirror"} of a tenant).
 *
 * @param primary          the primary's URI without password
 * @param slot             its replication slot
 * @param state            {@code connecting}, {@code streaming}, {@code failed} or {@code stopped}
 * @param error            why ingest stopped (names the LSN and record or the refusal), when failed
 * @param consistentLsn    the first LSN branches may use (the base backup's end), {@code X/Y}
 * @param lastRecordLsn    the end of the last record held durably, {@code X/Y}
 * @param primaryFlushLsn  the primary's flush LSN at the last poll ({@code IDENTIFY_SYSTEM}), or null
 *                         before the first successful one
 * @param lagBytes         {@code primaryFlushLsn} minus what is durable here, bytes (0 when caught up;
 *                         null when the primary's position is unknown)
 * @param lagSeconds       how long ago the primary had flushed the oldest WAL not durable here,
 *                         seconds (0 when caught up; null when unknown)
 * @param primaryReachable whether the last poll reached the primary
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record MirrorStatus(@JsonProperty("primary") String primary,
                           @JsonProperty("slot") String slot,
                           @JsonProperty("state") String state,
                           @JsonProperty("error") String error,
                           @JsonProperty("consistent_lsn") String consistentLsn,
                           @JsonProperty("last_record_lsn") String lastRecordLsn,
                           @JsonProperty("primary_flush_lsn") String primaryFlushLsn,
                           @JsonProperty("lag_bytes") Long lagBytes,
                           @JsonProperty("lag_seconds") Double lagSeconds,
                           @JsonProperty("primary_reachable") boolean primaryReachable) {
}
