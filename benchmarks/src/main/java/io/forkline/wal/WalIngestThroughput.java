package io.forkline.wal;

import io.forkline.bench.Args;
import io.forkline.bench.BenchDirectory;
import io.forkline.bench.Samples;
import io.forkline.compute.postgres.BenchSql;
import io.forkline.compute.postgres.Pgbench;
import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.compute.postgres.StockCluster;
import io.forkline.pageserver.server.PageServer;
import io.forkline.pageserver.tenant.TenantService;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;

import java.nio.file.Path;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;

/**
 * WAL ingest throughput: {@code pgbench -i -s SCALE} on a Forkline {@code main} endpoint, side by side
 * with the same load on two stock PostgreSQL 15 clusters, alternating, {@code RUNS} rounds.
 *
 * <ul>
 *   <li><b>forkline</b>: WAL bytes = {@code pg_current_wal_lsn()} after − before pgbench; time =
 *       from the start of pgbench until the timeline's durable last record LSN
 *       ({@link PageStore#lastRecordLsn}) covers the after-LSN ({@link Lsn#covers}). The compute commits
 *       synchronously (each commit waits for Forkline's fsync'd ingest).</li>
 *   <li><b>stock-fpi</b>: a plain cluster with the compute's settings minus Forkline
 *       ({@code wal_consistency_checking=all}, {@code wal_compression=lz4}, {@code fsync=off}, no
 *       synchronous standby): what the WAL settings cost without ingest.</li>
 *   <li><b>stock-default</b>: the same with PostgreSQL's default WAL settings (no consistency
 *       checking, no WAL compression).</li>
 * </ul>
 *
 * <p>Prints seconds per load and WAL MB/s (MB = 10^6 bytes) per run, medians, and the ratios
 * forkline/peer of the medians. Every round reloads with {@code pgbench -i}, which drops the
 * tables first; each side keeps one server for the whole run.
 *
 * <p>Usage: {@code java --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar
 * io.forkline.wal.WalIngestThroughput [--scale 50] [--runs 3] [--dir benchmarks/target/bench]}.
 */
public final class WalIngestThroughput {
    private static final Duration LOAD_TIMEOUT = Duration.ofMinutes(30);
    private static final Duration INGEST_TIMEOUT = Duration.ofMinutes(5);

    private WalIngestThroughput() {
    }

    /** One load: WAL bytes generated and seconds until durable (Forkline) or until pgbench exits (stock). */
    record Load(long walBytes, double seconds, double pgbenchSeconds) {
        double walMegabytesPerSecond() {
            return walBytes / 1e6 / seconds;
        }
    }

    public static void main(String[] argv) throws Exception {
        Args args = new Args(argv);
        int scale = args.intValue("scale", 50);
        int runs = args.intValue("runs", 3);
        Path dir = BenchDirectory.fresh(args.value("dir", null), "wal-ingest");
        PostgresInstallation pg = PostgresInstallation.detect();
        System.out.printf("WalIngestThroughput: pgbench -i -s %d, %d alternating rounds, data in %s%n", scale, runs, dir);

        Samples fSec = new Samples("forkline", "s");
        Samples fpiSec = new Samples("stock-fpi", "s");
        Samples defSec = new Samples("stock-default", "s");
        Samples fMbs = new Samples("forkline", "MB/s WAL");
        Samples fpiMbs = new Samples("stock-fpi", "MB/s WAL");
        Samples defMbs = new Samples("stock-default", "MB/s WAL");
        long[] walBytes = new long[3];

        PageServer server = null;
        StockCluster fpi = null;
        StockCluster def = null;
        try {
            server = PageServer.start(dir.resolve("forkline"), 0, Clock.systemUTC());
            TenantService tenants = server.tenants();
            tenants.createTenant("ingest");
            String main = tenants.startEndpoint("ingest", "main");
            TimelineId mainTl = TimelineId.parse(tenants.branch("ingest", "main").timelineId());
            fpi = StockCluster.start(pg, dir.resolve("stock-fpi"), StockCluster::computeSettingsWithoutForkline);
            def = StockCluster.start(pg, dir.resolve("stock-default"), StockCluster::defaultWalSettings);

            for (int round = 1; round <= runs; round++) {
                Load f = loadForkline(pg, server.store(), mainTl, main, scale);
                report(round, "forkline", f);
                fSec.add(f.seconds());
                fMbs.add(f.walMegabytesPerSecond());
                walBytes[0] = f.walBytes();

                Load s1 = loadStock(pg, fpi.uri(), scale);
                report(round, "stock-fpi", s1);
                fpiSec.add(s1.seconds());
                fpiMbs.add(s1.walMegabytesPerSecond());
                walBytes[1] = s1.walBytes();

                Load s2 = loadStock(pg, def.uri(), scale);
                report(round, "stock-default", s2);
                defSec.add(s2.seconds());
                defMbs.add(s2.walMegabytesPerSecond());
                walBytes[2] = s2.walBytes();
                System.out.printf("round %d ratios time forkline/stock-fpi %s, forkline/stock-default %s%n", round,
                        Samples.fmt(f.seconds() / s1.seconds()), Samples.fmt(f.seconds() / s2.seconds()));
            }
        } finally {
            closeAll(server, fpi, def);
        }

        System.out.println();
        System.out.printf("RESULT WalIngestThroughput (pgbench -i -s %d, %d rounds)%n", scale, runs);
        System.out.println("| side | WAL per load (last round) | seconds (median) | WAL MB/s (median) |");
        System.out.println("|---|---|---|---|");
        row("forkline (sync ingest)", walBytes[0], fSec, fMbs);
        row("stock PG15, same WAL settings", walBytes[1], fpiSec, fpiMbs);
        row("stock PG15, default WAL settings", walBytes[2], defSec, defMbs);
        System.out.println(fSec);
        System.out.println(fpiSec);
        System.out.println(defSec);
        System.out.println(fMbs);
        System.out.println(fpiMbs);
        System.out.println(defMbs);
        System.out.printf("ratio time forkline / stock-fpi     = %s%n", Samples.fmt(fSec.median() / fpiSec.median()));
        System.out.printf("ratio time forkline / stock-default = %s%n", Samples.fmt(fSec.median() / defSec.median()));
        System.out.printf("ratio WAL MB/s forkline / stock-fpi = %s%n", Samples.fmt(fMbs.median() / fpiMbs.median()));
        BenchDirectory.delete(dir);
    }

    private static void row(String name, long walBytes, Samples sec, Samples mbs) {
        System.out.printf("| %s | %s MB | %s | %s |%n", name, Samples.fmt(walBytes / 1e6), Samples.fmt(sec.median()),
                Samples.fmt(mbs.median()));
    }

    private static void report(int round, String side, Load l) {
        System.out.printf("round %d %-13s WAL %9.1f MB  %8.2f s  (pgbench exited at %.2f s)  %7.2f MB/s%n", round, side,
                l.walBytes() / 1e6, l.seconds(), l.pgbenchSeconds(), l.walMegabytesPerSecond());
    }

    /**
     * Loads on the Forkline endpoint and waits until ingest has made the end LSN durable: polls
     * {@code store.lastRecordLsn(timeline)} (the endpoint's timeline, resolved once) every 2 ms.
     *
     * @throws IllegalStateException when ingest does not reach the end LSN within 5 minutes
     */
    static Load loadForkline(PostgresInstallation pg, PageStore store, TimelineId timeline, String mainUri, int scale)
            throws Exception {
        try (Connection c = BenchSql.connect(mainUri, "postgres")) {
            long before = BenchSql.currentWalLsn(c);
            long t0 = System.nanoTime();
            long pgbenchNanos = Pgbench.initialize(pg, mainUri, scale, LOAD_TIMEOUT);
            long after = BenchSql.currentWalLsn(c);
            long deadline = System.nanoTime() + INGEST_TIMEOUT.toNanos();
            long durable;
            while (!Lsn.covers(durable = store.lastRecordLsn(timeline), after)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("ingest reached only " + Lsn.format(durable) + " of " + Lsn.format(after)
                            + " within " + INGEST_TIMEOUT);
                }
                Thread.sleep(2);
            }
            long elapsed = System.nanoTime() - t0;
            return new Load(after - before, elapsed / 1e9, pgbenchNanos / 1e9);
        }
    }

    /** Loads on a stock cluster: seconds until pgbench exits. */
    static Load loadStock(PostgresInstallation pg, String uri, int scale) throws Exception {
        try (Connection c = BenchSql.connect(uri, "postgres")) {
            long before = BenchSql.currentWalLsn(c);
            long nanos = Pgbench.initialize(pg, uri, scale, LOAD_TIMEOUT);
            long after = BenchSql.currentWalLsn(c);
            return new Load(after - before, nanos / 1e9, nanos / 1e9);
        }
    }

    private static void closeAll(PageServer server, StockCluster a, StockCluster b) {
        try {
            if (server != null) {
                server.close();
            }
        } finally {
            try {
                if (a != null) {
                    a.close();
                }
            } finally {
                if (b != null) {
                    b.close();
                }
            }
        }
    }
}
