package io.forkline.pageserver;

import io.forkline.bench.Args;
import io.forkline.bench.BenchDirectory;
import io.forkline.bench.Samples;
import io.forkline.compute.postgres.BenchSql;
import io.forkline.compute.postgres.Pgbench;
import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.pageserver.server.PageServer;
import io.forkline.pageserver.tenant.TenantService;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;

/**
 * Copy of a ~1 GB database: a Forkline branch versus PostgreSQL's own {@code CREATE DATABASE ...
 * TEMPLATE}, side by side on the same server, alternating, {@code RUNS} rounds.
 *
 * <p>Setup (not timed): an in-process {@link PageServer} (data under {@code benchmarks/target/bench}),
 * tenant {@code bench}, its {@code main} endpoint (FULL data directory), database {@code bench} loaded with
 * {@code pgbench -i -s SCALE} through synchronous ingest.
 *
 * <p>Each round measures, in wall-clock seconds:
 * <ol>
 *   <li><b>forkline</b>: {@code createBranch} of {@code main} at its last record LSN + start of the
 *       branch's endpoint (basebackup of the whole cluster written to disk, postgres start, WAL
 *       receiver start) + the first successful {@code SELECT count(*) FROM pgbench_branches} in the
 *       branch's {@code bench} database. Afterwards (not timed) the endpoint is stopped and the
 *       branch deleted.</li>
 *   <li><b>template wal_log</b> and <b>template file_copy</b>: on the {@code main} compute,
 *       {@code CREATE DATABASE copy_N TEMPLATE bench STRATEGY ...} + connect to it + the same
 *       SELECT; afterwards (not timed) {@code DROP DATABASE}. The main compute is a Forkline
 *       compute, so these statements also wait for synchronous ingest of the WAL they write (about
 *       the database's size for {@code wal_log}).</li>
 * </ol>
 * A {@code CHECKPOINT} on main precedes every measured step. Prints per-run seconds, medians and
 * the ratios peer/forkline of the medians.
 *
 * <p>Usage: {@code java --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar
 * io.forkline.pageserver.BranchVsTemplateComparison [--scale 70] [--runs 3] [--dir benchmarks/target/bench]
 * [--full 1] [--templates wal_log,file_copy|none] [--keep 0] [--reuse DIR]}: {@code --full 0} skips the
 * FULL branch, {@code --templates} chooses the template copies; {@code --keep 1}
 * keeps the loaded data and {@code --reuse DIR} runs the rounds on it without loading again (the
 * load of scale 1000, ~15 GB, can then run while the machine is busy and the rounds when it is
 * quiet).
 */
public final class BranchVsTemplateComparison {
    private static final String TENANT = "bench";
    private static final Duration LOAD_TIMEOUT = Duration.ofMinutes(30);
    private static final Duration FIRST_QUERY_TIMEOUT = Duration.ofMinutes(2);
    private static final String PROBE = "SELECT count(*) FROM pgbench_branches";

    private BranchVsTemplateComparison() {
    }

    public static void main(String[] argv) throws Exception {
        Args args = new Args(argv);
        int scale = args.intValue("scale", 70);
        int runs = args.intValue("runs", 3);
        String reuse = args.value("reuse", null);
        boolean keep = args.intValue("keep", 0) == 1 || reuse != null;
        boolean full = args.intValue("full", 1) == 1;
        String templateArg = args.value("templates", "wal_log,file_copy");
        String[] templates = templateArg.equals("none") ? new String[0] : templateArg.split(",");
        for (String t : templates) {
            if (!t.equals("wal_log") && !t.equals("file_copy")) {
                throw new IllegalArgumentException("invalid --templates '" + templateArg + "': wal_log, file_copy, both or none");
            }
        }
        Path dir = reuse != null ? Path.of(reuse).toAbsolutePath() : BenchDirectory.fresh(args.value("dir", null), "branch-vs-template");
        PostgresInstallation pg = PostgresInstallation.detect();
        System.out.printf("BranchVsTemplateComparison: pgbench -i -s %d into database bench, %d alternating rounds, data in %s%n",
                scale, runs, dir);

        Samples lazyBranch = new Samples("forkline LAZY branch+endpoint+first query", "s");
        Samples lazyStart = new Samples("  of which lazy endpoint start (basebackup without relations, list, mount, postgres)", "s");
        Samples branch = new Samples("forkline FULL branch+endpoint+first query", "s");
        Samples branchCreate = new Samples("  of which createBranch", "s");
        Samples branchStart = new Samples("  of which endpoint start (basebackup, postgres, receiver)", "s");
        Samples branchQuery = new Samples("  of which first query", "s");
        Samples walLog = new Samples("CREATE DATABASE TEMPLATE bench STRATEGY wal_log + first query", "s");
        Samples fileCopy = new Samples("CREATE DATABASE TEMPLATE bench STRATEGY file_copy + first query", "s");
        long dbBytes;
        long basebackupBytes = 0;

        try (PageServer server = PageServer.start(dir.resolve("server"), 0, Clock.systemUTC())) {
            TenantService tenants = server.tenants();
            // main (the load and both template copies) runs on a full data directory, so the template
            // copies write to local disk like stock PostgreSQL, not through FUSE
            tenants.endpoints().setDefaultStorage(io.forkline.pageserver.endpoint.StorageMode.FULL);
            String main;
            if (reuse != null) { // the data of an earlier run with --keep 1: main resumed with the server
                // the server resumed main with its default storage: restart it on the one this run wants
                tenants.stopEndpoint(TENANT, "main");
                if (templates.length == 0) { // no template copies on main: a lazy main starts in a second, a full one writes the whole cluster
                    tenants.endpoints().setDefaultStorage(io.forkline.pageserver.endpoint.StorageMode.LAZY);
                }
                main = tenants.startEndpoint(TENANT, "main");
                System.out.printf("main restarted on a %s data directory%n", tenants.endpoints().get(TENANT, "main").storage());
                tenants.endpoints().setDefaultStorage(io.forkline.pageserver.endpoint.StorageMode.FULL);
                dbBytes = BenchSql.queryLong(main, "postgres", "SELECT pg_database_size('bench')");
                System.out.printf("reused %s: pg_database_size('bench') = %.1f MB%n", dir, dbBytes / 1e6);
            } else {
                tenants.createTenant(TENANT);
                main = tenants.startEndpoint(TENANT, "main");
                BenchSql.exec(main, "postgres", "CREATE DATABASE bench");
                long loadNanos = Pgbench.initialize(pg, BenchSql.withDatabase(main, "bench"), scale, LOAD_TIMEOUT);
                dbBytes = BenchSql.queryLong(main, "postgres", "SELECT pg_database_size('bench')");
                System.out.printf("loaded: pg_database_size('bench') = %.1f MB in %.1f s%n", dbBytes / 1e6, loadNanos / 1e9);
            }

            // refs of their own per run: a reused store may hold an interrupted run's branches
            String runSuffix = "-" + Long.toString(System.currentTimeMillis() % 1_000_000, 36);
            try (Connection admin = BenchSql.connect(main, "postgres")) {
                for (int round = 1; round <= runs; round++) {
                    // (a0) Forkline branch on a lazy data directory
                    checkpoint(admin);
                    tenants.endpoints().setDefaultStorage(io.forkline.pageserver.endpoint.StorageMode.LAZY);
                    String lref = "lazy-" + round + runSuffix;
                    long l0 = System.nanoTime();
                    tenants.createBranch(TENANT, lref, "main", null, null);
                    long l1 = System.nanoTime();
                    String luri = tenants.startEndpoint(TENANT, lref);
                    long l2 = System.nanoTime();
                    check(firstQuery(luri, "bench"), scale, lref);
                    long l3 = System.nanoTime();
                    String storage = tenants.endpoints().get(TENANT, lref).storage();
                    long fetched = tenants.endpoints().get(TENANT, lref).lazyStats() == null ? 0
                            : tenants.endpoints().get(TENANT, lref).lazyStats().blocksFetched();
                    tenants.stopEndpoint(TENANT, lref);
                    tenants.deleteBranch(TENANT, lref);
                    lazyBranch.add((l3 - l0) / 1e9);
                    lazyStart.add((l2 - l1) / 1e9);
                    System.out.printf("round %d forkline LAZY branch %7.2f s (endpoint start %.2f, first query %.3f; "
                            + "storage %s, %d blocks fetched)%n", round, (l3 - l0) / 1e9, (l2 - l1) / 1e9,
                            (l3 - l2) / 1e9, storage, fetched);
                    tenants.endpoints().setDefaultStorage(io.forkline.pageserver.endpoint.StorageMode.FULL);

                    // (a) Forkline branch on a full data directory
                    if (full) {
                        checkpoint(admin);
                        String ref = "copy-" + round + runSuffix;
                        long t0 = System.nanoTime();
                        tenants.createBranch(TENANT, ref, "main", null, null);
                        long t1 = System.nanoTime();
                        String uri = tenants.startEndpoint(TENANT, ref);
                        long t2 = System.nanoTime();
                        long count = firstQuery(uri, "bench");
                        long t3 = System.nanoTime();
                        check(count, scale, ref);
                        Path endpointDir = dir.resolve("server").resolve("endpoints").resolve(TENANT).resolve(ref);
                        basebackupBytes = BenchDirectory.sizeBytes(endpointDir.resolve("pgdata"));
                        tenants.stopEndpoint(TENANT, ref);
                        tenants.deleteBranch(TENANT, ref);
                        BenchDirectory.delete(endpointDir);
                        branch.add((t3 - t0) / 1e9);
                        branchCreate.add((t1 - t0) / 1e9);
                        branchStart.add((t2 - t1) / 1e9);
                        branchQuery.add((t3 - t2) / 1e9);
                        System.out.printf("round %d forkline branch     %7.2f s (create %.3f, endpoint start %.2f, first query %.3f; "
                                        + "endpoint data dir %.1f MB)%n", round, (t3 - t0) / 1e9, (t1 - t0) / 1e9,
                                (t2 - t1) / 1e9, (t3 - t2) / 1e9, basebackupBytes / 1e6);
                    }

                    // (b) template copies on the same main compute
                    for (String strategy : templates) {
                        checkpoint(admin);
                        String db = "copy_" + round + "_" + strategy;
                        long s0 = System.nanoTime();
                        try (var st = admin.createStatement()) {
                            st.execute("CREATE DATABASE " + db + " TEMPLATE bench STRATEGY " + strategy);
                        }
                        long c = firstQuery(main, db);
                        long s1 = System.nanoTime();
                        check(c, scale, db);
                        try (var st = admin.createStatement()) {
                            st.execute("DROP DATABASE " + db);
                        }
                        (strategy.equals("wal_log") ? walLog : fileCopy).add((s1 - s0) / 1e9);
                        System.out.printf("round %d template %-9s %7.2f s%n", round, strategy, (s1 - s0) / 1e9);
                    }
                    if (templates.length == 2 && full) {
                        System.out.printf("round %d ratios peer/forkline: wal_log %s, file_copy %s%n", round,
                                Samples.fmt(walLog.values().getLast() / branch.values().getLast()),
                                Samples.fmt(fileCopy.values().getLast() / branch.values().getLast()));
                    }
                }
            }
        }

        System.out.println();
        System.out.printf("RESULT BranchVsTemplateComparison (pgbench -i -s %d: database %.1f MB; %d rounds)%n", scale,
                dbBytes / 1e6, runs);
        double ref = full ? branch.median() : lazyBranch.median();
        String refName = full ? "FULL" : "LAZY";
        System.out.println("| copy | median s | ratio to the Forkline " + refName + " branch |");
        System.out.println("|---|---|---|");
        System.out.printf("| Forkline branch, LAZY data directory, + endpoint start + first query | %s | %s |%n",
                Samples.fmt(lazyBranch.median()), Samples.fmt(lazyBranch.median() / ref));
        if (full) {
            System.out.printf("| Forkline branch, FULL data directory, + endpoint start + first query | %s | 1 |%n",
                    Samples.fmt(branch.median()));
        }
        for (Samples t : new Samples[] {walLog, fileCopy}) {
            if (!t.values().isEmpty()) {
                System.out.printf("| %s | %s | %s |%n", t.name(), Samples.fmt(t.median()), Samples.fmt(t.median() / ref));
            }
        }
        for (Samples x : new Samples[] {lazyBranch, lazyStart, branch, branchCreate, branchStart, branchQuery, walLog, fileCopy}) {
            if (!x.values().isEmpty()) {
                System.out.println(x);
            }
        }
        System.out.printf("branch endpoint data directory (basebackup of the whole cluster): %.1f MB%n", basebackupBytes / 1e6);
        if (keep) {
            System.out.printf("data kept in %s (--reuse %s runs on it without loading)%n", dir, dir);
        } else {
            BenchDirectory.delete(dir);
        }
    }

    private static void checkpoint(Connection admin) throws SQLException {
        try (var st = admin.createStatement()) {
            st.execute("CHECKPOINT");
        }
    }

    private static void check(long branches, int scale, String where) {
        if (branches != scale) {
            throw new IllegalStateException(where + ": pgbench_branches has " + branches + " rows, expected " + scale);
        }
    }

    /**
     * Retries connect + {@link #PROBE} until it succeeds.
     *
     * @return the row count
     * @throws SQLException the last failure when none succeeds within 2 minutes
     */
    private static long firstQuery(String uri, String db) throws SQLException, InterruptedException {
        long deadline = System.nanoTime() + FIRST_QUERY_TIMEOUT.toNanos();
        while (true) {
            try {
                return BenchSql.queryLong(uri, db, PROBE);
            } catch (SQLException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(5);
            }
        }
    }
}
