package io.forkline.pageserver.retention;

import io.forkline.pageserver.api.ApiException;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;
import io.forkline.storage.timeline.TimelineMetadata;

import java.time.Instant;
import java.util.OptionalLong;

/**
 * The earliest point of a timeline that can still be branched from or restored: its applied GC
 * cutoff ({@link PageStore#gcCutoff}; the timeline's start LSN when GC never removed anything), and
 * the earliest time whose branch lands there or later (the first commit at or after that LSN,
 * {@link PageStore#commitTimestampAtOrAfter}).
 *
 * @param lsn  WAL byte position
 * @param time the earliest restorable time, or {@code null} when no commit of the timeline ends at
 *             or after {@code lsn} yet (then only LSNs can name points above the cutoff)
 */
public record EarliestRestorable(long lsn, Instant time) {
    /** Error code of the 409 a refused branch point gets. */
    public static final String CODE = "below_gc_cutoff";

    /**
     * The earliest restorable point of {@code timeline}.
     *
     * @throws IllegalArgumentException when the timeline does not exist
     */
    public static EarliestRestorable of(PageStore store, TimelineId timeline) {
        TimelineMetadata md = store.timeline(timeline);
        if (md == null) {
            throw new IllegalArgumentException("timeline " + timeline + " does not exist");
        }
        long cutoff = store.gcCutoff(timeline);
        long lsn = Long.compareUnsigned(cutoff, md.startLsn()) > 0 ? cutoff : md.startLsn();
        OptionalLong micros = store.commitTimestampAtOrAfter(timeline, lsn);
        Instant time = micros.isEmpty() ? null
                : Instant.ofEpochSecond(Math.floorDiv(micros.getAsLong(), 1_000_000L),
                        Math.floorMod(micros.getAsLong(), 1_000_000L) * 1000L);
        return new EarliestRestorable(lsn, time);
    }

    /**
     * Refuses a branch (or restore, or lease) at {@code lsn} of {@code timeline} when it lies below
     * the timeline's applied GC cutoff: versions a read there needs may be gone. Call it before
     * {@link PageStore#createTimeline}, which refuses the same points with a plain
     * {@link IllegalArgumentException}.
     *
     * @param what names the timeline in the message, e.g. {@code branch 'main'}
     * @throws ApiException 409 {@value #CODE} whose message gives the requested LSN, the earliest
     *                      restorable LSN and time
     */
    public static void check(PageStore store, TimelineId timeline, long lsn, String what) {
        long cutoff = store.gcCutoff(timeline);
        if (Long.compareUnsigned(lsn, cutoff) >= 0) {
            return;
        }
        EarliestRestorable e = of(store, timeline);
        throw new ApiException(409, CODE, "LSN " + Lsn.format(lsn) + " of " + what
                + " is no longer restorable: garbage collection removed history below " + Lsn.format(cutoff)
                + "; the earliest restorable LSN is " + Lsn.format(e.lsn())
                + (e.time() == null ? " (no commit since then yet, so no restorable time)"
                        : " and the earliest restorable time is "
                        + io.forkline.pageserver.branch.CommitTimes.format(e.time())));
    }
}
