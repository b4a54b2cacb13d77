package io.forkline.compute.lazy;

import io.forkline.page.client.PageClientConfig;
import io.forkline.page.client.PageServiceClient;
import io.forkline.page.protocol.proto.RelTag;
import io.forkline.pageserver.pageservice.PageService;
import io.forkline.pageserver.pageservice.PageServiceConfig;
import io.forkline.storage.id.TenantId;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.key.Key;
import io.forkline.storage.key.RelSizeValue;
import io.forkline.storage.store.PageStore;
import io.forkline.storage.store.TimelineWriter;
import io.forkline.storage.timeline.TimelineMetadata;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The lazy data directory's block source against a real page service over a real store (no
 * PostgreSQL needed: a relation of known random pages): with a pool smaller than the number of
 * threads fetching at once, every fetch gets its own pages, at most the pool's size of synchronous
 * connections is made, the fetches that find the pool busy go through the asynchronous client,
 * the pooled connections survive the server closing them, and with the pool off or closed every
 * fetch goes through the asynchronous client.
 */
class PageServiceBlockSourcePoolIT {
    private static final String TENANT = "pool";
    private static final int PAGES = 400;
    private static final io.forkline.storage.key.RelTag STORE_REL = new io.forkline.storage.key.RelTag(1663, 5, 16384, 0);
    private static final RelTag REL = PageServiceClient.rel(1663, 5, 16384, 0);
    @TempDir
    static Path dir;
    private static PageStore store;
    private static PageService service;
    private static TimelineId tl;
    private static final byte[][] expected = new byte[PAGES][8192];

    @BeforeAll
    static void start() throws Exception {
        store = PageStore.open(dir.resolve("store"), 64L << 20);
        tl = TimelineId.generate();
        store.createTimeline(new TimelineMetadata(tl, new TenantId(TENANT), null, 0, 1, 15, Instant.now()));
        SplittableRandom rnd = new SplittableRandom(3);
        try (TimelineWriter w = store.writer(tl)) {
            for (int b = 0; b < PAGES; b++) {
                rnd.nextBytes(expected[b]);
                w.put(Key.relBlock(STORE_REL, b), 1000, expected[b].clone());
            }
            w.put(Key.relSize(STORE_REL), 1000, new RelSizeValue(PAGES, 1000).encode());
            w.commit(1000);
        }
        service = PageService.start(store, null, (token, tenant) -> { }, PageServiceConfig.defaults(0));
    }

    @AfterAll
    static void stop() {
        if (service != null) {
            service.close();
        }
        if (store != null) {
            store.close();
        }
    }

    private static PageClientConfig config() {
        return PageClientConfig.of("127.0.0.1", service.port(), TENANT, tl.toString(), null, "");
    }

    /** {@code threads} threads, {@code each} fetches of 1-16 random consecutive blocks each, every page checked; returns the fetch count. */
    private static int hammer(PageServiceBlockSource source, int threads, int each) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                SplittableRandom rnd = new SplittableRandom(t);
                done.add(pool.submit(() -> {
                    for (int i = 0; i < each; i++) {
                        int n = 1 + rnd.nextInt(16);
                        int from = rnd.nextInt(PAGES - n + 1);
                        int[] blocks = new int[n];
                        for (int k = 0; k < n; k++) {
                            blocks[k] = from + k;
                        }
                        List<byte[]> got = source.fetch(REL, blocks);
                        assertThat(got).hasSize(n);
                        for (int k = 0; k < n; k++) {
                            assertThat(got.get(k)).as("block %d", from + k).isEqualTo(expected[from + k]);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        return threads * each;
    }

    @Test
    void aPoolSmallerThanTheReadersOverflowsToTheAsyncClientAndEveryFetchGetsItsPages() throws Exception {
        try (PageServiceClient client = PageServiceClient.connect(config())) {
            LazyStats stats = new LazyStats();
            try (PageServiceBlockSource source = new PageServiceBlockSource(client, config(), 1000, 2, stats)) {
                int fetches = hammer(source, 6, 150);
                System.out.printf("pool of 2, 6 threads: %d of %d fetches synchronous%n", stats.synchronousFetches(), fetches);
                assertThat(source.blockingConnections()).isBetween(1, 2);
                // connections go back to the pool after each fetch: far more fetches than connections use them
                assertThat(stats.synchronousFetches()).isGreaterThan(fetches / 10);
                assertThat(stats.synchronousFetches()).as("fetches over the pool").isPositive()
                        .as("6 threads, 2 connections: some fetches found the pool busy").isLessThan(fetches);
                // the server drops every connection: the pooled ones reconnect on their next use
                service.closeConnections();
                long before = stats.synchronousFetches();
                hammer(source, 2, 50);
                assertThat(stats.synchronousFetches()).isGreaterThan(before);
                source.close();
                long closed = stats.synchronousFetches();
                assertThat(hammer(source, 2, 20)).isEqualTo(40); // still served, by the async client
                assertThat(stats.synchronousFetches()).isEqualTo(closed);
            }
            LazyStats off = new LazyStats();
            try (PageServiceBlockSource source = new PageServiceBlockSource(client, config(), 1000, 0, off)) {
                hammer(source, 3, 50);
                assertThat(off.synchronousFetches()).isZero();
                assertThat(source.blockingConnections()).isZero();
            }
        }
    }
}
