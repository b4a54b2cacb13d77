package io.forkline.wal;

import io.forkline.bench.Args;
import io.forkline.bench.BenchDirectory;
import io.forkline.bench.Samples;
import io.forkline.bench.OsThreadCpu;
import io.forkline.compute.postgres.BenchSql;
import io.forkline.compute.postgres.Pgbench;
import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.compute.postgres.StockCluster;
import io.forkline.pageserver.server.PageServer;
import io.forkline.pageserver.tenant.TenantService;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;

/**
 * pgbench TPC-B side by side: a Forkline compute (main endpoint of an in-process {@code PageServer},
 * commits waiting for Forkline's fsync'd ingest, {@code wal_consistency_checking} as
 * {@code ComputeSettings} sets it: native redo), a second Forkline tenant whose compute runs with
 * {@code wal_consistency_checking=all} (the image-only setup before native redo; ingest stores the
 * images), and stock PostgreSQL 15 with its default WAL settings and {@code fsync=on}. Both are loaded with {@code pgbench -i -s SCALE}; then rounds alternate between
 * the two, each run preceded by a {@code CHECKPOINT}: TPS and WAL bytes per transaction
 * ({@code pg_current_wal_lsn()} after − before, divided by the transactions pgbench processed).
 *
 * <p>Usage: {@code java --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar
 * io.forkline.wal.TpcbComparison [--scale 10] [--clients 4] [--seconds 20] [--runs 2] [--images 1]
 * [--storage lazy|full] [--threads 8] [--jfr FILE] [--second NAME=VALUE] [--io 1] [--settle 1]}: {@code --images 0} leaves out the images side;
 * {@code --second NAME=VALUE} makes the second Forkline side a tenant started with that system
 * property instead of {@code wal_consistency_checking=all} (set until its first {@code pgbench -i}
 * is ingested, so its WAL receiver's writer is made with it: e.g. {@code forkline.writer.readCache=false});
 * {@code --storage} sets the computes' data directories ({@code forkline.compute.storage});
 * {@code --threads N} prints the N server threads with the most CPU per transaction in each Forkline
 * round (OS thread CPU time, Java and native threads, summed by name with digits dropped); {@code --jfr FILE} records a JFR
 * profile (CPU-time and execution samples, allocations) during the Forkline rounds only;
 * {@code --io 1} turns {@code track_io_timing} on in every cluster (ALTER SYSTEM) and prints, per run,
 * blocks read and their mean read time, buffer hits, and buffers written by backends, the background
 * writer and the checkpointer per transaction ({@code pg_stat_database}, {@code pg_stat_bgwriter});
 * {@code --settle 1} waits after each Forkline run (and its catch-up) until the store has no flush or
 * compaction running or due, and prints that wait and its server CPU per transaction apart;
 * {@code --delete 1} ends with the quickstart's accident on every side, after a {@code CHECKPOINT}:
 * {@code DELETE FROM pgbench_accounts WHERE aid % 2 = 0} (500,000 rows at scale 10), timed with the
 * store's catch-up counted on the Forkline sides, with its WAL bytes (with {@code --jfr FILE}, the
 * Forkline side's DELETE and catch-up are recorded into {@code FILE-delete.jfr}).
 */
public final class TpcbComparison {
    private static final Duration TIMEOUT = Duration.ofMinutes(30);
    /** {@code --io 1}: turn {@code track_io_timing} on and print each run's buffer reads and writes. */
    private static boolean io;
    /** {@code --settle 1}: the store whose deferred flushes and compactions each Forkline run waits for, else null. */
    private static io.forkline.storage.store.PageStore settle;

    private TpcbComparison() {
    }

    public static void main(String[] argv) throws Exception {
        Args args = new Args(argv);
        int scale = args.intValue("scale", 10);
        int clients = args.intValue("clients", 4);
        int seconds = args.intValue("seconds", 20);
        int runs = args.intValue("runs", 2);
        boolean withImages = args.intValue("images", 1) != 0;
        int topThreads = args.intValue("threads", 8);
        String jfr = args.value("jfr", null);
        String storage = args.value("storage", null);
        String secondProperty = args.value("second", null);
        io = args.intValue("io", 0) != 0;
        boolean delete = args.intValue("delete", 0) != 0;
        if (secondProperty != null && secondProperty.indexOf('=') < 1) {
            throw new IllegalArgumentException("--second '" + secondProperty
                    + "': expected NAME=VALUE, a system property for the second Forkline side");
        }
        String second = secondProperty == null ? "forkline images (all)" : "forkline " + secondProperty;
        if (storage != null) {
            System.setProperty("forkline.compute.storage", storage);
        }
        Path dir = BenchDirectory.fresh(args.value("dir", null), "tpcb");
        PostgresInstallation pg = PostgresInstallation.detect();
        System.out.printf("TpcbComparison: scale %d, %d clients, %d s, %d alternating rounds, data in %s%n", scale,
                clients, seconds, runs, dir);
        Samples fTps = new Samples("forkline", "TPS");
        Samples sTps = new Samples("stock fsync=on", "TPS");
        Samples fWal = new Samples("forkline", "WAL B/txn");
        Samples sWal = new Samples("stock fsync=on", "WAL B/txn");
        Samples iTps = new Samples(second, "TPS");
        Samples iWal = new Samples(second, "WAL B/txn");
        Samples yTps = new Samples("stock + sync standby", "TPS");
        Samples yWal = new Samples("stock + sync standby", "WAL B/txn");
        Samples fCpu = new Samples("forkline: server CPU per transaction", "us");
        Samples fClient = new Samples("forkline: pgbench's own TPS (the store's catch-up not counted)", "TPS");
        Samples iClient = new Samples(second + ": pgbench's own TPS (catch-up not counted)", "TPS");
        Samples iCpu = new Samples(second + ": server CPU per transaction", "us");
        PageServer server = null;
        StockCluster stock = null;
        StockCluster syncPrimary = null;
        StockCluster syncStandby = null;
        try {
            server = PageServer.start(dir.resolve("forkline"), 0, Clock.systemUTC());
            TenantService tenants = server.tenants();
            if (args.intValue("settle", 0) != 0) {
                settle = server.store();
            }
            tenants.createTenant("tpcb");
            String main = tenants.startEndpoint("tpcb", "main");
            String images = null;
            if (withImages) {
                tenants.createTenant("images");
                String name = secondProperty == null ? "forkline.compute.walConsistencyChecking"
                        : secondProperty.substring(0, secondProperty.indexOf('='));
                System.setProperty(name, secondProperty == null ? "all" : secondProperty.substring(name.length() + 1));
                try {
                    images = tenants.startEndpoint("images", "main");
                    if (secondProperty != null) {
                        Pgbench.initialize(pg, images, 1, TIMEOUT);
                    }
                } finally {
                    System.clearProperty(name);
                }
                System.out.println("second Forkline side (\"images\" below): " + second);
            }
            stock = StockCluster.start(pg, dir.resolve("stock"), port -> {
                Map<String, String> s = StockCluster.defaultWalSettings(port);
                s.put("fsync", "on");
                return s;
            });
            // Warm both Forkline sides up (JIT of decode, redo and ingest; compute caches) before measuring.
            Pgbench.initialize(pg, main, 1, TIMEOUT);
            if (withImages) {
                Pgbench.initialize(pg, images, 1, TIMEOUT);
            }
            Pgbench.initialize(pg, stock.uri(), 1, TIMEOUT);
            syncPrimary = StockCluster.start(pg, dir.resolve("sync-primary"), port -> {
                Map<String, String> s = StockCluster.defaultWalSettings(port);
                s.put("fsync", "on");
                return s;
            });
            syncStandby = StockCluster.startSynchronousStandby(pg, dir.resolve("sync-standby"), syncPrimary,
                    "tpcb_standby");
            Pgbench.initialize(pg, syncPrimary.uri(), 1, TIMEOUT);
            // pgbench -i on a Forkline side ends when the store holds all of it (its catch-up counted)
            long initLsn0 = walLsn(main);
            double fInit = timed(() -> Pgbench.initialize(pg, main, scale, TIMEOUT), catchUp(tenants, "tpcb"));
            long initWal = walLsn(main) - initLsn0;
            System.out.printf("pgbench -i -s %d on forkline: %.1f MB of WAL ingested in %.2f s (pgbench and the store's"
                    + " catch-up): %.1f MB/s%n", scale, initWal / 1e6, fInit, initWal / 1e6 / fInit);
            String secondUri = images;
            double iInit = withImages ? timed(() -> Pgbench.initialize(pg, secondUri, scale, TIMEOUT),
                    catchUp(tenants, "images")) : Double.NaN;
            double sInit = Pgbench.initialize(pg, stock.uri(), scale, TIMEOUT) / 1e9;
            double yInit = Pgbench.initialize(pg, syncPrimary.uri(), scale, TIMEOUT) / 1e9;
            System.out.printf("pgbench -i -s %d: forkline %.2f s, forkline images %.2f s, stock %.2f s, stock + sync"
                    + " standby %.2f s; ratio forkline/stock %s, images/stock %s, forkline/(stock + sync standby) %s%n",
                    scale, fInit, iInit, sInit, yInit, Samples.fmt(fInit / sInit), Samples.fmt(iInit / sInit),
                    Samples.fmt(fInit / yInit));
            for (int round = 1; round <= runs; round++) {
                OsThreadCpu threads = new OsThreadCpu();
                jdk.jfr.Recording rec = jfr == null ? null : startJfr();
                double[] f = run(pg, main, clients, seconds, catchUp(tenants, "tpcb"));
                if (rec != null) {
                    rec.stop();
                    Path file = Path.of(jfr.replace(".jfr", "") + "-r" + round + ".jfr");
                    rec.dump(file);
                    rec.close();
                    System.out.printf("round %d: JFR of the forkline run in %s%n", round, file);
                }
                printThreads(threads, round, f[3], topThreads);
                double[] im = withImages ? run(pg, images, clients, seconds, catchUp(tenants, "images"))
                        : new double[] {Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN};
                System.out.printf("round %d: the stores' catch-up after pgbench (counted in TPS): forkline %.2f s, images"
                        + " %.2f s; pgbench's own TPS (catch-up not counted): forkline %.1f, images %.1f%n", round, f[4],
                        im[4], f[5], im[5]);
                double[] s = run(pg, stock.uri(), clients, seconds);
                double[] y = run(pg, syncPrimary.uri(), clients, seconds);
                yTps.add(y[0]);
                yWal.add(y[1]);
                iTps.add(im[0]);
                iWal.add(im[1]);
                fTps.add(f[0]);
                fWal.add(f[1]);
                sTps.add(s[0]);
                sWal.add(s[1]);
                System.out.printf("round %d: forkline %.1f TPS %.0f B/txn | images %.1f TPS %.0f B/txn | stock %.1f TPS"
                        + " %.0f B/txn | forkline/stock TPS %s WAL %s | images/stock TPS %s WAL %s%n", round, f[0], f[1],
                        im[0], im[1], s[0], s[1], Samples.fmt(f[0] / s[0]), Samples.fmt(f[1] / s[1]),
                        Samples.fmt(im[0] / s[0]), Samples.fmt(im[1] / s[1]));
                System.out.printf("round %d: stock + sync standby %.1f TPS %.0f B/txn | forkline/(stock + sync standby)"
                        + " TPS %s%n", round, y[0], y[1], Samples.fmt(f[0] / y[0]));
                System.out.printf("round %d: Forkline server CPU per transaction: forkline %.0f us, images %.0f us"
                        + " (the JVM during a stock run: %.0f us)%n", round, f[2], im[2], s[2]);
                System.out.printf("round %d: pgbench's own TPS / stock (catch-up not counted): forkline %s, images %s%n",
                        round, Samples.fmt(f[5] / s[0]), Samples.fmt(im[5] / s[0]));
                fCpu.add(f[2]);
                iCpu.add(im[2]);
                fClient.add(f[5]);
                iClient.add(im[5]);
            }
            if (delete) {
                jdk.jfr.Recording rec = jfr == null ? null : startJfr();
                double[] fd = timedDelete(main, catchUp(tenants, "tpcb"));
                if (rec != null) {
                    rec.stop();
                    Path file = Path.of(jfr.replace(".jfr", "") + "-delete.jfr");
                    rec.dump(file);
                    rec.close();
                    System.out.printf("JFR of the forkline DELETE and its catch-up in %s%n", file);
                }
                double[] id = withImages ? timedDelete(images, catchUp(tenants, "images")) : new double[] {Double.NaN, 0};
                double[] sd = timedDelete(stock.uri(), null);
                double[] yd = timedDelete(syncPrimary.uri(), null);
                System.out.printf("the quickstart's DELETE (every second pgbench_accounts row), the store's catch-up counted:"
                        + " forkline %.2f s %.1f MB of WAL | images %.2f s %.1f MB | stock %.2f s %.1f MB | stock + sync standby"
                        + " %.2f s %.1f MB | ratio forkline/stock %s, images/stock %s, forkline/(stock + sync standby) %s%n",
                        fd[0], fd[1] / 1e6, id[0], id[1] / 1e6, sd[0], sd[1] / 1e6, yd[0], yd[1] / 1e6,
                        Samples.fmt(fd[0] / sd[0]), Samples.fmt(id[0] / sd[0]), Samples.fmt(fd[0] / yd[0]));
            }
        } finally {
            try {
                if (server != null) {
                    server.close();
                }
            } finally {
                for (StockCluster c : new StockCluster[] {stock, syncStandby, syncPrimary}) {
                    if (c != null) {
                        c.close();
                    }
                }
            }
        }
        System.out.println();
        System.out.printf("RESULT TpcbComparison (scale %d, %d clients, %d s, %d rounds)%n", scale, clients, seconds, runs);
        System.out.println(fTps);
        System.out.println(iTps);
        System.out.println(sTps);
        System.out.println(fWal);
        System.out.println(iWal);
        System.out.println(sWal);
        System.out.println(yTps);
        System.out.println(yWal);
        System.out.println(fCpu);
        System.out.println(iCpu);
        System.out.println(fClient);
        System.out.println(iClient);
        System.out.printf("ratio TPS images / stock = %s%n", Samples.fmt(iTps.median() / sTps.median()));
        System.out.printf("ratio WAL/txn images / stock = %s%n", Samples.fmt(iWal.median() / sWal.median()));
        System.out.printf("ratio TPS forkline / stock = %s%n", Samples.fmt(fTps.median() / sTps.median()));
        System.out.printf("ratio WAL/txn forkline / stock = %s%n", Samples.fmt(fWal.median() / sWal.median()));
        System.out.printf("ratio TPS forkline / (stock + sync standby) = %s%n",
                Samples.fmt(fTps.median() / yTps.median()));
        System.out.printf("ratio pgbench's own TPS (catch-up not counted) forkline / stock = %s, images / stock = %s%n",
                Samples.fmt(fClient.median() / sTps.median()), Samples.fmt(iClient.median() / sTps.median()));
        BenchDirectory.delete(dir);
    }

    private static jdk.jfr.Recording startJfr() throws Exception {
        jdk.jfr.Recording rec = new jdk.jfr.Recording(jdk.jfr.Configuration.getConfiguration("profile"));
        rec.enable("jdk.CPUTimeSample").with("throttle", "1ms");
        rec.start();
        return rec;
    }

    /** Prints the {@code top} thread-name groups (digits as '#') by CPU microseconds per transaction since {@code since}. */
    private static void printThreads(OsThreadCpu since, int round, double txns, int top) {
        if (top <= 0) {
            return;
        }
        Map<String, Double> byName = new java.util.TreeMap<>();
        since.forEachSince((name, d) -> byName.merge(name.replaceAll("[0-9]+", "#"), d / 1e3 / txns, Double::sum));
        double total = byName.values().stream().mapToDouble(Double::doubleValue).sum();
        StringBuilder sb = new StringBuilder();
        byName.entrySet().stream().sorted((a, b) -> Double.compare(b.getValue(), a.getValue())).limit(top)
                .forEach(e -> sb.append(String.format(" | %s %.0f", e.getKey(), e.getValue())));
        System.out.printf("round %d: this process's threads' CPU per transaction %.0f us:%s%n", round, total, sb);
    }

    /**
     * CHECKPOINT, then pgbench: {TPS, WAL bytes per transaction, CPU microseconds of this JVM per
     * transaction}. This JVM runs the Forkline server (WAL receiver, decoding, redo, ingest into the
     * store), so for a Forkline side the third value is what Forkline itself costs per transaction
     * (for a stock side it is this JVM's idle noise).
     */
    private static double[] run(PostgresInstallation pg, String uri, int clients, int seconds) throws Exception {
        return run(pg, uri, clients, seconds, null);
    }

    /**
     * As {@link #run(PostgresInstallation, String, int, int)}; for a Forkline side {@code catchUp}
     * waits until the store holds every commit the compute acknowledged (its computes stream their
     * WAL asynchronously): the wait is added to pgbench's time and its CPU to the side's, so TPS is
     * what the store sustains, and the next side does not run beside a backlog. Also returns the
     * wait in seconds (index 4) and pgbench's own TPS, the wait not counted (index 5).
     */
    private static double[] run(PostgresInstallation pg, String uri, int clients, int seconds, Runnable catchUp)
            throws Exception {
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        try (Connection c = BenchSql.connect(uri, "postgres"); Statement st = c.createStatement()) {
            st.execute("CHECKPOINT");
            if (io) {
                st.execute("ALTER SYSTEM SET track_io_timing = on");
                st.execute("SELECT pg_reload_conf()");
            }
            double[] io0 = io ? ioCounters(st) : null;
            long[] machine0 = io ? machineTicks() : null;
            long before = BenchSql.currentWalLsn(c);
            long cpu0 = os.getProcessCpuTime();
            Pgbench.Run r = Pgbench.tpcb(pg, uri, clients, Math.min(clients, 2), seconds, TIMEOUT);
            long t0 = System.nanoTime();
            if (catchUp != null) {
                catchUp.run();
            }
            double wait = (System.nanoTime() - t0) / 1e9;
            long cpu1 = os.getProcessCpuTime();
            long after = BenchSql.currentWalLsn(c);
            double txns = Math.max(1, r.transactions());
            if (io) {
                long[] machine1 = machineTicks();
                long all = machine1[0] - machine0[0];
                long busy = all - (machine1[1] - machine0[1]);
                System.out.printf("  machine: %.0f %% of its %d cores busy during the run and catch-up (/proc/stat),"
                        + " %.0f us of machine CPU per transaction%n", all > 0 ? 100.0 * busy / all : 0,
                        Runtime.getRuntime().availableProcessors(), busy * 1e4 / txns);
                double[] io1 = ioCounters(st);
                double reads = io1[0] - io0[0];
                System.out.printf("  io %s: per transaction %.2f blocks read (%.0f us each, %.1f us/txn), %.2f hits;"
                        + " buffers written per transaction: backend %.3f, bgwriter %.3f, checkpointer %.3f%n",
                        uri.replaceAll("\\?.*", ""), reads / txns, reads > 0 ? (io1[2] - io0[2]) * 1e3 / reads : 0,
                        (io1[2] - io0[2]) * 1e3 / txns, (io1[1] - io0[1]) / txns, (io1[3] - io0[3]) / txns,
                        (io1[4] - io0[4]) / txns, (io1[5] - io0[5]) / txns);
            }
            if (catchUp != null && settle != null) {
                // RocksDB's flushes and compactions that this run's writes made due, charged to it apart
                long s0 = System.nanoTime();
                long c0 = os.getProcessCpuTime();
                long giveUp = s0 + Duration.ofMinutes(5).toNanos();
                while (settle.backgroundWorkPending() && System.nanoTime() < giveUp) {
                    Thread.sleep(100);
                }
                System.out.printf("  settle: the store's deferred flushes and compactions took %.1f s, %.0f us of server"
                        + " CPU per transaction (not in the numbers below)%n", (System.nanoTime() - s0) / 1e9,
                        (os.getProcessCpuTime() - c0) / 1e3 / txns);
            }
            double tps = r.tps() > 0 ? txns / (txns / r.tps() + wait) : r.tps();
            return new double[] {tps, (after - before) / txns, (cpu1 - cpu0) / 1e3 / txns, txns, wait, r.tps()};
        }
    }

    /**
     * {all ticks, idle + iowait ticks} of the machine's aggregate {@code cpu} line in {@code /proc/stat}
     * (clock ticks of 10 ms, summed over cores: proc(5)); zeros where there is no {@code /proc}.
     */
    private static long[] machineTicks() {
        try {
            String[] f = java.nio.file.Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long all = 0;
            for (int i = 1; i < f.length && i <= 8; i++) { // user nice system idle iowait irq softirq steal
                all += Long.parseLong(f[i]);
            }
            return new long[] {all, Long.parseLong(f[4]) + Long.parseLong(f[5])};
        } catch (java.io.IOException | RuntimeException e) {
            return new long[] {0, 0};
        }
    }

    /**
     * {blks_read, blks_hit, blk_read_time (ms), buffers_backend, buffers_clean, buffers_checkpoint}: the
     * current database's {@code pg_stat_database} row and {@code pg_stat_bgwriter} (PostgreSQL 15).
     */
    private static double[] ioCounters(Statement st) throws Exception {
        try (var rs = st.executeQuery("SELECT d.blks_read, d.blks_hit, d.blk_read_time, b.buffers_backend,"
                + " b.buffers_clean, b.buffers_checkpoint FROM pg_stat_database d, pg_stat_bgwriter b"
                + " WHERE d.datname = current_database()")) {
            rs.next();
            double[] v = new double[6];
            for (int i = 0; i < v.length; i++) {
                v[i] = rs.getDouble(i + 1);
            }
            return v;
        }
    }

    /** Seconds of {@code work} then {@code after}. */
    private static double timed(java.util.concurrent.Callable<?> work, Runnable after) throws Exception {
        long t0 = System.nanoTime();
        work.call();
        long t1 = System.nanoTime();
        after.run();
        long t2 = System.nanoTime();
        System.out.printf("  (pgbench %.2f s, then the store's catch-up %.2f s)%n", (t1 - t0) / 1e9, (t2 - t1) / 1e9);
        return (t2 - t0) / 1e9;
    }

    /**
     * CHECKPOINT, then the quickstart's {@code DELETE FROM pgbench_accounts WHERE aid % 2 = 0}:
     * {seconds (with {@code catchUp} when not null), WAL bytes}.
     */
    private static double[] timedDelete(String uri, Runnable catchUp) throws Exception {
        try (Connection c = BenchSql.connect(uri, "postgres"); Statement st = c.createStatement()) {
            st.execute("CHECKPOINT");
            long before = BenchSql.currentWalLsn(c);
            long t0 = System.nanoTime();
            int rows = st.executeUpdate("DELETE FROM pgbench_accounts WHERE aid % 2 = 0");
            long t1 = System.nanoTime();
            if (catchUp != null) {
                catchUp.run();
            }
            long t2 = System.nanoTime();
            long after = BenchSql.currentWalLsn(c);
            System.out.printf("  DELETE of %,d rows on %s: %.2f s, then the store's catch-up %.2f s%n", rows,
                    uri.replaceAll("\\?.*", ""), (t1 - t0) / 1e9, (t2 - t1) / 1e9);
            return new double[] {(t2 - t0) / 1e9, after - before};
        }
    }

    /** The cluster's {@code pg_current_wal_lsn()} at {@code uri}. */
    private static long walLsn(String uri) throws Exception {
        try (Connection c = BenchSql.connect(uri, "postgres")) {
            return BenchSql.currentWalLsn(c);
        }
    }

    /** Waits until the store holds everything the compute of {@code tenant}'s main branch acknowledged. */
    private static Runnable catchUp(TenantService tenants, String tenant) {
        return () -> {
            var e = tenants.endpoints().get(tenant, "main");
            tenants.endpoints().catchUp(tenant, "main", e.timeline());
        };
    }
}
