package io.forkline.wal.replication;

import io.forkline.storage.id.TimelineId;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;
import io.forkline.storage.store.StorageException;
import io.forkline.storage.store.TimelineWriter;
import io.forkline.wal.ingest.WalIngest;
import io.forkline.wal.ingest.WalIngestException;
import io.forkline.wal.record.WalDecodeException;
import io.forkline.wal.record.WalDecoder;
import io.forkline.wal.record.WalRecord;

import java.util.function.Consumer;

/**
 * Applies one contiguous run of WAL bytes to one timeline: decodes records ({@link WalDecoder}),
 * drops those the timeline already holds durably, ingests the rest ({@link WalIngest}) into a
 * {@link TimelineWriter}, and commits them on {@link #commit()}. The network side lives in
 * {@link WalReceiver}; this class has no I/O but the store's, so it can be driven by byte arrays.
 *
 * <pre>
 *   streamStartLsn (page boundary)
 *   │        durable lastRecordLsn          lastIngestedLsn        fedEndLsn = decoder.position()
 *   ▼                 ▼                           ▼                       ▼
 *   |--skipped records--|--ingested, committed?--|--partial record / page header--|
 * </pre>
 *
 * <ul>
 *   <li>The stream starts at a WAL page boundary so the decoder can validate the page header and
 *       skip a continuation record (see {@link WalDecoder}); records whose {@code endLsn} is
 *       {@code <=} the timeline's durable last record LSN are skipped, so nothing is applied twice.
 *   <li>{@link #lastRecordLsn()} is durable: it moves only in {@link #commit()}, after
 *       {@link TimelineWriter#commit(long)} (fsync) returned.
 *   <li>{@link #receivedLsn()} is the stream position through which every complete record is
 *       durable: {@code max(lastRecordLsn, fedEndLsn)} when no partial record is pending after the
 *       last commit, else {@code lastRecordLsn}. An LSN inside page headers or padding after the
 *       last record counts as reached.
 * </ul>
 *
 * <p>Errors: every failure is a {@link WalReceiverException} naming the timeline and LSN. After an
 * ingest or storage failure the staged batch is partial and the sink refuses to commit
 * ({@link #isBroken()}); after a decode failure the records before the bad one are complete and
 * may still be committed. Not thread-safe: one thread drives a sink. Only one sink (one
 * {@link TimelineWriter}) may be open per timeline.
 */
public final class TimelineWalSink implements AutoCloseable {
    private final TimelineId timeline;
    private final TimelineWriter writer;
    private final Consumer<WalRecord> ingest;
    private final WalDecoder decoder;
    private final Consumer<WalRecord> observer;

    private long lastIngestedLsn;
    private long lastRecordLsn;
    private long receivedLsn;
    private long bytesSinceCommit;
    private boolean broken;
    private boolean decodeFailed;

    /**
     * Opens a writer on {@code timeline} and a decoder at {@code streamStartLsn}.
     *
     * @param store          the page store holding the timeline
     * @param timeline       the timeline to write
     * @param streamStartLsn WAL position of the first byte that will be fed; a WAL page boundary
     *                       (use {@link #streamStart(long, long)})
     * @param dataChecksums  whether the cluster has data checksums (see {@link WalIngest})
     * @param observer       called on the driving thread after each record is staged (not yet
     *                       durable), or {@code null}
     * @throws IllegalArgumentException when the timeline does not exist or the LSN is not a page boundary
     */
    public TimelineWalSink(PageStore store, TimelineId timeline, long streamStartLsn, boolean dataChecksums,
                           Consumer<WalRecord> observer) {
        this(store, timeline, streamStartLsn, observer, writer -> new WalIngest(writer, dataChecksums)::ingest);
    }

    /**
     * As the public constructor, with the ingest step built by {@code ingestFactory} from the sink's
     * writer (tests inject failures here).
     */
    TimelineWalSink(PageStore store, TimelineId timeline, long streamStartLsn, Consumer<WalRecord> observer,
                    java.util.function.Function<TimelineWriter, Consumer<WalRecord>> ingestFactory) {
        if (Lsn.pageStart(streamStartLsn) != streamStartLsn || streamStartLsn == Lsn.INVALID) {
            throw new IllegalArgumentException("WAL stream for timeline " + timeline + " must start at a WAL page boundary, not "
                    + Lsn.format(streamStartLsn));
        }
        this.timeline = timeline;
        this.lastRecordLsn = store.lastRecordLsn(timeline);
        this.lastIngestedLsn = lastRecordLsn;
        this.receivedLsn = lastRecordLsn;
        this.observer = observer;
        this.decoder = new WalDecoder(streamStartLsn);
        this.writer = store.writer(timeline);
        try {
            this.ingest = ingestFactory.apply(writer);
        } catch (RuntimeException | Error e) {
            writer.close();
            throw e;
        }
    }

    /**
     * Where a stream must start to resume ingest: the WAL page holding the later of the caller's
     * start LSN and the timeline's durable last record LSN. (For a fresh compute the caller's LSN,
     * its first WAL segment start, is later than the timeline's branch point, whose WAL the compute
     * does not have; on resume the durable LSN is later.)
     *
     * @param requestedStartLsn the LSN the caller asked to stream from, bytes
     * @param durableLsn        the timeline's durable last record LSN, bytes
     * @return a page-aligned LSN
     */
    public static long streamStart(long requestedStartLsn, long durableLsn) {
        long later = Long.compareUnsigned(requestedStartLsn, durableLsn) >= 0 ? requestedStartLsn : durableLsn;
        return Lsn.pageStart(later);
    }

    /** The LSN the next fed byte must be at (end of the bytes fed so far). */
    public long expectedLsn() {
        return decoder.position();
    }

    /**
     * Feeds {@code len} bytes {@code buf[off, off + len)} that lie at WAL position {@code chunkStartLsn}
     * and ingests every record they complete. Nothing is committed.
     *
     * @throws WalReceiverException  when the chunk does not continue the stream (gap or overlap),
     *                               the WAL is corrupt ({@link WalDecodeException} as cause, its LSN
     *                               in the message), or a record cannot be ingested
     *                               ({@link WalIngestException} as cause)
     * @throws IllegalStateException when the sink failed before
     * @throws Error                 rethrown as is (e.g. {@link OutOfMemoryError}); an Error while
     *                               ingesting a record leaves the sink {@link #isBroken() broken}, one
     *                               while decoding leaves it refusing input (records before stay
     *                               committable)
     */
    public void accept(long chunkStartLsn, byte[] buf, int off, int len) {
        checkUsable();
        long expected = decoder.position();
        if (chunkStartLsn != expected) {
            decodeFailed = true;
            throw new WalReceiverException(timeline, expected, "WAL chunk of " + len + " bytes starts at "
                    + Lsn.format(chunkStartLsn) + ", but the stream is at " + Lsn.format(expected), null);
        }
        decoder.feed(buf, off, len);
        bytesSinceCommit += len;
        for (;;) {
            WalRecord rec;
            try {
                rec = decoder.next();
            } catch (WalDecodeException e) {
                decodeFailed = true;
                throw new WalReceiverException(timeline, e.lsn(), "corrupt WAL: " + e.getMessage(), e);
            } catch (RuntimeException | Error e) {
                // The decoder's state is unknown; records staged before are complete and may be committed.
                decodeFailed = true;
                throw e;
            }
            if (rec == null) {
                return;
            }
            if (Long.compareUnsigned(rec.endLsn(), lastIngestedLsn) <= 0) {
                continue; // already durable in the timeline
            }
            try {
                ingest.accept(rec);
            } catch (WalIngestException e) {
                broken = true;
                throw new WalReceiverException(timeline, rec.startLsn(), e.getMessage(), e);
            } catch (RuntimeException e) {
                broken = true;
                throw new WalReceiverException(timeline, rec.startLsn(), "ingest of record ending at "
                        + Lsn.format(rec.endLsn()) + " failed: " + e, e);
            } catch (Throwable t) {
                // An Error (e.g. OutOfMemoryError) may have left the record half staged: never commit it.
                broken = true;
                throw t;
            }
            lastIngestedLsn = rec.endLsn();
            if (observer != null) {
                observer.accept(rec);
            }
        }
    }

    private void checkUsable() {
        if (broken || decodeFailed) {
            throw new IllegalStateException("WAL sink of timeline " + timeline + " failed earlier; no more input");
        }
    }

    /** Whether records were ingested, or bytes fed, since the last commit. */
    public boolean hasUncommitted() {
        return bytesSinceCommit > 0 || lastIngestedLsn != lastRecordLsn;
    }

    /** WAL bytes fed since the last commit. */
    public long bytesSinceCommit() {
        return bytesSinceCommit;
    }

    /**
     * Makes every ingested record durable ({@link TimelineWriter#commit(long)}, fsync'd) with the
     * end LSN of the last one as the timeline's last record LSN, then advances
     * {@link #receivedLsn()}. Does not touch the store when no record was ingested since the last
     * commit.
     *
     * @return the durable last record LSN
     * @throws WalReceiverException  naming the LSN when the store cannot commit (the sink is then broken)
     * @throws IllegalStateException when an ingest or storage failure left a partial batch
     */
    public long commit() {
        if (broken) {
            throw new IllegalStateException("WAL sink of timeline " + timeline
                    + " holds a partial batch after an ingest or storage failure; it must not be committed");
        }
        if (lastIngestedLsn != lastRecordLsn) {
            try {
                writer.commit(lastIngestedLsn);
            } catch (StorageException e) {
                broken = true;
                throw new WalReceiverException(timeline, lastIngestedLsn, "cannot commit ingested WAL: " + e.getMessage(), e);
            } catch (Throwable t) {
                broken = true;
                throw t;
            }
            lastRecordLsn = lastIngestedLsn;
        }
        bytesSinceCommit = 0;
        // After a decode failure the decoder's state says nothing about the bytes fed: stay at the last record.
        boolean partial = decodeFailed || decoder.hasPartialRecord();
        long reached = partial ? lastRecordLsn : max(lastRecordLsn, decoder.position());
        receivedLsn = max(receivedLsn, reached);
        return lastRecordLsn;
    }

    private static long max(long a, long b) {
        return Long.compareUnsigned(a, b) >= 0 ? a : b;
    }

    /** Durable last record LSN: end of the last committed record (the timeline's value at open before that). */
    public long lastRecordLsn() {
        return lastRecordLsn;
    }

    /** Stream position through which every complete record is durable; see the class comment. */
    public long receivedLsn() {
        return receivedLsn;
    }

    /** Whether an ingest or storage failure left a batch that must not be committed. */
    public boolean isBroken() {
        return broken;
    }

    /** Drops anything staged and not committed, and releases the writer. */
    @Override
    public void close() {
        writer.close();
    }
}
