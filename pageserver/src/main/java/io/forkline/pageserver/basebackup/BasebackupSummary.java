package io.forkline.pageserver.basebackup;

import io.forkline.storage.id.TimelineId;

/**
 * What a basebackup produced.
 *
 * @param timeline           the timeline read
 * @param lsn                the LSN whose state the data directory holds (WAL byte position)
 * @param checkpointLsn      LSN of the synthesized shutdown checkpoint record (= its redo pointer):
 *                           the start of the next WAL segment after {@code lsn} + 40
 * @param walStartLsn        end of that record, where the compute writes its first WAL record
 *                           (checkpointLsn + 120); ingest of the compute's WAL starts here
 * @param walSegmentFileName name of the one file in {@code pg_wal}, e.g. {@code 000000010000000000000002}
 * @param relationForks      relation fork files written (segments of one fork count once)
 * @param relationPages      8 KiB pages written into relation files (zero pages included)
 * @param skippedForks       stored forks not written: FSM forks, and forks whose database
 *                           directory does not exist at {@code lsn}
 */
public record BasebackupSummary(TimelineId timeline, long lsn, long checkpointLsn, long walStartLsn,
                                String walSegmentFileName, int relationForks, long relationPages, int skippedForks) {
}
