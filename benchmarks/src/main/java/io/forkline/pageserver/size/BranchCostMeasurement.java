package io.forkline.pageserver.size;

import io.forkline.format.size.SizeText;
import io.forkline.bench.Args;
import io.forkline.bench.BenchDirectory;
import io.forkline.compute.postgres.BenchSql;
import io.forkline.compute.postgres.Pgbench;
import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.pageserver.retention.GcSettings;
import io.forkline.pageserver.retention.RetentionService;
import io.forkline.pageserver.retention.TimelineGcReport;
import io.forkline.pageserver.server.PageServer;
import io.forkline.pageserver.tenant.TenantService;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.key.Key;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;

import java.nio.file.Path;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a branch that changes 1 % of a ~1 GB database costs. An in-process {@link PageServer}
 * (background GC off), tenant {@code cost}; database {@code bench} on {@code main} loaded with
 * {@code pgbench -i -s SCALE}; main's endpoint is then stopped, so main does not move. Two branches of
 * main, each with its own endpoint, each running one {@code UPDATE pgbench_accounts SET abalance =
 * abalance + 1} over 1 % of the rows, no {@code CHECKPOINT}:
 *
 * <ul>
 *   <li>{@code scattered}: {@code WHERE aid % 100 = 0} (1 row in 100, spread over the table);</li>
 *   <li>{@code clustered}: {@code WHERE aid <= rows / 100} (the first 1 % of the rows).</li>
 * </ul>
 *
 * For each: the branch's {@code physical_size_bytes} (RocksDB's on-disk estimate of its own
 * versions), {@code stored_bytes} (exact, uncompressed), its versions and distinct keys, against
 * main's logical and physical sizes. Then, with {@code pitr_interval=0} and {@code gc_horizon=0},
 * one GC per branch plus a compaction of its key range: what the branch costs once its history is
 * not kept.
 *
 * <p>Usage: {@code benchmarks/run.sh cost [--scale 70] [--dir DIR]}.
 */
public final class BranchCostMeasurement {
    private static final String TENANT = "cost";
    private static final Duration LOAD_TIMEOUT = Duration.ofMinutes(30);
    private static final Duration INGEST_TIMEOUT = Duration.ofMinutes(10);

    private BranchCostMeasurement() {
    }

    /** One branch's own versions. */
    private record Own(long physical, long stored, long versions, long keys) {
    }

    /** What one variant's update did, before GC: rows, WAL bytes, seconds, the branch's logical size (bytes). */
    private record Update(long rows, long walBytes, double seconds, long logical) {
    }

    /** One variant's numbers. */
    private record Variant(String name, String where, long rowsUpdated, long walBytes, double seconds, Own before,
                           Own afterGc, long logical) {
    }

    public static void main(String[] argv) throws Exception {
        Args args = new Args(argv);
        int scale = args.intValue("scale", 70);
        Path dir = BenchDirectory.fresh(args.value("dir", null), "cost");
        System.setProperty(GcSettings.INTERVAL_PROPERTY, "0");
        System.out.printf("BranchCostMeasurement: pgbench -i -s %d, data in %s%n", scale, dir);
        PostgresInstallation pg = PostgresInstallation.detect();
        try (PageServer server = PageServer.start(dir.resolve("server"), 0, Clock.systemUTC())) {
            TenantService tenants = server.tenants();
            PageStore store = server.store();
            SizeService sizes = tenants.sizes();
            tenants.createTenant(TENANT);
            String main = tenants.startEndpoint(TENANT, "main");
            TimelineId mainTl = TimelineId.parse(tenants.branch(TENANT, "main").timelineId());
            BenchSql.exec(main, "postgres", "CREATE DATABASE bench");
            long loadNanos = Pgbench.initialize(pg, BenchSql.withDatabase(main, "bench"), scale, LOAD_TIMEOUT);
            long dbSize = BenchSql.queryLong(main, "bench", "SELECT pg_database_size('bench')");
            long accounts = BenchSql.queryLong(main, "bench", "SELECT count(*) FROM pgbench_accounts");
            long accountPages = BenchSql.queryLong(main, "bench", "SELECT pg_relation_size('pgbench_accounts') / 8192");
            awaitIngested(main, store, mainTl);
            tenants.stopEndpoint(TENANT, "main");
            store.compactTimeline(mainTl); // settle main's on-disk size (memtables to files)
            long mainLogical = sizes.logicalSize(mainTl);
            long mainPhysical = sizes.physicalSize(mainTl);
            long mainStored = sizes.storedBytes(mainTl);
            System.out.printf("loaded in %.1f s: bench %.1f MB, pgbench_accounts %d rows, %d pages%n",
                    loadNanos / 1e9, dbSize / 1e6, accounts, accountPages);

            Map<String, String> where = new LinkedHashMap<>();
            where.put("scattered", "aid % 100 = 0");
            where.put("clustered", "aid <= " + accounts / 100);
            Map<String, Update> updates = new LinkedHashMap<>();
            Map<String, Own> before = new LinkedHashMap<>();
            for (Map.Entry<String, String> w : where.entrySet()) {
                String ref = w.getKey();
                tenants.createBranch(TENANT, ref, "main", null, null);
                String uri = tenants.startEndpoint(TENANT, ref);
                TimelineId tl = TimelineId.parse(tenants.branch(TENANT, ref).timelineId());
                long rows;
                long walStart;
                long walEnd;
                long t0 = System.nanoTime();
                try (Connection c = BenchSql.connect(uri, "bench")) {
                    walStart = BenchSql.currentWalLsn(c);
                    rows = c.createStatement().executeUpdate(
                            "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE " + w.getValue());
                    walEnd = BenchSql.currentWalLsn(c);
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                awaitIngested(uri, store, tl);
                tenants.stopEndpoint(TENANT, ref);
                store.compactTimeline(tl);
                before.put(ref, own(store, tl));
                updates.put(ref, new Update(rows, walEnd - walStart, seconds, sizes.logicalSize(tl)));
                System.out.printf("%s: %d rows updated in %.1f s, %.1f MB of WAL%n", ref, rows, seconds,
                        (walEnd - walStart) / 1e6);
            }

            RetentionService retention = server.retention();
            retention.configure(TENANT, Map.of("pitr_interval", "0", "gc_horizon", "0"));
            List<Variant> variants = new ArrayList<>();
            for (Map.Entry<String, String> w : where.entrySet()) {
                String ref = w.getKey();
                TimelineId tl = TimelineId.parse(tenants.branch(TENANT, ref).timelineId());
                List<TimelineGcReport> gc = retention.collect(TENANT, ref);
                store.compactTimeline(tl);
                Update u = updates.get(ref);
                variants.add(new Variant(ref, w.getValue(), u.rows(), u.walBytes(), u.seconds(), before.get(ref),
                        own(store, tl), u.logical()));
                System.out.printf("%s: GC removed %d versions (%.1f MB)%n", ref, gc.get(0).versionsRemoved(),
                        gc.get(0).bytesRemoved() / 1e6);
            }

            System.out.println("RESULT cost");
            System.out.printf("main: logical %s (%d B), physical %s (%d B), stored %s; pg_database_size(bench) %.1f MB%n",
                    SizeText.human(mainLogical), mainLogical, SizeText.human(mainPhysical), mainPhysical,
                    SizeText.human(mainStored), dbSize / 1e6);
            System.out.println("| branch | rows updated | WAL | keys changed | versions | physical | stored"
                    + " | physical / main logical | physical / main physical | after GC: physical | after GC: stored"
                    + " | after GC: physical / main logical |");
            for (Variant v : variants) {
                System.out.printf("| %s (`%s`) | %d | %.1f MB | %d | %d | %s | %s | %.2f %% | %.2f %% | %s | %s | %.2f %% |%n",
                        v.name(), v.where(), v.rowsUpdated(), v.walBytes() / 1e6, v.before().keys(), v.before().versions(),
                        SizeText.human(v.before().physical()), SizeText.human(v.before().stored()),
                        100.0 * v.before().physical() / mainLogical, 100.0 * v.before().physical() / mainPhysical,
                        SizeText.human(v.afterGc().physical()), SizeText.human(v.afterGc().stored()),
                        100.0 * v.afterGc().physical() / mainLogical);
            }
            for (Variant v : variants) {
                System.out.printf("%s: %d keys changed = %.1f %% of main's %d relation pages; %.2f versions per changed key;"
                                + " update took %.1f s; branch logical %s%n", v.name(), v.before().keys(),
                        100.0 * v.before().keys() / (mainLogical / 8192), mainLogical / 8192,
                        (double) v.before().versions() / Math.max(1, v.before().keys()), v.seconds(),
                        SizeText.human(v.logical()));
            }
        } finally {
            BenchDirectory.delete(dir);
        }
    }

    /**
     * Waits until {@code tl}'s last record LSN covers the compute's {@code pg_current_wal_insert_lsn()}
     * ({@link Lsn#covers}: reached, or only a WAL page header short of it).
     *
     * @throws IllegalStateException when ingest does not get there within 10 minutes
     */
    private static void awaitIngested(String uri, PageStore store, TimelineId tl) throws Exception {
        long lsn;
        try (Connection c = BenchSql.connect(uri, "postgres")) {
            var rs = c.createStatement().executeQuery("SELECT pg_current_wal_insert_lsn()::text");
            rs.next();
            lsn = Lsn.parse(rs.getString(1));
        }
        long deadline = System.nanoTime() + INGEST_TIMEOUT.toNanos();
        while (!Lsn.covers(store.lastRecordLsn(tl), lsn)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timeline " + tl + " did not ingest up to " + Lsn.format(lsn) + " within "
                        + INGEST_TIMEOUT + " (at " + Lsn.format(store.lastRecordLsn(tl)) + ")");
            }
            Thread.sleep(50);
        }
    }

    private static Own own(PageStore store, TimelineId tl) {
        long[] versions = new long[1];
        Set<Key> keys = new HashSet<>();
        store.forEachVersion(tl, null, (key, lsn, len) -> {
            versions[0]++;
            keys.add(key);
            return true;
        });
        return new Own(store.physicalSize(tl), store.storedBytes(tl), versions[0], keys.size());
    }
}
