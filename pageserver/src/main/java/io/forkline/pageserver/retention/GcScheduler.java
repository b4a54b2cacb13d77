package io.forkline.pageserver.retention;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * The server's single background GC thread ({@code forkline-gc}, a daemon): runs a pass over every
 * tenant ({@link RetentionService#collectAllInBackground}), sleeps {@code interval}, repeats. One
 * thread per server bounds GC's CPU to one core; the collector's batch bound and pause bound its
 * write bursts beside ingest. A failing pass is logged with its stack trace and the next one runs
 * as scheduled.
 */
final class GcScheduler implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GcScheduler.class);

    private final Thread thread;

    private GcScheduler(Thread thread) {
        this.thread = thread;
    }

    /** Starts the thread; the first pass runs after one {@code interval}. */
    static GcScheduler start(RetentionService service, Duration interval) {
        Thread t = new Thread(() -> loop(service, interval), "forkline-gc");
        t.setDaemon(true);
        t.start();
        log.info("background GC every {} s", interval.toSeconds());
        return new GcScheduler(t);
    }

    private static void loop(RetentionService service, Duration interval) {
        try {
            while (!Thread.currentThread().isInterrupted()) {
                Thread.sleep(interval);
                try {
                    service.collectAllInBackground();
                } catch (RuntimeException e) {
                    log.error("background GC pass failed", e);
                }
            }
        } catch (InterruptedException e) {
            // close(): stop quietly, batches written so far stay
        }
    }

    /** Interrupts the thread and waits up to 30 s for it to finish its current batch. */
    @Override
    public void close() {
        thread.interrupt();
        try {
            thread.join(Duration.ofSeconds(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            log.warn("background GC thread did not stop within 30 s");
        }
    }
}
