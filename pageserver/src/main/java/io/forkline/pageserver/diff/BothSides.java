package io.forkline.pageserver.diff;

import java.sql.SQLException;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.function.Consumer;

/**
 * Runs the same step for the two sides of a diff at the same time: the FROM side on a new virtual
 * thread, the TO side on the caller's, so a diff waits for the slower side instead of the sum (the
 * two computes are separate processes: starting them, or scanning a table on each, overlaps).
 */
final class BothSides {
    /** The two results, FROM first. */
    record Pair<T>(T from, T to) {
    }

    private BothSides() {
    }

    /**
     * Runs {@code from} and {@code to} concurrently and waits for both.
     *
     * @param discard receives the result of a side that succeeded when the other failed (e.g. closes a
     *                compute that is no longer needed); may be {@code null}
     * @return both results
     * @throws SQLException      as a side throws it
     * @throws RuntimeException  as a side throws it; when both fail, the FROM side's failure is thrown
     *                           (the other is added to it as suppressed)
     */
    static <T> Pair<T> run(Callable<T> from, Callable<T> to, Consumer<T> discard) throws SQLException {
        FutureTask<T> fromTask = new FutureTask<>(from);
        Thread.ofVirtual().name("diff-from").start(fromTask);
        T toResult = null;
        Throwable toFailure = null;
        try {
            toResult = to.call();
        } catch (Exception | Error e) {
            toFailure = e;
        }
        T fromResult = null;
        Throwable fromFailure = null;
        boolean interrupted = false;
        while (true) {
            try {
                fromResult = fromTask.get();
                break;
            } catch (ExecutionException e) {
                fromFailure = e.getCause();
                break;
            } catch (InterruptedException e) {
                interrupted = true; // the FROM side holds a compute or a connection: wait for it regardless
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (fromFailure == null && toFailure == null) {
            return new Pair<>(fromResult, toResult);
        }
        if (discard != null) {
            if (fromFailure == null) {
                discard.accept(fromResult);
            } else if (toFailure == null) {
                discard.accept(toResult);
            }
        }
        Throwable first = fromFailure != null ? fromFailure : toFailure;
        if (fromFailure != null && toFailure != null) {
            first.addSuppressed(toFailure);
        }
        if (first instanceof SQLException s) {
            throw s;
        }
        if (first instanceof RuntimeException r) {
            throw r;
        }
        if (first instanceof Error err) {
            throw err;
        }
        throw new IllegalStateException(first);
    }
}
