package io.forkline.wal.replication;

import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.storage.id.TenantId;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.key.Key;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;
import io.forkline.storage.timeline.TimelineMetadata;
import io.forkline.storage.key.RelTag;
import io.forkline.wal.ingest.ResourceManagers;
import io.forkline.wal.ingest.page.PageChecksum;
import io.forkline.wal.ingest.page.PageHeaderDescriptor;
import io.forkline.wal.ingest.xact.XactCompletionRecord;
import io.forkline.wal.record.WalDecodeException;
import io.forkline.wal.testing.TestCluster;
import org.awaitility.Awaitility;
import io.forkline.wal.record.WalRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link WalReceiver} against a real PostgreSQL 15 that names it in
 * {@code synchronous_standby_names}: commits return only after our acknowledgement, every
 * acknowledged commit is durable in the timeline, a receiver restart and a killed walsender lose
 * and duplicate nothing (checked record by record against {@code pg_waldump}), corrupt WAL and a
 * refused start position stop ingest with the LSN in the error.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WalReceiverIT {
    private static final String STANDBY = WalReceiverConfig.DEFAULT_STANDBY_NAME;
    private static final int XACT_RMID = ResourceManagers.XACT;
    private static final int XLOG_XACT_COMMIT = XactCompletionRecord.XLOG_XACT_COMMIT;
    private static final int XLOG_XACT_OPMASK = XactCompletionRecord.XLOG_XACT_OPMASK;

    private static TestCluster cluster;
    private static PostgresInstallation pg;
    private static Path pgdata;
    private static int port;
    private static PageStore store;

    /** (start, end) LSNs of the records the streaming test ingested, in order, across receivers. */
    private static final List<long[]> ingested = new ArrayList<>();
    private static TimelineId streamedTimeline;
    private static long streamedStart;

    @BeforeAll
    static void startPostgres() throws Exception {
        cluster = TestCluster.create("WalReceiverIT");
        pg = cluster.pg();
        pgdata = cluster.data();
        port = cluster.port();
        cluster.initdb("-A", "trust", "-E", "UTF8", "--locale=C");
        String hba = Files.readString(pgdata.resolve("pg_hba.conf"));
        assertThat(hba).as("initdb -A trust allows replication over 127.0.0.1")
                .containsPattern("host\\s+replication\\s+all\\s+127\\.0\\.0\\.1/32\\s+trust");
        cluster.start("wal_level=replica", "wal_consistency_checking=all", "wal_compression=lz4", "max_wal_senders=4",
                "max_replication_slots=4", "synchronous_standby_names=" + STANDBY, "fsync=off", "autovacuum=off");
        store = PageStore.open(cluster.dir().resolve("store"));
    }

    @AfterAll
    static void stopPostgres() throws Exception {
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

    private static Connection sql() throws SQLException {
        java.util.Properties p = new java.util.Properties();
        p.setProperty("user", "postgres");
        p.setProperty("socketTimeout", "30"); // a commit that is never acknowledged fails the test instead of hanging
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", p);
    }

    private static String queryString(Connection c, String query) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(query)) {
            assertThat(rs.next()).as(query).isTrue();
            return rs.getString(1);
        }
    }

    private static TimelineId newTimeline(long startLsn) {
        TimelineId id = TimelineId.generate();
        store.createTimeline(new TimelineMetadata(id, new TenantId("t"), null, 0, startLsn, 15, Instant.now()));
        return id;
    }

    private static WalReceiverConfig config(String slot, String standby) {
        return WalReceiverConfig.of("127.0.0.1", port, "postgres").withSlotName(slot).withStandbyName(standby)
                .withStatusInterval(Duration.ofSeconds(1)).withBackoff(Duration.ofMillis(50), Duration.ofMillis(500));
    }

    /**
     * Numbered rows committed one by one with synchronous replication; the receiver is restarted
     * and its walsender killed mid-stream. Every commit returns (acknowledgements work) and is
     * durable in the timeline when it returns; the ingested records equal pg_waldump's list.
     */
    @Test
    @Order(1)
    void streamsAcknowledgesAndResumesWithoutLossOrDuplicates() throws Exception {
        long startLsn;
        try (Connection c = sql()) {
            // initdb's WAL (in the first segment) was written without wal_consistency_checking: its
            // block references carry no images. Start in a fresh segment.
            queryString(c, "SELECT pg_switch_wal()");
            startLsn = Lsn.segmentStart(Lsn.parse(queryString(c, "SELECT pg_current_wal_lsn()")));
        }
        TimelineId tl = newTimeline(startLsn);
        streamedTimeline = tl;
        streamedStart = startLsn;
        Map<Integer, Long> commitEnds = new ConcurrentHashMap<>();
        AtomicReference<String> observerProblem = new AtomicReference<>();
        java.util.function.Consumer<WalRecord> observer = rec -> {
            synchronized (ingested) {
                if (!ingested.isEmpty()) {
                    long[] prev = ingested.get(ingested.size() - 1);
                    if (!follows(prev[1], rec.startLsn())) {
                        observerProblem.compareAndSet(null, "record at " + Lsn.format(rec.startLsn())
                                + " does not follow the record ending at " + Lsn.format(prev[1]));
                    }
                }
                ingested.add(new long[] {rec.startLsn(), rec.endLsn()});
            }
            if (rec.rmid() == XACT_RMID && (rec.info() & XLOG_XACT_OPMASK) == XLOG_XACT_COMMIT) {
                commitEnds.put(rec.xid(), rec.endLsn());
            }
        };
        AtomicReference<WalReceiver> receiver = new AtomicReference<>(
                WalReceiver.start(store, tl, startLsn, config(STANDBY, STANDBY), observer));
        int rows = 300;
        AtomicInteger committed = new AtomicInteger();
        AtomicReference<Throwable> workloadFailure = new AtomicReference<>();
        Thread workload = new Thread(() -> {
            try (Connection c = sql(); Statement st = c.createStatement()) {
                st.execute("CREATE TABLE numbered (n int PRIMARY KEY, pad text)");
                c.setAutoCommit(false);
                for (int i = 0; i < rows; i++) {
                    int xid = (int) Long.parseLong(queryString(c, "SELECT txid_current()"));
                    st.executeUpdate("INSERT INTO numbered VALUES (" + i + ", repeat('x', 100))");
                    c.commit(); // returns only after the receiver acknowledged the commit record
                    Long end = commitEnds.get(xid);
                    assertThat(end).as("commit record of xid %d was ingested before the commit returned", xid)
                            .isNotNull();
                    assertThat(Long.compareUnsigned(store.lastRecordLsn(tl), end))
                            .as("durable last record LSN %s covers commit of row %d ending at %s",
                                    Lsn.format(store.lastRecordLsn(tl)), i, Lsn.format(end))
                            .isGreaterThanOrEqualTo(0);
                    committed.incrementAndGet();
                }
            } catch (Throwable t) {
                workloadFailure.set(t);
            }
        }, "numbered-rows");
        workload.start();
        try {
            awaitCommitted(committed, 80, workloadFailure);
            // Restart the receiver mid-stream (the workload's commits wait meanwhile).
            long before = receiver.get().lastRecordLsn();
            receiver.get().close();
            assertThat(receiver.get().state()).isEqualTo(ReceiverState.STOPPED);
            assertThat(store.lastRecordLsn(tl)).isGreaterThanOrEqualTo(before);
            receiver.set(WalReceiver.start(store, tl, startLsn, config(STANDBY, STANDBY), observer));

            awaitCommitted(committed, 160, workloadFailure);
            // Kill the walsender: the receiver reconnects and resumes from the durable LSN.
            try (Connection c = sql()) {
                assertThat(queryString(c, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_replication"
                        + " WHERE application_name = '" + STANDBY + "'")).isEqualTo("1");
            }
            workload.join(Duration.ofSeconds(40).toMillis());
            assertThat(workload.isAlive()).as("workload finished").isFalse();
            assertThat(workloadFailure.get()).as("workload failure").isNull();
            assertThat(committed.get()).isEqualTo(rows);
            assertThat(receiver.get().connects()).as("reconnected after the walsender was killed").isGreaterThanOrEqualTo(2);
            assertThat(receiver.get().state()).isEqualTo(ReceiverState.STREAMING);

            long switchEnd;
            try (Connection c = sql()) {
                String replicaFlush = queryString(c, "SELECT flush_lsn FROM pg_stat_replication WHERE application_name = '"
                        + STANDBY + "'");
                assertThat(replicaFlush).isNotNull();
                assertThat(Lsn.parse(replicaFlush)).as("acknowledged flush never passes what is durable")
                        .isLessThanOrEqualTo(receiver.get().receivedLsn());
                // pg_current_wal_flush_lsn() may lie inside a record whose rest is not flushed yet (a
                // background record on a partially flushed page); a WAL switch flushes everything.
                switchEnd = Lsn.parse(queryString(c, "SELECT pg_switch_wal()"));
            }
            assertThat(receiver.get().awaitLsn(switchEnd, Duration.ofSeconds(10)))
                    .as("received everything up to the WAL switch at %s (received %s)", Lsn.format(switchEnd),
                            Lsn.format(receiver.get().receivedLsn())).isTrue();
            assertThat(receiver.get().lastRecordLsn()).isEqualTo(store.lastRecordLsn(tl));
        } finally {
            receiver.get().close();
            workload.join(Duration.ofSeconds(40).toMillis());
        }
        assertThat(observerProblem.get()).as("records are contiguous across restarts").isNull();

        // Record by record, the same as PostgreSQL's own pg_waldump over the same range.
        long first;
        long last;
        List<Long> ours = new ArrayList<>();
        synchronized (ingested) {
            first = ingested.get(0)[0];
            last = ingested.get(ingested.size() - 1)[1];
            for (long[] r : ingested) {
                ours.add(r[0]);
            }
        }
        assertThat(store.lastRecordLsn(tl)).isEqualTo(last);
        String dump = pg.run(Duration.ofSeconds(60), "pg_waldump", "-p", pgdata.resolve("pg_wal").toString(),
                "-s", Lsn.format(first), "-e", Lsn.format(last));
        List<Long> theirs = new ArrayList<>();
        Matcher m = Pattern.compile("lsn: ([0-9A-F]+/[0-9A-F]+)").matcher(dump);
        while (m.find()) {
            theirs.add(Lsn.parse(m.group(1)));
        }
        assertThat(ours).as("ingested records = pg_waldump records from %s to %s", Lsn.format(first), Lsn.format(last))
                .hasSizeGreaterThan(rows * 2).isEqualTo(theirs);
    }

    /** Whether a record starting at {@code start} is the next one after a record ending at {@code prevEnd}. */
    private static boolean follows(long prevEnd, long start) {
        if (start == prevEnd) {
            return true;
        }
        if (Lsn.pageStart(prevEnd) == prevEnd) {
            return start == prevEnd + (Lsn.segmentStart(prevEnd) == prevEnd ? 40 : 24);
        }
        return false;
    }

    private static void awaitCommitted(AtomicInteger committed, int n, AtomicReference<Throwable> failure)
            throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (committed.get() < n && failure.get() == null && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(failure.get()).as("workload failure").isNull();
        assertThat(committed.get()).as("commits acknowledged").isGreaterThanOrEqualTo(n);
    }

    /**
     * Real WAL from the compute's segment file with one byte of a record flipped: the sink stops
     * with the record's LSN in the message, commits the records before it, and the store stays
     * readable.
     */
    @Test
    @Order(2)
    void corruptWalStopsIngestAtTheBadRecord() throws Exception {
        assertThat(ingested).as("streaming test ran first").hasSizeGreaterThan(100);
        long segStart = Lsn.segmentStart(ingested.get(0)[0]);
        // A record well inside the stream whose bytes 24..40 lie on its first page (CRC-covered, not a page header).
        long[] victim = null;
        long[] before = null;
        for (int i = 50; i < ingested.size(); i++) {
            long[] r = ingested.get(i);
            if (Lsn.segmentStart(r[1]) == segStart && (r[0] % Lsn.WAL_PAGE_SIZE) < Lsn.WAL_PAGE_SIZE - 64
                    && r[1] - r[0] >= 64) {
                victim = r;
                before = ingested.get(i - 1);
                break;
            }
        }
        assertThat(victim).as("a record to corrupt in segment %s", Lsn.format(segStart)).isNotNull();
        Path segment = pgdata.resolve("pg_wal").resolve(Lsn.walFileName(1, Lsn.segmentNo(segStart)));
        byte[] wal = Files.readAllBytes(segment);
        int end = (int) (victim[1] - segStart);
        int flip = (int) (victim[0] - segStart) + 30;
        wal[flip] ^= 0x5A;

        TimelineId tl = newTimeline(segStart);
        long victimStart = victim[0];
        try (TimelineWalSink gap = new TimelineWalSink(store, tl, segStart, false, null)) {
            gap.accept(segStart, wal, 0, 8192);
            assertThatThrownBy(() -> gap.accept(segStart + 8192 + 8, wal, 8192 + 8, 100))
                    .as("a chunk that does not continue the stream")
                    .isInstanceOf(WalReceiverException.class)
                    .hasMessageContaining(Lsn.format(segStart + 8192 + 8)).hasMessageContaining(Lsn.format(segStart + 8192));
        }
        try (TimelineWalSink sink = new TimelineWalSink(store, tl, segStart, false, null)) {
            assertThatThrownBy(() -> {
                for (int off = 0; off < end; off += 1000) {
                    sink.accept(segStart + off, wal, off, Math.min(1000, end - off));
                }
            }).isInstanceOf(WalReceiverException.class)
                    .hasCauseInstanceOf(WalDecodeException.class)
                    .hasMessageContaining(Lsn.format(victimStart))
                    .hasMessageContaining(tl.toString())
                    .satisfies(e -> assertThat(((WalReceiverException) e).lsn()).isEqualTo(victimStart));
            assertThatThrownBy(() -> sink.accept(sink.expectedLsn(), wal, 0, 1))
                    .isInstanceOf(IllegalStateException.class);
            assertThat(sink.commit()).as("records before the bad one are committed").isEqualTo(before[1]);
            assertThat(sink.receivedLsn()).isEqualTo(before[1]);
        }
        assertThat(store.lastRecordLsn(tl)).isEqualTo(before[1]);
        assertThat(store.scan(tl, Key.kindStart(Key.REL_BLOCK), Key.kindEnd(Key.REL_BLOCK), before[1]))
                .as("pages ingested before the corrupt record are readable").isNotEmpty();
    }

    /** A start position ahead of the compute's WAL: the compute refuses; the receiver is FAILED, naming the LSN. */
    @Test
    @Order(3)
    void refusedStartPositionFailsWithTheLsn() throws Exception {
        long current;
        try (Connection c = sql()) {
            current = Lsn.parse(queryString(c, "SELECT pg_current_wal_flush_lsn()"));
        }
        long bad = Lsn.segmentStart(current) + 64L * Lsn.WAL_SEGMENT_SIZE;
        TimelineId tl = newTimeline(bad);
        try (WalReceiver r = WalReceiver.start(store, tl, bad, config("forkline_bad", "forkline_bad"))) {
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (r.state() != ReceiverState.FAILED && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(r.state()).isEqualTo(ReceiverState.FAILED);
            assertThat(r.isFailed()).isTrue();
            assertThat(r.failure()).isNotNull().hasMessageContaining(Lsn.format(bad)).hasMessageContaining(tl.toString());
            assertThat(r.awaitLsn(bad + 1, Duration.ofSeconds(5))).as("awaitLsn returns at once on FAILED").isFalse();
            assertThat(r.lastRecordLsn()).isEqualTo(bad);
        }
        assertThat(store.lastRecordLsn(tl)).as("store still readable").isEqualTo(bad);
    }

    /**
     * {@link WalReceiverConfig#withDataChecksums(boolean)} given to the four-argument
     * {@link WalReceiver#start(PageStore, TimelineId, long, WalReceiverConfig)} reaches ingest: the
     * heap page of a row inserted with synchronous commit is stored with a valid {@code pd_checksum}
     * (this cluster has no data checksums, so the compute's own images carry 0 there).
     */
    @Test
    @Order(4)
    void dataChecksumsOfTheConfigReachIngest() throws Exception {
        long startLsn;
        int relNode;
        int dbOid;
        try (Connection c = sql(); Statement st = c.createStatement()) {
            st.execute("SET synchronous_commit = local"); // no receiver runs yet to acknowledge this commit
            st.execute("CREATE TABLE checksummed (n int)");
            relNode = Integer.parseInt(queryString(c, "SELECT pg_relation_filenode('checksummed')"));
            dbOid = Integer.parseInt(queryString(c, "SELECT oid FROM pg_database WHERE datname = current_database()"));
            queryString(c, "SELECT pg_switch_wal()");
            startLsn = Lsn.segmentStart(Lsn.parse(queryString(c, "SELECT pg_current_wal_lsn()")));
        }
        TimelineId tl = newTimeline(startLsn);
        WalReceiverConfig cfg = config("forkline_checksums", STANDBY).withDataChecksums(true);
        assertThat(cfg.dataChecksums()).isTrue();
        RelTag rel = new RelTag(RelTag.DEFAULT_TABLESPACE_OID, dbOid, relNode, RelTag.MAIN_FORK);
        try (WalReceiver r = WalReceiver.start(store, tl, startLsn, cfg)) {
            try (Connection c = sql(); Statement st = c.createStatement()) {
                st.executeUpdate("INSERT INTO checksummed VALUES (1)"); // returns after r acknowledged it
            }
            byte[] page = store.get(tl, Key.relBlock(rel, 0), store.lastRecordLsn(tl));
            assertThat(page).as("heap block 0 of %s ingested", rel).isNotNull().hasSize(8192);
            int stored = PageHeaderDescriptor.checksum(page);
            assertThat(stored).as("pd_checksum set by ingest").isNotZero().isEqualTo(PageChecksum.compute(page, 0));
        }
    }

    /**
     * An idle receiver keeps its connection: with {@code wal_sender_timeout = 1s} the walsender asks
     * for a reply every half second, {@link PhysicalStream} answers, and the walsender never drops us
     * for a replication timeout; commits before and after the idle time are acknowledged.
     */
    @Test
    @Order(4)
    void idleReceiverAnswersKeepalivesAndKeepsItsConnection() throws Exception {
        long startLsn;
        try (Connection c = sql(); Statement st = c.createStatement()) {
            st.execute("ALTER SYSTEM SET wal_sender_timeout = '1s'");
            queryString(c, "SELECT pg_reload_conf()::text");
            st.execute("SET synchronous_commit = local");
            st.execute("CREATE TABLE idle_rows (n int)");
            queryString(c, "SELECT pg_switch_wal()");
            startLsn = Lsn.segmentStart(Lsn.parse(queryString(c, "SELECT pg_current_wal_lsn()")));
        }
        TimelineId tl = newTimeline(startLsn);
        try (WalReceiver r = WalReceiver.start(store, tl, startLsn, config("forkline_idle", STANDBY))) {
            try (Connection c = sql(); Statement st = c.createStatement()) {
                st.executeUpdate("INSERT INTO idle_rows VALUES (1)"); // returns after r acknowledged it
                Thread.sleep(4_000); // four wal_sender_timeouts without WAL
                assertThat(r.state()).isEqualTo(ReceiverState.STREAMING);
                assertThat(r.connects()).as("no reconnect: keepalives were answered").isEqualTo(1);
                assertThat(queryString(c, "SELECT count(*) FROM pg_stat_replication WHERE application_name = '"
                        + STANDBY + "' AND sync_state = 'sync'")).isEqualTo("1");
                st.executeUpdate("INSERT INTO idle_rows VALUES (2)");
                long lsn = Lsn.parse(queryString(c, "SELECT pg_current_wal_lsn()"));
                assertThat(Long.compareUnsigned(r.receivedLsn(), lsn)).as("the second commit was acknowledged durable")
                        .isGreaterThanOrEqualTo(0);
                assertThat(r.connects()).isEqualTo(1);
            }
        } finally {
            try (Connection c = sql(); Statement st = c.createStatement()) {
                st.execute("ALTER SYSTEM RESET wal_sender_timeout");
                queryString(c, "SELECT pg_reload_conf()::text");
                queryString(c, "SELECT pg_drop_replication_slot('forkline_idle')::text"); // max_replication_slots=4
            }
        }
    }

    /** The thread priority calls, or the test is skipped where they cannot be lowered and restored. */
    private static ThreadPriority assumePriorities() {
        ThreadPriority priorities = ThreadPriority.available();
        org.junit.jupiter.api.Assumptions.assumeTrue(priorities != null,
                "thread priorities cannot be lowered and restored here (needs Linux and CAP_SYS_NICE: CI runs as root)");
        return priorities;
    }

    /**
     * A receiver with a {@link BackgroundIngest} policy streams at nice 19 (its thread's nice value
     * read from {@code /proc}); a thread waiting in {@link WalReceiver#awaitLsn} brings it ahead of
     * the computes at once (nice {@link WalReceiver#WAITED_NICE}) and it returns to the background when
     * the wait ends; a caught-up
     * batch waits for more WAL (group commit) unless someone waits for it; a load that
     * leaves the stream behind by more than the policy's bound (1 byte here) brings it back too, until
     * it catches up. Everything committed is ingested either way.
     */
    @Test
    @Order(4)
    void backgroundIngestYieldsAndReturnsForWaitersAndBacklogs() throws Exception {
        ThreadPriority priorities = assumePriorities();
        long startLsn;
        try (Connection c = sql(); Statement st = c.createStatement()) {
            st.execute("SET synchronous_commit = local");
            st.execute("CREATE TABLE background_rows (n int, pad text)");
            queryString(c, "SELECT pg_switch_wal()");
            startLsn = Lsn.segmentStart(Lsn.parse(queryString(c, "SELECT pg_current_wal_lsn()")));
        }
        TimelineId tl = newTimeline(startLsn);
        int serverNice = ThreadPriority.nice(priorities.currentThreadId());
        BackgroundIngest policy = new BackgroundIngest(19, false, Duration.ofHours(1), 1, Duration.ofSeconds(5));
        try (WalReceiver r = WalReceiver.start(store, tl, startLsn, config("forkline_background", STANDBY), null,
                policy)) {
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> r.state() == ReceiverState.STREAMING
                    && r.threadId() != 0 && r.inBackground());
            int tid = r.threadId();
            assertThat(ThreadPriority.nice(tid)).as("streaming in the background").isEqualTo(19);

            // a waiter: the receiver leaves the background while it waits
            Thread waiter = new Thread(() -> r.awaitLsn(Long.MAX_VALUE - 1, Duration.ofSeconds(3)), "test-waiter");
            waiter.start();
            Awaitility.await().atMost(Duration.ofSeconds(2)).until(() -> !r.inBackground());
            assertThat(ThreadPriority.nice(tid)).as("while a thread waits for the store: ahead of the computes")
                    .isEqualTo(Math.min(serverNice, WalReceiver.WAITED_NICE));
            waiter.join();
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(r::inBackground);
            assertThat(ThreadPriority.nice(tid)).as("after the wait").isEqualTo(19);

            // group commit: WAL within 5 s of the last store commit waits for more, unless someone waits for it
            long zero;
            long one;
            try (Connection c = sql(); Statement st = c.createStatement()) {
                st.execute("SET synchronous_commit = local");
                st.executeUpdate("INSERT INTO background_rows VALUES (0, 'zero')");
                zero = Lsn.parse(queryString(c, "SELECT pg_current_wal_flush_lsn()"));
                Awaitility.await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10)).until(() ->
                        Long.compareUnsigned(r.receivedLsn(), zero) >= 0); // no waiter: committed by itself
                st.executeUpdate("INSERT INTO background_rows VALUES (0, 'one')");
                one = Lsn.parse(queryString(c, "SELECT pg_current_wal_flush_lsn()"));
            }
            Thread.sleep(500);
            assertThat(Long.compareUnsigned(r.receivedLsn(), one)).as("gathered into a batch, not committed yet")
                    .isNegative();
            long t0 = System.nanoTime();
            assertThat(r.awaitLsn(one, Duration.ofSeconds(10))).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("a waiter ends the gathering")
                    .isLessThan(Duration.ofSeconds(2));

            // a backlog past the bound (1 byte): ahead of the computes (nice WAITED_NICE) until caught up
            long end;
            try (Connection c = sql(); Statement st = c.createStatement()) {
                st.execute("SET synchronous_commit = local");
                st.executeUpdate("INSERT INTO background_rows SELECT g, repeat('x', 200) FROM generate_series(1, 200000) g");
                end = Lsn.parse(queryString(c, "SELECT pg_current_wal_flush_lsn()"));
            }
            assertThat(r.awaitLsn(end, Duration.ofSeconds(60))).as("ingested up to %s", Lsn.format(end)).isTrue();
            assertThat(r.boundsPassed()).as("the stream fell behind the walsender by more than 1 byte").isPositive();
            try (Connection c = sql(); Statement st = c.createStatement()) { // a message that finds it caught up
                st.execute("SET synchronous_commit = local");
                st.executeUpdate("INSERT INTO background_rows VALUES (-1, 'after')");
            }
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(r::inBackground);
            assertThat(ThreadPriority.nice(tid)).isEqualTo(19);
            assertThat(r.backgroundSeconds()).isPositive();
        } finally {
            try (Connection c = sql(); Statement st = c.createStatement()) {
                queryString(c, "SELECT pg_drop_replication_slot('forkline_background')::text"); // max_replication_slots=4
            }
        }
    }

    /**
     * The default background, {@code SCHED_IDLE}: the streaming receiver's thread is under it (policy
     * read from {@code /proc}) and leaves it, at nice {@link WalReceiver#WAITED_NICE}, while a thread waits
     * for the store; the watchdog takes it
     * out, again at nice {@link WalReceiver#WAITED_NICE}, once the stream has been behind longer than the
     * bound (a starved receiver cannot tell), and the next message that finds it caught up puts it back.
     */
    @Test
    @Order(4)
    void backgroundIngestUnderSchedIdleLeavesItForWaiters() throws Exception {
        int serverNice = ThreadPriority.nice(assumePriorities().currentThreadId());
        long startLsn;
        try (Connection c = sql()) {
            queryString(c, "SELECT pg_switch_wal()");
            startLsn = Lsn.segmentStart(Lsn.parse(queryString(c, "SELECT pg_current_wal_lsn()")));
        }
        TimelineId tl = newTimeline(startLsn);
        BackgroundIngest policy = new BackgroundIngest(19, true, Duration.ofSeconds(1), 1L << 30, Duration.ofMillis(10));
        try (WalReceiver r = WalReceiver.start(store, tl, startLsn, config("forkline_idle_policy", STANDBY), null,
                policy)) {
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> r.threadId() != 0 && r.inBackground());
            int tid = r.threadId();
            assertThat(ThreadPriority.isIdle(tid)).as("streaming under SCHED_IDLE").isTrue();
            // where autogroup would let the receiver take this process's share from each backend, it also
            // runs in the idle cpu cgroup (CpuGroups; this machine's CI: autogroup on, cgroup v1 cpu, root)
            boolean grouped = CpuGroups.available() != null;
            String pid = "/forkline-" + ProcessHandle.current().pid() + "-";
            if (grouped) {
                assertThat(CpuGroups.pathOf(tid)).isEqualTo(pid + "idle");
            }
            Thread waiter = new Thread(() -> r.awaitLsn(Long.MAX_VALUE - 1, Duration.ofSeconds(2)), "test-waiter");
            waiter.start();
            Awaitility.await().atMost(Duration.ofSeconds(2)).until(() -> !r.inBackground());
            assertThat(ThreadPriority.isIdle(tid)).as("while a thread waits for the store").isFalse();
            assertThat(ThreadPriority.nice(tid)).isEqualTo(Math.min(serverNice, WalReceiver.WAITED_NICE));
            if (grouped) {
                assertThat(CpuGroups.pathOf(tid)).isEqualTo(pid + "nice" + WalReceiver.WAITED_NICE);
            }
            waiter.join();
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(r::inBackground);
            assertThat(ThreadPriority.isIdle(tid)).isTrue();

            // a message that finds the stream caught up (a keepalive, the bgwriter's WAL) clears the mark:
            // set it again until the watchdog has seen it
            Awaitility.await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).until(() -> {
                if (r.inBackground()) {
                    r.behindSince(System.nanoTime() - Duration.ofSeconds(5).toNanos());
                }
                return !r.inBackground();
            });
            assertThat(r.boundsPassed()).isPositive();
            assertThat(ThreadPriority.isIdle(tid)).as("the watchdog took it out of the background").isFalse();
            assertThat(ThreadPriority.nice(tid)).as("ahead of the computes until it catches up")
                    .isEqualTo(Math.min(serverNice, WalReceiver.WAITED_NICE));
            if (grouped) {
                assertThat(CpuGroups.pathOf(tid)).isEqualTo(pid + "nice" + WalReceiver.WAITED_NICE);
            }
            try (Connection c = sql(); Statement st = c.createStatement()) {
                st.execute("SET synchronous_commit = local");
                st.execute("CREATE TABLE idle_policy_rows AS SELECT 1 AS n");
            }
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(r::inBackground);
            assertThat(ThreadPriority.isIdle(tid)).as("caught up again").isTrue();
            if (grouped) {
                assertThat(CpuGroups.pathOf(tid)).isEqualTo(pid + "idle");
            }
        } finally {
            try (Connection c = sql()) {
                queryString(c, "SELECT pg_drop_replication_slot('forkline_idle_policy')::text"); // max_replication_slots=4
            }
        }
    }

    /**
     * {@link PhysicalStream} sees pgjdbc's input buffer (its private fields), so that a commit can
     * tell at once whether more WAL is already waiting; after a pgjdbc upgrade that renamed them this
     * fails (ingest would still be correct, but would commit each message separately). Reads the
     * first message of a stream: XLogData at the requested start.
     */
    @Test
    @Order(4)
    void physicalStreamProbesPgjdbcsBufferAndReadsXLogData() throws Exception {
        long startLsn;
        try (Connection c = sql(); Statement st = c.createStatement()) {
            startLsn = Lsn.segmentStart(Lsn.parse(queryString(c, "SELECT pg_current_wal_flush_lsn()")));
        }
        java.util.Properties p = new java.util.Properties();
        p.setProperty("user", "postgres");
        p.setProperty("replication", "true");
        p.setProperty("assumeMinServerVersion", "15");
        p.setProperty("preferQueryMode", "simple");
        p.setProperty("socketTimeout", "30");
        try (Connection rc = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", p)) {
            rc.createStatement().execute("CREATE_REPLICATION_SLOT forkline_probe TEMPORARY PHYSICAL RESERVE_WAL");
            PhysicalStream s = PhysicalStream.start(rc, "forkline_probe", startLsn, Duration.ofSeconds(1).toNanos());
            assertThat(s.probes()).as("pgjdbc's QueryExecutorBase.pgStream / PGStream.pgInput readable").isTrue();
            PhysicalStream.XLogData d = null;
            while (d == null) {
                d = s.read();
                assertThat(s.ended()).isFalse();
            }
            assertThat(d.start()).isEqualTo(startLsn);
            assertThat(d.length()).isPositive();
            assertThat(Long.compareUnsigned(d.walEnd(), d.end())).as("walEnd is at or past the chunk").isGreaterThanOrEqualTo(0);
            s.acknowledge(startLsn);
        }
    }

    /**
     * A fast shutdown of the compute: the walsender sends the shutdown checkpoint and waits for our
     * flush acknowledgement before it exits; the checkpoint record becomes durable, the receiver
     * keeps reconnecting (not FAILED) until closed.
     */
    @Test
    @Order(5)
    void fastShutdownCheckpointIsIngested() throws Exception {
        assertThat(streamedTimeline).as("streaming test ran first").isNotNull();
        try (WalReceiver r = WalReceiver.start(store, streamedTimeline, streamedStart, config(STANDBY, STANDBY))) {
            try (Connection c = sql(); Statement st = c.createStatement()) {
                st.executeUpdate("INSERT INTO numbered VALUES (-1, 'before shutdown')"); // waits for r's ack
            }
            long t0 = System.nanoTime();
            pg.run(Duration.ofSeconds(60), "pg_ctl", "-D", pgdata.toString(), "-m", "fast", "-w", "stop");
            long stopMs = (System.nanoTime() - t0) / 1_000_000;
            assertThat(stopMs).as("walsender saw its shutdown checkpoint acknowledged (no wal_sender_timeout wait)")
                    .isLessThan(15_000);
            String control = pg.run(Duration.ofSeconds(30), "pg_controldata", pgdata.toString());
            Matcher m = Pattern.compile("Latest checkpoint location:\\s+([0-9A-F]+/[0-9A-F]+)").matcher(control);
            assertThat(m.find()).as(control).isTrue();
            long checkpoint = Lsn.parse(m.group(1));
            assertThat(r.awaitLastRecordLsn(checkpoint + 1, Duration.ofSeconds(20)))
                    .as("shutdown checkpoint at %s ingested (last record %s)", Lsn.format(checkpoint),
                            Lsn.format(r.lastRecordLsn()))
                    .isTrue();
            assertThat(store.lastRecordLsn(streamedTimeline)).isGreaterThan(checkpoint);
            Awaitility.await("compute gone: reconnecting").atMost(Duration.ofSeconds(10))
                    .pollInterval(Duration.ofMillis(20))
                    .until(r::state, state -> state == ReceiverState.CONNECTING);
            assertThat(r.failure()).isNull();
        }
    }
}
