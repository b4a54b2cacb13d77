package io.forkline.storage.store;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Compacts the key ranges of deleted timelines in the background, once deletes pause.
 *
 * <p>A deleted timeline leaves range tombstones that every new iterator processes until a
 * compaction drops them, so its range is compacted. But RocksDB's manual compaction of even an
 * almost empty range flushes the memtable and rewrites every L0 file overlapping it together with
 * the lower-level files under that L0 file's whole key span: on a 15 GB store, 239 MB and 1.2 s of
 * CPU after deleting a branch whose compute ran for a second, which landed on the next branch start
 * (0.29 s → 0.6 s on 2 cores; benchmarks README 11j/11l). So ranges are collected and compacted
 * together when no timeline was deleted for {@link #quietPeriod()} (or at once when
 * {@link #MAX_PENDING} are waiting), on one daemon thread, one range after the other.
 *
 * <p>Thread-safe. {@link #close()} drops what is still waiting (RocksDB's own compactions reach
 * those ranges later) and waits for a compaction that is running.
 */
final class DeletedRangeCompactor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DeletedRangeCompactor.class);

    /** System property: seconds without a timeline delete before the deleted ranges are compacted (default 30). */
    static final String QUIET_PERIOD_PROPERTY = "forkline.store.deletedRangeCompactionDelaySeconds";
    /** Deleted ranges that are compacted at once, without waiting for a pause. */
    static final int MAX_PENDING = 64;
    private static final Duration DEFAULT_QUIET_PERIOD = Duration.ofSeconds(30);

    /** Compacts one key range [from, to) of the store. */
    interface RangeCompaction {
        void compact(byte[] from, byte[] to);
    }

    private final RangeCompaction compaction;
    private final Duration quietPeriod;
    private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "forkline-compact-deleted");
        t.setDaemon(true);
        return t;
    });
    private final List<byte[][]> pending = new ArrayList<>(); // guarded by itself
    private ScheduledFuture<?> scheduled; // guarded by pending

    DeletedRangeCompactor(RangeCompaction compaction) {
        this(compaction, quietPeriodFromProperty());
    }

    DeletedRangeCompactor(RangeCompaction compaction, Duration quietPeriod) {
        this.compaction = compaction;
        this.quietPeriod = quietPeriod;
    }

    private static Duration quietPeriodFromProperty() {
        String v = System.getProperty(QUIET_PERIOD_PROPERTY);
        if (v == null || v.isBlank()) {
            return DEFAULT_QUIET_PERIOD;
        }
        try {
            long s = Long.parseLong(v.strip());
            if (s >= 0) {
                return Duration.ofSeconds(s);
            }
        } catch (NumberFormatException e) {
            // below
        }
        log.warn("ignoring {}='{}': expected a number of seconds >= 0", QUIET_PERIOD_PROPERTY, v);
        return DEFAULT_QUIET_PERIOD;
    }

    /** How long deletes must pause before the waiting ranges are compacted. */
    Duration quietPeriod() {
        return quietPeriod;
    }

    /** Deleted ranges waiting for their compaction. */
    int pending() {
        synchronized (pending) {
            return pending.size();
        }
    }

    /**
     * Adds the deleted key range [{@code from}, {@code to}) and (re)starts the wait for a pause.
     * Does nothing once closed.
     */
    void submit(byte[] from, byte[] to) {
        synchronized (pending) {
            pending.add(new byte[][] {from, to});
            if (scheduled != null) {
                scheduled.cancel(false); // a run in progress finishes; it drains what it finds
            }
            long delayMs = pending.size() >= MAX_PENDING ? 0 : quietPeriod.toMillis();
            try {
                scheduled = executor.schedule(this::compactPending, delayMs, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                pending.clear(); // closing: RocksDB compacts the ranges by itself later
            }
        }
    }

    private void compactPending() {
        List<byte[][]> ranges;
        synchronized (pending) {
            ranges = new ArrayList<>(pending);
            pending.clear();
        }
        long t0 = System.nanoTime();
        for (byte[][] r : ranges) {
            if (Thread.currentThread().isInterrupted()) {
                return; // closing
            }
            compaction.compact(r[0], r[1]);
        }
        if (!ranges.isEmpty()) {
            log.debug("compacted the key ranges of {} deleted timelines in {} ms", ranges.size(),
                    (System.nanoTime() - t0) / 1_000_000);
        }
    }

    /** Drops the waiting ranges and waits for a compaction that is running. */
    @Override
    public void close() {
        executor.shutdownNow();
        boolean interrupted = false;
        while (true) { // a running compaction uses the database: it must end before the database closes
            try {
                if (executor.awaitTermination(10, TimeUnit.SECONDS)) {
                    break;
                }
                log.info("waiting for the compaction of a deleted timeline's range before closing the store");
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
