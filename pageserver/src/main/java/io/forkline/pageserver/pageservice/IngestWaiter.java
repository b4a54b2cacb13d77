package io.forkline.pageserver.pageservice;

import io.forkline.page.protocol.proto.ErrorCode;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Futures that complete when a timeline has ingested an LSN, without a thread per wait: the store
 * tells every commit ({@link PageStore.CommitListener}); waits sit in a per-timeline queue ordered by
 * LSN; a timer fails those that outlive their bound with {@code LSN_TIMEOUT}.
 *
 * <p>Futures complete on the committing thread (ingest) or the timer thread: dependents must be
 * attached with an executor ({@code thenRunAsync(..., executor)}). Thread-safe.
 */
final class IngestWaiter implements PageStore.CommitListener, AutoCloseable {
    private final PageStore store;
    private final ScheduledExecutorService timer;
    private final Map<TimelineId, PriorityQueue<Wait>> waits = new ConcurrentHashMap<>();

    private record Wait(long lsn, CompletableFuture<Long> future) {
    }

    IngestWaiter(PageStore store, ScheduledExecutorService timer) {
        this.store = store;
        this.timer = timer;
        store.addCommitListener(this);
    }

    /**
     * Completes with the timeline's last record LSN once it is at least {@code lsn}.
     *
     * @throws IllegalArgumentException when the timeline does not exist
     * @return a future failing with {@link PageServiceError} {@code LSN_TIMEOUT} after {@code timeout}
     */
    CompletableFuture<Long> await(TimelineId timeline, long lsn, Duration timeout) {
        long last = store.lastRecordLsn(timeline);
        if (Long.compareUnsigned(last, lsn) >= 0) {
            return CompletableFuture.completedFuture(last);
        }
        Wait w = new Wait(lsn, new CompletableFuture<>());
        PriorityQueue<Wait> q = waits.computeIfAbsent(timeline,
                k -> new PriorityQueue<>((a, b) -> Long.compareUnsigned(a.lsn(), b.lsn())));
        synchronized (q) {
            q.add(w);
        }
        // a commit between the first check and the add would have found the queue without us
        committed(timeline, store.lastRecordLsn(timeline));
        if (!w.future().isDone()) {
            timer.schedule(() -> {
                synchronized (q) {
                    q.remove(w);
                }
                w.future().completeExceptionally(new PageServiceError(ErrorCode.LSN_TIMEOUT, "LSN " + Lsn.format(lsn)
                        + " of timeline " + timeline + " was not ingested within " + timeout.toMillis()
                        + " ms (last record LSN " + Lsn.format(store.lastRecordLsn(timeline)) + ")"));
            }, timeout.toMillis(), TimeUnit.MILLISECONDS);
        }
        return w.future();
    }

    @Override
    public void committed(TimelineId timeline, long lastRecordLsn) {
        PriorityQueue<Wait> q = waits.get(timeline);
        if (q == null) {
            return;
        }
        List<Wait> ready = new ArrayList<>();
        synchronized (q) {
            while (!q.isEmpty() && Long.compareUnsigned(q.peek().lsn(), lastRecordLsn) <= 0) {
                ready.add(q.poll());
            }
        }
        for (Wait w : ready) {
            w.future().complete(lastRecordLsn);
        }
    }

    @Override
    public void close() {
        store.removeCommitListener(this);
        for (PriorityQueue<Wait> q : waits.values()) {
            synchronized (q) {
                for (Wait w : q) {
                    w.future().completeExceptionally(new PageServiceError(ErrorCode.INTERNAL, "page service stopping"));
                }
                q.clear();
            }
        }
    }
}
