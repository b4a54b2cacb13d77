package io.forkline.pageserver.mirror;

import io.forkline.bench.Args;
import io.forkline.bench.BenchDirectory;
import io.forkline.bench.Samples;
import io.forkline.compute.postgres.BenchSql;
import io.forkline.compute.postgres.Pgbench;
import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.compute.postgres.StockCluster;
import io.forkline.pageserver.server.PageServer;
import io.forkline.pageserver.tenant.TenantService;
import io.forkline.storage.lsn.Lsn;

import java.nio.file.Path;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Physical import of a running primary, side by side with its peer ({@code benchmarks/run.sh import}):
 *
 * <ol>
 *   <li><b>Initial copy</b>: a stock PostgreSQL 15 primary (default WAL settings) loaded with
 *       {@code pgbench -i -s SCALE}, idle; per round, {@code pg_basebackup -X stream -c fast} of it to
 *       local disk (the peer), then {@code tenant import --from-primary} into an in-process Forkline
 *       server (pg_basebackup to a scratch directory + storing every page + WAL to the consistent
 *       point), then the tenant is deleted (its slot dropped). Ratio = Forkline / peer.</li>
 *   <li><b>Steady-state lag</b>: one mirror while {@code pgbench -c CLIENTS -T SECONDS} runs on the
 *       primary; the mirror's lag (bytes behind the primary's flush LSN, seconds) sampled every 500 ms,
 *       the primary's WAL rate, and how long the mirror takes to catch up after pgbench ends.</li>
 * </ol>
 * Arguments: {@code --scale 20 --rounds 2 --seconds 30 --clients 4 --dir PATH}.
 */
public final class ImportMeasurement {
    private ImportMeasurement() {
    }

    public static void main(String[] argv) throws Exception {
        Args args = new Args(argv);
        int scale = args.intValue("scale", 20);
        int rounds = args.intValue("rounds", 2);
        int seconds = args.intValue("seconds", 30);
        int clients = args.intValue("clients", 4);
        Path dir = BenchDirectory.fresh(args.value("dir", null), "import");
        PostgresInstallation pg = PostgresInstallation.detect();
        System.out.printf("ImportMeasurement: pgbench scale %d, %d rounds, lag under pgbench -c %d for %d s, data in %s%n",
                scale, rounds, clients, seconds, dir);
        List<String> result = new ArrayList<>();
        try (StockCluster primary = StockCluster.start(pg, dir.resolve("primary"), StockCluster::defaultWalSettings)) {
            String uri = primary.uri();
            long load = Pgbench.initialize(pg, uri, scale, Duration.ofMinutes(30));
            BenchSql.exec(uri, "postgres", "CHECKPOINT");
            long dbBytes = BenchSql.queryLong(uri, "postgres", "SELECT sum(pg_database_size(oid)) FROM pg_database");
            System.out.printf("primary loaded in %.1f s: %.1f MB in all databases%n", load / 1e9, dbBytes / 1e6);
            Samples peer = new Samples("pg_basebackup to local disk", "s");
            Samples ours = new Samples("tenant import --from-primary", "s");
            Samples ratio = new Samples("ratio import / pg_basebackup", "x");
            try (PageServer server = PageServer.start(dir.resolve("server"), 0, Clock.systemUTC())) {
                TenantService tenants = server.tenants();
                for (int r = 1; r <= rounds; r++) {
                    Path bb = dir.resolve("basebackup-" + r);
                    pg.prepareDirectory(dir);
                    long t0 = System.nanoTime();
                    pg.run(Duration.ofHours(2), "pg_basebackup", "-D", bb.toString(), "-X", "stream", "-c", "fast",
                            "--no-sync", "-d", "host=127.0.0.1 port=" + port(uri) + " user=postgres");
                    long t1 = System.nanoTime();
                    long bbBytes = BenchDirectory.sizeBytes(bb);
                    BenchDirectory.delete(bb);
                    long t2 = System.nanoTime();
                    tenants.importFromPrimary("imp" + r, uri);
                    long t3 = System.nanoTime();
                    tenants.deleteTenant("imp" + r, true);
                    peer.add((t1 - t0) / 1e9);
                    ours.add((t3 - t2) / 1e9);
                    ratio.add((double) (t3 - t2) / (t1 - t0));
                    System.out.printf("round %d: pg_basebackup %.2f s (%.1f MB, %.1f MB/s); import %.2f s (%.1f MB/s); ratio %.2f%n",
                            r, (t1 - t0) / 1e9, bbBytes / 1e6, bbBytes / 1e6 / ((t1 - t0) / 1e9), (t3 - t2) / 1e9,
                            bbBytes / 1e6 / ((t3 - t2) / 1e9), (double) (t3 - t2) / (t1 - t0));
                }
                result.add(String.format(Locale.ROOT, "| initial copy, scale %d (%.0f MB) | pg_basebackup p50 %.2f s | import p50 %.2f s | ratio p50 %.2f (runs %s) |",
                        scale, dbBytes / 1e6, peer.median(), ours.median(), ratio.median(), ratio.values()));

                // steady-state lag under pgbench
                tenants.importFromPrimary("lag", uri);
                MirrorService mirrors = tenants.mirrors();
                List<Long> lagBytes = Collections.synchronizedList(new ArrayList<>());
                List<Double> lagSeconds = Collections.synchronizedList(new ArrayList<>());
                AtomicBoolean stop = new AtomicBoolean();
                Thread sampler = new Thread(() -> {
                    while (!stop.get()) {
                        MirrorStatus s = mirrors.status("lag");
                        if (s.lagBytes() != null) {
                            lagBytes.add(s.lagBytes());
                            lagSeconds.add(s.lagSeconds());
                        }
                        try {
                            Thread.sleep(500);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }, "lag-sampler");
                long lsn0;
                try (Connection c = BenchSql.connect(uri, "postgres")) {
                    lsn0 = BenchSql.currentWalLsn(c);
                }
                Thread.sleep(1500); // a first poll of the primary
                sampler.start();
                Pgbench.Run run = Pgbench.tpcb(pg, uri, clients, 2, seconds, Duration.ofSeconds(seconds + 120));
                long lsn1;
                try (Connection c = BenchSql.connect(uri, "postgres")) {
                    lsn1 = BenchSql.currentWalLsn(c);
                }
                long t4 = System.nanoTime();
                while (true) {
                    MirrorStatus s = mirrors.status("lag");
                    if (Long.compareUnsigned(Lsn.parse(s.lastRecordLsn()), lsn1) >= 0 || "failed".equals(s.state())) {
                        break;
                    }
                    Thread.sleep(50);
                }
                long t5 = System.nanoTime();
                stop.set(true);
                sampler.join();
                MirrorStatus end = mirrors.status("lag");
                if ("failed".equals(end.state())) {
                    throw new IllegalStateException("mirror failed: " + end.error());
                }
                double walMbS = (lsn1 - lsn0) / 1e6 / seconds;
                List<Long> b = new ArrayList<>(lagBytes);
                List<Double> sec = new ArrayList<>(lagSeconds);
                Collections.sort(b);
                Collections.sort(sec);
                String line = String.format(Locale.ROOT, "| lag under pgbench -c %d, %d s (%.0f TPS, primary WAL %.2f MB/s) | lag bytes p50 %s, p95 %s, max %s | lag seconds p50 %.2f, p95 %.2f, max %.2f | caught up %.2f s after pgbench ended (%d samples) |",
                        clients, seconds, run.tps(), walMbS, pct(b, 50), pct(b, 95), b.isEmpty() ? 0 : b.get(b.size() - 1),
                        pctD(sec, 50), pctD(sec, 95), sec.isEmpty() ? 0 : sec.get(sec.size() - 1), (t5 - t4) / 1e9, b.size());
                System.out.println(line);
                result.add(line);
                tenants.deleteTenant("lag", true);
            }
        }
        System.out.println("RESULT");
        result.forEach(System.out::println);
        BenchDirectory.delete(dir);
    }

    private static int port(String uri) {
        return Integer.parseInt(uri.substring(uri.lastIndexOf(':') + 1, uri.lastIndexOf('/')));
    }

    private static long pct(List<Long> sorted, int p) {
        return sorted.isEmpty() ? 0 : sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }

    private static double pctD(List<Double> sorted, int p) {
        return sorted.isEmpty() ? 0 : sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }
}
