package io.forkline.pageserver.backup;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * A backup schedule as the API and the store's metadata record {@code schedule/<tenant>/<id>} show
 * it (JSON, snake_case).
 *
 * @param id           e.g. {@code sch-0b7d2e11}
 * @param tenant       tenant name
 * @param name         optional user name, may be {@code null}
 * @param branch       the ref it backs up (resolved at each run)
 * @param frequency    {@code hourly|daily|weekly|monthly} or a UNIX cron expression ({@link Frequency})
 * @param startAt      RFC 3339 UTC: first run of a fixed period; no run before it
 * @param retention    e.g. {@code 14d} ({@link Retention}): each backup it takes expires that long after creation
 * @param createdAt    RFC 3339 UTC
 * @param nextRunAt    RFC 3339 UTC
 * @param lastRunAt    RFC 3339 UTC, {@code null} before the first run
 * @param lastBackupId the backup of the last run, {@code null} before the first run
 * @param lastStatus   status of that backup ({@code completed} / {@code failed}), {@code null} before the first run
 */
public record ScheduleInfo(@JsonProperty("id") String id,
                           @JsonProperty("tenant") String tenant,
                           @JsonProperty("name") String name,
                           @JsonProperty("branch") String branch,
                           @JsonProperty("frequency") String frequency,
                           @JsonProperty("start_at") String startAt,
                           @JsonProperty("retention") String retention,
                           @JsonProperty("created_at") String createdAt,
                           @JsonProperty("next_run_at") String nextRunAt,
                           @JsonProperty("last_run_at") String lastRunAt,
                           @JsonProperty("last_backup_id") String lastBackupId,
                           @JsonProperty("last_status") String lastStatus) {

    /** This schedule after a run at {@code ranAt} that produced {@code backup}. */
    ScheduleInfo ran(String ranAt, String next, BackupInfo backup) {
        return new ScheduleInfo(id, tenant, name, branch, frequency, startAt, retention, createdAt, next, ranAt,
                backup.id(), backup.status());
    }
}
