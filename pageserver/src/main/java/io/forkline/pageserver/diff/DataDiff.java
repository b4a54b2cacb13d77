package io.forkline.pageserver.diff;

import io.forkline.compute.proxy.ComputeAddress;
import io.forkline.pageserver.api.ApiException;
import io.forkline.pageserver.endpoint.ComputeConnections;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * Rows added, removed and changed per table with a primary key, found by comparing hashes of row
 * ranges instead of pulling both tables.
 *
 * <p><b>First pass, by physical range</b> ({@link RangePlan}): the heap is cut into R ranges of W
 * consecutive blocks (R a power of two, about 64 rows a range from {@code pg_class.reltuples}, 16 to
 * 65536; W from the larger side's {@code pg_relation_size}, the same on both sides). Each side answers
 * one aggregate scan: per range ({@code block(ctid) / W}) the row count and the XOR of
 * {@code hash_record_extended(row(c1::text, c2::text, ...), 0)} over the columns both sides have (by
 * name). Two sides of a diff are points of one copy-on-write history (a branch and its parent, a
 * timeline now and at an LSN), so a row neither side changed sits at the same {@code ctid} on both:
 * only the ranges holding a changed row's old or new version differ. Their rows are read again as
 * (key, row hash) pairs through TID range scans ({@code ctid >= '(lo,0)' AND ctid < '(hi,0)'}, a few
 * pages each) and compared key by key: a 1 GB table with 10 changed rows costs one scan on each side
 * and about 10 × 2 × 64 rows read again. The answer is exact whatever the layouts (up to 64-bit hash
 * collisions, as for any hash comparison): a key in a range that is the same on both sides is the same
 * row on both, so every key whose row differs is in a differing range on both sides.
 *
 * <p><b>Fallback, by key hash</b>: when more than half of the ranges differ (the layouts diverged:
 * {@code VACUUM FULL}, {@code CLUSTER}, a table rewritten by {@code ALTER TABLE}, a reload), the keys
 * are split into R buckets by {@code hashtextextended(key::text, 1) & (R-1)} instead; a second aggregate
 * scan per side gives each bucket's count and XOR, and a third scan reads the (key, row hash) pairs of
 * the differing buckets only (it hashes every key but whole rows only in those buckets).
 *
 * <p>The two sides run each scan at the same time ({@link BothSides}). A column added or dropped is a
 * schema change and does not make every row "changed". Tables without a primary key, or whose
 * primary keys differ between the sides, are listed with a {@code note} and no counts. The sample
 * lists removed and changed keys, then added ones, each in the database's order of the keys' text
 * (within each statement of at most {@link #RUNS_PER_STATEMENT} ranges when the ranges need several).
 */
final class DataDiff {
    /** Keys listed per table at most. */
    static final int SAMPLE = 10;
    /** Runs of differing ranges read back by one statement (a {@code UNION ALL} of TID range scans). */
    static final int RUNS_PER_STATEMENT = 500;

    /** A sampled row difference: the key (its text) and {@code added}, {@code removed} or {@code changed}. */
    record Sample(String key, String change) {
    }

    /** One table's difference; counts are {@code null} when {@code note} says why it was not compared. */
    record Result(String database, String table, Long added, Long removed, Long changed, List<Sample> sample, String note) {
    }

    private record Table(String schema, String name, List<String> pk, List<String> columns, double tuples, long blocks) {
        String qualified() {
            return quote(schema) + "." + quote(name);
        }

        String display() {
            return schema + "." + name;
        }
    }

    private DataDiff() {
    }

    /** Compares every user table of {@code database} on the two computes. */
    static List<Result> of(String database, ComputeAddress from0, ComputeAddress to0) {
        try (Connection a = connect(from0, database); Connection b = connect(to0, database)) {
            Map<String, Table> from = tables(a);
            Map<String, Table> to = tables(b);
            Map<String, Boolean> names = new TreeMap<>();
            from.keySet().forEach(k -> names.put(k, true));
            to.keySet().forEach(k -> names.put(k, true));
            List<Result> out = new ArrayList<>();
            for (String name : names.keySet()) {
                Table ta = from.get(name);
                Table tb = to.get(name);
                if (ta == null) {
                    out.add(new Result(database, name, count(b, tb), 0L, 0L, List.of(), "table only in TO"));
                } else if (tb == null) {
                    out.add(new Result(database, name, 0L, count(a, ta), 0L, List.of(), "table only in FROM"));
                } else if (ta.pk().isEmpty() || tb.pk().isEmpty()) {
                    out.add(new Result(database, name, null, null, null, List.of(), "no primary key"));
                } else if (!ta.pk().equals(tb.pk())) {
                    out.add(new Result(database, name, null, null, null, List.of(),
                            "primary key differs: " + ta.pk() + " vs " + tb.pk()));
                } else {
                    out.add(compare(database, a, b, ta, tb));
                }
            }
            return out;
        } catch (SQLException e) {
            throw ApiException.unavailable("cannot compare the data of database '" + database + "': " + e.getMessage());
        }
    }

    private static Result compare(String database, Connection a, Connection b, Table ta, Table tb) throws SQLException {
        List<String> common = new ArrayList<>();
        for (String c : ta.columns()) {
            if (tb.columns().contains(c)) {
                common.add(c);
            }
        }
        long buckets = buckets(Math.max(ta.tuples(), tb.tuples()));
        String keyExpr = ta.pk().size() == 1 ? "t." + quote(ta.pk().get(0)) + "::text" : rowExpr(ta.pk()) + "::text";
        String rowHash = "hash_record_extended(" + textRowExpr(common) + ", 0)";
        RangePlan plan = RangePlan.of(Math.max(ta.blocks(), tb.blocks()), buckets);
        BothSides.Pair<Map<Long, long[]>> h = BothSides.run(() -> bucketHashes(a, ta, plan.rangeExpr(), rowHash),
                () -> bucketHashes(b, tb, plan.rangeExpr(), rowHash), null);
        List<Long> differing = differing(h.from(), h.to());
        BothSides.Pair<Map<String, Long>> r;
        if (differing.isEmpty()) {
            r = new BothSides.Pair<>(Map.of(), Map.of());
        } else if (plan.worthReading(differing.size())) {
            List<long[]> runs = plan.runs(differing);
            r = BothSides.run(() -> rangeRows(a, ta, keyExpr, rowHash, runs), () -> rangeRows(b, tb, keyExpr, rowHash, runs), null);
        } else {
            String bucketExpr = "(hashtextextended(" + keyExpr + ", 1) & " + (buckets - 1) + ")";
            BothSides.Pair<Map<Long, long[]>> hk = BothSides.run(() -> bucketHashes(a, ta, bucketExpr, rowHash),
                    () -> bucketHashes(b, tb, bucketExpr, rowHash), null);
            List<Long> keyBuckets = differing(hk.from(), hk.to());
            r = keyBuckets.isEmpty() ? new BothSides.Pair<>(Map.of(), Map.of())
                    : BothSides.run(() -> rows(a, ta, keyExpr, bucketExpr, rowHash, keyBuckets),
                    () -> rows(b, tb, keyExpr, bucketExpr, rowHash, keyBuckets), null);
        }
        long added = 0;
        long removed = 0;
        long changed = 0;
        List<Sample> sample = new ArrayList<>();
        Map<String, Long> ra = r.from();
        Map<String, Long> rb = r.to();
        for (Map.Entry<String, Long> e : ra.entrySet()) {
            Long other = rb.get(e.getKey());
            if (other == null) {
                removed++;
                add(sample, e.getKey(), "removed");
            } else if (!other.equals(e.getValue())) {
                changed++;
                add(sample, e.getKey(), "changed");
            }
        }
        for (String k : rb.keySet()) {
            if (!ra.containsKey(k)) {
                added++;
                add(sample, k, "added");
            }
        }
        return new Result(database, ta.display(), added, removed, changed, sample, null);
    }

    /** The groups (ranges or buckets) whose count or XOR differ, or that one side has and the other not; sorted. */
    static List<Long> differing(Map<Long, long[]> from, Map<Long, long[]> to) {
        java.util.TreeSet<Long> ids = new java.util.TreeSet<>(from.keySet());
        ids.addAll(to.keySet());
        List<Long> out = new ArrayList<>();
        for (long i : ids) {
            long[] x = from.get(i);
            long[] y = to.get(i);
            if (x == null || y == null || x[0] != y[0] || x[1] != y[1]) {
                out.add(i);
            }
        }
        return out;
    }

    /**
     * How the first pass cuts a heap of {@code blocks} blocks into ranges: {@code width} blocks a
     * range, {@code ranges} ranges (the last may be shorter; the side with more blocks decides, so a
     * range means the same blocks on both sides).
     */
    record RangePlan(long width, long ranges) {
        static RangePlan of(long blocks, long buckets) {
            long width = Math.max(1, (blocks + buckets - 1) / buckets);
            return new RangePlan(width, Math.max(1, (blocks + width - 1) / width));
        }

        /** SQL: the range of row {@code t}: its block number (from {@code ctid}) divided by the width. */
        String rangeExpr() {
            return "((t.ctid::text::point)[0]::bigint / " + width + ")";
        }

        /** Whether reading the differing ranges back beats the key-hash fallback: at most half of them differ. */
        boolean worthReading(int differing) {
            return differing * 2L <= ranges;
        }

        /** Sorted differing range ids as block runs {@code [from, to)}, adjacent ranges merged. */
        List<long[]> runs(List<Long> differing) {
            List<long[]> out = new ArrayList<>();
            long[] run = null;
            for (long id : differing) {
                if (run != null && run[1] == id * width) {
                    run[1] = (id + 1) * width;
                } else {
                    run = new long[]{id * width, (id + 1) * width};
                    out.add(run);
                }
            }
            return out;
        }
    }

    /**
     * (key text, row hash) of every row in the block runs, through TID range scans, at most
     * {@link #RUNS_PER_STATEMENT} runs per statement, each statement ordered by key.
     */
    private static Map<String, Long> rangeRows(Connection c, Table t, String keyExpr, String rowHash, List<long[]> runs)
            throws SQLException {
        Map<String, Long> out = new LinkedHashMap<>();
        for (int i = 0; i < runs.size(); i += RUNS_PER_STATEMENT) {
            StringBuilder sql = new StringBuilder("SELECT k, h FROM (");
            for (int j = i; j < Math.min(runs.size(), i + RUNS_PER_STATEMENT); j++) {
                long[] run = runs.get(j);
                sql.append(j == i ? "" : " UNION ALL ").append("SELECT ").append(keyExpr).append(" AS k, ").append(rowHash)
                        .append(" AS h FROM ").append(t.qualified()).append(" t WHERE t.ctid >= '(").append(run[0])
                        .append(",0)'::tid AND t.ctid < '(").append(Math.min(run[1], 0xFFFFFFFFL)).append(",0)'::tid");
            }
            sql.append(") s ORDER BY 1");
            try (Statement st = c.createStatement()) {
                st.setFetchSize(10_000);
                try (ResultSet rs = st.executeQuery(sql.toString())) {
                    while (rs.next()) {
                        out.put(rs.getString(1), rs.getLong(2));
                    }
                }
            }
        }
        return out;
    }

    private static void add(List<Sample> sample, String key, String change) {
        if (sample.size() < SAMPLE) {
            sample.add(new Sample(key, change));
        }
    }

    static long buckets(double tuples) {
        long want = (long) Math.max(16, Math.min(65536, tuples / 64));
        return Long.highestOneBit(want - 1) << 1;
    }

    private static Map<Long, long[]> bucketHashes(Connection c, Table t, String bucketExpr, String rowHash) throws SQLException {
        Map<Long, long[]> out = new HashMap<>();
        String sql = "SELECT " + bucketExpr + ", count(*), bit_xor(" + rowHash + ") FROM " + t.qualified() + " t GROUP BY 1";
        try (Statement st = c.createStatement()) {
            // the planner cannot estimate the groups of an expression (it assumes one per row) and would
            // sort the whole rows (spilling them to pgsql_tmp) to aggregate; the groups are few
            st.execute("SET enable_sort = off");
            try (ResultSet rs = st.executeQuery(sql)) {
                while (rs.next()) {
                    out.put(rs.getLong(1), new long[]{rs.getLong(2), rs.getLong(3)});
                }
            } finally {
                st.execute("RESET enable_sort");
            }
        }
        return out;
    }

    private static Map<String, Long> rows(Connection c, Table t, String keyExpr, String bucketExpr, String rowHash,
                                          List<Long> buckets) throws SQLException {
        Map<String, Long> out = new LinkedHashMap<>();
        String sql = "SELECT " + keyExpr + ", " + rowHash + " FROM " + t.qualified() + " t WHERE " + bucketExpr
                + " = ANY(?) ORDER BY 1";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            Array arr = c.createArrayOf("bigint", buckets.toArray());
            ps.setArray(1, arr);
            ps.setFetchSize(10_000);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), rs.getLong(2));
                }
            }
        }
        return out;
    }

    private static long count(Connection c, Table t) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + t.qualified())) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static Map<String, Table> tables(Connection c) throws SQLException {
        String sql = """
                SELECT n.nspname, c.relname,
                  coalesce((SELECT array_agg(a.attname::text ORDER BY k.ord)
                              FROM pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord), pg_attribute a
                             WHERE i.indrelid = c.oid AND i.indisprimary AND a.attrelid = c.oid AND a.attnum = k.attnum),
                           '{}'::text[]),
                  (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
                    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
                  c.reltuples, pg_relation_size(c.oid) / 8192
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                  AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
                ORDER BY 1, 2""";
        Map<String, Table> out = new LinkedHashMap<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                Table t = new Table(rs.getString(1), rs.getString(2), strings(rs.getArray(3)), strings(rs.getArray(4)),
                        rs.getDouble(5), rs.getLong(6));
                out.put(t.display(), t);
            }
        }
        return out;
    }

    private static List<String> strings(Array a) throws SQLException {
        if (a == null) {
            return List.of();
        }
        return List.of((String[]) a.getArray());
    }

    private static String rowExpr(List<String> columns) {
        StringBuilder sb = new StringBuilder("row(");
        for (int i = 0; i < columns.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append("t.").append(quote(columns.get(i)));
        }
        return sb.append(")").toString();
    }

    /**
     * {@code row(t."a"::text, t."b"::text, ...)}: every column as its text form, so that any type
     * hashes (text has an extended hash function; json, point, ... have none) and a row hashes as its
     * text would, without {@code record_out}'s quoting of the whole row (which took about 2/3 of the
     * aggregate scan of a table with a wide text column).
     */
    private static String textRowExpr(List<String> columns) {
        StringBuilder sb = new StringBuilder("row(");
        for (int i = 0; i < columns.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append("t.").append(quote(columns.get(i))).append("::text");
        }
        return sb.append(")").toString();
    }

    static String quote(String identifier) {
        return "\"" + identifier.replace("\"", "\"\"") + "\"";
    }

    static Connection connect(ComputeAddress address, String db) throws SQLException {
        Properties p = new Properties();
        p.setProperty("connectTimeout", "10");
        p.setProperty("ApplicationName", "forkline-diff");
        return ComputeConnections.connect(address, db, p);
    }

    /** The databases that accept connections, sorted. */
    static List<String> databases(ComputeAddress address) {
        List<String> out = new ArrayList<>();
        try (Connection c = connect(address, "postgres"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        } catch (SQLException e) {
            throw ApiException.unavailable("cannot list the databases of the compute at " + address + ": " + e.getMessage());
        }
        return out;
    }
}
