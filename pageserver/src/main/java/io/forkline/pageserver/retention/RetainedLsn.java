package io.forkline.pageserver.retention;

import io.forkline.storage.id.TimelineId;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A point that GC must keep restorable: reads of {@code timeline} at {@code lsn} stay exact and a
 * branch at {@code (timeline, lsn)} stays creatable.
 *
 * @param timeline the timeline
 * @param lsn      WAL byte position on it
 * @param reason   who needs it, for reports and logs, e.g. {@code lease}, {@code backup bk-3f9a1c07}
 */
public record RetainedLsn(TimelineId timeline, long lsn, String reason) {
    public RetainedLsn {
        Objects.requireNonNull(timeline, "timeline");
        Objects.requireNonNull(reason, "reason");
    }

    /**
     * Flattens {@code timeline → LSNs} (e.g. {@code BackupService.retainedLsns(tenant)}) into points
     * with the given reason.
     */
    public static List<RetainedLsn> fromMap(Map<TimelineId, ? extends Collection<Long>> lsns, String reason) {
        List<RetainedLsn> out = new ArrayList<>();
        lsns.forEach((tl, list) -> list.forEach(lsn -> out.add(new RetainedLsn(tl, lsn, reason))));
        return out;
    }
}
