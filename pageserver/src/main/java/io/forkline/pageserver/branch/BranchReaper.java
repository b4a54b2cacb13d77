package io.forkline.pageserver.branch;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Deletes expired branches in the background: {@link BranchService#reapExpired} every
 * {@code interval} on one daemon thread ({@code forkline-branch-reaper}). Expiry is judged by the
 * service's clock, so a test that moves its clock and calls {@link #runOnce} sees the effect at once.
 * A failed pass is logged with its cause and the next pass runs as planned.
 *
 * <p>Thread-safe.
 */
public final class BranchReaper implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BranchReaper.class);
    /** How often the reaper looks for expired branches. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);

    private final BranchService branches;
    private final ScheduledExecutorService scheduler;

    /**
     * Starts reaping every {@code interval}.
     *
     * @throws IllegalArgumentException when {@code interval} is not positive
     */
    public BranchReaper(BranchService branches, Duration interval) {
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("invalid reaper interval " + interval + ": must be positive");
        }
        this.branches = branches;
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "forkline-branch-reaper");
            t.setDaemon(true);
            return t;
        });
        long ms = interval.toMillis();
        scheduler.scheduleWithFixedDelay(this::pass, ms, ms, TimeUnit.MILLISECONDS);
    }

    /**
     * One pass now, on the caller's thread.
     *
     * @return the deleted branches as {@code tenant/ref}
     */
    public List<String> runOnce() {
        return branches.reapExpired();
    }

    private void pass() {
        try {
            branches.reapExpired();
        } catch (RuntimeException e) {
            log.error("branch reaper pass failed; the next one runs as planned", e);
        }
    }

    /** Stops the thread; a pass in progress finishes (waits up to 30 s). */
    @Override
    public void close() {
        scheduler.shutdown();
        try {
            if (!scheduler.awaitTermination(30, TimeUnit.SECONDS)) {
                scheduler.shutdownNow();
            }
        } catch (InterruptedException e) {
            scheduler.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
