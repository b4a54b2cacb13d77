package io.forkline.pageserver.retention;

import io.forkline.bench.Args;
import io.forkline.bench.BenchDirectory;
import io.forkline.compute.postgres.BenchSql;
import io.forkline.pageserver.server.PageServer;
import io.forkline.pageserver.tenant.TenantService;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.key.Key;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;

import java.nio.file.Path;
import java.time.Clock;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What GC saves and how fast it runs. An in-process {@link PageServer} (background GC off), tenant
 * {@code gc}, its {@code main} endpoint; table {@code t (id int PRIMARY KEY, v text, n int)} with
 * {@code ROWS} rows; then {@code UPDATES} times {@code UPDATE t SET v = md5(v), n = n + 1} (each one
 * transaction). The <em>changed pages</em> are the keys of main's timeline that got a version during
 * the updates (heap, index, VM and FSM pages, relation sizes, CLOG). Then {@code pitr_interval=0},
 * {@code gc_horizon=0} and one on-demand GC ({@link RetentionService#collect}).
 *
 * <p>Prints: versions and stored bytes (key 42 B + value, before RocksDB compression) of the changed
 * pages before and after GC, bytes per changed page, and GC throughput (versions removed per
 * second and MB removed per second, from the run's wall time; no pause between batches).
 *
 * <p>Usage: {@code benchmarks/run.sh gc [--rows 1000] [--updates 20] [--dir DIR]}.
 */
public final class GcMeasurement {
    private static final String TENANT = "gc";

    private GcMeasurement() {
    }

    /** Versions and bytes of a set of keys on one timeline. */
    private record Usage(long keys, long versions, long bytes) {
    }

    public static void main(String[] argv) throws Exception {
        Args args = new Args(argv);
        int rows = args.intValue("rows", 1000);
        int updates = args.intValue("updates", 20);
        Path dir = BenchDirectory.fresh(args.value("dir", null), "gc");
        System.setProperty(GcSettings.INTERVAL_PROPERTY, "0");
        System.out.printf("GcMeasurement: %d rows updated %d times, data in %s%n", rows, updates, dir);
        try (PageServer server = PageServer.start(dir.resolve("server"), 0, Clock.systemUTC())) {
            TenantService tenants = server.tenants();
            PageStore store = server.store();
            tenants.createTenant(TENANT);
            String main = tenants.startEndpoint(TENANT, "main");
            TimelineId tl = TimelineId.parse(tenants.branch(TENANT, "main").timelineId());
            BenchSql.exec(main, "postgres", "CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL, n int NOT NULL)",
                    "INSERT INTO t SELECT g, md5(g::text), 0 FROM generate_series(1, " + rows + ") g", "CHECKPOINT");
            long beforeUpdates = store.lastRecordLsn(tl);
            long t0 = System.nanoTime();
            for (int i = 0; i < updates; i++) {
                BenchSql.exec(main, "postgres", "UPDATE t SET v = md5(v), n = n + 1");
            }
            System.out.printf("updates: %.1f s%n", (System.nanoTime() - t0) / 1e9);
            long heapPages = BenchSql.queryLong(main, "postgres", "SELECT pg_relation_size('t') / 8192");
            long indexPages = BenchSql.queryLong(main, "postgres", "SELECT pg_relation_size('t_pkey') / 8192");
            tenants.stopEndpoint(TENANT, "main");

            Set<Key> changed = changedKeys(store, tl, beforeUpdates);
            Usage before = usage(store, tl, changed);
            Usage totalBefore = usage(store, tl, null);

            RetentionService retention = server.retention();
            retention.configure(TENANT, Map.of("pitr_interval", "0", "gc_horizon", "0"));
            List<TimelineGcReport> reports = retention.collect(TENANT, "main");
            TimelineGcReport r = reports.get(0);

            Usage after = usage(store, tl, changed);
            Usage totalAfter = usage(store, tl, null);
            double seconds = Math.max(r.durationMillis(), 1) / 1000.0;

            System.out.println("RESULT gc");
            System.out.printf("table t: %d rows, %d heap pages, %d index pages; %d updates of every row%n",
                    rows, heapPages, indexPages, updates);
            System.out.printf("changed pages (keys with a version written by the updates): %d%n", changed.size());
            System.out.printf("before GC: %d versions, %.1f MB, %.0f bytes per changed page (%.1f versions each)%n",
                    before.versions(), before.bytes() / 1e6, (double) before.bytes() / changed.size(),
                    (double) before.versions() / changed.size());
            System.out.printf("after GC:  %d versions, %.1f MB, %.0f bytes per changed page (%.1f versions each)%n",
                    after.versions(), after.bytes() / 1e6, (double) after.bytes() / changed.size(),
                    (double) after.versions() / changed.size());
            System.out.printf("whole timeline: %.1f MB -> %.1f MB (%d -> %d versions)%n", totalBefore.bytes() / 1e6,
                    totalAfter.bytes() / 1e6, totalBefore.versions(), totalAfter.versions());
            System.out.printf("GC run: cutoff %s (last record %s), examined %d, removed %d versions, %.1f MB in %d ms%n",
                    r.cutoff(), r.lastRecordLsn(), r.versionsExamined(), r.versionsRemoved(), r.bytesRemoved() / 1e6,
                    r.durationMillis());
            System.out.printf("GC throughput: %.0f versions/s removed, %.0f MB/s removed, %.0f versions/s examined%n",
                    r.versionsRemoved() / seconds, r.bytesRemoved() / 1e6 / seconds, r.versionsExamined() / seconds);
            System.out.printf("updates started at %s%n", Lsn.format(beforeUpdates));
        } finally {
            BenchDirectory.delete(dir);
        }
    }

    private static Set<Key> changedKeys(PageStore store, TimelineId tl, long after) {
        Set<Key> out = new HashSet<>();
        store.forEachVersion(tl, null, (key, lsn, len) -> {
            if (Long.compareUnsigned(lsn, after) > 0) {
                out.add(key);
            }
            return true;
        });
        return out;
    }

    /** Usage of {@code keys} ({@code null}: every key) on the timeline's own versions. */
    private static Usage usage(PageStore store, TimelineId tl, Set<Key> keys) {
        long[] v = new long[2];
        Set<Key> seen = new HashSet<>();
        store.forEachVersion(tl, null, (key, lsn, len) -> {
            if (keys == null || keys.contains(key)) {
                seen.add(key);
                v[0]++;
                v[1] += 42 + len;
            }
            return true;
        });
        return new Usage(seen.size(), v[0], v[1]);
    }
}
