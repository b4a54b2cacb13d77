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
import io.forkline.storage.key.RelTag;
import io.forkline.storage.store.ChangedBlocks;

import java.util.ArrayList;
import java.util.BitSet;
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
 * <p><b>Changed pages first</b> ({@link ChangedPages}): both sides are points of this server's store,
 * which knows for every heap block which stored version each side reads
 * ({@link io.forkline.storage.store.PageStore#changedBlocks}). When the table's heap has the same
 * relfilenode on both sides (no {@code VACUUM FULL}, {@code CLUSTER}, {@code TRUNCATE} or rewriting
 * {@code ALTER TABLE} between them), is permanent, its TOAST table (if any) has no changed block, and at
 * most {@link #MAX_CHANGED_FRACTION} of its blocks changed, only the rows in the changed blocks are read
 * on each side ((key, row hash) pairs through TID range scans over runs of consecutive blocks) and
 * compared key by key as below; nothing else of the table is read. This is complete: a block not in the
 * list holds byte-identical tuples on both sides, and their visibility is the same on both (same
 * {@code xmin}/{@code xmax}; a transaction that could have committed on one side only after writing
 * them makes {@link ChangedPages} refuse the list). So a key whose visible tuple is in an unchanged
 * block on either side is the very same visible tuple on the other side (a primary key has one visible
 * tuple per snapshot): the key is equal on both and read on neither. Every key that differs therefore
 * has its visible tuple, on each side where it exists, in a changed block, and is read there: an
 * {@code UPDATE} or {@code DELETE} sets {@code xmax} in the old tuple's block and an {@code UPDATE} or
 * {@code INSERT} writes the new tuple's block on the side that made it. Extra listed blocks (hint bits,
 * pruning, vacuum, an {@code UPDATE} to the same value) only cost rows read. A TOAST value never changes
 * in place (a new value is a new heap tuple too), so changed TOAST blocks would not be needed; the
 * TOAST check is a margin. {@code method} in each result says which path answered.
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

    /**
     * One table's difference; counts are {@code null} when {@code note} says why it was not compared.
     *
     * @param method     how the rows to compare were found: {@link #CHANGED_PAGES}, {@link #RANGES} or
     *                   {@link #KEY_BUCKETS}; {@code null} when not compared
     * @param blocksRead with {@link #CHANGED_PAGES}: the heap blocks read on each side, else {@code null}
     */
    record Result(String database, String table, Long added, Long removed, Long changed, List<Sample> sample, String note,
                  String method, @com.fasterxml.jackson.annotation.JsonProperty("blocks_read") Long blocksRead) {
        Result(String database, String table, Long added, Long removed, Long changed, List<Sample> sample, String note) {
            this(database, table, added, removed, changed, sample, note, null, null);
        }
    }

    /** {@link Result#method}: only the heap blocks the store lists as changed were read ({@link ChangedPages}). */
    static final String CHANGED_PAGES = "changed-pages";
    /** {@link Result#method}: physical-range hashes, differing ranges read back. */
    static final String RANGES = "ranges";
    /** {@link Result#method}: key-hash buckets (the layouts diverged). */
    static final String KEY_BUCKETS = "key-buckets";
    /** Above this fraction of changed blocks the changed-pages path gives way to the hash scans. */
    static final double MAX_CHANGED_FRACTION = 0.25;

    /**
     * @param heap        the main fork as the store names it ({@code pg_relation_filenode}, the
     *                    database's OID and tablespace), or {@code null} for a relation that is not
     *                    permanent (unlogged, temporary: not in the store)
     * @param toast       the TOAST table's main fork, or {@code null} when the table has none
     */
    private record Table(String schema, String name, List<String> pk, List<String> columns, double tuples, long blocks,
                         RelTag heap, RelTag toast) {
        String qualified() {
            return quote(schema) + "." + quote(name);
        }

        String display() {
            return schema + "." + name;
        }
    }

    private DataDiff() {
    }

    /** Compares every user table of {@code database} on the two computes with the hash scans only. */
    static List<Result> of(String database, ComputeAddress from0, ComputeAddress to0) {
        return of(database, from0, to0, ChangedPages.none("not asked"));
    }

    /**
     * Compares every user table of {@code database} on the two computes, through {@code pages}' changed
     * block lists where they apply (see the class).
     */
    static List<Result> of(String database, ComputeAddress from0, ComputeAddress to0, ChangedPages pages) {
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
                    out.add(compare(database, a, b, ta, tb, pages));
                }
            }
            return out;
        } catch (SQLException e) {
            throw ApiException.unavailable("cannot compare the data of database '" + database + "': " + e.getMessage());
        }
    }

    private static Result compare(String database, Connection a, Connection b, Table ta, Table tb, ChangedPages pages)
            throws SQLException {
        List<String> common = new ArrayList<>();
        for (String c : ta.columns()) {
            if (tb.columns().contains(c)) {
                common.add(c);
            }
        }
        long buckets = buckets(Math.max(ta.tuples(), tb.tuples()));
        String keyExpr = ta.pk().size() == 1 ? "t." + quote(ta.pk().get(0)) + "::text" : rowExpr(ta.pk()) + "::text";
        String rowHash = "hash_record_extended(" + textRowExpr(common) + ", 0)";
        ChangedBlocks pageList = changedBlocks(ta, tb, pages);
        if (pageList != null) {
            List<long[]> runs = runs(pageList.changed());
            BothSides.Pair<Map<String, Long>> r = runs.isEmpty() ? new BothSides.Pair<>(Map.of(), Map.of())
                    : BothSides.run(() -> rangeRows(a, ta, keyExpr, rowHash, runs), () -> rangeRows(b, tb, keyExpr, rowHash, runs), null);
            return result(database, ta, r, CHANGED_PAGES, (long) pageList.changed().cardinality());
        }
        RangePlan plan = RangePlan.of(Math.max(ta.blocks(), tb.blocks()), buckets);
        BothSides.Pair<Map<Long, long[]>> h = BothSides.run(() -> bucketHashes(a, ta, plan.rangeExpr(), rowHash),
                () -> bucketHashes(b, tb, plan.rangeExpr(), rowHash), null);
        List<Long> differing = differing(h.from(), h.to());
        BothSides.Pair<Map<String, Long>> r;
        String method = RANGES;
        if (differing.isEmpty()) {
            r = new BothSides.Pair<>(Map.of(), Map.of());
        } else if (plan.worthReading(differing.size())) {
            List<long[]> runs = plan.runs(differing);
            r = BothSides.run(() -> rangeRows(a, ta, keyExpr, rowHash, runs), () -> rangeRows(b, tb, keyExpr, rowHash, runs), null);
        } else {
            method = KEY_BUCKETS;
            String bucketExpr = "(hashtextextended(" + keyExpr + ", 1) & " + (buckets - 1) + ")";
            BothSides.Pair<Map<Long, long[]>> hk = BothSides.run(() -> bucketHashes(a, ta, bucketExpr, rowHash),
                    () -> bucketHashes(b, tb, bucketExpr, rowHash), null);
            List<Long> keyBuckets = differing(hk.from(), hk.to());
            r = keyBuckets.isEmpty() ? new BothSides.Pair<>(Map.of(), Map.of())
                    : BothSides.run(() -> rows(a, ta, keyExpr, bucketExpr, rowHash, keyBuckets),
                    () -> rows(b, tb, keyExpr, bucketExpr, rowHash, keyBuckets), null);
        }
        return result(database, ta, r, method, null);
    }

    /** Counts and samples the differences of the (key, row hash) pairs read on each side. */
    private static Result result(String database, Table ta, BothSides.Pair<Map<String, Long>> r, String method, Long blocksRead) {
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
        return new Result(database, ta.display(), added, removed, changed, sample, null, method, blocksRead);
    }

    /**
     * The store's list of heap blocks that may differ between the sides, when it can decide the diff
     * (see the class): same heap (and TOAST) relfilenode on both sides, a permanent table, existing on
     * both points, a TOAST table without changed blocks, at most {@link #MAX_CHANGED_FRACTION} of the
     * blocks changed. Otherwise {@code null}: the hash scans decide.
     */
    private static ChangedBlocks changedBlocks(Table ta, Table tb, ChangedPages pages) {
        if (pages == null || pages.unavailable() != null || ta.heap() == null || !ta.heap().equals(tb.heap())
                || !java.util.Objects.equals(ta.toast(), tb.toast())) {
            return null;
        }
        ChangedBlocks heap = pages.changed(ta.heap());
        if (heap == null || !heap.existsOnBoth()
                || heap.changed().cardinality() > MAX_CHANGED_FRACTION * Math.max(1, heap.maxBlocks())) {
            return null;
        }
        if (ta.toast() != null) {
            ChangedBlocks toast = pages.changed(ta.toast());
            if (toast == null || !toast.existsOnBoth() || !toast.changed().isEmpty()) {
                return null;
            }
        }
        return heap;
    }

    /** The set blocks as runs {@code [from, to)} of consecutive block numbers. */
    static List<long[]> runs(BitSet blocks) {
        List<long[]> out = new ArrayList<>();
        for (int from = blocks.nextSetBit(0); from >= 0; ) {
            int to = blocks.nextClearBit(from);
            out.add(new long[]{from, to});
            from = to < 0 ? -1 : blocks.nextSetBit(to);
        }
        return out;
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
                  c.reltuples, pg_relation_size(c.oid) / 8192,
                  c.relpersistence = 'p',
                  CASE c.reltablespace WHEN 0 THEN d.dattablespace ELSE c.reltablespace END,
                  d.oid, pg_relation_filenode(c.oid),
                  (SELECT CASE x.reltablespace WHEN 0 THEN d.dattablespace ELSE x.reltablespace END FROM pg_class x
                    WHERE x.oid = c.reltoastrelid),
                  pg_relation_filenode(nullif(c.reltoastrelid, 0))
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  JOIN pg_database d ON d.datname = current_database()
                WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                  AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
                ORDER BY 1, 2""";
        Map<String, Table> out = new LinkedHashMap<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                boolean permanent = rs.getBoolean(7);
                int db = (int) rs.getLong(9);
                RelTag heap = permanent && rs.getObject(10) != null
                        ? new RelTag((int) rs.getLong(8), db, (int) rs.getLong(10), RelTag.MAIN_FORK) : null;
                RelTag toast = rs.getObject(12) == null ? null
                        : new RelTag((int) rs.getLong(11), db, (int) rs.getLong(12), RelTag.MAIN_FORK);
                Table t = new Table(rs.getString(1), rs.getString(2), strings(rs.getArray(3)), strings(rs.getArray(4)),
                        rs.getDouble(5), rs.getLong(6), heap, toast);
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
