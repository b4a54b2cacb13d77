package io.forkline.wal.ingest;

import io.forkline.storage.id.TenantId;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.key.Key;
import io.forkline.storage.key.RelSizeValue;
import io.forkline.storage.key.RelTag;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;
import io.forkline.storage.store.TimelineWriter;
import io.forkline.storage.timeline.TimelineMetadata;
import io.forkline.wal.ingest.page.PageChecksum;
import io.forkline.wal.ingest.page.PageHeaderDescriptor;
import io.forkline.wal.ingest.slru.ClogDescriptor;
import io.forkline.wal.ingest.slru.MultiXactDescriptor;
import io.forkline.wal.ingest.xact.XactCompletionRecord;
import io.forkline.wal.record.WalDecoder;
import io.forkline.wal.record.WalRecord;
import io.forkline.wal.testing.TestCluster;
import io.forkline.wal.xlog.CheckPoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs a real PostgreSQL 15 cluster (data checksums on, {@code wal_consistency_checking=all},
 * {@code wal_compression=lz4}) through a workload of committed / rolled-back transactions with
 * subtransactions, CREATE / TRUNCATE / DROP TABLE, a VACUUM that truncates, CREATE DATABASE with both
 * strategies, a multixact from two FOR SHARE lockers and two prepared transactions; decodes its
 * {@code pg_wal} from the initdb checkpoint on with {@link WalDecoder}, ingests everything into a
 * fresh {@link PageStore} and compares the store with what Postgres has on disk after a shutdown.
 */
class WalIngestIT {
    private static final int SEG = Lsn.WAL_SEGMENT_SIZE;
    private static TestCluster cluster;
    private static Path data;
    private static int port;
    private static PageStore store;
    private static TimelineId tl;
    private static long lastLsn;
    private static final Map<String, Long> facts = new HashMap<>();
    private static final Map<Integer, Long> commitEndByXid = new HashMap<>();
    private static int recordCount;

    @BeforeAll
    static void runWorkloadAndIngest() throws Exception {
        cluster = TestCluster.create("WalIngestIT");
        data = cluster.data();
        port = cluster.port();
        cluster.initdb("-k");
        String control = cluster.pg().run(Duration.ofSeconds(30), "pg_controldata", "-D", data.toString());
        Matcher m = Pattern.compile("Latest checkpoint location:\\s+([0-9A-F]+/[0-9A-F]+)").matcher(control);
        assertThat(m.find()).as(control).isTrue();
        long startLsn = Lsn.parse(m.group(1));
        cluster.start("wal_consistency_checking=all", "wal_compression=lz4", "wal_level=replica", "fsync=off",
                "max_wal_size=4GB", "wal_keep_size=2GB", "checkpoint_timeout=3600", "autovacuum=off",
                "max_prepared_transactions=5");
        workload();
        cluster.stop();
        ingestWal(startLsn);
    }

    @AfterAll
    static void cleanUp() throws Exception {
        try {
            if (cluster != null) {
                cluster.stop();
            }
        } finally {
            try {
                if (store != null) {
                    store.close();
                }
            } finally {
                if (cluster != null) {
                    cluster.close();
                }
            }
        }
    }

    private static Connection connect(String db) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + db + "?user=postgres");
    }

    private static long one(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            assertThat(rs.next()).as(sql).isTrue();
            return rs.getLong(1);
        }
    }

    private static void workload() throws Exception {
        try (Connection c = connect("postgres"); Statement st = c.createStatement()) {
            facts.put("postgresOid", one(st, "SELECT oid FROM pg_database WHERE datname = 'postgres'"));
            st.execute("CREATE TABLE t_keep (id int PRIMARY KEY, v text)");
            st.execute("INSERT INTO t_keep SELECT g, 'row ' || g FROM generate_series(1, 2000) g");
            // committed transaction with a released and a rolled-back subtransaction
            c.setAutoCommit(false);
            st.execute("INSERT INTO t_keep VALUES (5001, 'top')");
            st.execute("SAVEPOINT s1");
            st.execute("INSERT INTO t_keep VALUES (5002, 'sub committed')");
            st.execute("RELEASE SAVEPOINT s1");
            st.execute("SAVEPOINT s2");
            st.execute("INSERT INTO t_keep VALUES (5003, 'sub aborted')");
            st.execute("ROLLBACK TO SAVEPOINT s2");
            facts.put("xidCommitted", one(st, "SELECT txid_current()"));
            facts.put("before", micros(Instant.now()));
            c.commit();
            facts.put("after", micros(Instant.now()));
            facts.put("subxid", one(st, "SELECT xmin::text::bigint FROM t_keep WHERE id = 5002"));
            c.commit();
            // rolled back
            st.execute("INSERT INTO t_keep VALUES (6001, 'gone')");
            facts.put("xidAborted", one(st, "SELECT txid_current()"));
            c.rollback();
            c.setAutoCommit(true);
            // truncate by TRUNCATE (new relfilenode, old one dropped at commit) and by VACUUM
            st.execute("CREATE TABLE t_trunc (id int, v text)");
            st.execute("INSERT INTO t_trunc SELECT g, repeat('x', 100) FROM generate_series(1, 1000) g");
            facts.put("truncOldNode", one(st, "SELECT pg_relation_filenode('t_trunc')"));
            st.execute("TRUNCATE t_trunc");
            st.execute("INSERT INTO t_trunc SELECT g, 'y' FROM generate_series(1, 10) g");
            st.execute("CREATE TABLE t_vac (id int, v text)");
            st.execute("INSERT INTO t_vac SELECT g, repeat('z', 200) FROM generate_series(1, 3000) g");
            st.execute("DELETE FROM t_vac WHERE id > 100");
            st.execute("VACUUM t_vac");
            st.execute("CREATE TABLE t_drop (id int)");
            st.execute("INSERT INTO t_drop VALUES (1)");
            facts.put("dropNode", one(st, "SELECT pg_relation_filenode('t_drop')"));
            st.execute("DROP TABLE t_drop");
            // databases
            st.execute("CREATE DATABASE src_db");
            facts.put("srcOid", one(st, "SELECT oid FROM pg_database WHERE datname = 'src_db'"));
        }
        try (Connection c = connect("src_db"); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE t_src (id int, v text)");
            st.execute("INSERT INTO t_src SELECT g, 'src ' || g FROM generate_series(1, 500) g");
            facts.put("srcNode", one(st, "SELECT pg_relation_filenode('t_src')"));
        }
        try (Connection c = connect("postgres"); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE copy_db TEMPLATE src_db STRATEGY file_copy");
            facts.put("copyOid", one(st, "SELECT oid FROM pg_database WHERE datname = 'copy_db'"));
        }
        // a multixact: two transactions share-lock the same row
        try (Connection a = connect("postgres"); Connection b = connect("postgres");
             Statement sa = a.createStatement(); Statement sb = b.createStatement()) {
            a.setAutoCommit(false);
            b.setAutoCommit(false);
            sa.executeQuery("SELECT * FROM t_keep WHERE id = 1 FOR SHARE").close();
            sb.executeQuery("SELECT * FROM t_keep WHERE id = 1 FOR SHARE").close();
            facts.put("lockerA", one(sa, "SELECT txid_current()"));
            facts.put("lockerB", one(sb, "SELECT txid_current()"));
            facts.put("multi", one(sa, "SELECT xmax::text::bigint FROM t_keep WHERE id = 1"));
            a.commit();
            b.commit();
        }
        try (Connection c = connect("postgres"); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("INSERT INTO t_keep VALUES (7001, 'prepared')");
            facts.put("xidPrepared", one(st, "SELECT txid_current()"));
            st.execute("PREPARE TRANSACTION 'p1'");
            c.setAutoCommit(true);
            st.execute("COMMIT PREPARED 'p1'");
            c.setAutoCommit(false);
            st.execute("INSERT INTO t_keep VALUES (7002, 'pending')");
            facts.put("xidPending", one(st, "SELECT txid_current()"));
            st.execute("PREPARE TRANSACTION 'p2'");
            c.setAutoCommit(true);
            st.execute("CHECKPOINT");
            facts.put("keepNode", one(st, "SELECT pg_relation_filenode('t_keep')"));
            facts.put("keepBlocks", one(st, "SELECT pg_relation_size('t_keep') / 8192"));
            facts.put("vacNode", one(st, "SELECT pg_relation_filenode('t_vac')"));
            facts.put("vacBlocks", one(st, "SELECT pg_relation_size('t_vac') / 8192"));
            facts.put("vacVmBlocks", one(st, "SELECT pg_relation_size('t_vac', 'vm') / 8192"));
            facts.put("truncNode", one(st, "SELECT pg_relation_filenode('t_trunc')"));
            facts.put("truncBlocks", one(st, "SELECT pg_relation_size('t_trunc') / 8192"));
        }
    }

    private static long micros(Instant t) {
        return t.getEpochSecond() * 1_000_000L + t.getNano() / 1000;
    }

    private static void ingestWal(long startLsn) throws Exception {
        TreeMap<Long, Path> segs = cluster.walSegments();
        store = PageStore.open(cluster.dir().resolve("store"));
        tl = TimelineId.generate();
        store.createTimeline(new TimelineMetadata(tl, new TenantId("it"), null, 0, startLsn, 15, Instant.now()));
        WalDecoder decoder = new WalDecoder(startLsn);
        try (TimelineWriter writer = store.writer(tl)) {
            // copy_db's CREATE DATABASE ... FILE_COPY in chunks of 3 blocks, each made durable before
            // the next (what a database larger than memory goes through), then compared with disk below
            System.setProperty("forkline.ingest.copyChunkBlocks", "3");
            System.setProperty("forkline.ingest.copyStagedLimitBytes", "1");
            WalIngest ingest;
            try {
                ingest = new WalIngest(writer, true);
            } finally {
                System.clearProperty("forkline.ingest.copyChunkBlocks");
                System.clearProperty("forkline.ingest.copyStagedLimitBytes");
            }
            long firstSeg = startLsn / SEG;
            for (long segNo = firstSeg; segs.containsKey(segNo); segNo++) {
                byte[] bytes = Files.readAllBytes(segs.get(segNo));
                int from = segNo == firstSeg ? (int) (startLsn % SEG) : 0;
                decoder.feed(bytes, from, bytes.length - from);
                WalRecord r;
                while ((r = decoder.next()) != null) {
                    ingest.ingest(r);
                    recordCount++;
                    lastLsn = r.endLsn();
                    if (r.rmid() == ResourceManagers.XACT && (r.info() & XactCompletionRecord.XLOG_XACT_OPMASK)
                            == XactCompletionRecord.XLOG_XACT_COMMIT) {
                        commitEndByXid.put(r.xid(), r.endLsn());
                    }
                    if (writer.stagedBytes() > 32 << 20) {
                        writer.commit(lastLsn);
                    }
                }
            }
            writer.commit(lastLsn);
        }
    }

    private static byte[] get(Key key) {
        return store.get(tl, key, lastLsn);
    }

    private static int fact(String name) {
        return (int) (long) facts.get(name);
    }

    private static RelTag rel(int db, String nodeFact) {
        return new RelTag(1663, db, fact(nodeFact), RelTag.MAIN_FORK);
    }

    private static int clogStatus(int xid) {
        byte[] page = get(Key.slruPage(Key.SLRU_CLOG, ClogDescriptor.page(xid)));
        assertThat(page).as("CLOG page of xid %d", xid).isNotNull();
        return ClogDescriptor.status(page, xid);
    }

    @Test
    void clogHoldsTransactionOutcomes() {
        assertThat(recordCount).isGreaterThan(1000);
        assertThat(clogStatus(fact("xidCommitted"))).isEqualTo(ClogDescriptor.STATUS_COMMITTED);
        assertThat(clogStatus(fact("subxid"))).isEqualTo(ClogDescriptor.STATUS_COMMITTED);
        assertThat(fact("subxid")).isNotEqualTo(fact("xidCommitted"));
        assertThat(clogStatus(fact("xidAborted"))).isEqualTo(ClogDescriptor.STATUS_ABORTED);
        assertThat(clogStatus(fact("xidPrepared"))).isEqualTo(ClogDescriptor.STATUS_COMMITTED);
        assertThat(clogStatus(fact("xidPending"))).isEqualTo(ClogDescriptor.STATUS_IN_PROGRESS);
    }

    @Test
    void relationSizesMatchPostgres() {
        int db = fact("postgresOid");
        assertThat(RelSizeValue.decode(get(Key.relSize(rel(db, "keepNode")))).nblocks()).isEqualTo(fact("keepBlocks"));
        assertThat(RelSizeValue.decode(get(Key.relSize(rel(db, "vacNode")))).nblocks()).isEqualTo(fact("vacBlocks"));
        assertThat(fact("vacBlocks")).isLessThan(10);
        RelTag vacVm = rel(db, "vacNode").withFork(RelTag.VM_FORK);
        assertThat(RelSizeValue.decode(get(Key.relSize(vacVm))).nblocks()).isEqualTo(fact("vacVmBlocks"));
        assertThat(RelSizeValue.decode(get(Key.relSize(rel(db, "truncNode")))).nblocks()).isEqualTo(fact("truncBlocks"));
        assertThat(get(Key.relSize(rel(db, "truncOldNode")))).as("relation replaced by TRUNCATE").isNull();
        assertThat(get(Key.relSize(rel(db, "dropNode")))).as("dropped table").isNull();
    }

    @Test
    void pageImagesMatchDiskPages() throws Exception {
        int db = fact("postgresOid");
        RelTag keep = rel(db, "keepNode");
        byte[] file = Files.readAllBytes(data.resolve(keep.path()));
        int nblocks = file.length / 8192;
        assertThat(nblocks).isEqualTo(fact("keepBlocks"));
        for (int blk = 0; blk < nblocks; blk++) {
            byte[] disk = java.util.Arrays.copyOfRange(file, blk * 8192, (blk + 1) * 8192);
            // the checksum algorithm agrees with Postgres on every page it wrote
            assertThat(PageChecksum.compute(disk, blk)).as("checksum of disk block %d", blk)
                    .isEqualTo(PageHeaderDescriptor.checksum(disk));
            byte[] ours = get(Key.relBlock(keep, blk));
            assertThat(ours).as("stored block %d", blk).isNotNull();
            assertThat(PageChecksum.compute(ours, blk)).isEqualTo(PageHeaderDescriptor.checksum(ours));
            assertThat(PageHeaderDescriptor.lsn(ours)).isLessThanOrEqualTo(lastLsn);
            assertThat(maskHints(ours)).as("tuple data of block %d", blk).isEqualTo(maskHints(disk));
        }
    }

    /** The page from pd_lower on, with each tuple's t_infomask (hint bits) zeroed. */
    private static byte[] maskHints(byte[] page) {
        byte[] p = page.clone();
        ByteBuffer b = ByteBuffer.wrap(p).order(ByteOrder.LITTLE_ENDIAN);
        int lower = b.getShort(12) & 0xFFFF;
        for (int off = 24; off < lower; off += 4) {
            int lp = b.getInt(off);
            int lpOff = lp & 0x7FFF;
            int flags = (lp >>> 15) & 3;
            if (flags == 1 && lpOff + 24 <= 8192) {
                b.putShort(lpOff + 20, (short) 0);
            }
        }
        java.util.Arrays.fill(p, 0, 24, (byte) 0);
        return p;
    }

    @Test
    void databasesAndRelmapsMatchDisk() throws Exception {
        int src = fact("srcOid");
        int copy = fact("copyOid");
        for (int db : new int[]{src, copy}) {
            byte[] map = get(Key.relmap(1663, db));
            assertThat(map).as("relmap of db %d", db)
                    .isEqualTo(Files.readAllBytes(data.resolve("base/" + db + "/pg_filenode.map")));
            assertThat(get(Key.dbDir(1663, db))).isNotNull();
        }
        RelTag copied = rel(copy, "srcNode");
        RelTag original = rel(src, "srcNode");
        RelSizeValue size = RelSizeValue.decode(get(Key.relSize(copied)));
        assertThat(size.nblocks()).isEqualTo(Files.size(data.resolve(copied.path())) / 8192).isGreaterThan(0);
        assertThat(get(Key.relBlock(copied, 0))).isEqualTo(get(Key.relBlock(original, 0)));
        NavigableMap<Key, byte[]> rels = store.scan(tl, Key.dbStart(Key.REL_SIZE, 1663, copy),
                Key.dbEnd(Key.REL_SIZE, 1663, copy), lastLsn);
        assertThat(rels.size()).as("relations copied into copy_db").isGreaterThan(100);
    }

    @Test
    void commitTimestampsResolveToCommitLsn() {
        long commitEnd = commitEndByXid.get(fact("xidCommitted"));
        assertThat(store.lsnForTimestamp(tl, facts.get("after"))).isGreaterThanOrEqualTo(commitEnd);
        assertThat(store.lsnForTimestamp(tl, facts.get("before"))).isLessThan(commitEnd);
    }

    @Test
    void multixactMembersAreStored() {
        int multi = fact("multi");
        byte[] offsets = get(Key.slruPage(Key.SLRU_MULTIXACT_OFFSETS, MultiXactDescriptor.offsetPage(multi)));
        ByteBuffer ob = ByteBuffer.wrap(offsets).order(ByteOrder.LITTLE_ENDIAN);
        int offset = ob.getInt(MultiXactDescriptor.offsetEntryByte(multi));
        int next = ob.getInt(MultiXactDescriptor.offsetEntryByte(multi + 1));
        assertThat(next - offset).isEqualTo(2);
        byte[] members = get(Key.slruPage(Key.SLRU_MULTIXACT_MEMBERS, MultiXactDescriptor.memberPage(offset)));
        ByteBuffer mb = ByteBuffer.wrap(members).order(ByteOrder.LITTLE_ENDIAN);
        List<Integer> xids = List.of(mb.getInt(MultiXactDescriptor.memberOffset(offset)),
                mb.getInt(MultiXactDescriptor.memberOffset(offset + 1)));
        assertThat(xids).containsExactlyInAnyOrder(fact("lockerA"), fact("lockerB"));
        // both FOR SHARE: MultiXactStatusForShare = 1
        assertThat(members[MultiXactDescriptor.flagsOffset(offset) + MultiXactDescriptor.flagsBitShift(offset) / 8])
                .isEqualTo((byte) 1);
        CheckPoint cp = CheckPoint.decode(get(Key.control()), 0);
        assertThat(Integer.compareUnsigned(cp.nextMulti(), multi)).isGreaterThan(0);
        assertThat(cp.nextXid32()).isGreaterThan(fact("xidPending"));
    }

    @Test
    void pendingPreparedTransactionMatchesStateFile() throws Exception {
        int pending = fact("xidPending");
        Path stateFile = data.resolve("pg_twophase").resolve(String.format("%08X", pending));
        assertThat(get(Key.twoPhase(pending))).isEqualTo(Files.readAllBytes(stateFile));
        assertThat(get(Key.twoPhase(fact("xidPrepared")))).as("committed prepared xact").isNull();
    }
}
