package io.forkline.wal.replication;

import io.forkline.storage.id.TimelineId;
import io.forkline.storage.lsn.Lsn;

/**
 * Ingest of one timeline's WAL stream stopped: the WAL could not be decoded, a record could not be
 * ingested, the stream had a gap, the store could not commit, or the compute refused to stream.
 * The message names the timeline and the WAL position ({@code X/Y}); the cause is the original error.
 */
public final class WalReceiverException extends RuntimeException {
    private final TimelineId timeline;
    private final long lsn;

    /**
     * @param timeline the timeline whose ingest stopped
     * @param lsn      WAL position of the failure (a record start, or the stream position), bytes
     * @param problem  what went wrong; the timeline and LSN are added
     * @param cause    the original exception, or {@code null}
     */
    public WalReceiverException(TimelineId timeline, long lsn, String problem, Throwable cause) {
        super("WAL ingest of timeline " + timeline + " stopped at " + Lsn.format(lsn) + ": " + problem, cause);
        this.timeline = timeline;
        this.lsn = lsn;
    }

    /** The timeline whose ingest stopped. */
    public TimelineId timeline() {
        return timeline;
    }

    /** WAL position of the failure, bytes. */
    public long lsn() {
        return lsn;
    }
}
