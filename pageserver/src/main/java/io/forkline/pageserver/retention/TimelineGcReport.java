package io.forkline.pageserver.retention;

import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;

/**
 * What GC did to one timeline, as {@code POST /v1/tenants/{t}/gc} returns it (JSON, snake_case;
 * LSNs as {@code X/Y}).
 *
 * @param refs              the branch refs pointing at the timeline (empty when only a backup or lease keeps it)
 * @param timelineId        32 hex digits
 * @param lastRecordLsn     the timeline's last record LSN when the cutoff was computed
 * @param horizonCutoff     {@code last_record_lsn - gc_horizon}
 * @param pitrCutoff        the LSN at {@code now - pitr_interval} (the last commit at or before
 *                          then); the timeline's start LSN when no commit is that old
 * @param cutoff            the cutoff GC used: the smaller of the two, at least the start LSN, at
 *                          most the oldest lease or backup LSN of the timeline
 * @param appliedCutoff     the timeline's persisted GC cutoff after the run (branch points below it are refused)
 * @param retainedLsns      every LSN kept exact below the cutoff: children's branch points, leases, backups
 * @param versionsExamined  versions scanned
 * @param versionsRemoved   versions deleted
 * @param bytesRemoved      stored key + value bytes of the deleted versions, before RocksDB compression
 * @param durationMillis    wall time of the run
 * @param skipped           why the timeline was not collected ({@code unchanged}: same cutoff and
 *                          retained LSNs as its last background run), or {@code null} when it was
 */
public record TimelineGcReport(@JsonProperty("refs") List<String> refs,
                               @JsonProperty("timeline_id") String timelineId,
                               @JsonProperty("last_record_lsn") String lastRecordLsn,
                               @JsonProperty("horizon_cutoff") String horizonCutoff,
                               @JsonProperty("pitr_cutoff") String pitrCutoff,
                               @JsonProperty("cutoff") String cutoff,
                               @JsonProperty("applied_cutoff") String appliedCutoff,
                               @JsonProperty("retained_lsns") List<String> retainedLsns,
                               @JsonProperty("versions_examined") long versionsExamined,
                               @JsonProperty("versions_removed") long versionsRemoved,
                               @JsonProperty("bytes_removed") long bytesRemoved,
                               @JsonProperty("duration_ms") long durationMillis,
                               @JsonProperty("skipped") String skipped) {
}
