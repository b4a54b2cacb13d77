package io.forkline.pageserver.pageservice;

import io.forkline.page.protocol.FrameDescriptor;
import io.forkline.page.protocol.PageProtocol;

import java.time.Duration;

/**
 * Settings of the page service.
 *
 * @param bindHost              address to listen on ({@code 127.0.0.1} by default)
 * @param port                  TCP port; 0 picks a free one
 * @param maxFrameBytes         largest accepted request frame, bytes; a larger one gets an error and
 *                              the connection is closed
 * @param maxInFlight           requests in flight per connection beyond which the server stops
 *                              reading that socket (back-pressure) until half of them are answered
 * @param lsnWaitTimeout        how long a request for an LSN not yet ingested waits before
 *                              {@code LSN_TIMEOUT}
 * @param workerThreads         threads that serve requests (reads, ingest waits' continuations)
 * @param basebackupThreads     threads that stream basebackups (long-running)
 * @param flushEvery            page-cache answers written per flush while a batch of GetPage requests is
 *                              served on the event loop, so a pipelining client completes the first
 *                              answers while the rest are served (0: one flush per batch); default
 *                              {@value #DEFAULT_FLUSH_EVERY} (off: on the loaded 2-core machine it cost
 *                              CPU and gained nothing, benchmarks README 7f), or system property
 *                              {@code forkline.pageService.flushEvery}
 */
public record PageServiceConfig(String bindHost, int port, int maxFrameBytes, int maxInFlight,
                                Duration lsnWaitTimeout, int workerThreads, int basebackupThreads,
                                int flushEvery) {
    /**
     * @throws IllegalArgumentException when a value is out of range (names it)
     */
    public PageServiceConfig {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("invalid page service port " + port + ": expected 0..65535");
        }
        if (maxFrameBytes < 1024) {
            throw new IllegalArgumentException("maxFrameBytes must be at least 1024, got " + maxFrameBytes);
        }
        if (maxInFlight < 2) {
            throw new IllegalArgumentException("maxInFlight must be at least 2, got " + maxInFlight);
        }
        if (flushEvery < 0) {
            throw new IllegalArgumentException("flushEvery must be 0 or more, got " + flushEvery);
        }
        if (workerThreads < 1 || basebackupThreads < 1) {
            throw new IllegalArgumentException("thread counts must be at least 1, got " + workerThreads + " and "
                    + basebackupThreads);
        }
    }

    /** Defaults on {@code port}: 127.0.0.1, 16 MiB frames, 1024 in flight, 30 s ingest waits. */
    public static PageServiceConfig defaults(int port) {
        int cores = Runtime.getRuntime().availableProcessors();
        return new PageServiceConfig("127.0.0.1", port, FrameDescriptor.DEFAULT_MAX_FRAME_BYTES, 1024,
                Duration.ofSeconds(30), Math.max(2, cores), 4,
                Integer.getInteger("forkline.pageService.flushEvery", DEFAULT_FLUSH_EVERY));
    }

    /** Default of {@link #flushEvery}. */
    public static final int DEFAULT_FLUSH_EVERY = 0;

    /** The same with another {@link #flushEvery} (0: one flush per batch). */
    public PageServiceConfig withFlushEvery(int n) {
        return new PageServiceConfig(bindHost, port, maxFrameBytes, maxInFlight, lsnWaitTimeout, workerThreads,
                basebackupThreads, n);
    }

    /** The defaults on the default port {@value PageProtocol#DEFAULT_PORT}. */
    public static PageServiceConfig defaults() {
        return defaults(PageProtocol.DEFAULT_PORT);
    }

    /** The same with another ingest wait bound. */
    public PageServiceConfig withLsnWaitTimeout(Duration d) {
        return new PageServiceConfig(bindHost, port, maxFrameBytes, maxInFlight, d, workerThreads,
                basebackupThreads, flushEvery);
    }

    /** The same with another per-connection in-flight bound. */
    public PageServiceConfig withMaxInFlight(int n) {
        return new PageServiceConfig(bindHost, port, maxFrameBytes, n, lsnWaitTimeout, workerThreads,
                basebackupThreads, flushEvery);
    }

    /** The same with another frame bound. */
    public PageServiceConfig withMaxFrameBytes(int n) {
        return new PageServiceConfig(bindHost, port, n, maxInFlight, lsnWaitTimeout, workerThreads,
                basebackupThreads, flushEvery);
    }
}
