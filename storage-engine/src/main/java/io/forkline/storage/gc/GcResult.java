package io.forkline.storage.gc;

import io.forkline.storage.id.TimelineId;

import java.time.Duration;
import java.util.List;

/**
 * What one {@link GarbageCollector#collect} run did.
 *
 * @param timeline           the collected timeline
 * @param cutoffLsn          the cutoff the decisions used (the requested one; WAL byte position)
 * @param appliedCutoffLsn   the timeline's persisted GC cutoff after the run (never decreases, so
 *                           it can be above {@code cutoffLsn})
 * @param retainedLsns       every retained LSN used, ascending (unsigned), duplicates removed:
 *                           descendants' branch points and the caller's LSNs
 * @param versionsExamined   versions of the timeline read by the scan
 * @param versionsRemoved    versions deleted (tombstones included)
 * @param tombstonesRemoved  of {@code versionsRemoved}, how many were tombstones
 * @param bytesRemoved       sum of stored key sizes (42 bytes each) and value sizes of the
 *                           deleted versions, before RocksDB compression
 * @param batches            RocksDB write batches written
 * @param duration           wall time of the run, pauses included
 */
public record GcResult(TimelineId timeline, long cutoffLsn, long appliedCutoffLsn, List<Long> retainedLsns,
                       long versionsExamined, long versionsRemoved, long tombstonesRemoved, long bytesRemoved,
                       int batches, Duration duration) {
    public GcResult {
        retainedLsns = List.copyOf(retainedLsns);
    }
}
