package io.forkline.pageserver;

import io.forkline.bench.Args;
import io.forkline.bench.BenchDirectory;
import io.forkline.bench.Samples;
import io.forkline.compute.postgres.BenchSql;
import io.forkline.compute.postgres.Pgbench;
import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.pageserver.endpoint.StorageMode;
import io.forkline.pageserver.server.PageServer;
import io.forkline.pageserver.tenant.TenantService;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A lazy compute (FUSE data directory, pages fetched on demand) beside a full compute (complete
 * basebackup) of the same data, in one run, taking turns (lazy, full, lazy, full, ...):
 * <ol>
 *   <li><b>pgbench -i</b>: two branches of {@code main}, one LAZY and one FULL, each {@code CREATE
 *       DATABASE init} + {@code pgbench -i -s SCALE} (COPY writes go through FUSE to the local
 *       overlay on the lazy one); wall-clock seconds and pgbench's own step times.</li>
 *   <li><b>stop + start of an idle compute</b> (what scale-to-zero costs): two branches of
 *       {@code main} (with {@code bench} loaded), one LAZY, one FULL, started once; then
 *       {@code RESTARTS} times each, alternating: {@code stopEndpoint} + {@code startEndpoint} +
 *       the first successful {@code SELECT count(*) FROM pgbench_branches} in {@code bench}.
 *       p50 and p99 (nearest rank: with 20 runs p99 is the maximum).</li>
 *   <li><b>pgbench -S and TPC-B</b>: fresh LAZY and FULL branches of {@code main}; on each,
 *       {@code pgbench -S} (or TPC-B) {@code -c CLIENTS -j CLIENTS -T SECONDS} twice in a row: the
 *       first run starts right after endpoint start (cold: empty shared buffers, and on the lazy
 *       compute nothing fetched yet), the second follows it (warm). Runs alternate lazy/full.</li>
 *   <li><b>CPU and RSS of this JVM</b> (page server + in-process FUSE daemon; no compute node) during
 *       every pgbench -S run: CPU seconds from {@code /proc/self/stat} (utime+stime) over the run,
 *       RSS from {@code /proc/self/status} (VmRSS) sampled every 200 ms. During a FULL run the JVM
 *       serves no pages, so the difference lazy - full is what the FUSE daemon and the page service
 *       cost.</li>
 * </ol>
 *
 * <p>Usage: {@code java --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar
 * io.forkline.pageserver.LazyComputeMeasurement [--scale 10] [--seconds 30] [--restarts 20]
 * [--clients 2] [--full-restarts RESTARTS] [--dir benchmarks/target/bench]}; with {@code --tpcb-rounds N
 * [--off-property NAME=VALUE[,NAME=VALUE...][;...]]} only warm TPC-B in alternating rounds (see {@link #tpcbRounds}).
 */
public final class LazyComputeMeasurement {
    private static final String TENANT = "bench";
    private static final Duration LOAD_TIMEOUT = Duration.ofMinutes(30);
    private static final Duration FIRST_QUERY_TIMEOUT = Duration.ofMinutes(2);
    private static final String PROBE = "SELECT count(*) FROM pgbench_branches";
    private static final long CLOCK_TICKS = 100; // USER_HZ on Linux

    private LazyComputeMeasurement() {
    }

    public static void main(String[] argv) throws Exception {
        Args args = new Args(argv);
        int scale = args.intValue("scale", 10);
        int seconds = args.intValue("seconds", 30);
        int restarts = args.intValue("restarts", 20);
        int clients = args.intValue("clients", 2);
        int fullRestarts = args.intValue("full-restarts", restarts);
        Path dir = BenchDirectory.fresh(args.value("dir", null), "lazy-compute");
        PostgresInstallation pg = PostgresInstallation.detect();
        System.out.printf("LazyComputeMeasurement: scale %d, pgbench runs of %d s with %d clients, %d restarts, data in %s%n",
                scale, seconds, clients, restarts, dir);
        StorageMode[] modes = {StorageMode.LAZY, StorageMode.FULL};
        List<String> result = new ArrayList<>();

        try (PageServer server = PageServer.start(dir.resolve("server"), 0, Clock.systemUTC())) {
            TenantService tenants = server.tenants();
            tenants.createTenant(TENANT);
            tenants.endpoints().setDefaultStorage(StorageMode.FULL);
            String main = tenants.startEndpoint(TENANT, "main");

            // 1. pgbench -i on a lazy and a full compute
            for (StorageMode m : args.intValue("tpcb-rounds", 0) > 0 ? new StorageMode[0] : modes) {
                String ref = "init-" + name(m);
                String uri = start(tenants, ref, m);
                BenchSql.exec(uri, "postgres", "CREATE DATABASE init");
                long ns = Pgbench.initialize(pg, BenchSql.withDatabase(uri, "init"), scale, LOAD_TIMEOUT);
                System.out.printf("pgbench -i -s %d on %s compute: %.2f s (storage %s)%n", scale, name(m), ns / 1e9,
                        tenants.endpoints().get(TENANT, ref).storage());
                result.add(String.format(Locale.ROOT, "| pgbench -i -s %d, %s compute | %.2f s |", scale, name(m), ns / 1e9));
                tenants.stopEndpoint(TENANT, ref);
                tenants.deleteBranch(TENANT, ref);
            }

            BenchSql.exec(main, "postgres", "CREATE DATABASE bench");
            long loadNanos = Pgbench.initialize(pg, BenchSql.withDatabase(main, "bench"), scale, LOAD_TIMEOUT);
            System.out.printf("main loaded: pgbench -i -s %d, %.1f MB in %.1f s%n", scale,
                    BenchSql.queryLong(main, "postgres", "SELECT pg_database_size('bench')") / 1e6, loadNanos / 1e9);
            BenchSql.exec(main, "postgres", "CHECKPOINT");

            if (args.intValue("tpcb-rounds", 0) > 0) {
                tpcbRounds(tenants, pg, args, clients, seconds, result);
                tenants.stopEndpoint(TENANT, "main");
                printResult(scale, seconds, clients, restarts, result);
                BenchDirectory.delete(dir);
                return;
            }

            // 2. stop + start of an idle compute
            Samples[] restart = {new Samples("LAZY stop+start+first query", "s"), new Samples("FULL stop+start+first query", "s")};
            Samples[] startOnly = {new Samples("LAZY start+first query", "s"), new Samples("FULL start+first query", "s")};
            for (StorageMode m : modes) {
                firstQuery(start(tenants, "idle-" + name(m), m));
            }
            for (int i = 1; i <= restarts; i++) {
                for (int k = 0; k < modes.length; k++) {
                    if (modes[k] == StorageMode.FULL && i > fullRestarts) {
                        continue;
                    }
                    String ref = "idle-" + name(modes[k]);
                    long t0 = System.nanoTime();
                    tenants.stopEndpoint(TENANT, ref);
                    long t1 = System.nanoTime();
                    String uri = tenants.startEndpoint(TENANT, ref);
                    check(firstQuery(uri), scale);
                    long t2 = System.nanoTime();
                    restart[k].add((t2 - t0) / 1e9);
                    startOnly[k].add((t2 - t1) / 1e9);
                    System.out.printf("restart %2d %s: stop %.3f s, start+first query %.3f s (storage %s)%n", i,
                            name(modes[k]), (t1 - t0) / 1e9, (t2 - t1) / 1e9, tenants.endpoints().get(TENANT, ref).storage());
                }
            }
            for (int k = 0; k < modes.length; k++) {
                result.add(String.format(Locale.ROOT, "| stop+start+first query, idle %s compute, %d runs | p50 %.3f s | p99 %.3f s | (start+first query alone: p50 %.3f, p99 %.3f) |",
                        name(modes[k]), restart[k].values().size(), pct(restart[k], 50), pct(restart[k], 99), pct(startOnly[k], 50), pct(startOnly[k], 99)));
                tenants.stopEndpoint(TENANT, "idle-" + name(modes[k]));
                tenants.deleteBranch(TENANT, "idle-" + name(modes[k]));
            }
            System.out.println(restart[0]);
            System.out.println(restart[1]);

            // 3 + 4. pgbench -S and TPC-B, cold then warm, with the JVM's CPU and RSS during -S
            for (boolean selectOnly : new boolean[] {true, false}) {
                String kind = selectOnly ? "S" : "B";
                String[] uris = new String[modes.length];
                for (int k = 0; k < modes.length; k++) {
                    uris[k] = start(tenants, kind.toLowerCase(Locale.ROOT) + "-" + name(modes[k]), modes[k]);
                }
                for (String phase : new String[] {"cold", "warm"}) {
                    for (int k = 0; k < modes.length; k++) {
                        String ref = kind.toLowerCase(Locale.ROOT) + "-" + name(modes[k]);
                        long cpu0 = cpuTicks();
                        AtomicLong maxRss = new AtomicLong(rssKb());
                        Thread sampler = Thread.ofPlatform().daemon().start(() -> {
                            while (!Thread.currentThread().isInterrupted()) {
                                maxRss.accumulateAndGet(rssKb(), Math::max);
                                try {
                                    Thread.sleep(200);
                                } catch (InterruptedException e) {
                                    return;
                                }
                            }
                        });
                        long w0 = System.nanoTime();
                        Pgbench.Run r = Pgbench.run(pg, BenchSql.withDatabase(uris[k], "bench"), selectOnly, clients, clients,
                                seconds, Duration.ofSeconds(seconds + 300L));
                        double wall = (System.nanoTime() - w0) / 1e9;
                        sampler.interrupt();
                        sampler.join();
                        double cpu = (cpuTicks() - cpu0) / (double) CLOCK_TICKS;
                        var ep = tenants.endpoints().get(TENANT, ref);
                        String fetched = ep.lazyStats() == null ? "-" : ep.lazyStats().blocksFetched() + " blocks fetched, mean fetch "
                                + String.format(Locale.ROOT, "%.0f us", ep.lazyStats().meanFetchMicros());
                        String line = String.format(Locale.ROOT,
                                "| pgbench -%s %s, %s compute | %.1f tps | JVM CPU %.1f s in %.1f s (%.0f %% of one core) | JVM max RSS %d MB | %s |",
                                kind, phase, name(modes[k]), r.tps(), cpu, wall, 100 * cpu / wall, maxRss.get() / 1024, fetched);
                        System.out.println(line);
                        result.add(line);
                    }
                }
                for (int k = 0; k < modes.length; k++) {
                    String ref = kind.toLowerCase(Locale.ROOT) + "-" + name(modes[k]);
                    tenants.stopEndpoint(TENANT, ref);
                    tenants.deleteBranch(TENANT, ref);
                }
            }
        }
        printResult(scale, seconds, clients, restarts, result);
        BenchDirectory.delete(dir);
    }

    private static void printResult(int scale, int seconds, int clients, int restarts, List<String> result) {
        System.out.println();
        System.out.printf("RESULT LazyComputeMeasurement (scale %d, %d s pgbench runs, %d clients, %d restarts)%n", scale, seconds,
                clients, restarts);
        result.forEach(System.out::println);
    }

    /**
     * {@code --tpcb-rounds N}: TPC-B only, warm, in alternating rounds. Starts a LAZY and a FULL branch
     * of main (and, with {@code --off-property NAME=VALUE[,NAME=VALUE...]}, a second LAZY branch whose endpoint is
     * started with those system properties set: the change switched off; several such variants separated by {@code ;},
     * named lazy-off, lazy-off2, ...), runs one untimed TPC-B of
     * {@code --seconds} on each to warm it, then {@code N} rounds of one TPC-B run per compute, in turn.
     * Per run: TPS, the compute's I/O counters ({@code pg_stat_database} of bench with
     * {@code track_io_timing}, {@code pg_stat_bgwriter}) and the FUSE requests that reached the daemon.
     */
    private static void tpcbRounds(TenantService tenants, PostgresInstallation pg, Args args, int clients, int seconds,
                                   List<String> result) throws Exception {
        int rounds = args.intValue("tpcb-rounds", 3);
        String off = args.value("off-property", null);
        List<String> names = new ArrayList<>(List.of("lazy", "full"));
        String[] offs = off == null ? new String[0] : off.split(";");
        for (int i = 0; i < offs.length; i++) {
            names.add(i == 0 ? "lazy-off" : "lazy-off" + (i + 1));
        }
        List<String> uris = new ArrayList<>();
        for (String n : names) {
            List<String> props = new ArrayList<>();
            if (n.startsWith("lazy-off")) {
                String variant = offs[n.equals("lazy-off") ? 0 : Integer.parseInt(n.substring("lazy-off".length())) - 1];
                System.out.printf("%s: started with %s%n", n, variant);
                for (String p : variant.split(",")) {
                    String[] kv = p.split("=", 2);
                    props.add(kv[0]);
                    System.setProperty(kv[0], kv.length > 1 ? kv[1] : "false");
                }
            }
            try {
                String uri = start(tenants, "t-" + n, n.startsWith("lazy") ? StorageMode.LAZY : StorageMode.FULL);
                uris.add(uri);
                BenchSql.exec(uri, "postgres", "ALTER SYSTEM SET track_io_timing = on", "SELECT pg_reload_conf()");
            } finally {
                props.forEach(System::clearProperty);
            }
        }
        for (int k = 0; k < names.size(); k++) {
            Pgbench.Run r = Pgbench.run(pg, BenchSql.withDatabase(uris.get(k), "bench"), false, clients, clients, seconds,
                    Duration.ofSeconds(seconds + 300L));
            System.out.printf(Locale.ROOT, "warm-up TPC-B %s: %.1f tps%n", names.get(k), r.tps());
        }
        List<List<Double>> tps = new ArrayList<>();
        names.forEach(n -> tps.add(new ArrayList<>()));
        for (int i = 1; i <= rounds; i++) {
            for (int k = 0; k < names.size(); k++) {
                String uri = uris.get(k);
                long[] io0 = ioCounters(uri);
                var ls = tenants.endpoints().get(TENANT, "t-" + names.get(k)).lazyStats();
                java.util.Map<String, long[]> ops0 = ls == null ? java.util.Map.of() : ls.ops();
                long fetches0 = ls == null ? 0 : ls.fetches();
                long blocks0 = ls == null ? 0 : ls.blocksFetched();
                String load = Files.readString(Path.of("/proc/loadavg")).strip();
                long cpu0 = cpuTicks();
                Pgbench.Run r = Pgbench.run(pg, BenchSql.withDatabase(uri, "bench"), false, clients, clients, seconds,
                        Duration.ofSeconds(seconds + 300L));
                double cpu = (cpuTicks() - cpu0) / (double) CLOCK_TICKS;
                long[] io1 = ioCounters(uri);
                tps.get(k).add(r.tps());
                StringBuilder ops = new StringBuilder();
                if (ls != null) {
                    ops.append(String.format(Locale.ROOT, " fetches %d (%d blocks, mean of all so far %.0f us) |",
                            ls.fetches() - fetches0, ls.blocksFetched() - blocks0, ls.meanFetchMicros()));
                    ls.ops().forEach((op, v) -> {
                        long[] b = ops0.getOrDefault(op, new long[2]);
                        if (v[0] > b[0]) {
                            ops.append(String.format(Locale.ROOT, " %s %d (%.1f us)", op, v[0] - b[0],
                                    (v[1] - b[1]) / 1e3 / (v[0] - b[0])));
                        }
                    });
                }
                System.out.printf(Locale.ROOT,
                        "round %d TPC-B %-8s %8.1f tps | load %s | JVM CPU %.1f s | blks_read %d, read %.0f ms, write %.0f ms,"
                                + " buffers_backend %d, clean %d, checkpoint %d, checkpoints %d | FUSE:%s%n",
                        i, names.get(k), r.tps(), load, cpu, io1[0] - io0[0], (io1[1] - io0[1]) / 1e3, (io1[2] - io0[2]) / 1e3,
                        io1[3] - io0[3], io1[4] - io0[4], io1[5] - io0[5], io1[6] - io0[6], ops);
            }
        }
        for (int k = 0; k < names.size(); k++) {
            List<Double> t = tps.get(k);
            List<Double> ratios = new ArrayList<>();
            for (int i = 0; i < t.size(); i++) {
                ratios.add(t.get(i) / tps.get(1).get(i));
            }
            result.add(String.format(Locale.ROOT, "| TPC-B warm %s | %s tps | mean %.1f | / full per round %s |", names.get(k),
                    t.stream().map(v -> String.format(Locale.ROOT, "%.1f", v)).toList(),
                    t.stream().mapToDouble(Double::doubleValue).average().orElse(0),
                    ratios.stream().map(v -> String.format(Locale.ROOT, "%.3f", v)).toList()));
        }
        for (int k = 0; k < names.size(); k++) {
            if (names.get(k).startsWith("lazy")) { // what of the hot relations the kernel's page cache of the mount holds
                String uri = uris.get(k);
                for (String rel : List.of("pgbench_accounts", "pgbench_accounts_pkey")) {
                    String file;
                    try (var c = BenchSql.connect(uri, "bench"); var st = c.createStatement();
                         var rs = st.executeQuery("SELECT current_setting('data_directory') || '/' || pg_relation_filepath('" + rel + "')")) {
                        rs.next();
                        file = rs.getString(1);
                    }
                    String out = io.forkline.compute.postgres.PostgresInstallation.runCommand(Duration.ofSeconds(30),
                            List.of("fincore", "--bytes", "--noheadings", "--output", "RES,SIZE", file));
                    System.out.printf("%s %s: kernel page cache of the mount holds %s (resident, size in bytes)%n", names.get(k), rel,
                            out.strip());
                }
            }
        }
        for (String n : names) {
            tenants.stopEndpoint(TENANT, "t-" + n);
            tenants.deleteBranch(TENANT, "t-" + n);
        }
    }

    /**
     * bench's blks_read, blk_read_time and blk_write_time (microseconds), then pg_stat_bgwriter's
     * buffers_backend, buffers_clean, buffers_checkpoint and checkpoints (timed + requested).
     */
    private static long[] ioCounters(String uri) throws SQLException {
        try (var c = BenchSql.connect(uri, "bench"); var st = c.createStatement();
             var rs = st.executeQuery("SELECT d.blks_read, (d.blk_read_time * 1000)::bigint, (d.blk_write_time * 1000)::bigint,"
                     + " b.buffers_backend, b.buffers_clean, b.buffers_checkpoint, b.checkpoints_timed + b.checkpoints_req"
                     + " FROM pg_stat_database d, pg_stat_bgwriter b WHERE d.datname = 'bench'")) {
            rs.next();
            long[] out = new long[7];
            for (int i = 0; i < out.length; i++) {
                out[i] = rs.getLong(i + 1);
            }
            return out;
        }
    }

    private static String name(StorageMode m) {
        return m.name().toLowerCase(Locale.ROOT);
    }

    /** Creates branch {@code ref} of main at its last record LSN and starts its endpoint in mode {@code m}. */
    private static String start(TenantService tenants, String ref, StorageMode m) {
        tenants.createBranch(TENANT, ref, "main", null, null);
        tenants.branches().configureEndpoint(TENANT, ref, "0"); // never suspended between the runs it waits through
        tenants.endpoints().preferStorage(TENANT, ref, m);
        return tenants.startEndpoint(TENANT, ref);
    }

    /** Nearest-rank percentile of the samples. */
    private static double pct(Samples s, int p) {
        List<Double> v = new ArrayList<>(s.values());
        Collections.sort(v);
        int rank = (int) Math.ceil(p / 100.0 * v.size());
        return v.get(Math.max(0, rank - 1));
    }

    private static void check(long branches, int scale) {
        if (branches != scale) {
            throw new IllegalStateException("pgbench_branches has " + branches + " rows, expected " + scale);
        }
    }

    /** utime + stime of this process, clock ticks ({@code /proc/self/stat} fields 14 and 15). */
    private static long cpuTicks() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/self/stat", e);
        }
    }

    /** VmRSS of this process, KiB. */
    private static long rssKb() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (l.startsWith("VmRSS:")) {
                    return Long.parseLong(l.replaceAll("[^0-9]", ""));
                }
            }
            return 0;
        } catch (IOException e) {
            return 0;
        }
    }

    /** Retries connect + {@link #PROBE} in {@code bench} until it succeeds (2 minutes at most). */
    private static long firstQuery(String uri) throws SQLException, InterruptedException {
        long deadline = System.nanoTime() + FIRST_QUERY_TIMEOUT.toNanos();
        while (true) {
            try {
                return BenchSql.queryLong(uri, "bench", PROBE);
            } catch (SQLException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(5);
            }
        }
    }
}
