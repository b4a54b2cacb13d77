package io.forkline.compute.lazy;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of one lazy data directory: what the endpoint status and {@code /metrics} show.
 * Thread-safe.
 */
public final class LazyStats {
    private final LongAdder blocksFetched = new LongAdder();
    private final LongAdder fetches = new LongAdder();
    private final LongAdder fetchNanos = new LongAdder();
    private final AtomicLong maxFetchNanos = new AtomicLong();
    private final LongAdder failedFetches = new LongAdder();

    void fetched(int blocks, long nanos) {
        blocksFetched.add(blocks);
        fetches.increment();
        fetchNanos.add(nanos);
        maxFetchNanos.accumulateAndGet(nanos, Math::max);
    }

    private final LongAdder prefetched = new LongAdder();

    void prefetched(long blocks) {
        prefetched.add(blocks);
    }

    /** Blocks the background prefetch (prewarm list, visibility maps, catalogs) fetched. */
    public long prefetchedBlocks() {
        return prefetched.sum();
    }

    private final LongAdder readAhead = new LongAdder();
    private final LongAdder reads = new LongAdder();
    private final LongAdder readBytes = new LongAdder();

    void read(long bytes) {
        reads.increment();
        readBytes.add(bytes);
    }

    /** FUSE reads of relation files that still had blocks to fetch when read. */
    public long lazyReads() {
        return reads.sum();
    }

    /** Bytes those reads asked for (their mean size shows whether the kernel read ahead: up to 128 KiB). */
    public long lazyReadBytes() {
        return readBytes.sum();
    }

    private final LongAdder writes = new LongAdder();
    private final LongAdder writtenBytes = new LongAdder();

    void wrote(long bytes) {
        writes.increment();
        writtenBytes.add(bytes);
    }

    /** FUSE write requests of any file of the mount (with the writeback cache, one carries up to 128 KiB). */
    public long writes() {
        return writes.sum();
    }

    /** Bytes those writes carried. */
    public long writtenBytes() {
        return writtenBytes.sum();
    }

    private final LongAdder readAround = new LongAdder();

    void readAround(long blocks) {
        readAround.add(blocks);
    }

    /**
     * Blocks fetched around random reads that missed (the rest of their aligned extent; part of
     * {@link #blocksFetched()} once fetched; counted when asked for).
     */
    public long readAroundBlocks() {
        return readAround.sum();
    }

    void readAhead(long blocks) {
        readAhead.add(blocks);
    }

    /** Blocks fetched ahead of sequential readers (part of {@link #blocksFetched()}). */
    public long readAheadBlocks() {
        return readAhead.sum();
    }

    void failed() {
        failedFetches.increment();
    }

    /** 8192-byte blocks fetched from the page service since the mount. */
    public long blocksFetched() {
        return blocksFetched.sum();
    }

    /** Fetch requests (each one GetPage of one or more consecutive blocks). */
    public long fetches() {
        return fetches.sum();
    }

    /** Mean time of a fetch request, microseconds (0 before the first). */
    public double meanFetchMicros() {
        long n = fetches.sum();
        return n == 0 ? 0 : fetchNanos.sum() / 1e3 / n;
    }

    /** Slowest fetch request, microseconds. */
    public double maxFetchMicros() {
        return maxFetchNanos.get() / 1e3;
    }

    private final java.util.concurrent.ConcurrentHashMap<String, LongAdder[]> ops = new java.util.concurrent.ConcurrentHashMap<>();

    /** One FUSE request of kind {@code op} that took {@code nanos} in the daemon. */
    void op(String op, long nanos) {
        LongAdder[] a = ops.computeIfAbsent(op, k -> new LongAdder[] {new LongAdder(), new LongAdder()});
        a[0].increment();
        a[1].add(nanos);
    }

    /**
     * FUSE requests that reached the daemon since the mount, by operation ({@code getattr},
     * {@code read}, {@code write}, {@code open}, ...): {@code [count, nanoseconds spent in the daemon]}.
     */
    public java.util.Map<String, long[]> ops() {
        java.util.Map<String, long[]> out = new java.util.TreeMap<>();
        ops.forEach((k, v) -> out.put(k, new long[] {v[0].sum(), v[1].sum()}));
        return out;
    }

    private final LongAdder synchronousFetches = new LongAdder();

    void fetchedSynchronously() {
        synchronousFetches.increment();
    }

    /**
     * Fetch requests that went over a pooled synchronous connection ({@code BlockingPageConnection})
     * rather than the asynchronous client (part of {@link #fetches()}, counted whether they succeeded or not).
     */
    public long synchronousFetches() {
        return synchronousFetches.sum();
    }

    /** Reads that failed with EIO because the page service did not answer in time. */
    public long failedFetches() {
        return failedFetches.sum();
    }
}
