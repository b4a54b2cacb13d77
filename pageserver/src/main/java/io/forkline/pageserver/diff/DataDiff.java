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
 * Rows added, removed and changed per table with a primary key, found by comparing hashes of key
 * ranges instead of pulling both tables.
 *
 * <p>The keys are split into B buckets by {@code hashtextextended(key::text, 1) & (B-1)} (B a power
 * of two, about 64 rows a bucket from {@code pg_class.reltuples}, 16 to 65536). Each side answers one
 * aggregate scan: per bucket the row count and the XOR of {@code hash_record_extended(row(c1::text,
 * c2::text, ...), 0)} over the columns both sides have (by name). Only buckets whose count or XOR differ are read again,
 * as (key, row hash) pairs (a second scan that hashes the key of every row but the whole row only in
 * those buckets), and compared key by key. So a 1 GB table with 10 changed rows costs two scans on
 * each side and about 10 × 64 rows over the wire. The two sides run each scan at the same time
 * ({@link BothSides}). A column added or dropped is a
 * schema change and does not make every row "changed". Tables without a primary key, or whose
 * primary keys differ between the sides, are listed with a {@code note} and no counts.
 */
final class DataDiff {
    /** Keys listed per table at most. */
    static final int SAMPLE = 10;

    /** A sampled row difference: the key (its text) and {@code added}, {@code removed} or {@code changed}. */
    record Sample(String key, String change) {
    }

    /** One table's difference; counts are {@code null} when {@code note} says why it was not compared. */
    record Result(String database, String table, Long added, Long removed, Long changed, List<Sample> sample, String note) {
    }

    private record Table(String schema, String name, List<String> pk, List<String> columns, double tuples) {
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
        String bucketExpr = "(hashtextextended(" + keyExpr + ", 1) & " + (buckets - 1) + ")";
        String rowHash = "hash_record_extended(" + textRowExpr(common) + ", 0)";
        BothSides.Pair<Map<Long, long[]>> h = BothSides.run(() -> bucketHashes(a, ta, bucketExpr, rowHash),
                () -> bucketHashes(b, tb, bucketExpr, rowHash), null);
        Map<Long, long[]> ha = h.from();
        Map<Long, long[]> hb = h.to();
        List<Long> differing = new ArrayList<>();
        for (long i = 0; i < buckets; i++) {
            long[] x = ha.get(i);
            long[] y = hb.get(i);
            if (x == null && y == null) {
                continue;
            }
            if (x == null || y == null || x[0] != y[0] || x[1] != y[1]) {
                differing.add(i);
            }
        }
        long added = 0;
        long removed = 0;
        long changed = 0;
        List<Sample> sample = new ArrayList<>();
        if (!differing.isEmpty()) {
            BothSides.Pair<Map<String, Long>> r = BothSides.run(() -> rows(a, ta, keyExpr, bucketExpr, rowHash, differing),
                    () -> rows(b, tb, keyExpr, bucketExpr, rowHash, differing), null);
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
        }
        return new Result(database, ta.display(), added, removed, changed, sample, null);
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
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.put(rs.getLong(1), new long[]{rs.getLong(2), rs.getLong(3)});
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
                  c.reltuples
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                  AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
                ORDER BY 1, 2""";
        Map<String, Table> out = new LinkedHashMap<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                Table t = new Table(rs.getString(1), rs.getString(2), strings(rs.getArray(3)), strings(rs.getArray(4)),
                        rs.getDouble(5));
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
