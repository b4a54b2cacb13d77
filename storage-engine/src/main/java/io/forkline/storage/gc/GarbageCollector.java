package io.forkline.storage.gc;

import io.forkline.storage.id.TimelineId;
import io.forkline.storage.key.Key;
import io.forkline.storage.store.PageStore;
import io.forkline.storage.store.StorageException;
import io.forkline.storage.timeline.TimelineMetadata;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * Removes the versions of one timeline that no protected read can return (rule and concurrency
 * argument: package javadoc). A run:
 * <ol>
 *   <li>raises the timeline's persisted GC cutoff ({@link PageStore#advanceGcCutoff}), so branch
 *       points below it are refused from then on;</li>
 *   <li>collects the retained LSNs: descendants' branch points plus the caller's;</li>
 *   <li>scans the timeline's versions key by key and deletes the removable ones in RocksDB write
 *       batches of at most {@code maxDeletesPerBatch} versions (older versions of a key never in
 *       a later batch than newer ones); after a batch is written the scan stops at the next key
 *       boundary, sleeps {@code pauseBetweenBatches} and re-opens there, so no RocksDB snapshot
 *       is pinned across pauses.</li>
 * </ol>
 * Safe to run while the timeline's writer ingests. Runs of different timelines may be concurrent;
 * two concurrent runs of the same timeline are safe but wasteful. Instances are immutable and
 * thread-safe.
 */
public final class GarbageCollector {
    /** Default upper bound of deletes per RocksDB write batch. */
    public static final int DEFAULT_MAX_DELETES_PER_BATCH = 10_000;

    private final int maxDeletesPerBatch;
    private final Duration pauseBetweenBatches;

    /** {@link #DEFAULT_MAX_DELETES_PER_BATCH} deletes per batch, no pause. */
    public GarbageCollector() {
        this(DEFAULT_MAX_DELETES_PER_BATCH, Duration.ZERO);
    }

    /**
     * @param maxDeletesPerBatch  bound of versions deleted per RocksDB write batch, at least 1
     * @param pauseBetweenBatches sleep after each batch but the last (a simple rate limit);
     *                            {@link Duration#ZERO} for none
     * @throws IllegalArgumentException when {@code maxDeletesPerBatch < 1} or the pause is negative
     */
    public GarbageCollector(int maxDeletesPerBatch, Duration pauseBetweenBatches) {
        if (maxDeletesPerBatch < 1) {
            throw new IllegalArgumentException("maxDeletesPerBatch must be at least 1, got " + maxDeletesPerBatch);
        }
        if (pauseBetweenBatches.isNegative()) {
            throw new IllegalArgumentException("pauseBetweenBatches must not be negative, got " + pauseBetweenBatches);
        }
        this.maxDeletesPerBatch = maxDeletesPerBatch;
        this.pauseBetweenBatches = pauseBetweenBatches;
    }

    /**
     * Collects one timeline.
     *
     * @param timeline     the timeline to collect
     * @param cutoffLsn    GC cutoff (WAL byte position) computed by the caller as
     *                     {@code min(last_record_lsn - gc_horizon, LSN at now - pitr_interval)};
     *                     must not exceed the timeline's last record LSN. Versions at or above it
     *                     are never removed. A value below the persisted cutoff is allowed (the
     *                     run then removes less; the persisted cutoff does not go down).
     * @param retainedLsns extra LSNs of this timeline whose reads must stay exact (leases,
     *                     backups); descendants' branch points are added by the collector
     * @return counts of the run
     * @throws IllegalArgumentException when the timeline does not exist or the cutoff is above its
     *                                  last record LSN (the message names both LSNs)
     * @throws NullPointerException     when an argument or a retained LSN is null
     * @throws StorageException         when RocksDB fails; the versions deleted so far stay deleted,
     *                                  and they were all removable
     * @throws InterruptedException     when interrupted during a pause; batches written so far stay
     */
    public GcResult collect(PageStore store, TimelineId timeline, long cutoffLsn, Collection<Long> retainedLsns)
            throws InterruptedException {
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(timeline, "timeline");
        Objects.requireNonNull(retainedLsns, "retainedLsns");
        long started = System.nanoTime();
        TimelineMetadata md = store.timeline(timeline);
        if (md == null) {
            throw new IllegalArgumentException("timeline " + timeline + " does not exist");
        }
        long applied = store.advanceGcCutoff(timeline, cutoffLsn);
        long[] retained = RetainedLsns.of(store, timeline, retainedLsns);
        Run run = new Run(store, md, cutoffLsn, retained);
        Key resume = null;
        boolean first = true;
        do {
            if (!first && !pauseBetweenBatches.isZero()) {
                Thread.sleep(pauseBetweenBatches);
            }
            first = false;
            resume = run.scanFrom(resume);
            run.flush();
        } while (resume != null);
        List<Long> retainedList = new ArrayList<>(retained.length);
        for (long r : retained) {
            retainedList.add(r);
        }
        return new GcResult(timeline, cutoffLsn, applied, retainedList, run.examined, run.removed,
                run.tombstonesRemoved, run.bytesRemoved, run.batches, Duration.ofNanos(System.nanoTime() - started));
    }

    /** State of one collect call. */
    private final class Run {
        private final PageStore store;
        private final TimelineMetadata md;
        private final long cutoffLsn;
        private final long[] retained;
        private final boolean ancestorStable;
        private final KeyHistory history = new KeyHistory();
        private final List<PageStore.VersionRef> pending = new ArrayList<>();
        private long examined;
        private long removed;
        private long tombstonesRemoved;
        private long bytesRemoved;
        private int batches;
        private boolean flushedInScan;

        Run(PageStore store, TimelineMetadata md, long cutoffLsn, long[] retained) {
            this.store = store;
            this.md = md;
            this.cutoffLsn = cutoffLsn;
            this.retained = retained;
            // the ancestor's answer at the branch point is final once its writer is past it
            this.ancestorStable = md.ancestor() == null
                    || Long.compareUnsigned(store.lastRecordLsn(md.ancestor()), md.ancestorLsn()) >= 0;
        }

        /**
         * Scans from {@code from} until the key boundary after a batch was written; returns the
         * key to resume at, or {@code null} when the timeline is done.
         */
        Key scanFrom(Key from) {
            Key[] resume = new Key[1];
            history.reset(null);
            flushedInScan = false;
            store.forEachStoredVersion(md.id(), from, (key, lsn, valueLength, baseLsn) -> {
                if (!key.equals(history.key())) {
                    if (history.key() != null) {
                        decideKey();
                        if (flushedInScan) {
                            resume[0] = key;
                            return false;
                        }
                    }
                    history.reset(key);
                }
                history.add(lsn, valueLength, baseLsn);
                examined++;
                return true;
            });
            if (resume[0] == null && history.key() != null) {
                decideKey();
            }
            return resume[0];
        }

        private void decideKey() {
            Key key = history.key();
            if (history.decide(cutoffLsn, retained, () -> fallThroughEmpty(key)) == 0) {
                return;
            }
            for (int i = 0; i < history.size(); i++) {
                if (history.removed(i)) {
                    pending.add(new PageStore.VersionRef(key, history.lsn(i), history.valueLength(i)));
                    removed++;
                    bytesRemoved += PageStore.VERSION_KEY_BYTES + history.valueLength(i);
                    if (history.tombstone(i)) {
                        tombstonesRemoved++;
                    }
                    if (pending.size() >= maxDeletesPerBatch) {
                        flush();
                        flushedInScan = true;
                    }
                }
            }
        }

        private boolean fallThroughEmpty(Key key) {
            if (md.ancestor() == null) {
                return true;
            }
            if (!ancestorStable) {
                return false;
            }
            PageStore.Version v = store.getVersion(md.ancestor(), key, md.ancestorLsn());
            return v == null || v.value().length == 0;
        }

        void flush() {
            if (pending.isEmpty()) {
                return;
            }
            store.deleteVersionsBelowGcCutoff(md.id(), pending);
            pending.clear();
            batches++;
        }
    }
}
