package io.forkline.pageserver.backup;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * A backup as the API and the store's metadata record {@code backup/<tenant>/<id>} show it (JSON,
 * snake_case). A backup pins {@code (timeline, lsn)}, not the branch ref: a later reset of the ref
 * does not change what it restores.
 *
 * @param id          e.g. {@code bk-3f9a1c07}
 * @param tenant      tenant name
 * @param branch      the ref the backup was taken of
 * @param timelineId  the ref's timeline at creation, 32 hex digits
 * @param lsn         the ref's last record LSN at creation, {@code X/Y}; {@code null} when it failed before that
 * @param label       user label, may be {@code null}
 * @param kind        {@link #MANUAL} or {@link #SCHEDULED}
 * @param scheduleId  the schedule that took it, {@code null} for manual backups
 * @param status      {@link #IN_PROGRESS}, {@link #COMPLETED} or {@link #FAILED}
 * @param createdAt   RFC 3339 UTC
 * @param expiresAt   RFC 3339 UTC, from the schedule's retention; {@code null} for manual backups (kept until deleted)
 * @param sizeBytes   logical size at the LSN (sum of relation fork sizes), bytes; {@code null} unless completed
 * @param error       why it failed, {@code null} otherwise
 */
public record BackupInfo(@JsonProperty("id") String id,
                         @JsonProperty("tenant") String tenant,
                         @JsonProperty("branch") String branch,
                         @JsonProperty("timeline_id") String timelineId,
                         @JsonProperty("lsn") String lsn,
                         @JsonProperty("label") String label,
                         @JsonProperty("kind") String kind,
                         @JsonProperty("schedule_id") String scheduleId,
                         @JsonProperty("status") String status,
                         @JsonProperty("created_at") String createdAt,
                         @JsonProperty("expires_at") String expiresAt,
                         @JsonProperty("size_bytes") Long sizeBytes,
                         @JsonProperty("error") String error) {
    public static final String MANUAL = "manual";
    public static final String SCHEDULED = "scheduled";
    public static final String IN_PROGRESS = "in_progress";
    public static final String COMPLETED = "completed";
    public static final String FAILED = "failed";

    /** This backup completed with the given size. */
    BackupInfo completed(long bytes) {
        return new BackupInfo(id, tenant, branch, timelineId, lsn, label, kind, scheduleId, COMPLETED, createdAt,
                expiresAt, bytes, null);
    }

    /** This backup failed for {@code why}. */
    BackupInfo failed(String why) {
        return new BackupInfo(id, tenant, branch, timelineId, lsn, label, kind, scheduleId, FAILED, createdAt,
                expiresAt, null, why);
    }

    /** Whether it holds a restorable (timeline, LSN): in progress or completed. */
    boolean pinning() {
        return !FAILED.equals(status) && timelineId != null && lsn != null;
    }
}
