package io.forkline.pageserver.pageservice;

import io.forkline.bench.Args;
import io.forkline.bench.BenchDirectory;
import io.forkline.bench.ThreadCpu;
import io.forkline.page.client.BlockingPageConnection;
import io.forkline.page.client.PageClientConfig;
import io.forkline.page.client.PageServiceClient;
import io.forkline.page.client.ReadLsn;
import io.forkline.page.transport.Transport;
import io.forkline.page.protocol.proto.RelTag;
import io.forkline.storage.id.TenantId;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.key.Key;
import io.forkline.storage.key.RelSizeValue;
import io.forkline.storage.store.PageStore;
import io.forkline.storage.store.TimelineWriter;
import io.forkline.storage.timeline.TimelineMetadata;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A load generator for the page service over loopback, like Neon's {@code pagebench}: GetPage@LSN
 * latency at 1 request in flight (p50 / p99 / p99.9, warm and cold) and throughput with 64 requests
 * in flight on one connection and on each of 8 connections; beside them, in the same run, the
 * floors: the round trip of a bare Netty echo over the same loopback and the same transport
 * ({@link Transport#chosen()}: epoll where it loads), and GetPage in process on one thread (the
 * store's own speed, warm: the page service's read without a copy, and {@code PageStore.get} with
 * its 8 KiB copy). Beside each pipelined rate, the process's CPU time per page (client and server
 * share the process): steadier than the rates on a shared machine, though heavy load raises it too.
 *
 * <p>Data: one relation of {@code --pages} random 8 KiB pages (default 20,000 = 160 MiB) on a
 * timeline of a fresh store; reads pick uniformly random blocks at the last LSN. Warm: every page
 * read once first (the page cache holds them). Cold: the store reopened with the page cache off
 * and an empty RocksDB block cache, and the OS page cache dropped when this process may
 * ({@code /proc/sys/vm/drop_caches}; the output says whether it could).
 *
 * <p>Warm latency at 1 in flight is measured with both clients on the same service, in alternating
 * blocks: the synchronous {@link BlockingPageConnection} (the caller writes and reads a blocking
 * socket itself: what a 1-in-flight caller uses) and the asynchronous {@link PageServiceClient}
 * (as before). Beside the Netty echo, a blocking-socket client against the same Netty echo server
 * gives the synchronous path's floor.
 *
 * <p>Run: {@code benchmarks/run.sh pagebench [--json] [--pages N] [--seconds S]}; the last line of
 * output is one JSON object with {@code inprocess_pages_per_s}, {@code inprocess_copy_pages_per_s},
 * {@code p50_us}, {@code p99_us}, {@code p999_us} (warm, 1 in flight, the synchronous client),
 * {@code async_p50_us}, {@code async_p99_us}, {@code async_p999_us} (the same with the asynchronous
 * client), {@code pipelined_pages_per_s},
 * {@code pipelined_8conn_pages_per_s}, {@code pipelined_cpu_us_per_page},
 * {@code pipelined_8conn_cpu_us_per_page}, {@code echo_rtt_us} (p50, Netty client), {@code echo_p99_us},
 * {@code echo_8k_rtt_us}, {@code blocking_echo_rtt_us} (p50, blocking client), {@code blocking_echo_p99_us},
 * {@code beside_blocking_echo_rtt_us}, {@code beside_blocking_echo_p99_us} (the blocking echo again,
 * measured in blocks alternating with the warm GetPages: the synchronous client's floor at the same moments),
 * {@code cold_p50_us}, {@code cold_p99_us}, {@code cold_p999_us} (the asynchronous client, as before),
 * {@code os_cache_dropped}, {@code pages}, {@code transport}, {@code load} (the system load average at the end).
 */
public final class PageBench {
    private static final String TENANT = "bench";
    private static final RelTag REL = PageServiceClient.rel(1663, 5, 16384, 0);

    private PageBench() {
    }

    public static void main(String[] argv) throws Exception {
        Args args = new Args(argv);
        int pages = args.intValue("pages", 20_000);
        int seconds = args.intValue("seconds", 5);
        int latencySamples = args.intValue("samples", 20_000);
        boolean pipelinedOnly = args.value("only", "all").equals("pipelined");
        boolean fetchOnly = args.value("only", "all").equals("fetch");
        Path dir = Files.createTempDirectory("pagebench");
        try {
            if (fetchOnly) {
                List<Integer> sizes = new ArrayList<>();
                for (String v : args.value("blocks", "1,16,256").split(",")) {
                    sizes.add(Integer.parseInt(v.trim()));
                }
                runFetchSizes(dir, pages, args.intValue("rounds", 3), sizes, args.intValue("samples", 2000));
            } else if (pipelinedOnly) {
                List<Integer> versions = new ArrayList<>();
                for (String v : args.value("versions", "1,2").split(",")) {
                    versions.add(Integer.parseInt(v.trim()));
                }
                List<int[]> flushes = new ArrayList<>(); // {server, client}: "N" for both, or "S/C"
                for (String f : args.value("flush", PageServiceConfig.DEFAULT_FLUSH_EVERY + "/" + PageClientConfig.DEFAULT_FLUSH_EVERY).split(",")) {
                    String[] sc = f.trim().split("/");
                    int server = Integer.parseInt(sc[0]);
                    flushes.add(new int[]{server, sc.length > 1 ? Integer.parseInt(sc[1]) : server});
                }
                runPipelinedOnly(dir, pages, seconds, args.intValue("rounds", 3), versions, flushes,
                        args.intValue("warmup", 3));
            } else {
                run(dir, pages, seconds, latencySamples);
            }
        } finally {
            BenchDirectory.delete(dir);
        }
    }

    private static void run(Path dir, int pages, int seconds, int samples) throws Exception {
        TimelineId tl = TimelineId.generate();
        long lsn;
        try (PageStore store = PageStore.open(dir.resolve("store"), 0)) {
            lsn = populate(store, tl, pages);
        }
        double[] echo = echoRoundTripMicros(samples, 8);
        double echoUs = echo[0];
        double echo8kUs = echoRoundTripMicros(samples, 8192)[0];
        System.out.printf(Locale.ROOT, "echo round trip (bare Netty, %s, loopback, 1 in flight): p50 %.1f us, p99 %.1f us "
                + "for 8 bytes (the floor); p50 %.1f us for 8 KiB each way%n", Transport.chosen(), echoUs, echo[1], echo8kUs);
        System.out.printf(Locale.ROOT, "echo round trip (blocking java.net.Socket client, read timeout set, against the same "
                + "Netty echo server): p50 %.1f us, p99 %.1f us for 8 bytes (the synchronous client's floor)%n", echo[2], echo[3]);

        double inProcess;
        double inProcessCopy;
        double[] warm;
        double[] asyncWarm;
        double[] besideEcho;
        double pipelined1;
        double pipelined8;
        double cpu1;
        double cpu8;
        try (PageStore store = PageStore.open(dir.resolve("store"), 512L << 20);
             PageService service = PageService.start(store, null, (token, tenant) -> { },
                     PageServiceConfig.defaults(0))) {
            SplittableRandom rnd = new SplittableRandom(1);
            for (int b = 0; b < pages; b++) { // warm: every page in the page cache
                store.get(tl, Key.relBlock(rel(), b), lsn);
            }
            inProcess = inProcessPagesPerSecond(store, tl, lsn, pages, seconds, true);
            inProcessCopy = inProcessPagesPerSecond(store, tl, lsn, pages, seconds, false);
            System.out.printf(Locale.ROOT, "in process, warm, 1 thread: %.0f pages/s (the page service's read, no "
                    + "copy); %.0f pages/s with PageStore.get (an 8 KiB copy per read)%n", inProcess, inProcessCopy);
            PageClientConfig cfg = PageClientConfig.of("127.0.0.1", service.port(), TENANT, tl.toString(), null, "")
                    .withDefaultDeadline(Duration.ofSeconds(60));
            try (PageServiceClient c = PageServiceClient.connect(cfg);
                 BlockingPageConnection sync = BlockingPageConnection.connect(cfg)) {
                double[][] both = warmLatency(c, sync, lsn, pages, samples, rnd);
                warm = both[1];
                asyncWarm = both[0];
                besideEcho = both[2];
                System.out.printf(Locale.ROOT, "warm GetPage, 1 in flight, asynchronous client (PageServiceClient): p50 %.1f us  "
                        + "p99 %.1f us  p99.9 %.1f us%n", asyncWarm[0], asyncWarm[1], asyncWarm[2]);
                System.out.printf(Locale.ROOT, "warm GetPage, 1 in flight, synchronous client (BlockingPageConnection): p50 %.1f us  "
                        + "p99 %.1f us  p99.9 %.1f us%n", warm[0], warm[1], warm[2]);
                System.out.printf(Locale.ROOT, "blocking echo beside them (alternating blocks, same moments): p50 %.1f us  "
                        + "p99 %.1f us%n", besideEcho[0], besideEcho[1]);
                pipelined(List.of(c), lsn, pages, 64, 3); // warm-up: the JIT settles on the pipelined path
                double[] p1 = pipelined(List.of(c), lsn, pages, 64, seconds);
                pipelined1 = p1[0];
                cpu1 = p1[1];
                System.out.printf(Locale.ROOT, "warm GetPage, 64 in flight, 1 connection: %.0f pages/s, %.1f us of CPU "
                        + "per page (client + server process, all threads: %s)%n", pipelined1, cpu1, split());
            }
            List<PageServiceClient> clients = new ArrayList<>();
            try {
                for (int i = 0; i < 8; i++) {
                    clients.add(PageServiceClient.connect(cfg));
                }
                pipelined(clients, lsn, pages, 64, 3);
                double[] p8 = pipelined(clients, lsn, pages, 64, seconds);
                pipelined8 = p8[0];
                cpu8 = p8[1];
                System.out.printf(Locale.ROOT, "warm GetPage, 64 in flight on each of 8 connections: %.0f pages/s, %.1f us "
                        + "of CPU per page (%s)%n", pipelined8, cpu8, split());
            } finally {
                clients.forEach(PageServiceClient::close);
            }
        }

        boolean dropped = dropOsPageCache();
        double[] cold;
        try (PageStore store = PageStore.open(dir.resolve("store"), 0);
             PageService service = PageService.start(store, null, (token, tenant) -> { },
                     PageServiceConfig.defaults(0))) {
            PageClientConfig cfg = PageClientConfig.of("127.0.0.1", service.port(), TENANT, tl.toString(), null, "");
            try (PageServiceClient c = PageServiceClient.connect(cfg)) {
                cold = latency(c, lsn, pages, Math.min(samples, pages / 2), new SplittableRandom(7));
            }
        }
        System.out.printf(Locale.ROOT, "cold GetPage (no page cache, empty block cache, OS cache %s), 1 in flight: "
                + "p50 %.1f us  p99 %.1f us  p99.9 %.1f us%n", dropped ? "dropped" : "NOT dropped (no permission)",
                cold[0], cold[1], cold[2]);
        System.out.printf(Locale.ROOT, "ratios: warm p50 / echo p50 = %.2f (synchronous client; asynchronous %.2f), "
                        + "warm p50 / blocking echo p50 = %.2f (beside it: %.2f), warm p99 / echo p99 = %.2f; pipelined (1 conn) / in process = %.3f%n",
                warm[0] / echoUs, asyncWarm[0] / echoUs, warm[0] / echo[2], warm[0] / besideEcho[0], warm[1] / echo[1], pipelined1 / inProcess);
        System.out.printf(Locale.ROOT, "{\"inprocess_pages_per_s\":%.0f,\"inprocess_copy_pages_per_s\":%.0f,\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,"
                        + "\"async_p50_us\":%.1f,\"async_p99_us\":%.1f,\"async_p999_us\":%.1f,"
                        + "\"pipelined_pages_per_s\":%.0f,\"pipelined_8conn_pages_per_s\":%.0f,\"pipelined_cpu_us_per_page\":%.1f,\"pipelined_8conn_cpu_us_per_page\":%.1f,\"echo_rtt_us\":%.1f,\"echo_p99_us\":%.1f,\"echo_8k_rtt_us\":%.1f,"
                        + "\"blocking_echo_rtt_us\":%.1f,\"blocking_echo_p99_us\":%.1f,\"beside_blocking_echo_rtt_us\":%.1f,\"beside_blocking_echo_p99_us\":%.1f,"
                        + "\"cold_p50_us\":%.1f,\"cold_p99_us\":%.1f,\"cold_p999_us\":%.1f,\"os_cache_dropped\":%b,"
                        + "\"pages\":%d,\"transport\":\"%s\",\"load\":%.2f}%n",
                inProcess, inProcessCopy, warm[0], warm[1], warm[2], asyncWarm[0], asyncWarm[1], asyncWarm[2],
                pipelined1, pipelined8, cpu1, cpu8, echoUs, echo[1], echo8kUs, echo[2], echo[3], besideEcho[0], besideEcho[1], cold[0], cold[1], cold[2],
                dropped, pages, Transport.chosen(),
                java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }

    /**
     * {@code --only pipelined}: the echo floor, then {@code rounds} rounds of the two pipelined
     * phases (1 connection, 8 connections) for each protocol version of {@code --versions} (default
     * "1,2": pages inside protobuf, then raw pages frames) and each flush setting of {@code --flush}
     * (default "0/8", the default settings; e.g. "0,8": {@link PageServiceConfig#flushEvery} and
     * {@link PageClientConfig#flushEvery}, or "S/C" for the server's and the client's apart, e.g.
     * "0/8"; one service per setting on the same store), alternating
     * within each round, one JSON line per variant and round (with the CPU per page split by thread
     * role: server loops, client loops, the client's deadline timer, the rest), after
     * {@code --warmup} seconds (default 3) of each phase and variant, twice; for profiling and
     * side-by-side runs.
     */
    private static void runPipelinedOnly(Path dir, int pages, int seconds, int rounds, List<Integer> versions,
                                         List<int[]> flushes, int warmup) throws Exception {
        TimelineId tl = TimelineId.generate();
        long lsn;
        try (PageStore store = PageStore.open(dir.resolve("store"), 0)) {
            lsn = populate(store, tl, pages);
        }
        double[] echo = echoRoundTripMicros(20_000, 8);
        System.out.printf(Locale.ROOT, "echo round trip (bare Netty, %s): p50 %.1f us, p99 %.1f us%n",
                Transport.chosen(), echo[0], echo[1]);
        List<PageService> services = new ArrayList<>();
        try (PageStore store = PageStore.open(dir.resolve("store"), 512L << 20)) {
            for (int b = 0; b < pages; b++) {
                store.get(tl, Key.relBlock(rel(), b), lsn);
            }
            // one service per flush setting (PageServiceConfig#flushEvery), all on the same store
            for (int[] f : flushes) {
                services.add(PageService.start(store, null, (token, tenant) -> { },
                        PageServiceConfig.defaults(0).withFlushEvery(f[0])));
            }
            List<List<PageServiceClient>> byVariant = new ArrayList<>();
            List<int[]> variants = new ArrayList<>(); // {version, server flushEvery, client flushEvery}
            try {
                for (int v : versions) {
                    for (int fi = 0; fi < flushes.size(); fi++) {
                        PageClientConfig cfg = PageClientConfig.of("127.0.0.1", services.get(fi).port(), TENANT,
                                        tl.toString(), null, "")
                                .withDefaultDeadline(Duration.ofSeconds(60)).withProtocolVersion(v)
                                .withFlushEvery(flushes.get(fi)[1]);
                        List<PageServiceClient> clients = new ArrayList<>();
                        byVariant.add(clients);
                        variants.add(new int[]{v, flushes.get(fi)[0], flushes.get(fi)[1]});
                        for (int i = 0; i < 8; i++) {
                            clients.add(PageServiceClient.connect(cfg));
                        }
                    }
                }
                // warm-up: every variant's paths through the JIT (on a loaded machine the compiler
                // threads get little CPU: the first phases then run interpreted, at 10-20x the CPU)
                for (int w = 0; w < 2; w++) {
                    for (List<PageServiceClient> clients : byVariant) {
                        pipelined(clients.subList(0, 1), lsn, pages, 64, warmup);
                        pipelined(clients, lsn, pages, 64, warmup);
                    }
                }
                for (int round = 1; round <= rounds; round++) {
                    for (int i = 0; i < byVariant.size(); i++) {
                        List<PageServiceClient> clients = byVariant.get(i);
                        double[] p1 = pipelined(clients.subList(0, 1), lsn, pages, 64, seconds);
                        double[] s1 = lastSplit;
                        double[] p8 = pipelined(clients, lsn, pages, 64, seconds);
                        double[] s8 = lastSplit;
                        System.out.printf(Locale.ROOT, "{\"round\":%d,\"protocol_version\":%d,\"flush_every\":\"%d/%d\","
                                        + "\"pipelined_pages_per_s\":%.0f,\"pipelined_cpu_us_per_page\":%.2f,"
                                        + "\"server_us\":%.2f,\"client_us\":%.2f,\"timer_us\":%.2f,\"rest_us\":%.2f,"
                                        + "\"pipelined_8conn_pages_per_s\":%.0f,\"pipelined_8conn_cpu_us_per_page\":%.2f,"
                                        + "\"server8_us\":%.2f,\"client8_us\":%.2f,\"timer8_us\":%.2f,\"rest8_us\":%.2f,"
                                        + "\"echo_rtt_us\":%.1f,\"load\":%.2f}%n",
                                round, variants.get(i)[0], variants.get(i)[1], variants.get(i)[2], p1[0], p1[1], s1[0], s1[1], s1[2], s1[3],
                                p8[0], p8[1], s8[0], s8[1], s8[2], s8[3], echo[0],
                                java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
                    }
                }
            } finally {
                byVariant.forEach(l -> l.forEach(PageServiceClient::close));
                services.forEach(PageService::close);
            }
        }
    }

    /**
     * {@code --only fetch}: what a lazy data directory's fetch costs over each client, warm, 1 in
     * flight: GetPages of runs of {@code --blocks} consecutive blocks (default "1,16,256": a FUSE read,
     * a read-around extent, a read-ahead batch) from random starts, {@code --samples} calls (default
     * 2,000) per client, size and round, the two clients taking turns within each round; one JSON
     * line per size and round (p50 / p99 per call, microseconds).
     */
    private static void runFetchSizes(Path dir, int pages, int rounds, List<Integer> sizes, int samples) throws Exception {
        TimelineId tl = TimelineId.generate();
        long lsn;
        try (PageStore store = PageStore.open(dir.resolve("store"), 0)) {
            lsn = populate(store, tl, pages);
        }
        for (int n : sizes) {
            if (n < 1 || n > 256 || n > pages) {
                throw new IllegalArgumentException("--blocks: each size must be 1..256 and at most --pages, got " + n);
            }
        }
        double[] echo = echoRoundTripMicros(20_000, 8);
        try (PageStore store = PageStore.open(dir.resolve("store"), 512L << 20);
             PageService service = PageService.start(store, null, (token, tenant) -> { },
                     PageServiceConfig.defaults(0))) {
            for (int b = 0; b < pages; b++) {
                store.get(tl, Key.relBlock(rel(), b), lsn);
            }
            PageClientConfig cfg = PageClientConfig.of("127.0.0.1", service.port(), TENANT, tl.toString(), null, "")
                    .withDefaultDeadline(Duration.ofSeconds(60));
            try (PageServiceClient async = PageServiceClient.connect(cfg);
                 BlockingPageConnection sync = BlockingPageConnection.connect(cfg)) {
                SplittableRandom rnd = new SplittableRandom(5);
                for (int n : sizes) { // warm-up: every size through the JIT on both paths
                    fetchLatency(async, null, n, lsn, pages, samples / 2, rnd);
                    fetchLatency(null, sync, n, lsn, pages, samples / 2, rnd);
                }
                for (int round = 1; round <= rounds; round++) {
                    for (int n : sizes) {
                        double[] a = percentiles(fetchLatency(async, null, n, lsn, pages, samples, rnd));
                        double[] b = percentiles(fetchLatency(null, sync, n, lsn, pages, samples, rnd));
                        System.out.printf(Locale.ROOT, "{\"round\":%d,\"blocks\":%d,\"sync_p50_us\":%.1f,\"sync_p99_us\":%.1f,"
                                        + "\"async_p50_us\":%.1f,\"async_p99_us\":%.1f,\"sync_over_async_p50\":%.3f,"
                                        + "\"echo_rtt_us\":%.1f,\"blocking_echo_rtt_us\":%.1f,\"load\":%.2f}%n",
                                round, n, b[0], b[1], a[0], a[1], b[0] / a[0], echo[0], echo[2],
                                java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
                    }
                }
            }
        }
    }

    /** Call times (ns) of {@code samples} GetPages of {@code n} consecutive blocks from random starts, over whichever client is given. */
    private static long[] fetchLatency(PageServiceClient async, BlockingPageConnection sync, int n, long lsn, int pages,
                                       int samples, SplittableRandom rnd) {
        long[] ns = new long[samples];
        int[] blocks = new int[n];
        for (int i = 0; i < samples; i++) {
            int from = rnd.nextInt(pages - n + 1);
            for (int k = 0; k < n; k++) {
                blocks[k] = from + k;
            }
            long t0 = System.nanoTime();
            List<byte[]> got = sync != null ? sync.getPages(REL, blocks, ReadLsn.at(lsn))
                    : async.getPages(REL, blocks, ReadLsn.at(lsn)).join();
            ns[i] = System.nanoTime() - t0;
            if (got.size() != n) {
                throw new IllegalStateException("asked for " + n + " pages, got " + got.size());
            }
        }
        return ns;
    }

    private static io.forkline.storage.key.RelTag rel() {
        return new io.forkline.storage.key.RelTag(REL.getSpcOid(), REL.getDbOid(), REL.getRelNumber(), REL.getFork());
    }

    /** Writes {@code pages} random pages and the relation's size at LSN 1000; returns that LSN. */
    private static long populate(PageStore store, TimelineId tl, int pages) {
        long lsn = 1000;
        store.createTimeline(new TimelineMetadata(tl, new TenantId(TENANT), null, 0, 1, 15, Instant.now()));
        SplittableRandom rnd = new SplittableRandom(42);
        try (TimelineWriter w = store.writer(tl)) {
            for (int b = 0; b < pages; b++) {
                byte[] page = new byte[8192];
                rnd.nextBytes(page);
                w.put(Key.relBlock(rel(), b), lsn, page);
                if (w.stagedBytes() > 32 << 20) {
                    w.commit(lsn);
                }
            }
            w.put(Key.relSize(rel()), lsn, new RelSizeValue(pages, lsn).encode());
            w.commit(lsn);
        }
        return lsn;
    }

    /**
     * GetPage@LSN in process, one thread, random blocks: with {@code share}, what the page service
     * does per page (a {@link PageStore#sharingReader()} per read, the cached page handed out
     * without a copy); without, {@link PageStore#get} (the caller gets its own 8 KiB copy).
     */
    private static double inProcessPagesPerSecond(PageStore store, TimelineId tl, long lsn, int pages, int seconds,
                                                  boolean share) {
        SplittableRandom rnd = new SplittableRandom(3);
        io.forkline.storage.key.RelTag rel = rel();
        long sink = 0;
        long end = System.nanoTime() + 1_000_000_000L; // warm-up second
        while (System.nanoTime() < end) {
            sink += readOne(store, tl, Key.relBlock(rel, rnd.nextInt(pages)), lsn, share);
        }
        long n = 0;
        long t0 = System.nanoTime();
        end = t0 + seconds * 1_000_000_000L;
        while (true) {
            for (int i = 0; i < 1024; i++) {
                sink += readOne(store, tl, Key.relBlock(rel, rnd.nextInt(pages)), lsn, share);
            }
            n += 1024;
            long now = System.nanoTime();
            if (now >= end) {
                if (sink == 42) {
                    System.out.print("");
                }
                return n * 1e9 / (now - t0);
            }
        }
    }

    private static int readOne(PageStore store, TimelineId tl, Key key, long lsn, boolean share) {
        if (!share) {
            return store.get(tl, key, lsn)[0];
        }
        try (PageStore.Reader r = store.sharingReader()) {
            return r.getVersions(tl, new Key[]{key}, lsn)[0].value()[0];
        }
    }

    /**
     * Warm 1-in-flight latency of both clients on the same service, and beside them the blocking
     * echo floor (8 bytes over a blocking socket to a bare Netty echo server of its own): all three
     * warmed up (2,000 calls each), then {@code samples} calls of each measured in four alternating
     * blocks, so that a change of the machine's state during the phase (this VM's wake-ups are much
     * slower when it idles) weighs on all three alike.
     *
     * @return {async p50, p99, p99.9}, {synchronous p50, p99, p99.9}, {blocking echo p50, p99, p99.9}, microseconds
     */
    private static double[][] warmLatency(PageServiceClient async, BlockingPageConnection sync, long lsn, int pages,
                                          int samples, SplittableRandom rnd) throws Exception {
        Transport transport = Transport.chosen();
        EventLoopGroup group = transport.newGroup(1);
        Channel echoServer = startEchoServer(group);
        try (Socket echo = new Socket("127.0.0.1", ((java.net.InetSocketAddress) echoServer.localAddress()).getPort())) {
            echo.setTcpNoDelay(true);
            InputStream in = echo.getInputStream();
            OutputStream out = echo.getOutputStream();
            byte[] msg = new byte[8];
            byte[] back = new byte[64 << 10];
            syncLatency(sync, lsn, pages, 2000, rnd);
            asyncLatency(async, lsn, pages, 2000, rnd);
            for (int i = 0; i < 2000; i++) {
                blockingEcho(echo, in, out, msg, back);
            }
            int block = Math.max(1, samples / 4);
            long[] a = new long[block * 4];
            long[] s = new long[block * 4];
            long[] e = new long[block * 4];
            for (int i = 0; i < 4; i++) {
                System.arraycopy(asyncLatency(async, lsn, pages, block, rnd), 0, a, i * block, block);
                System.arraycopy(syncLatency(sync, lsn, pages, block, rnd), 0, s, i * block, block);
                for (int k = 0; k < block; k++) {
                    e[i * block + k] = blockingEcho(echo, in, out, msg, back);
                }
            }
            return new double[][]{percentiles(a), percentiles(s), percentiles(e)};
        } finally {
            echoServer.close().sync();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    private static long[] asyncLatency(PageServiceClient c, long lsn, int pages, int samples, SplittableRandom rnd) {
        long[] ns = new long[samples];
        for (int i = 0; i < samples; i++) {
            long t0 = System.nanoTime();
            c.getPage(REL, rnd.nextInt(pages), ReadLsn.at(lsn)).join();
            ns[i] = System.nanoTime() - t0;
        }
        return ns;
    }

    private static long[] syncLatency(BlockingPageConnection c, long lsn, int pages, int samples, SplittableRandom rnd) {
        long[] ns = new long[samples];
        for (int i = 0; i < samples; i++) {
            long t0 = System.nanoTime();
            c.getPage(REL, rnd.nextInt(pages), ReadLsn.at(lsn));
            ns[i] = System.nanoTime() - t0;
        }
        return ns;
    }

    /** p50, p99, p99.9 in microseconds (sorts {@code ns}). */
    private static double[] percentiles(long[] ns) {
        Arrays.sort(ns);
        int n = ns.length;
        return new double[]{ns[n / 2] / 1e3, ns[(int) (n * 0.99)] / 1e3, ns[Math.min(n - 1, (int) (n * 0.999))] / 1e3};
    }

    /** p50, p99, p99.9 in microseconds of {@code samples} sequential GetPage calls of the asynchronous client. */
    private static double[] latency(PageServiceClient c, long lsn, int pages, int samples, SplittableRandom rnd) {
        return percentiles(asyncLatency(c, lsn, pages, samples, rnd));
    }

    /**
     * Pages per second with {@code inFlight} requests outstanding on each client, for {@code seconds},
     * and the process's CPU time per page meanwhile (microseconds; client and server share the
     * process, so this is the whole cost of a page on this machine, independent of other load).
     */
    private static double[] pipelined(List<PageServiceClient> clients, long lsn, int pages, int inFlight, int seconds)
            throws InterruptedException {
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean();
        ThreadCpu threads0 = new ThreadCpu();
        long cpu0 = os.getProcessCpuTime();
        AtomicLong done = new AtomicLong();
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        CountDownLatch finished = new CountDownLatch(clients.size() * inFlight);
        long t0 = System.nanoTime();
        for (PageServiceClient c : clients) {
            SplittableRandom rnd = new SplittableRandom(c.hashCode());
            for (int i = 0; i < inFlight; i++) {
                issue(c, lsn, pages, rnd.split(), end, done, finished);
            }
        }
        finished.await();
        long n = done.get();
        double rate = n * 1e9 / (System.nanoTime() - t0);
        double cpu = (os.getProcessCpuTime() - cpu0) / 1e3 / n;
        long[] byRole = cpuByRole(threads0);
        double server = byRole[0] / 1e3 / n;
        double client = byRole[1] / 1e3 / n;
        double timer = byRole[2] / 1e3 / n;
        lastSplit = new double[]{server, client, timer, cpu - server - client - timer};
        return new double[]{rate, cpu};
    }

    /** The last {@link #pipelined} phase's CPU per page (us) by role: server loops, client loops, deadline timer, rest. */
    private static double[] lastSplit = new double[4];

    private static String split() {
        return String.format(Locale.ROOT, "server loops %.2f, client loops %.2f, client deadline timer %.2f, "
                + "rest of the process %.2f us", lastSplit[0], lastSplit[1], lastSplit[2], lastSplit[3]);
    }

    /** Per-thread CPU time (ns) since {@code since} summed by role: the page service's loops, the clients' loops, the deadline timer. */
    private static long[] cpuByRole(ThreadCpu since) {
        long[] out = new long[3];
        since.forEachSince((name, d) -> {
            if (name.startsWith("forkline-page-io")) {
                out[0] += d;
            } else if (name.startsWith("forkline-page-client-io")) {
                out[1] += d;
            } else if (name.startsWith("forkline-page-client-deadlines")) {
                out[2] += d;
            }
        });
        return out;
    }

    private static void issue(PageServiceClient c, long lsn, int pages, SplittableRandom rnd, long end, AtomicLong done,
                              CountDownLatch finished) {
        CompletableFuture<byte[]> f = c.getPage(REL, rnd.nextInt(pages), ReadLsn.at(lsn));
        f.whenComplete((p, err) -> {
            if (err != null) {
                throw new IllegalStateException("GetPage failed", err);
            }
            done.incrementAndGet();
            if (System.nanoTime() < end) {
                issue(c, lsn, pages, rnd, end, done, finished);
            } else {
                finished.countDown();
            }
        });
    }

    /**
     * Round trips of {@code bytes}-byte messages through a bare Netty echo server on loopback,
     * microseconds: {p50, p99} with a Netty client, then {p50, p99} with a blocking
     * {@link Socket} client on the same server.
     */
    private static double[] echoRoundTripMicros(int samples, int bytes) throws Exception {
        Transport transport = Transport.chosen(); // the page service's and client's: a fair floor
        EventLoopGroup group = transport.newGroup(2);
        try {
            Channel server = startEchoServer(group);
            SynchronousQueue<Boolean> answers = new SynchronousQueue<>();
            int port = ((java.net.InetSocketAddress) server.localAddress()).getPort();
            Channel client = new Bootstrap().group(group).channel(transport.socketChannel())
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new SimpleChannelInboundHandler<ByteBuf>() {
                                private int got;

                                @Override
                                protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) throws Exception {
                                    got += msg.readableBytes();
                                    if (got >= bytes) {
                                        got -= bytes;
                                        answers.put(Boolean.TRUE);
                                    }
                                }
                            });
                        }
                    }).connect("127.0.0.1", port).sync().channel();
            // the same server, also a blocking client: what BlockingPageConnection's round trip costs at
            // least (TCP_NODELAY, a read timeout set before each read, as it does); the two clients
            // take turns in four blocks each, so that a change of load weighs on both alike
            long[] ns = new long[samples];
            long[] blocking = new long[samples];
            ByteBuf payload = Unpooled.directBuffer(bytes).writeZero(bytes);
            try (Socket socket = new Socket("127.0.0.1", port)) {
                socket.setTcpNoDelay(true);
                InputStream in = socket.getInputStream();
                OutputStream out = socket.getOutputStream();
                byte[] msg = new byte[bytes];
                byte[] back = new byte[Math.max(bytes, 64 << 10)];
                int block = samples / 4;
                for (int round = -1; round < 4; round++) { // round -1: 2,000 untimed round trips of each
                    int from = round < 0 ? 0 : round * block;
                    int to = round < 0 ? 2000 : round == 3 ? samples : from + block;
                    for (int i = from; i < to; i++) {
                        long t0 = System.nanoTime();
                        client.writeAndFlush(payload.retainedDuplicate());
                        answers.poll(10, TimeUnit.SECONDS);
                        if (round >= 0) {
                            ns[i] = System.nanoTime() - t0;
                        }
                    }
                    for (int i = from; i < to; i++) {
                        long t = blockingEcho(socket, in, out, msg, back);
                        if (round >= 0) {
                            blocking[i] = t;
                        }
                    }
                }
            }
            payload.release();
            client.close().sync();
            server.close().sync();
            Arrays.sort(ns);
            Arrays.sort(blocking);
            return new double[]{ns[samples / 2] / 1e3, ns[(int) (samples * 0.99)] / 1e3,
                    blocking[samples / 2] / 1e3, blocking[(int) (samples * 0.99)] / 1e3};
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /** A bare Netty echo server on loopback (every read written back and flushed), on {@code group}. */
    private static Channel startEchoServer(EventLoopGroup group) throws InterruptedException {
        return new ServerBootstrap().group(group).channel(Transport.chosen().serverSocketChannel())
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                ctx.writeAndFlush(msg);
                            }
                        });
                    }
                }).bind("127.0.0.1", 0).sync().channel();
    }

    /**
     * One round trip of {@code msg} over a blocking socket to an echo server, as
     * {@link BlockingPageConnection} does it (a read timeout set before each read), nanoseconds.
     */
    private static long blockingEcho(Socket socket, InputStream in, OutputStream out, byte[] msg, byte[] back)
            throws java.io.IOException {
        long t0 = System.nanoTime();
        out.write(msg);
        for (int got = 0; got < msg.length; ) {
            socket.setSoTimeout(10_000);
            int n = in.read(back, 0, back.length);
            if (n < 0) {
                throw new java.io.EOFException("echo server closed the connection");
            }
            got += n;
        }
        return System.nanoTime() - t0;
    }

    private static boolean dropOsPageCache() {
        try {
            Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "3\n");
            return true;
        } catch (Exception e) {
            return false;
        }
    }
}
