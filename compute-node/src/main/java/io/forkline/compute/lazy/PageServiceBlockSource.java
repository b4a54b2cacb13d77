package io.forkline.compute.lazy;

import io.forkline.page.client.BlockingPageConnection;
import io.forkline.page.client.PageClientConfig;
import io.forkline.page.client.PageServiceClient;
import io.forkline.page.client.PageServiceException;
import io.forkline.page.client.ReadLsn;
import io.forkline.page.protocol.proto.RelTag;

import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Blocks from the page service, read at the timeline's latest LSN with {@code not_modified_since} =
 * the data directory's start LSN (Neon's convention). A block the compute never wrote is not local
 * and, since this compute is its timeline's only writer, has not changed since the start LSN, so
 * any later LSN gives the same page; reading at the latest one (never waiting for ingest) keeps a
 * long-running compute working after GC has moved its timeline's cutoff past the start LSN.
 *
 * <p>Each fetch has one request in flight and its caller (a FUSE thread, a read-ahead or prefetch
 * thread) waits for it, so by default it goes over a synchronous {@link BlockingPageConnection}
 * borrowed from a small pool (at most {@value #DEFAULT_MAX_BLOCKING} connections, made when first
 * needed, on the timeline the asynchronous client resolved; system property
 * {@value #MAX_BLOCKING_PROPERTY}): the calling thread writes and reads the socket itself, two
 * thread hand-offs per round trip instead of the asynchronous client's four. When every pooled
 * connection is busy, the fetch goes through the shared asynchronous {@link PageServiceClient}
 * instead of waiting for one. {@code -D}{@value #BLOCKING_PROPERTY}{@code =false} sends every fetch
 * through the asynchronous client (as before; read at mount). Either way a fetch retries over lost
 * connections until the client config's request deadline; then it fails.
 */
final class PageServiceBlockSource implements BlockSource, AutoCloseable {
    /** System property: {@code false} fetches through the asynchronous client only (default true). */
    static final String BLOCKING_PROPERTY = "forkline.pageClient.blocking";
    /** System property: most pooled synchronous connections (default {@value #DEFAULT_MAX_BLOCKING}; 0 = none). */
    static final String MAX_BLOCKING_PROPERTY = "forkline.lazy.blockingConnections";
    static final int DEFAULT_MAX_BLOCKING = 8;

    private final PageServiceClient client;
    private final long lsn;
    /** Config of the pooled connections (the async client's timeline, not a branch), or null: async only. */
    private final PageClientConfig blockingConfig;
    private final int maxBlocking;
    private final ConcurrentLinkedDeque<BlockingPageConnection> idle = new ConcurrentLinkedDeque<>();
    private final AtomicInteger made = new AtomicInteger();
    private volatile boolean closed;
    private final LazyStats stats;

    /**
     * @param client      the asynchronous client (kept for overflow and when blocking is off; not closed here)
     * @param config      its config (page service, tenant, token, deadline); null: asynchronous only
     * @param lsn         the data directory's start LSN (the reads' not_modified_since)
     * @param maxBlocking most pooled synchronous connections; 0: asynchronous only
     * @param stats       counts the fetches that went over a synchronous connection
     * @throws IllegalArgumentException when {@code maxBlocking} is negative (names it)
     */
    PageServiceBlockSource(PageServiceClient client, PageClientConfig config, long lsn, int maxBlocking, LazyStats stats) {
        if (maxBlocking < 0) {
            throw new IllegalArgumentException("maxBlocking must be 0 or more, got " + maxBlocking);
        }
        this.client = client;
        this.lsn = lsn;
        this.stats = stats;
        this.maxBlocking = config == null ? 0 : maxBlocking;
        this.blockingConfig = config == null ? null : config.withTimeline(client.timelineId());
    }

    /**
     * The pool size the system properties ask for: 0 when {@value #BLOCKING_PROPERTY} is
     * {@code false}, else {@value #MAX_BLOCKING_PROPERTY} or {@value #DEFAULT_MAX_BLOCKING}.
     *
     * @throws IllegalArgumentException when a property is not a boolean / a non-negative integer (names it)
     */
    static int maxBlockingFromProperties() {
        String on = System.getProperty(BLOCKING_PROPERTY);
        if (on != null && !on.isBlank()) {
            if (on.strip().equalsIgnoreCase("false")) {
                return 0;
            }
            if (!on.strip().equalsIgnoreCase("true")) {
                throw new IllegalArgumentException(BLOCKING_PROPERTY + " must be true or false, got '" + on + "'");
            }
        }
        String n = System.getProperty(MAX_BLOCKING_PROPERTY);
        if (n == null || n.isBlank()) {
            return DEFAULT_MAX_BLOCKING;
        }
        try {
            int v = Integer.parseInt(n.strip());
            if (v >= 0) {
                return v;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException(MAX_BLOCKING_PROPERTY + " must be an integer of 0 or more, got '" + n + "'");
    }

    @Override
    public List<byte[]> fetch(RelTag rel, int[] blocks) throws FetchException {
        BlockingPageConnection c = borrow();
        if (c == null) {
            try {
                return client.getPages(rel, blocks, new ReadLsn(0, true, lsn)).join();
            } catch (CompletionException e) {
                throw failed(rel, blocks, e.getCause() == null ? e : e.getCause());
            }
        }
        stats.fetchedSynchronously();
        try {
            return c.getPages(rel, blocks, new ReadLsn(0, true, lsn));
        } catch (PageServiceException e) {
            throw failed(rel, blocks, e);
        } finally {
            giveBack(c);
        }
    }

    /** An idle pooled connection, a new one while fewer than the maximum exist, else null (use the async client). */
    private BlockingPageConnection borrow() {
        if (maxBlocking == 0 || closed) {
            return null;
        }
        BlockingPageConnection c = idle.pollFirst();
        if (c != null) {
            return c;
        }
        if (made.incrementAndGet() > maxBlocking) {
            made.decrementAndGet();
            return null;
        }
        return BlockingPageConnection.unconnected(blockingConfig);
    }

    private void giveBack(BlockingPageConnection c) {
        idle.addFirst(c); // most recently used first: its socket is the warmest
        if (closed && idle.remove(c)) {
            c.close();
        }
    }

    private static FetchException failed(RelTag rel, int[] blocks, Throwable c) {
        return new FetchException("cannot fetch " + blocks.length + " block(s) from " + blocks[0] + " of relation "
                + Integer.toUnsignedString(rel.getSpcOid()) + "/" + Integer.toUnsignedString(rel.getDbOid()) + "/"
                + Integer.toUnsignedString(rel.getRelNumber()) + " fork " + rel.getFork() + ": "
                + (c instanceof PageServiceException ? c.getMessage() : c.toString()), c);
    }

    /** Pooled synchronous connections made so far (for tests). */
    int blockingConnections() {
        return made.get();
    }

    /** Closes the idle pooled connections now and the busy ones when they come back; the async client stays open. */
    @Override
    public void close() {
        closed = true;
        for (BlockingPageConnection c; (c = idle.pollFirst()) != null; ) {
            c.close();
        }
    }
}
