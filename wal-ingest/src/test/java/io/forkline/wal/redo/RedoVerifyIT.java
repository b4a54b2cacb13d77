package io.forkline.wal.redo;

import io.forkline.storage.id.TenantId;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;
import io.forkline.storage.store.TimelineWriter;
import io.forkline.storage.timeline.TimelineMetadata;
import io.forkline.wal.ingest.WalIngest;
import io.forkline.wal.record.BlockReference;
import io.forkline.wal.record.WalDecoder;
import io.forkline.wal.record.WalRecord;
import io.forkline.wal.testing.TestCluster;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Verify mode over real PostgreSQL 15 workloads: a cluster with {@code wal_consistency_checking=all}
 * runs pgbench (init and TPC-B), an OLTP mix on a table with two secondary indexes and TOASTed values,
 * updates that PostgreSQL logs with prefix/suffix compression, {@code INSERT ... ON CONFLICT} (speculative
 * insertions confirmed and super-deleted), row locks that create multixacts, sequences, a bloom index
 * (generic WAL), BRIN and hash indexes ({@link #hashWorkload}), bulk deletes with VACUUM, and VACUUM
 * FREEZE, with a CHECKPOINT in the middle so that
 * real full-page images are mixed in. Its WAL is decoded and ingested into a fresh store with verify mode
 * on: every block Java redoes is compared with PostgreSQL's post-image (masked and strict); a mismatch
 * fails ingest (with a fixture file). Runs with data checksums on and off and every {@code wal_compression}.
 */
class RedoVerifyIT {
    private static final int SEG = Lsn.WAL_SEGMENT_SIZE;

    @ParameterizedTest(name = "checksums={0} wal_compression={1}")
    @CsvSource({"true,lz4", "false,pglz", "true,zstd", "false,off"})
    void redoMatchesPostImages(boolean checksums, String compression) throws Exception {
        Verified v = verify("all", checksums, compression, RedoVerifyIT::workload);
        assertThat(v.verified()).isGreaterThan(10_000);
        Map<String, Long> types = v.types();
        for (String type : List.of("Heap/INSERT", "Heap/INSERT+INIT", "Heap/HOT_UPDATE", "Heap/UPDATE",
                "Heap/DELETE", "Heap/LOCK", "Heap/INPLACE", "Heap/CONFIRM", "Heap2/PRUNE", "Heap2/VACUUM",
                "Heap2/FREEZE_PAGE", "Heap2/VISIBLE", "Heap2/MULTI_INSERT", "Heap2/MULTI_INSERT+INIT",
                "Sequence/LOG", "Generic/GENERIC", "Btree/INSERT_LEAF", "Btree/INSERT_UPPER",
                "Btree/SPLIT_R", "Btree/SPLIT_L", "Btree/NEWROOT", "Btree/DEDUP", "Btree/VACUUM",
                "Btree/DELETE", "Btree/MARK_PAGE_HALFDEAD", "Btree/UNLINK_PAGE", "Btree/INSERT_POST",
                "Heap2/LOCK_UPDATED", "Btree/UNLINK_PAGE_META", "Btree/INSERT_META", "BRIN/CREATE_INDEX",
                "BRIN/REVMAP_EXTEND", "BRIN/SAMEPAGE_UPDATE", "BRIN/DESUMMARIZE", "Hash/INIT_META_PAGE",
                "Hash/INIT_BITMAP_PAGE", "Hash/INSERT", "Hash/ADD_OVFL_PAGE", "Hash/SPLIT_ALLOCATE_PAGE",
                "Hash/SPLIT_COMPLETE", "Hash/MOVE_PAGE_CONTENTS", "Hash/SQUEEZE_PAGE", "Hash/DELETE",
                "Hash/SPLIT_CLEANUP", "Hash/UPDATE_META_PAGE", "Hash/VACUUM_ONE_PAGE")) {
            assertThat(types.getOrDefault(type, 0L)).as("records of %s verified", type).isPositive();
        }
        // Hash/SPLIT_PAGE is a full-page image by construction (REGBUF_FORCE_IMAGE): restored, nothing to compare
        System.out.printf("RedoVerifyIT checksums=%s wal_compression=%s: Hash/SPLIT_PAGE decoded %d (images)%n",
                checksums, compression, v.decoded().getOrDefault("Hash/SPLIT_PAGE", 0L));
        assertThat(v.decoded().getOrDefault("Hash/SPLIT_PAGE", 0L)).as("Hash/SPLIT_PAGE records").isPositive();
    }

    /**
     * GiST ({@link #gistWorkload}) with {@code wal_consistency_checking=gist}: only GiST records carry
     * post-images (heap and btree records are redone natively unchecked here; the test above checks
     * them), which keeps the WAL small. Every GiST record type that changes a page is verified;
     * {@code PAGE_REUSE} has no block and is only decoded; {@code ASSIGN_LSN} needs a permanent relation
     * that skips WAL ({@code wal_level=minimal}), which a cluster that streams WAL never has.
     */
    @ParameterizedTest(name = "checksums={0} wal_compression={1}")
    @CsvSource({"true,lz4", "false,pglz", "true,zstd", "false,off"})
    void gistRedoMatchesPostImages(boolean checksums, String compression) throws Exception {
        Verified v = verify("gist", checksums, compression, RedoVerifyIT::gistWorkload);
        for (String type : List.of("Gist/PAGE_UPDATE", "Gist/PAGE_SPLIT", "Gist/DELETE", "Gist/PAGE_DELETE")) {
            assertThat(v.types().getOrDefault(type, 0L)).as("records of %s verified", type).isPositive();
        }
        System.out.printf("RedoVerifyIT gist checksums=%s wal_compression=%s: Gist/PAGE_REUSE decoded %d (no block)%n",
                checksums, compression, v.decoded().getOrDefault("Gist/PAGE_REUSE", 0L));
        assertThat(v.decoded().getOrDefault("Gist/PAGE_REUSE", 0L)).as("Gist/PAGE_REUSE records").isPositive();
    }

    /**
     * SP-GiST ({@link #spgistWorkload}) with {@code wal_consistency_checking=spgist}: every SP-GiST
     * record type is verified.
     */
    @ParameterizedTest(name = "checksums={0} wal_compression={1}")
    @CsvSource({"true,lz4", "false,pglz", "true,zstd", "false,off"})
    void spgistRedoMatchesPostImages(boolean checksums, String compression) throws Exception {
        Verified v = verify("spgist", checksums, compression, RedoVerifyIT::spgistWorkload);
        for (String type : List.of("SPGist/ADD_LEAF", "SPGist/MOVE_LEAFS", "SPGist/ADD_NODE", "SPGist/SPLIT_TUPLE",
                "SPGist/PICKSPLIT", "SPGist/VACUUM_LEAF", "SPGist/VACUUM_ROOT", "SPGist/VACUUM_REDIRECT")) {
            assertThat(v.types().getOrDefault(type, 0L)).as("records of %s verified", type).isPositive();
        }
    }

    /** A workload run against a cluster in verify mode. */
    @FunctionalInterface
    interface Workload {
        void run(TestCluster c) throws Exception;
    }

    /**
     * What one verify run checked.
     *
     * @param records  records decoded
     * @param verified records whose redone blocks were compared with their post-images
     * @param types    verified records per record type
     * @param decoded  decoded records per record type of the natively redone resource managers
     */
    record Verified(long records, long verified, Map<String, Long> types, Map<String, Long> decoded) {
    }

    /**
     * Runs {@code workload} on a fresh cluster with {@code wal_consistency_checking=consistency}, then
     * ingests its WAL from the first checkpoint in verify mode (a mismatch fails ingest) and prints the
     * counts per record type.
     */
    static Verified verify(String consistency, boolean checksums, String compression, Workload workload)
            throws Exception {
        long before = RedoVerifier.totalRecordsVerified();
        Map<String, Long> typesBefore = RedoVerifier.recordsVerified();
        try (TestCluster cluster = TestCluster.create("RedoVerifyIT")) {
            if (checksums) {
                cluster.initdb("-k");
            } else {
                cluster.initdb();
            }
            String control = cluster.pg().run(Duration.ofSeconds(30), "pg_controldata", "-D",
                    cluster.data().toString());
            Matcher m = Pattern.compile("Latest checkpoint location:\\s+([0-9A-F]+/[0-9A-F]+)").matcher(control);
            assertThat(m.find()).as(control).isTrue();
            long startLsn = Lsn.parse(m.group(1));
            cluster.start("wal_consistency_checking=" + consistency, "wal_compression=" + compression,
                    "wal_level=replica", "fsync=off", "max_wal_size=4GB", "wal_keep_size=4GB",
                    "checkpoint_timeout=3600", "autovacuum=off");
            workload.run(cluster);
            cluster.stop();
            Map<String, Long> decoded = new TreeMap<>();
            long records = ingest(cluster, startLsn, checksums, decoded);
            long verified = RedoVerifier.totalRecordsVerified() - before;
            Map<String, Long> types = new TreeMap<>(RedoVerifier.recordsVerified());
            typesBefore.forEach((k, v) -> types.merge(k, -v, Long::sum));
            types.values().removeIf(n -> n == 0);
            System.out.printf("RedoVerifyIT consistency=%s checksums=%s wal_compression=%s: %d records decoded, %d verified: %s%n",
                    consistency, checksums, compression, records, verified, types);
            return new Verified(records, verified, types, decoded);
        }
    }

    /**
     * Verify mode over the GIN workload alone ({@link #ginWorkload}): every Gin record type Java redoes
     * is compared with PostgreSQL's post-images; {@code SPLIT}'s left, right and root pages and
     * {@code VACUUM_PAGE} are forced full-page images that redo only restores (a non-leaf {@code SPLIT}'s
     * child, block 3, is redone and compared).
     */
    @ParameterizedTest(name = "gin checksums={0} wal_compression={1}")
    @CsvSource({"true,lz4", "false,off"})
    void ginRedoMatchesPostImages(boolean checksums, String compression) throws Exception {
        long before = RedoVerifier.totalRecordsVerified();
        Map<String, Long> typesBefore = RedoVerifier.recordsVerified();
        try (TestCluster cluster = TestCluster.create("RedoVerifyGinIT")) {
            if (checksums) {
                cluster.initdb("-k");
            } else {
                cluster.initdb();
            }
            String control = cluster.pg().run(Duration.ofSeconds(30), "pg_controldata", "-D",
                    cluster.data().toString());
            Matcher m = Pattern.compile("Latest checkpoint location:\\s+([0-9A-F]+/[0-9A-F]+)").matcher(control);
            assertThat(m.find()).as(control).isTrue();
            long startLsn = Lsn.parse(m.group(1));
            cluster.start("wal_consistency_checking=all", "wal_compression=" + compression, "wal_level=replica",
                    "fsync=off", "max_wal_size=4GB", "wal_keep_size=4GB", "checkpoint_timeout=3600",
                    "autovacuum=off");
            ginWorkload(cluster);
            cluster.stop();
            Map<String, Long> decoded = new TreeMap<>();
            long records = ingest(cluster, startLsn, checksums, decoded);
            long verified = RedoVerifier.totalRecordsVerified() - before;
            Map<String, Long> types = new TreeMap<>(RedoVerifier.recordsVerified());
            typesBefore.forEach((k, v) -> types.merge(k, -v, Long::sum));
            types.values().removeIf(v -> v == 0);
            Map<String, Long> gin = new TreeMap<>(decoded);
            gin.keySet().removeIf(k -> !k.startsWith("Gin"));
            System.out.printf("RedoVerifyIT gin checksums=%s wal_compression=%s: %d records decoded, %d verified: %s%n"
                    + "  Gin records decoded, and kinds / segment actions of those redone: %s%n",
                    checksums, compression, records, verified, types, gin);
            for (String type : List.of("Gin/CREATE_PTREE", "Gin/INSERT", "Gin/SPLIT", "Gin/VACUUM_DATA_LEAF_PAGE",
                    "Gin/DELETE_PAGE", "Gin/UPDATE_META_PAGE", "Gin/INSERT_LISTPAGE", "Gin/DELETE_LISTPAGE")) {
                assertThat(types.getOrDefault(type, 0L)).as("records of %s verified", type).isPositive();
            }
            for (String type : List.of("Gin/VACUUM_PAGE", "Gin/segment ADDITEMS",
                    "Gin/segment INSERT", "Gin/segment REPLACE", "Gin/segment DELETE", "Gin/INSERT entry leaf",
                    "Gin/INSERT entry leaf replace", "Gin/INSERT entry internal", "Gin/INSERT data leaf",
                    "Gin/INSERT data internal")) {
                assertThat(decoded.getOrDefault(type, 0L)).as("records of %s", type).isPositive();
            }
        }
    }

    /**
     * GIN: an int[] index built on 30,000 rows (posting trees and a large entry tree from the build),
     * then direct inserts ({@code fastupdate = off}): a key in every row (posting-tree leaf recompress,
     * data splits, internal posting items), a new key that grows its entry posting list until it
     * becomes a posting tree ({@code CREATE_PTREE}), a unique key per row (entry inserts, entry
     * splits, downlinks); a range delete + VACUUM (empty posting-tree leaves deleted, partly emptied
     * leaves and entry pages vacuumed); inserts into the freed heap space (items added to middle
     * segments, segments re-split). A second table with jsonb ({@code jsonb_ops} and
     * {@code jsonb_path_ops}), tsvector and pg_trgm indexes, two of them with the pending list
     * ({@code fastupdate = on}, 64 kB limit: list pages, metapage updates, cleanups that move the
     * entries and delete list pages), updates, deletes and VACUUM. A third with ~900-byte keys, so that
     * internal entry pages split too.
     */
    static void ginWorkload(TestCluster c) throws Exception {
        try (Connection conn = connect(c); Statement st = conn.createStatement()) {
            st.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm");
            st.execute("CREATE TABLE gx (id int, a int[], pad text) WITH (autovacuum_enabled = off)");
            copyIn(conn, "gx", 1, 30000, i -> i + "\t{1," + (100 + i % 10) + "," + (100000 + i) + "}\tp" + i % 7);
            st.execute("CREATE INDEX gx_a ON gx USING gin (a) WITH (fastupdate = off)");
            copyIn(conn, "gx", 30001, 34000, i -> i + "\t{1,2," + (100000 + i) + "}\tq");
            st.execute("DELETE FROM gx WHERE id BETWEEN 3000 AND 24000");
            st.execute("DELETE FROM gx WHERE id % 7 = 0");
            st.execute("VACUUM gx");
            copyIn(conn, "gx", 40001, 43000, i -> i + "\t{1,2," + (100000 + i % 5000) + "}\tr");

            st.execute("CREATE TABLE gj (id int, j jsonb, t tsvector, s text) WITH (autovacuum_enabled = off)");
            st.execute("CREATE INDEX gj_j ON gj USING gin (j) WITH (fastupdate = on, gin_pending_list_limit = 64)");
            st.execute("CREATE INDEX gj_jp ON gj USING gin (j jsonb_path_ops) WITH (fastupdate = off)");
            st.execute("CREATE INDEX gj_t ON gj USING gin (t) WITH (fastupdate = on, gin_pending_list_limit = 64)");
            st.execute("CREATE INDEX gj_s ON gj USING gin (s gin_trgm_ops) WITH (fastupdate = off)");
            copyIn(conn, "gj", 1, 1500, i -> i + "\t{\"k\": " + i % 10 + ", \"tags\": [\"a" + i % 20
                    + "\", \"b\"], \"n\": " + i + "}\t'common' 'w" + i % 40 + "' 'x" + i + "'\titem" + i % 300);
            st.execute("CHECKPOINT"); // full-page images of what follows are mixed in
            st.execute("UPDATE gj SET j = j || '{\"u\": true}' WHERE id % 5 = 0");
            st.execute("DELETE FROM gj WHERE id % 3 = 0");
            st.execute("SELECT gin_clean_pending_list('gj_t')");
            st.execute("VACUUM gj");
            copyIn(conn, "gj", 2001, 2600, i -> i + "\t{\"k\": " + i % 10 + "}\t'common' 'y" + i + "'\titem" + i % 300);
            st.execute("VACUUM gj");

            // keys of ~900 bytes (incompressible hex): 8 per entry page, also on internal pages, so
            // internal entry pages split too (SPLIT clears the child's GIN_INCOMPLETE_SPLIT, block 3)
            st.execute("CREATE TABLE gl (id int, t text[]) WITH (autovacuum_enabled = off)");
            st.execute("CREATE INDEX gl_t ON gl USING gin (t) WITH (fastupdate = off)");
            st.execute("INSERT INTO gl SELECT g, ARRAY[(SELECT string_agg(md5((g * 7919 % 1000)::text || x::text), '') "
                    + "FROM generate_series(1, 28) x)] FROM generate_series(1, 400) g");
        }
    }

    /** Rows {@code line(i)} for {@code i} in {@code [from, to]} into {@code table} by COPY (one heap MULTI_INSERT per page). */
    private static void copyIn(Connection conn, String table, int from, int to, java.util.function.IntFunction<String> line)
            throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = from; i <= to; i++) {
            sb.append(line.apply(i)).append('\n');
        }
        conn.unwrap(org.postgresql.PGConnection.class).getCopyAPI()
                .copyIn("COPY " + table + " FROM STDIN", new java.io.StringReader(sb.toString()));
    }

    private static Connection connect(TestCluster c) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + c.port() + "/postgres?user=postgres");
    }

    private static void pgbench(TestCluster c, String... args) {
        List<String> a = new ArrayList<>(c.connectionArgs());
        a.addAll(List.of(args));
        a.add("postgres");
        c.pg().run(Duration.ofMinutes(5), "pgbench", a.toArray(String[]::new));
    }

    private static void workload(TestCluster c) throws Exception {
        pgbench(c, "-i", "-s", "2", "-q");
        try (Connection conn = connect(c); Statement st = conn.createStatement()) {
            st.execute("CHECKPOINT");
        }
        pgbench(c, "-c", "4", "-j", "2", "-T", "6");
        Random rnd = new Random(42);
        try (Connection conn = connect(c); Statement st = conn.createStatement()) {
            // OLTP on a table with two secondary indexes and TOASTed values
            st.execute("CREATE TABLE oltp (id int PRIMARY KEY, k int, s text, pad text, big text)");
            st.execute("CREATE INDEX oltp_k ON oltp (k)");
            st.execute("CREATE INDEX oltp_s ON oltp (s)");
            st.execute("INSERT INTO oltp SELECT g, g % 97, md5(g::text), repeat('p', 120), "
                    + "CASE WHEN g % 50 = 0 THEN (SELECT string_agg(md5(x::text), '') FROM generate_series(1, 200) x) END "
                    + "FROM generate_series(1, 20000) g");
            try (PreparedStatement upd = conn.prepareStatement("UPDATE oltp SET k = k + 1 WHERE id = ?");
                 PreparedStatement hot = conn.prepareStatement("UPDATE oltp SET pad = ? WHERE id = ?");
                 PreparedStatement del = conn.prepareStatement("DELETE FROM oltp WHERE id = ?");
                 PreparedStatement ins = conn.prepareStatement(
                         "INSERT INTO oltp VALUES (?, ?, md5(?::text), repeat('q', 100), NULL)")) {
                for (int i = 0; i < 3000; i++) {
                    int id = 1 + rnd.nextInt(20000);
                    switch (i % 4) {
                        case 0 -> {
                            upd.setInt(1, id);
                            upd.executeUpdate();
                        }
                        case 1 -> {
                            // same-length change in the middle of a long row: prefix/suffix compression
                            hot.setString(1, "p".repeat(50) + (char) ('a' + rnd.nextInt(26)) + "p".repeat(69));
                            hot.setInt(2, id);
                            hot.executeUpdate();
                        }
                        case 2 -> {
                            del.setInt(1, id);
                            del.executeUpdate();
                        }
                        default -> {
                            ins.setInt(1, 100_000 + i);
                            ins.setInt(2, i % 97);
                            ins.setInt(3, i);
                            ins.executeUpdate();
                        }
                    }
                }
            }
            // INSERT ... ON CONFLICT: confirmed speculative insertions, updates of conflicting rows,
            // and super-deletions when two sessions race for the same key
            st.execute("CREATE TABLE upsert (id int PRIMARY KEY, n int)");
            st.execute("INSERT INTO upsert SELECT g, 0 FROM generate_series(1, 500) g ON CONFLICT DO NOTHING");
            st.execute("INSERT INTO upsert SELECT g, 1 FROM generate_series(250, 1000) g "
                    + "ON CONFLICT (id) DO UPDATE SET n = upsert.n + excluded.n");
            st.execute("INSERT INTO upsert SELECT g, 1 FROM generate_series(900, 1200) g ON CONFLICT DO NOTHING");
            // sequences
            st.execute("CREATE SEQUENCE seq1 CACHE 1");
            st.execute("SELECT nextval('seq1') FROM generate_series(1, 200)");
            st.execute("CREATE TABLE withserial (id serial PRIMARY KEY, v int)");
            st.execute("INSERT INTO withserial (v) SELECT g FROM generate_series(1, 300) g");
            // generic WAL: a bloom index
            st.execute("CREATE EXTENSION bloom");
            st.execute("CREATE TABLE bl (a int, b int)");
            st.execute("INSERT INTO bl SELECT g, g * 7 FROM generate_series(1, 2000) g");
            st.execute("CREATE INDEX bl_idx ON bl USING bloom (a, b)");
            st.execute("INSERT INTO bl SELECT g, g FROM generate_series(1, 3000) g");
            // BRIN: build (metapage, two revmap pages with pages_per_range 1), summaries of new ranges,
            // widened ranges (same-page updates), grown minmax-multi summaries, desummarize/resummarize
            // (rows come by COPY: one MULTI_INSERT per page, so its images stay small with wal_compression=off)
            st.execute("CREATE TABLE br (id int, v int) WITH (fillfactor = 100, autovacuum_enabled = off)");
            st.execute("COPY br FROM PROGRAM 'awk \"BEGIN { for (i = 1; i <= 60000; i++) print i \\\"\\t\\\" i % 1000 }\"'");
            st.execute("CREATE INDEX br_mm ON br USING brin (id) WITH (pages_per_range = 1)");
            st.execute("CREATE INDEX br_multi ON br USING brin (v int4_minmax_multi_ops) WITH (pages_per_range = 4)");
            st.execute("COPY br FROM PROGRAM 'awk \"BEGIN { for (i = 60001; i <= 70000; i++) print i \\\"\\t\\\" i % 1000 }\"'");
            st.execute("SELECT brin_summarize_new_values('br_mm')");
            st.execute("SELECT brin_summarize_new_values('br_multi')");
            st.execute("UPDATE br SET id = -id WHERE id % 5000 = 0");
            st.execute("UPDATE br SET v = v + 100000 * (id % 7) WHERE id % 97 = 0");
            st.execute("SELECT brin_desummarize_range('br_mm', 10)");
            st.execute("SELECT brin_desummarize_range('br_mm', 20)");
            st.execute("SELECT brin_summarize_range('br_mm', 10)");
            st.execute("SELECT brin_desummarize_range('br_multi', 8)");
        }
        hashWorkload(c);
        // row locks: two FOR SHARE lockers make multixacts; FOR UPDATE and FOR KEY SHARE too
        try (Connection a = connect(c); Connection b = connect(c);
             Statement sa = a.createStatement(); Statement sb = b.createStatement()) {
            a.setAutoCommit(false);
            b.setAutoCommit(false);
            sa.executeQuery("SELECT * FROM oltp WHERE id BETWEEN 100 AND 300 FOR SHARE").close();
            sb.executeQuery("SELECT * FROM oltp WHERE id BETWEEN 200 AND 400 FOR KEY SHARE").close();
            a.commit();
            sb.executeUpdate("UPDATE oltp SET pad = 'locked' WHERE id BETWEEN 250 AND 260");
            b.commit();
            sa.executeQuery("SELECT * FROM oltp WHERE id BETWEEN 500 AND 520 FOR UPDATE").close();
            a.rollback();
        }
        // Heap2/LOCK_UPDATED: a FOR KEY SHARE locker follows the update chain of a row that another
        // transaction updated (non-key column) and has not committed: heap_lock_updated_tuple_rec
        // locks the newer version too.
        try (Connection a = connect(c); Connection b = connect(c);
             Statement sa = a.createStatement(); Statement sb = b.createStatement()) {
            sa.execute("CREATE TABLE chain (id int PRIMARY KEY, v int)");
            sa.execute("INSERT INTO chain SELECT g, 0 FROM generate_series(1, 50) g");
            a.setAutoCommit(false);
            b.setAutoCommit(false);
            sa.executeUpdate("UPDATE chain SET v = v + 1 WHERE id BETWEEN 1 AND 20");
            sb.executeQuery("SELECT * FROM chain WHERE id BETWEEN 1 AND 20 FOR KEY SHARE").close();
            a.commit();
            b.commit();
        }
        try (Connection conn = connect(c); Statement st = conn.createStatement()) {
            // Heap/DELETE with XLH_DELETE_IS_PARTITION_MOVE: an UPDATE of the partition key moves rows.
            st.execute("CREATE TABLE parted (id int, part int) PARTITION BY LIST (part)");
            st.execute("CREATE TABLE parted_1 PARTITION OF parted FOR VALUES IN (1)");
            st.execute("CREATE TABLE parted_2 PARTITION OF parted FOR VALUES IN (2)");
            st.execute("INSERT INTO parted SELECT g, 1 FROM generate_series(1, 200) g");
            st.execute("UPDATE parted SET part = 2 WHERE id % 2 = 0");
            // Btree/UNLINK_PAGE_META then Btree/INSERT_META: an index of exactly two leaves under the
            // root; VACUUM deletes the emptied leftmost leaf (its right sibling becomes the only page of
            // the leaf level, so the metapage's fast root moves down to it); then that lone leaf splits
            // and the insert into its parent updates the fast root again (_bt_insertonpg with
            // split_only_page).
            st.execute("CREATE TABLE fastroot (id int)");
            st.execute("CREATE INDEX fastroot_id ON fastroot (id)");
            st.execute("INSERT INTO fastroot SELECT g FROM generate_series(1, 600) g");
            st.execute("DELETE FROM fastroot WHERE id <= 450");
            st.execute("VACUUM fastroot");
            st.execute("INSERT INTO fastroot SELECT g FROM generate_series(601, 3000) g");
        }
        try (Connection conn = connect(c); Statement st = conn.createStatement()) {
            // btrees: splits up to new roots, deduplication, posting list splits, simple and bottom-up
            // deletion, page deletion (half-dead, unlink) by VACUUM
            st.execute("CREATE TABLE bt (id int, k int, t text)");
            st.execute("CREATE INDEX bt_id ON bt (id)");
            st.execute("CREATE INDEX bt_k ON bt (k)");
            st.execute("CREATE INDEX bt_t ON bt (t)");
            st.execute("INSERT INTO bt SELECT g, g % 10, md5(g::text) || repeat('x', 60) FROM generate_series(1, 30000) g");
            st.execute("DELETE FROM bt WHERE id BETWEEN 5000 AND 20000");
            st.execute("VACUUM bt");
            st.execute("INSERT INTO bt SELECT g, g % 10, md5(g::text) FROM generate_series(30001, 42000) g");
            st.execute("DELETE FROM bt WHERE id % 3 = 0 AND id > 30000");
            st.execute("SET enable_seqscan = off");
            st.execute("SET enable_bitmapscan = off");
            st.execute("SELECT count(*) FROM bt WHERE id > 30000");
            st.execute("SELECT count(*) FROM bt WHERE k >= 0");
            st.execute("RESET enable_seqscan");
            st.execute("RESET enable_bitmapscan");
            st.execute("INSERT INTO bt SELECT g, g % 10, md5(g::text) FROM generate_series(42001, 50000) g");
            for (int i = 0; i < 5; i++) {
                st.execute("UPDATE bt SET k = k + 1 WHERE id % 11 = " + i);
            }
            st.execute("VACUUM bt");
            // bulk deletes, pruning and vacuum, then freeze
            st.execute("DELETE FROM oltp WHERE id % 3 = 0");
            st.execute("SELECT count(*) FROM oltp");
            st.execute("VACUUM oltp");
            st.execute("UPDATE oltp SET k = k + 1 WHERE id % 5 = 0");
            st.execute("VACUUM FREEZE");
            st.execute("CHECKPOINT");
            st.execute("UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid % 100 = 0");
            st.execute("VACUUM pgbench_accounts");
        }
        pgbench(c, "-c", "2", "-T", "3");
    }

    /**
     * Hash index: a build on a populated table (metapage sized from the row estimate, bitmap page,
     * inserts); inserts that split buckets (fillfactor 10: a split every ~40 tuples, each with
     * SPLIT_ALLOCATE_PAGE, SPLIT_PAGE images, SPLIT_COMPLETE and the old bucket's cleanup, DELETE +
     * SPLIT_CLEANUP); a duplicated key that grows an overflow chain (ADD_OVFL_PAGE), moved by a
     * later split; deletes + VACUUM (DELETE on bucket and overflow pages, SQUEEZE_PAGE freeing
     * overflow pages, MOVE_PAGE_CONTENTS when a write page fills, UPDATE_META_PAGE); inserts reusing
     * freed overflow pages; and an insert into a full page whose tuples an index scan marked dead
     * (VACUUM_ONE_PAGE).
     */
    static void hashWorkload(TestCluster c) throws SQLException {
        try (Connection conn = connect(c); Statement st = conn.createStatement()) {
            st.execute("CREATE TABLE hx (id int, k int) WITH (autovacuum_enabled = off)");
            copyHx(st, 1, 300, "i", "i");
            st.execute("CREATE INDEX hx_k ON hx USING hash (k) WITH (fillfactor = 10)");
            copyHx(st, 301, 2000, "i", "i");
            copyHx(st, 1, 2000, "100000 + i", "7");
            copyHx(st, 2001, 3000, "i", "i");
            st.execute("DELETE FROM hx WHERE k = 7 AND id % 2 = 0");
            st.execute("DELETE FROM hx WHERE k BETWEEN 1000 AND 1500");
            st.execute("VACUUM hx");
            copyHx(st, 1, 800, "200000 + i", "7");
            // VACUUM_ONE_PAGE: the index scan kills the deleted key's tuples (LP_DEAD,
            // LH_PAGE_HAS_DEAD_TUPLES); the next insert into the full page removes them first
            copyHx(st, 1, 1000, "300000 + i", "99");
            st.execute("DELETE FROM hx WHERE k = 99");
            st.execute("SET enable_seqscan = off");
            st.execute("SET enable_bitmapscan = off");
            st.execute("SELECT count(*) FROM hx WHERE k = 99");
            st.execute("RESET enable_seqscan");
            st.execute("RESET enable_bitmapscan");
            st.execute("INSERT INTO hx SELECT 400000 + g, 99 FROM generate_series(1, 10) g");
        }
    }

    /**
     * GiST: four indexes built empty on one table (btree_gist on an int, points, int4ranges and
     * tsvectors with 2000-byte signatures, whose internal tuples hold a few per page so the tree gets
     * levels of internal pages) and an exclusion constraint (btree_gist {@code =} with range
     * {@code &&}), then: row by row inserts (PAGE_UPDATE, leaf and internal PAGE_SPLITs, root splits,
     * downlink insertions that clear the left child's {@code F_FOLLOW_RIGHT}, one-for-one downlink
     * replacements); updates of the indexed columns; a deleted key range + VACUUM (PAGE_UPDATE
     * deletions, PAGE_DELETE of the emptied leaves); deleted rows an index scan kills, then inserts
     * into their full page (DELETE of the dead tuples by {@code gistprunepage}); a second VACUUM
     * records the deleted pages as free and inserts that split reuse them (PAGE_REUSE).
     */
    static void gistWorkload(TestCluster c) throws SQLException {
        try (Connection conn = connect(c); Statement st = conn.createStatement()) {
            st.execute("CREATE EXTENSION btree_gist");
            st.execute("CREATE TABLE gx (id int, k int, p point, r int4range, t tsvector) WITH (autovacuum_enabled = off)");
            st.execute("CREATE INDEX gx_k ON gx USING gist (k)");
            st.execute("CREATE INDEX gx_p ON gx USING gist (p)");
            st.execute("CREATE INDEX gx_r ON gx USING gist (r)");
            st.execute("CREATE INDEX gx_t ON gx USING gist (t tsvector_ops (siglen = 2000))");
            insertGx(st, 1, 5000, "g");
            st.execute("CREATE TABLE gx_ex (room int, during int4range, EXCLUDE USING gist (room WITH =, during WITH &&))");
            st.execute("INSERT INTO gx_ex SELECT g % 20, int4range(g * 10, g * 10 + 9) FROM generate_series(1, 3000) g");
            st.execute("UPDATE gx SET p = point(p[0] + 0.5, p[1]), r = int4range(lower(r) - 3, upper(r)) WHERE id % 10 = 0");
            // a key range emptied: leaves of gx_k and gx_p emptied and deleted
            st.execute("DELETE FROM gx WHERE k BETWEEN 1000 AND 2500");
            st.execute("VACUUM gx");
            // killed tuples (LP_DEAD, F_HAS_GARBAGE) removed by the insert that would split their page
            st.execute("DELETE FROM gx WHERE k BETWEEN 4000 AND 4150");
            st.execute("SET enable_seqscan = off");
            st.execute("SET enable_bitmapscan = off");
            st.execute("SELECT sum(id) FROM gx WHERE k BETWEEN 4000 AND 4150");
            st.execute("RESET enable_seqscan");
            st.execute("RESET enable_bitmapscan");
            insertGx(st, 1, 1200, "4000 + g % 150");
            // the deleted pages become recyclable once no transaction can see them: the next VACUUM
            // puts them in the free space map and splits take them again
            for (int i = 0; i < 3; i++) {
                st.execute("SELECT txid_current()");
            }
            st.execute("VACUUM gx");
            insertGx(st, 1, 2000, "1000 + g % 1500");
        }
    }

    /**
     * SP-GiST: five indexes built empty on one table (points by quadtree and k-d tree, text radix tree
     * over URLs that share long prefixes and end in long tails, inet, int4range), rows inserted one by
     * one with some NULLs (the nulls tree): ADD_LEAF, MOVE_LEAFS when a leaf chain outgrows its page,
     * PICKSPLIT (root and inner), ADD_NODE and SPLIT_TUPLE in the radix tree (new first letters; a
     * prefix that stops matching); deletes + VACUUM (VACUUM_LEAF, VACUUM_REDIRECT of the redirects the
     * inserts left), inserts into the freed space, and a small index whose root is still a leaf
     * (VACUUM_ROOT).
     */
    static void spgistWorkload(TestCluster c) throws SQLException {
        try (Connection conn = connect(c); Statement st = conn.createStatement()) {
            st.execute("CREATE TABLE sx (id int, p point, t text, a inet, r int4range) WITH (autovacuum_enabled = off)");
            st.execute("CREATE INDEX sx_quad ON sx USING spgist (p)");
            st.execute("CREATE INDEX sx_kd ON sx USING spgist (p kd_point_ops)");
            st.execute("CREATE INDEX sx_t ON sx USING spgist (t)");
            st.execute("CREATE INDEX sx_a ON sx USING spgist (a)");
            st.execute("CREATE INDEX sx_r ON sx USING spgist (r)");
            insertSx(st, 1, 6000);
            st.execute("INSERT INTO sx (id) SELECT g FROM generate_series(1, 50) g");
            st.execute("DELETE FROM sx WHERE id % 3 = 0 OR id BETWEEN 2000 AND 2600");
            st.execute("VACUUM sx");
            insertSx(st, 6001, 8000);
            st.execute("DELETE FROM sx WHERE id % 7 = 0");
            st.execute("VACUUM sx");
            // a root that is still a leaf page
            st.execute("CREATE TABLE sroot (p point, t text) WITH (autovacuum_enabled = off)");
            st.execute("CREATE INDEX sroot_p ON sroot USING spgist (p)");
            st.execute("CREATE INDEX sroot_t ON sroot USING spgist (t)");
            st.execute("INSERT INTO sroot SELECT point(g, g), 'r' || g FROM generate_series(1, 60) g");
            st.execute("DELETE FROM sroot WHERE p[0] > 30");
            st.execute("VACUUM sroot");
        }
    }

    /** Rows {@code g} in {@code [from, to]} into {@code sx} by one INSERT. */
    private static void insertSx(Statement st, int from, int to) throws SQLException {
        st.execute("INSERT INTO sx SELECT g, point(g % 97 + (g % 13) * 0.25, g % 89 - (g % 7) * 0.5), "
                + "'http://host' || (g % 13) || '.example.' || (ARRAY['com', 'org', 'net'])[g % 3 + 1] || '/'"
                + " || CASE WHEN g % 5 = 0 THEN repeat(md5((g % 11)::text), 1 + g % 40) ELSE '' END"
                + " || md5(g::text) || '/' || g, "
                + "set_masklen(inet '10.0.0.0' + g * 37, 16 + g % 17), int4range(g % 1000, g % 1000 + g % 17 + 1) "
                + "FROM generate_series(" + from + ", " + to + ") g");
    }

    /** Rows {@code g} in {@code [from, to]} into {@code gx} by one INSERT, key {@code k}; the other columns follow {@code g}. */
    private static void insertGx(Statement st, int from, int to, String k) throws SQLException {
        st.execute("INSERT INTO gx SELECT g, " + k + ", point(g % 100, g / 100), int4range(g, g + 10), "
                + "to_tsvector('simple', md5(g::text) || ' w' || (g % 37)::text) FROM generate_series(" + from + ", "
                + to + ") g");
    }

    /**
     * Rows {@code (id, k)} for {@code i} in {@code [from, to]} into {@code hx} by COPY: one heap
     * MULTI_INSERT per page, so the heap's images stay small; the hash index still gets one INSERT per row.
     */
    private static void copyHx(Statement st, int from, int to, String id, String k) throws SQLException {
        st.execute("COPY hx FROM PROGRAM 'awk \"BEGIN { for (i = " + from + "; i <= " + to + "; i++) print " + id
                + " \\\"\\t\\\" " + k + " }\"'");
    }

    /**
     * For Gin records whose block 0 is redone (not restored from an image): what kind of INSERT it is
     * (entry / data, leaf / internal, entry replace) and the segment actions of posting-tree leaf
     * recompressions, counted under {@code "Gin/..."} names.
     */
    private static void countGinKinds(WalRecord r, Map<String, Long> counts) {
        int op = r.info() & 0xF0;
        BlockReference b0 = r.block(0);
        if (b0 == null || (b0.hasImage() && b0.applyImage()) || b0.data() == null || b0.data().length <= 2) {
            return; // block 0 restored from its image: nothing of it redone
        }
        byte[] data = null;
        if (op == GinRecordDescriptor.INSERT) {
            int flags = r.mainData()[0] & 0xFF;
            boolean leaf = (flags & GinRecordDescriptor.INSERT_ISLEAF) != 0;
            boolean isData = (flags & GinRecordDescriptor.INSERT_ISDATA) != 0;
            counts.merge("Gin/INSERT " + (isData ? "data" : "entry") + (leaf ? " leaf" : " internal"), 1L, Long::sum);
            if (!isData && leaf && b0.data()[2] != 0) {
                counts.merge("Gin/INSERT entry leaf replace", 1L, Long::sum);
            }
            if (isData && leaf) {
                data = b0.data();
            }
        } else if (op == GinRecordDescriptor.VACUUM_DATA_LEAF_PAGE) {
            data = b0.data();
        }
        if (data == null) {
            return;
        }
        int n = BufPage.u16(data, 0);
        int pos = 2;
        String[] names = {"?", "DELETE", "INSERT", "REPLACE", "ADDITEMS"};
        for (int i = 0; i < n && pos + 2 <= data.length; i++) {
            int action = data[pos + 1] & 0xFF;
            pos += 2;
            counts.merge("Gin/segment " + (action < names.length ? names[action] : "?"), 1L, Long::sum);
            if (action == GinRecordDescriptor.SEGMENT_INSERT || action == GinRecordDescriptor.SEGMENT_REPLACE) {
                pos += GinPostingList.segmentSize(data, pos);
            } else if (action == GinRecordDescriptor.SEGMENT_ADDITEMS) {
                pos += 2 + 6 * BufPage.u16(data, pos);
            }
        }
    }

    static long ingest(TestCluster cluster, long startLsn, boolean checksums) throws Exception {
        return ingest(cluster, startLsn, checksums, new TreeMap<>());
    }

    /**
     * Ingests the cluster's WAL from {@code startLsn} in verify mode; returns the records decoded and
     * counts them per record type of the natively redone resource managers in {@code decoded}.
     */
    static long ingest(TestCluster cluster, long startLsn, boolean checksums, Map<String, Long> decoded)
            throws Exception {
        TreeMap<Long, Path> segs = cluster.walSegments();
        long count = 0;
        try (PageStore store = PageStore.open(cluster.dir().resolve("store"))) {
            TimelineId tl = TimelineId.generate();
            store.createTimeline(new TimelineMetadata(tl, new TenantId("it"), null, 0, startLsn, 15, Instant.now()));
            WalDecoder decoder = new WalDecoder(startLsn);
            long last = startLsn;
            try (TimelineWriter writer = store.writer(tl)) {
                WalIngest ingest = new WalIngest(writer, checksums, true);
                long firstSeg = startLsn / SEG;
                for (long segNo = firstSeg; segs.containsKey(segNo); segNo++) {
                    byte[] bytes = Files.readAllBytes(segs.get(segNo));
                    int from = segNo == firstSeg ? (int) (startLsn % SEG) : 0;
                    decoder.feed(bytes, from, bytes.length - from);
                    WalRecord r;
                    while ((r = decoder.next()) != null) {
                        ingest.ingest(r);
                        count++;
                        if (NativeRedo.handles(r.rmid())) {
                            decoded.merge(NativeRedo.recordName(r.rmid(), r.info()), 1L, Long::sum);
                        }
                        if (r.rmid() == NativeRedo.RM_GIN) {
                            countGinKinds(r, decoded);
                        }
                        last = r.endLsn();
                        if (writer.stagedBytes() > 32 << 20) {
                            writer.commit(last);
                        }
                    }
                }
                writer.commit(last);
            }
        }
        return count;
    }
}
