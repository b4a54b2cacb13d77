package io.forkline.pageserver.diff;

import io.forkline.bench.Args;
import io.forkline.bench.BenchDirectory;
import io.forkline.bench.Samples;
import io.forkline.compute.postgres.BenchSql;
import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.pageserver.endpoint.StorageMode;
import io.forkline.pageserver.server.PageServer;
import io.forkline.pageserver.tenant.TenantService;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * "A 1 GB table with 10 changed rows diffs in under 10 s" (issue 11): Forkline's data diff beside
 * the peer a user would otherwise run, {@code pg_dump --data-only} of both sides + GNU {@code diff}.
 *
 * <p>Setup (not timed): an in-process {@link PageServer} (data under {@code benchmarks/target/bench}),
 * tenant {@code diff}, its {@code main} endpoint, database {@code bench} with table
 * {@code wide(id int PRIMARY KEY, pad text)}: {@code ROWS} rows of {@code id} and 960 characters of
 * md5 text ({@code INSERT ... SELECT generate_series}), primary key built afterwards, {@code VACUUM
 * ANALYZE}, {@code CHECKPOINT}; database {@code postgres} gets a 1000-row table {@code warmup}, diffed once,
 * untimed, before the measurements (JDBC driver loading, JIT), as a long-running server would have. Branch {@code changed} of main gets its own endpoint and exactly 10
 * row changes in one transaction: 6 {@code UPDATE}s (ids spread over the table), 2 {@code DELETE}s,
 * 2 {@code INSERT}s; its last record LSN before that transaction is {@code L}. Main's and the branch's
 * endpoints use {@code ENDPOINTS} data directories (default {@code full}: on a lazy one, building the
 * primary key of the freshly loaded 1 GB read the table back through FUSE at about 12 MB/s on the
 * loaded test machine); the temporary computes use the server's default, lazy, and full in a second pass.
 *
 * <p>Scenarios, each measured {@code RUNS} times, wall clock:
 * <ol>
 *   <li><b>running</b>: {@code main} vs {@code changed}, both endpoints running, so no compute
 *       starts: {@link DiffService#diff} in {@code data} mode.</li>
 *   <li><b>historical</b>: {@code changed@L} vs {@code changed}: the FROM side needs a temporary
 *       branch and compute ({@link PointCompute}), with lazy (default) and with full data
 *       directories.</li>
 * </ol>
 * Both scenarios are also timed with {@code -Dforkline.diff.changedPages=false} (the range-hash scans
 * without the store's changed-block lists: the peer of those lists in the same run). After the load,
 * the store's changed-block walk over main's whole heap is timed ({@link #walkMainsHeap}).
 * Each scenario: (e2e) {@code DiffService.diff}; (parts) the same steps called one by one:
 * {@code PointCompute.open} of both sides, then {@code DataDiff.of} (aggregate scans + differing
 * buckets); (peer) {@code pg_dump --data-only -t wide} of each side, one after the other, to files,
 * then {@code diff} of the two files, whose {@code <} / {@code >} lines are turned into keys removed /
 * added / changed; for the historical scenario the peer first makes the same kind of temporary branch
 * and compute itself (create + start, timed). Every answer (Forkline and peer) is checked to be
 * exactly the 10 changes; a wrong answer stops the run.
 *
 * <p>Usage: {@code java --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar
 * io.forkline.pageserver.diff.DiffMeasurement [--rows 1000000] [--runs 1] [--full 1] [--scans 1] [--endpoints full|lazy] [--dir benchmarks/target/bench]}
 * ({@code --runs 0}: the seqscans only; {@code -Dforkline.bench.scanModes=1,2} picks seqscan computes, see {@link #SCAN_MODES}).
 *
 * <p>Before the scenarios, {@code SCANS} rounds of a sequential scan of the whole table
 * ({@code SELECT count(pad)}) on a fresh compute of a new branch of {@code changed}: lazy with the
 * lazy data directory's read-ahead off, lazy with it on, full; start and scan timed, scan MB/s =
 * {@code pg_relation_size} / scan seconds, the lazy directory's fetch counters ({@code --scans 0}: none).
 */
public final class DiffMeasurement {
    private static final String TENANT = "diff";
    private static final String DB = "bench";
    private static final String TABLE = "wide";

    private DiffMeasurement() {
    }

    /** The 10 changes on branch {@code changed}, by key: what the diff main → changed must report. */
    private record Expected(Set<String> changed, Set<String> removed, Set<String> added) {
        String describe() {
            return "changed " + new TreeSet<>(changed) + ", removed " + new TreeSet<>(removed) + ", added " + new TreeSet<>(added);
        }
    }

    public static void main(String[] argv) throws Exception {
        Args args = new Args(argv);
        int rows = args.intValue("rows", 1_000_000);
        int runs = args.intValue("runs", 1);
        boolean full = args.intValue("full", 1) == 1;
        int scans = args.intValue("scans", 1);
        StorageMode endpoints = StorageMode.parse(args.value("endpoints", "full"));
        Path dir = BenchDirectory.fresh(args.value("dir", null), "diff");
        PostgresInstallation pg = PostgresInstallation.detect();
        System.out.printf("DiffMeasurement: %d rows into %s.%s, %d run(s) per scenario, main and branch on %s data directories, "
                + "temporary FULL computes %s, data in %s%n", rows, DB, TABLE, runs, endpoints, full ? "too" : "not measured", dir);
        System.out.println("load average at start: " + loadAverage());

        List<Samples> all = new ArrayList<>();
        try (PageServer server = PageServer.start(dir.resolve("server"), 0, Clock.systemUTC())) {
            TenantService tenants = server.tenants();
            tenants.endpoints().setDefaultStorage(endpoints);
            tenants.createTenant(TENANT);
            // no scale to zero of the two long-lived computes during the run (the default suspends an idle one after 5 min)
            tenants.branches().configureEndpoint(TENANT, "main", "0");
            String main = tenants.startEndpoint(TENANT, "main");
            BenchSql.exec(main, "postgres", "CREATE DATABASE " + DB,
                    "CREATE TABLE warmup AS SELECT g AS id FROM generate_series(1, 1000) g", "ALTER TABLE warmup ADD PRIMARY KEY (id)");
            io.forkline.storage.id.TimelineId mainTl = io.forkline.storage.id.TimelineId.parse(
                    tenants.branches().get(TENANT, "main").timelineId());
            long beforeLoad = tenants.branches().view(TENANT, "main").lastRecordLsn();
            long l0 = System.nanoTime();
            BenchSql.exec(main, DB,
                    "CREATE TABLE " + TABLE + " (id int NOT NULL, pad text NOT NULL)",
                    "INSERT INTO " + TABLE + " SELECT g, repeat(md5(g::text), 30) FROM generate_series(1, " + rows + ") g",
                    "ALTER TABLE " + TABLE + " ADD PRIMARY KEY (id)",
                    "VACUUM ANALYZE " + TABLE,
                    "CHECKPOINT");
            long l1 = System.nanoTime();
            long heap = BenchSql.queryLong(main, DB, "SELECT pg_relation_size('" + TABLE + "')");
            long total = BenchSql.queryLong(main, DB, "SELECT pg_total_relation_size('" + TABLE + "')");
            long dbSize = BenchSql.queryLong(main, "postgres", "SELECT pg_database_size('" + DB + "')");
            System.out.printf("loaded in %.1f s: pg_relation_size('%s') = %d B (%.3f GB, %.3f GiB), with index %d B, "
                            + "pg_database_size('%s') = %d B%n", (l1 - l0) / 1e9, TABLE, heap, heap / 1e9,
                    heap / (double) (1L << 30), total, DB, dbSize);

            walkMainsHeap(tenants, main, mainTl, beforeLoad);
            tenants.createBranch(TENANT, "changed", "main", null, null);
            tenants.branches().configureEndpoint(TENANT, "changed", "0");
            String changed = tenants.startEndpoint(TENANT, "changed");
            String before = Lsn.format(tenants.branches().view(TENANT, "changed").lastRecordLsn());
            Expected expected = change(changed, rows);
            tenants.endpoints().setDefaultStorage(StorageMode.LAZY);
            System.out.println("branch 'changed': 10 rows changed in one transaction after " + before + ": " + expected.describe());
            System.out.println("load average before measuring: " + loadAverage());

            DiffService diffs = new DiffService(tenants, pg);
            // untimed: loads the JDBC driver and JIT-compiles the diff code, as in a long-running server
            DataDiff.of("postgres", tenants.endpoints().get(TENANT, "main").address(),
                    tenants.endpoints().get(TENANT, "changed").address());
            List<String> scanRows = scans > 0 ? seqscans(tenants, heap, scans) : List.of();
            tenants.endpoints().setDefaultStorage(StorageMode.LAZY);

            Samples runE2e = samples(all, "running (main vs changed, both computes up): DiffService.diff data");
            Samples runData = samples(all, "  parts: ChangedPages.settle + DataDiff.of");
            Samples runOff = samples(all, "running, changed pages off (" + ChangedPages.PROPERTY
                    + "=false: aggregate scans + differing ranges): DiffService.diff data");
            Samples runPeer = samples(all, "running: peer pg_dump --data-only x2 + diff");
            Samples runDump = samples(all, "  parts: the two pg_dumps");
            Samples lazyE2e = samples(all, "historical LAZY (changed@L vs changed): DiffService.diff data");
            Samples lazyStart = samples(all, "  parts: temporary branch + lazy compute start (PointCompute.open)");
            Samples lazyData = samples(all, "  parts: ChangedPages.settle + DataDiff.of");
            Samples lazyByKey = samples(all, "historical LAZY, changed pages off (" + ChangedPages.PROPERTY
                    + "=false: aggregate scans + differing ranges): DiffService.diff data");
            Samples lazyPeer = samples(all, "historical LAZY: peer branch + lazy compute start + pg_dump x2 + diff");
            Samples lazyPeerStart = samples(all, "  parts: peer branch + lazy compute start");
            Samples fullE2e = full ? samples(all, "historical FULL: DiffService.diff data") : null;
            Samples fullStart = full ? samples(all, "  parts: temporary branch + full compute start (PointCompute.open)") : null;
            Samples fullData = full ? samples(all, "  parts: ChangedPages.settle + DataDiff.of") : null;
            Samples fullPeer = full ? samples(all, "historical FULL: peer branch + full compute start + pg_dump x2 + diff") : null;
            Samples fullPeerStart = full ? samples(all, "  parts: peer branch + full compute start") : null;

            String fromHist = "changed@" + before;
            for (int run = 1; run <= runs; run++) {
                // (1) both computes running
                runE2e.add(timeE2e(diffs, "main", "changed", expected, "run " + run + " running e2e"));
                runData.add(timeParts(tenants, "main", "changed", expected, null, "run " + run + " running parts"));
                System.setProperty(ChangedPages.PROPERTY, "false");
                try {
                    runOff.add(timeE2e(diffs, "main", "changed", expected, "run " + run + " running e2e, changed pages off"));
                } finally {
                    System.clearProperty(ChangedPages.PROPERTY);
                }
                double[] p = peer(tenants, main, changed, expected, null, dir, "run " + run + " running peer");
                runPeer.add(p[0]);
                runDump.add(p[1]);
                // (2) a past point: a temporary branch and compute
                for (StorageMode mode : full ? new StorageMode[] {StorageMode.LAZY, StorageMode.FULL} : new StorageMode[] {StorageMode.LAZY}) {
                    tenants.endpoints().setDefaultStorage(mode);
                    boolean lazy = mode == StorageMode.LAZY;
                    (lazy ? lazyE2e : fullE2e).add(timeE2e(diffs, fromHist, "changed", expected, "run " + run + " historical " + mode + " e2e"));
                    if (lazy) { // the same without the store's changed-block lists (the scans of before: the peer of them)
                        System.setProperty(ChangedPages.PROPERTY, "false");
                        try {
                            lazyByKey.add(timeE2e(diffs, fromHist, "changed", expected, "run " + run + " historical LAZY e2e, changed pages off"));
                        } finally {
                            System.clearProperty(ChangedPages.PROPERTY);
                        }
                    }
                    double[] start = new double[1];
                    (lazy ? lazyData : fullData).add(timeParts(tenants, fromHist, "changed", expected, start,
                            "run " + run + " historical " + mode + " parts"));
                    (lazy ? lazyStart : fullStart).add(start[0]);
                    double[] q = peer(tenants, null, changed, expected, before, dir, "run " + run + " historical " + mode + " peer");
                    (lazy ? lazyPeer : fullPeer).add(q[0]);
                    (lazy ? lazyPeerStart : fullPeerStart).add(q[2]);
                }
                tenants.endpoints().setDefaultStorage(StorageMode.LAZY);
                System.out.println("load average after run " + run + ": " + loadAverage());
            }

            if (runs > 0) {
            System.out.println();
            System.out.printf("RESULT DiffMeasurement (table %s: %d rows, pg_relation_size %d B = %.3f GB; 10 changed rows: %s; "
                    + "main and branch on %s data directories; %d run(s))%n", TABLE, rows, heap, heap / 1e9, expected.describe(),
                    endpoints, runs);
            System.out.println("| scenario | Forkline diff median s | peer (pg_dump x2 + diff) median s | ratio peer/forkline |");
            System.out.println("|---|---|---|---|");
            row("both computes running (main vs branch)", runE2e, runPeer);
            row("both computes running, changed pages off", runOff, runPeer);
            row("past point, temporary LAZY compute", lazyE2e, lazyPeer);
            row("past point, temporary LAZY compute, changed pages off", lazyByKey, lazyPeer);
            if (full) {
                row("past point, temporary FULL compute", fullE2e, fullPeer);
            }
            for (Samples s : all) {
                System.out.println(s);
            }
            }
            if (!scanRows.isEmpty()) {
                System.out.println();
                System.out.printf("RESULT seqscan: SELECT count(pad) FROM %s (%d B) on a fresh compute of a new branch of 'changed'%n", TABLE, heap);
                System.out.println("| compute | round | start s | scan s | scan MB/s | blocks fetched | of which read ahead | requests | mean request µs | FUSE reads | mean read KiB | JVM CPU s | JVM CPU µs/block |");
                System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
                scanRows.forEach(System.out::println);
            }
            System.out.println("load average at end: " + loadAverage());
        }
        BenchDirectory.delete(dir);
    }

    /**
     * {@code SELECT count(pad)} of the whole table (a sequential scan of the heap: {@code count(*)} is answered from the primary key, parallel as PostgreSQL plans it) on
     * a fresh compute of a new branch of {@code changed}: lazy with read-ahead off
     * ({@code forkline.lazy.readAheadBlocks=0}, the FUSE reads as the kernel sends them, one
     * page-service request each), lazy with the default read-ahead, the same with the store reading
     * each GetPage key by key ({@link #SCAN_MODES}), and full (basebackup; its data
     * directory was just written, so it is read from the OS page cache), {@code rounds} times, every
     * other round in the reverse order.
     * Returns the table rows of the result.
     */
    private static List<String> seqscans(TenantService tenants, long heap, int rounds) throws SQLException {
        List<String> out = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            List<String> order = new ArrayList<>(SCAN_MODES);
            if (round % 2 == 0) { // taking turns: every other round in the reverse order
                java.util.Collections.reverse(order);
            }
            for (String mode : order) {
                boolean lazy = mode.startsWith("lazy");
                tenants.endpoints().setDefaultStorage(lazy ? StorageMode.LAZY : StorageMode.FULL);
                if (mode.contains("read-ahead off")) {
                    System.setProperty(io.forkline.compute.lazy.LazyDataDirectory.READ_AHEAD_PROPERTY, "0");
                }
                if (mode.contains("key by key")) {
                    System.setProperty(PageStore.KEY_ORDER_READS_PROPERTY, "false");
                }
                String ref = "scan-" + round + "-" + SCAN_MODES.indexOf(mode);
                try {
                    tenants.createBranch(TENANT, ref, "changed", null, null);
                    long t0 = System.nanoTime();
                    String uri = tenants.startEndpoint(TENANT, ref);
                    long t1 = System.nanoTime();
                    long cpu0 = processCpuNanos();
                    long n = BenchSql.queryLong(uri, DB, "SELECT count(pad) FROM " + TABLE);
                    long t2 = System.nanoTime();
                    long cpu = processCpuNanos() - cpu0;
                    var stats = tenants.endpoints().get(TENANT, ref).lazyStats();
                    double scan = (t2 - t1) / 1e9;
                    String row = String.format("| %s | %d | %.3f | %.3f | %.1f | %s | %s | %s | %s | %s | %s | %.2f | %s |", mode, round, (t1 - t0) / 1e9, scan,
                            heap / 1e6 / scan, stats == null ? "-" : stats.blocksFetched(), stats == null ? "-" : stats.readAheadBlocks(),
                            stats == null ? "-" : stats.fetches(), stats == null ? "-" : String.format("%.0f", stats.meanFetchMicros()),
                            stats == null ? "-" : stats.lazyReads(),
                            stats == null || stats.lazyReads() == 0 ? "-" : String.format("%.1f", stats.lazyReadBytes() / 1024.0 / stats.lazyReads()),
                            cpu / 1e9, stats == null || stats.blocksFetched() == 0 ? "-" : String.format("%.0f", cpu / 1e3 / stats.blocksFetched()));
                    System.out.printf("seqscan %s round %d: %d rows; %s; load average %s%n", mode, round, n, row, loadAverage());
                    out.add(row);
                } finally {
                    System.clearProperty(io.forkline.compute.lazy.LazyDataDirectory.READ_AHEAD_PROPERTY);
                    System.clearProperty(PageStore.KEY_ORDER_READS_PROPERTY);
                    tenants.stopEndpoint(TENANT, ref);
                    tenants.deleteBranch(TENANT, ref);
                }
            }
        }
        return out;
    }

    /**
     * The seqscan phase's computes, in turn (system property {@code forkline.bench.scanModes}, a
     * comma-separated subset, picks some): lazy with read-ahead off, lazy with it on, lazy with it
     * on and the store reading each GetPage's blocks key by key
     * ({@code forkline.pageStore.keyOrderReads=false}, as before key-order reads), full.
     */
    private static final List<String> SCAN_MODES = scanModes();

    private static List<String> scanModes() {
        List<String> all = List.of("lazy, read-ahead off", "lazy, read-ahead on", "lazy, read-ahead on, store reads key by key", "full");
        String pick = System.getProperty("forkline.bench.scanModes");
        if (pick == null || pick.isBlank()) {
            return all;
        }
        List<String> out = new ArrayList<>();
        for (String p : pick.split(",")) {
            out.add(all.get(Integer.parseInt(p.strip())));
        }
        return out;
    }

    /** CPU time of this JVM (the in-process server, page service, client and FUSE daemon), nanoseconds. */
    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    private static Samples samples(List<Samples> all, String name) {
        Samples s = new Samples(name, "s");
        all.add(s);
        return s;
    }

    private static void row(String what, Samples forkline, Samples peer) {
        System.out.printf("| %s | %s | %s | %s |%n", what, Samples.fmt(forkline.median()), Samples.fmt(peer.median()),
                Samples.fmt(peer.median() / forkline.median()));
    }

    /**
     * The store's changed-block walk at its worst: a window of main (where the table was loaded) that
     * holds the load (every block changed) and one after it (none), both walking every version key of
     * the heap on main; timed and printed (seconds, version keys read).
     */
    private static void walkMainsHeap(TenantService tenants, String main, io.forkline.storage.id.TimelineId mainTl,
                                      long beforeLoad) throws SQLException {
        long spc = BenchSql.queryLong(main, DB, "SELECT dattablespace FROM pg_database WHERE datname = current_database()");
        long db = BenchSql.queryLong(main, DB, "SELECT oid FROM pg_database WHERE datname = current_database()");
        long node = BenchSql.queryLong(main, DB, "SELECT pg_relation_filenode('" + TABLE + "')");
        io.forkline.storage.key.RelTag rel = new io.forkline.storage.key.RelTag((int) spc, (int) db, (int) node, 0);
        long afterLoad = tenants.store().lastRecordLsn(mainTl);
        for (long from : new long[] {beforeLoad, afterLoad - 1}) {
            for (int round = 1; round <= 2; round++) {
                long t0 = System.nanoTime();
                var c = tenants.store().changedBlocks(rel, mainTl, from, mainTl, afterLoad);
                long t1 = System.nanoTime();
                System.out.printf("changedBlocks of main's heap %s, window (%s, %s], round %d: %.3f s, %d version keys read, "
                                + "%d of %d blocks changed; load average %s%n", rel, Lsn.format(from), Lsn.format(afterLoad), round,
                        (t1 - t0) / 1e9, c.versionsRead(), c.changed().cardinality(), c.maxBlocks(), loadAverage());
            }
        }
    }

    /** Applies the 10 changes on the branch's compute, in one transaction, and returns them by key. */
    private static Expected change(String uri, int rows) throws SQLException {
        int[] updated = {1, rows / 7, rows / 3, rows / 2, 2 * rows / 3, rows};
        int[] deleted = {rows / 5, 4 * rows / 5};
        int[] inserted = {rows + 1, rows + 2};
        Expected e = new Expected(new HashSet<>(), new HashSet<>(), new HashSet<>());
        try (Connection c = BenchSql.connect(uri, DB)) {
            c.setAutoCommit(false);
            try (var st = c.createStatement()) {
                for (int id : updated) {
                    check(st.executeUpdate("UPDATE " + TABLE + " SET pad = upper(pad) WHERE id = " + id), "update " + id);
                    e.changed().add(Integer.toString(id));
                }
                for (int id : deleted) {
                    check(st.executeUpdate("DELETE FROM " + TABLE + " WHERE id = " + id), "delete " + id);
                    e.removed().add(Integer.toString(id));
                }
                for (int id : inserted) {
                    check(st.executeUpdate("INSERT INTO " + TABLE + " VALUES (" + id + ", repeat('new', 300))"), "insert " + id);
                    e.added().add(Integer.toString(id));
                }
            }
            c.commit();
        }
        return e;
    }

    private static void check(int n, String what) {
        if (n != 1) {
            throw new IllegalStateException(what + " touched " + n + " rows, expected 1");
        }
    }

    /** {@code DiffService.diff} in data mode, checked; seconds. */
    private static double timeE2e(DiffService diffs, String from, String to, Expected expected, String label) {
        long t0 = System.nanoTime();
        DiffService.Result r = diffs.diff(TENANT, from, to, DiffService.Mode.DATA);
        long t1 = System.nanoTime();
        verify(r.data(), expected, label);
        DataDiff.Result t = r.data().stream().filter(x -> x.database().equals(DB)).findFirst().orElseThrow();
        System.out.printf("%s: %.3f s (from %s = %s, to %s = %s; method %s, blocks read %s)%n", label, (t1 - t0) / 1e9, from,
                r.from().lsn(), to, r.to().lsn(), t.method(), t.blocksRead());
        return (t1 - t0) / 1e9;
    }

    /**
     * The steps of {@code DiffService.diff} one by one; {@code start[0]} gets the seconds of
     * {@code PointCompute.open} of both sides (at the same time, as {@code DiffService} does); returns
     * the seconds of {@code DataDiff.of}.
     */
    private static double timeParts(TenantService tenants, String from, String to, Expected expected, double[] start,
                                    String label) throws SQLException {
        long t0 = System.nanoTime();
        BothSides.Pair<PointCompute> computes = BothSides.run(() -> PointCompute.open(tenants, TENANT, DiffSide.parse("from", from)),
                () -> PointCompute.open(tenants, TENANT, DiffSide.parse("to", to)), PointCompute::close);
        try (PointCompute a = computes.from(); PointCompute b = computes.to()) {
            long t1 = System.nanoTime();
            ChangedPages pages = ChangedPages.settle(tenants.store(), a, b);
            long ts = System.nanoTime();
            List<DataDiff.Result> data = DataDiff.of(DB, a.address(), b.address(), pages);
            long t2 = System.nanoTime();
            verify(data, expected, label);
            if (start != null) {
                start[0] = (t1 - t0) / 1e9;
            }
            System.out.printf("%s: computes %.3f s, ChangedPages.settle %.3f s, DataDiff.of %.3f s (method %s, blocks read %s)%n",
                    label, (t1 - t0) / 1e9, (ts - t1) / 1e9, (t2 - ts) / 1e9, data.get(0).method(), data.get(0).blocksRead());
            return (t2 - t1) / 1e9;
        }
    }

    private static void verify(List<DataDiff.Result> data, Expected expected, String label) {
        List<DataDiff.Result> tables = data.stream().filter(r -> r.database().equals(DB)).toList();
        if (tables.size() != 1 || !tables.get(0).table().equals("public." + TABLE)) {
            throw new IllegalStateException(label + ": expected one table public." + TABLE + ", got " + data);
        }
        DataDiff.Result r = tables.get(0);
        Set<String> changed = new HashSet<>();
        Set<String> removed = new HashSet<>();
        Set<String> added = new HashSet<>();
        for (DataDiff.Sample s : r.sample()) {
            (switch (s.change()) {
                case "changed" -> changed;
                case "removed" -> removed;
                default -> added;
            }).add(s.key());
        }
        boolean ok = r.changed() == expected.changed().size() && r.removed() == expected.removed().size()
                && r.added() == expected.added().size() && changed.equals(expected.changed())
                && removed.equals(expected.removed()) && added.equals(expected.added()) && r.note() == null;
        if (!ok) {
            throw new IllegalStateException(label + ": wrong answer " + r + ", expected " + expected.describe());
        }
        System.out.printf("%s: answer OK: %s.%s added %d removed %d changed %d, keys %s%n", label, r.database(), r.table(),
                r.added(), r.removed(), r.changed(), r.sample());
    }

    /**
     * The peer: {@code pg_dump --data-only} of both sides, one after the other, then {@code diff}; for
     * a past point ({@code fromLsn} not null) a temporary branch of {@code changed} at that LSN and its
     * compute first. Returns {total s, dumps s, branch + compute start s}.
     */
    private static double[] peer(TenantService tenants, String fromUri, String toUri, Expected expected, String fromLsn,
                                 Path dir, String label) throws Exception {
        long t0 = System.nanoTime();
        String tmp = null;
        try {
            if (fromLsn != null) {
                tmp = "peer-tmp";
                tenants.createBranch(TENANT, tmp, "changed", fromLsn, null);
                fromUri = tenants.startEndpoint(TENANT, tmp);
            }
            long t1 = System.nanoTime();
            Path a = dir.resolve("from.sql");
            Path b = dir.resolve("to.sql");
            dump(fromUri, a);
            dump(toUri, b);
            long t2 = System.nanoTime();
            Process p = new ProcessBuilder("diff", a.toString(), b.toString()).redirectErrorStream(true).start();
            Set<String> minus = new HashSet<>();
            Set<String> plus = new HashSet<>();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    if (line.indexOf('\t') < 0) {
                        continue; // not a row of the COPY block (e.g. pg_dump's \restrict line with its random key)
                    }
                    if (line.startsWith("< ")) {
                        minus.add(line.substring(2, line.indexOf('\t')));
                    } else if (line.startsWith("> ")) {
                        plus.add(line.substring(2, line.indexOf('\t')));
                    }
                }
            }
            int rc = p.waitFor();
            long t3 = System.nanoTime();
            if (rc > 1) {
                throw new IllegalStateException(label + ": diff exited with " + rc);
            }
            Set<String> changed = new HashSet<>(minus);
            changed.retainAll(plus);
            Set<String> removed = new HashSet<>(minus);
            removed.removeAll(plus);
            Set<String> added = new HashSet<>(plus);
            added.removeAll(minus);
            Expected got = new Expected(changed, removed, added);
            if (!got.equals(expected)) {
                throw new IllegalStateException(label + ": peer's answer " + got.describe() + ", expected " + expected.describe());
            }
            long size = Files.size(a) + Files.size(b);
            Files.delete(a);
            Files.delete(b);
            System.out.printf("%s: %.3f s (branch + compute %.3f, pg_dump x2 %.3f (%d B), diff %.3f); answer OK: %s%n",
                    label, (t3 - t0) / 1e9, (t1 - t0) / 1e9, (t2 - t1) / 1e9, size, (t3 - t2) / 1e9, got.describe());
            return new double[] {(t3 - t0) / 1e9, (t2 - t1) / 1e9, (t1 - t0) / 1e9};
        } finally {
            if (tmp != null) {
                tenants.stopEndpoint(TENANT, tmp);
                tenants.deleteBranch(TENANT, tmp);
            }
        }
    }

    private static void dump(String uri, Path out) throws IOException, InterruptedException {
        java.net.URI u = java.net.URI.create(uri);
        String socketDir = io.forkline.compute.postgres.BenchSql.socketDirectory(u);
        Process p = new ProcessBuilder("pg_dump", "--data-only", "--no-owner", "-t", "public." + TABLE, "-h",
                socketDir != null ? socketDir : u.getHost(),
                "-p", Integer.toString(u.getPort()), "-U", "postgres", DB)
                .redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException("pg_dump of " + uri + " failed");
        }
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).strip();
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }
}
