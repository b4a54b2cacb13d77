package io.forkline.pageserver.pageservice;

import io.forkline.page.client.PageClientConfig;
import io.forkline.page.client.PageServiceClient;
import io.forkline.page.client.PageServiceException;
import io.forkline.page.client.ReadLsn;
import io.forkline.page.protocol.proto.ClientMessage;
import io.forkline.page.protocol.proto.ErrorCode;
import io.forkline.page.protocol.proto.Handshake;
import io.forkline.page.protocol.proto.RelTag;
import io.forkline.page.protocol.proto.RelationEntry;
import io.forkline.page.protocol.proto.ServerMessage;
import io.forkline.page.protocol.proto.SlruKind;
import io.forkline.pageserver.basebackup.BasebackupBuilder;
import io.forkline.pageserver.tenant.TenantService;
import io.forkline.pageserver.testing.Sql;
import io.forkline.pageserver.testing.TestServer;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.lsn.Lsn;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The page service against real PostgreSQL 15 WAL: pages served over the wire equal the pages the
 * basebackup writes, on main at several LSNs and on a branch; pipelining, ingest waits, GC cutoff
 * refusals, errors that leave the connection and the server working. Computes themselves start
 * from a basebackup fetched over the page service ({@code GetBasebackup}), so every endpoint start
 * here (and in every other IT) goes over the wire too.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PageServiceIT {
    private static final String T = "pagesvc";
    private static TestServer server;
    private static TenantService tenants;
    private static String mainUri;
    private static TimelineId mainTl;
    /** Quiescent points of main: name -> LSN. */
    private static final Map<String, Long> points = new LinkedHashMap<>();

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start("pageservice", TestServer.Option.NO_BACKGROUND_GC);
        tenants = server.tenants();
        tenants.createTenant(T);
        mainUri = tenants.startEndpoint(T, "main");
        mainTl = TimelineId.parse(tenants.branch(T, "main").timelineId());
        points.put("loaded", loadAccounts(server, mainTl, mainUri));
        Sql.exec(mainUri, "postgres", CHANGE_ACCOUNTS);
        Sql.exec(mainUri, "postgres",
                "CREATE UNLOGGED TABLE scratch (x int)",
                "INSERT INTO scratch VALUES (1)",
                "CREATE DATABASE other",
                "TRUNCATE accounts");
        Sql.exec(mainUri, "other", "CREATE TABLE o (x int)", "INSERT INTO o SELECT generate_series(1, 5000)");
        points.put("changed", server.awaitIngested(mainTl, mainUri));
    }

    /** Updates, deletes and a VACUUM of the {@link #loadAccounts} table (heap, index, VM and FSM changes). */
    static final String[] CHANGE_ACCOUNTS = {
        "UPDATE accounts SET balance = balance + 1 WHERE id % 7 = 0",
        "DELETE FROM accounts WHERE id > 18000",
        "VACUUM accounts",
    };

    /**
     * Creates and fills {@code accounts} (20,000 rows of ~220 bytes, a primary key and a second
     * index) on the compute at {@code uri}; returns the LSN once ingest holds it.
     */
    static long loadAccounts(TestServer server, TimelineId tl, String uri) throws java.sql.SQLException {
        Sql.exec(uri, "postgres",
                "CREATE TABLE accounts (id int PRIMARY KEY, balance bigint, note text)",
                "INSERT INTO accounts SELECT g, g * 10, repeat('x', 200) FROM generate_series(1, 20000) g",
                "CREATE INDEX ON accounts (balance)");
        return server.awaitIngested(tl, uri);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static PageServiceClient client(String branch) {
        return PageServiceClient.connect(PageClientConfig.of("127.0.0.1", server.server().pagePort(), T, null, branch, server.adminToken()));
    }

    /**
     * Every relation fork the basebackup writes at an LSN, compared page by page with what
     * {@code GetPage} serves at that LSN (the basebackup leaves FSM forks out and writes an
     * unlogged relation's main fork as a copy of its init fork; those are compared as served).
     */
    private static int compareWithBasebackup(PageServiceClient c, TimelineId tl, long lsn, Path dir) throws Exception {
        new BasebackupBuilder(server.store()).writeDirectory(tl, lsn, dir);
        List<RelationEntry> rels = PageServiceClient.await(c.listRelations(0, 0, ReadLsn.at(lsn)));
        assertThat(rels).hasSizeGreaterThan(100);
        int compared = 0;
        for (RelationEntry e : rels) {
            RelTag r = e.getRel();
            io.forkline.storage.key.RelTag tag = new io.forkline.storage.key.RelTag(r.getSpcOid(), r.getDbOid(),
                    r.getRelNumber(), r.getFork());
            assertThat(PageServiceClient.await(c.relSize(r, ReadLsn.at(lsn)))).isEqualTo(e.getNblocks());
            assertThat(PageServiceClient.await(c.relExists(r, ReadLsn.at(lsn)))).isTrue();
            Path file = dir.resolve(tag.path());
            boolean unloggedMain = r.getFork() == 0 && rels.stream().anyMatch(o -> o.getRel().getFork() == 3
                    && o.getRel().getRelNumber() == r.getRelNumber() && o.getRel().getDbOid() == r.getDbOid());
            if (r.getFork() == 1 || unloggedMain) {
                continue;
            }
            byte[] expected = Files.readAllBytes(file);
            assertThat(expected.length).as(tag.path()).isEqualTo(e.getNblocks() * 8192);
            for (int from = 0; from < e.getNblocks(); from += 64) {
                int n = Math.min(64, e.getNblocks() - from);
                int[] blocks = new int[n];
                for (int i = 0; i < n; i++) {
                    blocks[i] = from + i;
                }
                List<byte[]> pages = PageServiceClient.await(c.getPages(r, blocks, ReadLsn.at(lsn)));
                for (int i = 0; i < n; i++) {
                    int b = from + i;
                    assertThat(pages.get(i)).as("%s block %d at %s", tag.path(), b, Lsn.format(lsn))
                            .isEqualTo(Arrays.copyOfRange(expected, b * 8192, (b + 1) * 8192));
                    compared++;
                }
            }
        }
        byte[] clog = PageServiceClient.await(c.getSlruSegment(SlruKind.SLRU_KIND_CLOG, 0, ReadLsn.at(lsn)));
        byte[] clogFile = Files.readAllBytes(dir.resolve("pg_xact/0000"));
        assertThat(clog).isEqualTo(Arrays.copyOf(clogFile, clog.length));
        return compared;
    }

    @Test
    @Order(1)
    void pagesOverTheWireEqualTheBasebackupOnMainAndOnABranch() throws Exception {
        try (PageServiceClient c = client("main")) {
            assertThat(c.timelineId()).isEqualTo(mainTl.toString());
            for (Map.Entry<String, Long> p : points.entrySet()) {
                int n = compareWithBasebackup(c, mainTl, p.getValue(), server.dir().resolve("bb-main-" + p.getKey()));
                assertThat(n).isGreaterThan(300);
            }
        }
        // protocol version 1 (pages inside protobuf) serves what version 2 (raw pages frames) does
        try (PageServiceClient v1 = PageServiceClient.connect(PageClientConfig.of("127.0.0.1", server.server().pagePort(),
                T, null, "main", server.adminToken()).withProtocolVersion(1));
             PageServiceClient v2 = client("main")) {
            assertThat(v1.session().getProtocolVersion()).isEqualTo(1);
            assertThat(v2.session().getProtocolVersion()).isEqualTo(2);
            long lsn = points.get("loaded");
            assertThat(compareWithBasebackup(v1, mainTl, lsn, server.dir().resolve("bb-main-v1"))).isGreaterThan(300);
            RelationEntry largest = PageServiceClient.await(v2.listRelations(0, 0, ReadLsn.at(lsn))).stream()
                    .max(java.util.Comparator.comparingInt(RelationEntry::getNblocks)).orElseThrow();
            for (int b = 0; b < Math.min(40, largest.getNblocks()); b++) {
                byte[] one = PageServiceClient.await(v1.getPage(largest.getRel(), b, ReadLsn.at(lsn)));
                assertThat(PageServiceClient.await(v2.getPage(largest.getRel(), b, ReadLsn.at(lsn)))).isEqualTo(one);
                // the generic send() of a version-2 session hands the raw pages back inside the response
                io.forkline.page.protocol.proto.Response r = PageServiceClient.await(v2.send(
                        io.forkline.page.protocol.proto.Request.newBuilder().setRequestLsn(lsn)
                                .setGetPage(io.forkline.page.protocol.proto.GetPageRequest.newBuilder()
                                        .setRel(largest.getRel()).addBlocks(b)), java.time.Duration.ofSeconds(30)));
                assertThat(r.getGetPage().getPagesCount()).isEqualTo(1);
                assertThat(r.getGetPage().getPages(0).toByteArray()).isEqualTo(one);
            }
        }
        // a branch at the first point, written to: its own pages and its ancestor's
        tenants.createBranch(T, "feature", "main", Lsn.format(points.get("loaded")), null);
        String uri = tenants.startEndpoint(T, "feature");
        TimelineId tl = TimelineId.parse(tenants.branch(T, "feature").timelineId());
        assertThat(Sql.queryLong(uri, "postgres", "SELECT count(*) FROM accounts")).isEqualTo(20000);
        Sql.exec(uri, "postgres", "UPDATE accounts SET note = 'branch' WHERE id < 500");
        long lsn = server.awaitIngested(tl, uri);
        try (PageServiceClient c = client("feature")) {
            assertThat(compareWithBasebackup(c, tl, lsn, server.dir().resolve("bb-feature"))).isGreaterThan(300);
            // the branch point itself reads the ancestor's pages
            assertThat(compareWithBasebackup(c, tl, points.get("loaded"), server.dir().resolve("bb-feature-start")))
                    .isGreaterThan(300);
        }
        tenants.stopEndpoint(T, "feature");
    }

    @Test
    @Order(2)
    void tenThousandPipelinedRequestsAreAnsweredByIdAndAWaitingRequestBlocksNoOther() throws Exception {
        try (PageServiceClient c = client("main")) {
            long lsn = points.get("changed");
            List<RelationEntry> rels = PageServiceClient.await(c.listRelations(0, 0, ReadLsn.at(lsn)));
            RelationEntry big = rels.stream().filter(e -> e.getRel().getFork() == 0)
                    .max((a, b) -> Integer.compare(a.getNblocks(), b.getNblocks())).orElseThrow();
            // a request for an LSN not ingested yet (64 MiB ahead: no background WAL of the compute
            // gets there by itself) waits for ingest ...
            long last = server.store().lastRecordLsn(mainTl);
            long ahead = last + (64L << 20);
            CompletableFuture<Integer> waiting = c.relSize(big.getRel(), ReadLsn.at(ahead));
            // ... while 10,000 others are answered
            List<CompletableFuture<byte[]>> futures = new ArrayList<>();
            for (int i = 0; i < 10_000; i++) {
                futures.add(c.getPage(big.getRel(), i % big.getNblocks(), ReadLsn.at(lsn)));
            }
            for (int i = 0; i < futures.size(); i++) {
                byte[] expected = server.store().get(mainTl, io.forkline.storage.key.Key.relBlock(
                        new io.forkline.storage.key.RelTag(big.getRel().getSpcOid(), big.getRel().getDbOid(),
                                big.getRel().getRelNumber(), 0), i % big.getNblocks()), lsn);
                assertThat(futures.get(i).get(60, TimeUnit.SECONDS)).as("request %d", i)
                        .isEqualTo(expected == null ? new byte[8192] : expected);
            }
            assertThat(waiting).isNotDone();
            // 10,000 > 1,024 in flight: the server stopped reading this socket at least once
            assertThat(server.server().pageService().metrics().backPressurePauses()).isPositive();
            // ... until the compute's WAL gets there: five segment switches, each after a write
            for (int i = 0; i < 5; i++) {
                Sql.exec(mainUri, "postgres", "INSERT INTO accounts VALUES (" + (100 + i) + ", 1, 'wake')",
                        "SELECT pg_switch_wal()");
            }
            assertThat(waiting.get(30, TimeUnit.SECONDS))
                    .isEqualTo(PageServiceClient.await(c.relSize(big.getRel(), ReadLsn.latest())));
        }
    }

    /**
     * Early flushes on both ends ({@link PageServiceConfig#flushEvery} on a second page service over
     * the same store, {@link PageClientConfig#flushEvery} on the client; both off by default): 3,000
     * pipelined GetPages in both protocol versions still get their own pages.
     */
    @Test
    @Order(2)
    void pipelinedAnswersAreRightWithEarlyFlushesOnBothEnds() throws Exception {
        long lsn = points.get("changed");
        try (PageService early = PageService.start(server.store(), null, (token, tenant) -> { },
                PageServiceConfig.defaults(0).withFlushEvery(3))) {
            for (int version : new int[]{1, 2}) {
                try (PageServiceClient c = PageServiceClient.connect(PageClientConfig.of("127.0.0.1", early.port(), T,
                        mainTl.toString(), null, "").withProtocolVersion(version).withFlushEvery(5))) {
                    RelationEntry big = PageServiceClient.await(c.listRelations(0, 0, ReadLsn.at(lsn))).stream()
                            .filter(e -> e.getRel().getFork() == 0)
                            .max((a, b) -> Integer.compare(a.getNblocks(), b.getNblocks())).orElseThrow();
                    List<CompletableFuture<byte[]>> futures = new ArrayList<>();
                    for (int i = 0; i < 3_000; i++) {
                        futures.add(c.getPage(big.getRel(), (i * 7) % big.getNblocks(), ReadLsn.at(lsn)));
                    }
                    for (int i = 0; i < futures.size(); i++) {
                        byte[] expected = server.store().get(mainTl, io.forkline.storage.key.Key.relBlock(
                                new io.forkline.storage.key.RelTag(big.getRel().getSpcOid(), big.getRel().getDbOid(),
                                        big.getRel().getRelNumber(), 0), (i * 7) % big.getNblocks()), lsn);
                        assertThat(futures.get(i).get(60, TimeUnit.SECONDS)).as("v%d request %d", version, i)
                                .isEqualTo(expected == null ? new byte[8192] : expected);
                    }
                }
            }
        }
        assertThatThrownBy(() -> PageServiceConfig.defaults(0).withFlushEvery(-1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-1");
        assertThatThrownBy(() -> PageClientConfig.of("127.0.0.1", 1, T, mainTl.toString(), null, "").withFlushEvery(-2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-2");
    }

    @Test
    @Order(3)
    void errorsNameTheValueAndLeaveTheConnectionWorking() throws Exception {
        try (PageServiceClient c = client("main")) {
            long lsn = points.get("changed");
            RelTag missing = PageServiceClient.rel(1663, 5, 999_999, 0);
            assertThatThrownBy(() -> PageServiceClient.await(c.relSize(missing, ReadLsn.at(lsn))))
                    .isInstanceOf(PageServiceException.class).hasMessageContaining("999999")
                    .satisfies(e -> assertThat(((PageServiceException) e).code()).isEqualTo(ErrorCode.NOT_FOUND));
            assertThat(PageServiceClient.await(c.relExists(missing, ReadLsn.at(lsn)))).isFalse();
            RelTag badFork = PageServiceClient.rel(1663, 5, 1259, 7);
            assertThatThrownBy(() -> PageServiceClient.await(c.getPage(badFork, 0, ReadLsn.at(lsn))))
                    .hasMessageContaining("invalid fork number 7")
                    .satisfies(e -> assertThat(((PageServiceException) e).code()).isEqualTo(ErrorCode.INVALID_REQUEST));
            RelationEntry pgClass = PageServiceClient.await(c.listRelations(0, 0, ReadLsn.at(lsn))).stream()
                    .filter(e -> e.getRel().getRelNumber() == 1259 && e.getRel().getFork() == 0).findFirst().orElseThrow();
            assertThatThrownBy(() -> PageServiceClient.await(c.getPage(pgClass.getRel(), pgClass.getNblocks() + 5,
                    ReadLsn.at(lsn)))).hasMessageContaining("past its end")
                    .satisfies(e -> assertThat(((PageServiceException) e).code()).isEqualTo(ErrorCode.NOT_FOUND));
            assertThatThrownBy(() -> PageServiceClient.await(c.getPage(pgClass.getRel(), 0, ReadLsn.at(lsn, lsn + 1))))
                    .hasMessageContaining("not_modified_since_lsn");
            assertThatThrownBy(() -> PageServiceClient.await(c.getPage(pgClass.getRel(), 0, ReadLsn.at(16))))
                    .hasMessageContaining("below the start LSN");
            // the connection still serves
            assertThat(PageServiceClient.await(c.getPage(pgClass.getRel(), 0, ReadLsn.at(lsn)))).hasSize(8192);
            assertThat(PageServiceClient.await(c.ping(new byte[]{1, 2, 3}))).containsExactly(1, 2, 3);
            assertThat(PageServiceClient.await(c.dbSize(1663, 5, ReadLsn.at(lsn)))).isGreaterThan(1_000_000L);

            // handshakes that fail
            int port = server.server().pagePort();
            assertThatThrownBy(() -> PageServiceClient.connect(PageClientConfig.of("127.0.0.1", port, T, null, "nope", server.adminToken())))
                    .hasMessageContaining("nope").satisfies(e -> assertThat(((PageServiceException) e).code())
                            .isEqualTo(ErrorCode.NOT_FOUND));
            assertThatThrownBy(() -> PageServiceClient.connect(PageClientConfig.of("127.0.0.1", port, "other-tenant",
                    mainTl.toString(), null, server.adminToken()))).hasMessageContaining("does not exist");
            try (RawConnection raw = new RawConnection(port)) {
                raw.send(ClientMessage.newBuilder().setHandshake(Handshake.newBuilder().setProtocolVersion(99)
                        .setTenant(T).setBranch("main")).build().toByteArray());
                ServerMessage m = raw.receive();
                assertThat(m.getHandshake().getError().getMessage()).contains("99").contains("[1, 2]");
                assertThat(raw.closed()).isTrue();
            }
            // garbage and oversized frames: an error, that connection closed, this one goes on
            try (RawConnection raw = new RawConnection(port)) {
                raw.sendRaw(new byte[]{0, 0, 0, 3, (byte) 0xff, (byte) 0xff, (byte) 0xff});
                assertThat(raw.receive().getHandshake().getError().getCode()).isEqualTo(ErrorCode.INVALID_REQUEST);
                assertThat(raw.closed()).isTrue();
            }
            try (RawConnection raw = new RawConnection(port)) {
                raw.sendRaw(new byte[]{0x7f, 0, 0, 0});
                assertThat(raw.receive().getHandshake().getError().getMessage()).contains("maximum of 16777216 bytes");
                assertThat(raw.closed()).isTrue();
            }
            assertThat(PageServiceClient.await(c.getPage(pgClass.getRel(), 0, ReadLsn.at(lsn)))).hasSize(8192);
        }
    }

    @Test
    @Order(4)
    void readsBelowTheGcCutoffAreRefusedWithTheEarliestLsn() throws Exception {
        server.post("/v1/tenants/" + T + "/retention", "{\"pitr_interval\":\"0\",\"gc_horizon\":\"0\"}").ok();
        Sql.exec(mainUri, "postgres", "INSERT INTO accounts VALUES (2, 2, 'gc')");
        server.awaitIngested(mainTl, mainUri);
        server.post("/v1/tenants/" + T + "/gc", "{}").ok();
        long cutoff = server.store().gcCutoff(mainTl);
        assertThat(cutoff).isGreaterThan(points.get("loaded"));
        try (PageServiceClient c = client("main")) {
            assertThat(c.session().getEarliestLsn()).isEqualTo(cutoff);
            RelTag pgClass = PageServiceClient.rel(1663, 5, 1259, 0);
            assertThatThrownBy(() -> PageServiceClient.await(c.getPage(pgClass, 0, ReadLsn.at(points.get("loaded")))))
                    .isInstanceOf(PageServiceException.class)
                    .hasMessageContaining(Lsn.format(cutoff))
                    .satisfies(e -> {
                        assertThat(((PageServiceException) e).code()).isEqualTo(ErrorCode.BELOW_GC_CUTOFF);
                        assertThat(((PageServiceException) e).earliestLsn()).isEqualTo(cutoff);
                    });
            assertThat(PageServiceClient.await(c.getPage(pgClass, 0, ReadLsn.latest()))).hasSize(8192);
        }
    }

    @Test
    @Order(5)
    void aClientReconnectsAfterThePageServiceConnectionIsLost() throws Exception {
        try (PageServiceClient c = PageServiceClient.connect(PageClientConfig.of("127.0.0.1",
                server.server().pagePort(), T, null, "main", server.adminToken()).withDefaultDeadline(Duration.ofSeconds(20)))) {
            RelTag pgClass = PageServiceClient.rel(1663, 5, 1259, 0);
            byte[] before = PageServiceClient.await(c.getPage(pgClass, 0, ReadLsn.latest()));
            // drop every connection of the server (as a restart of the page service would)
            int open = (int) server.server().pageService().metrics().connections();
            assertThat(open).isPositive();
            server.server().pageService().closeConnections();
            byte[] after = PageServiceClient.await(c.getPage(pgClass, 0, ReadLsn.latest()));
            assertThat(after).isEqualTo(before);
        }
    }

    /** A socket speaking raw frames, for what the client would never send. */
    private static final class RawConnection implements AutoCloseable {
        private final Socket socket;
        private final DataInputStream in;
        private final DataOutputStream out;

        RawConnection(int port) throws IOException {
            socket = new Socket("127.0.0.1", port);
            socket.setSoTimeout(10_000);
            in = new DataInputStream(socket.getInputStream());
            out = new DataOutputStream(socket.getOutputStream());
        }

        void send(byte[] body) throws IOException {
            out.writeInt(body.length);
            out.write(body);
            out.flush();
        }

        void sendRaw(byte[] bytes) throws IOException {
            out.write(bytes);
            out.flush();
        }

        ServerMessage receive() throws IOException {
            byte[] b = new byte[in.readInt()];
            in.readFully(b);
            return ServerMessage.parseFrom(b);
        }

        boolean closed() throws IOException {
            return in.read() == -1;
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
