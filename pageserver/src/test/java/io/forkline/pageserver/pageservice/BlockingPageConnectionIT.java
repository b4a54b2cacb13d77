package io.forkline.pageserver.pageservice;

import io.forkline.page.client.BlockingPageConnection;
import io.forkline.page.client.PageClientConfig;
import io.forkline.page.client.PageServiceClient;
import io.forkline.page.client.PageServiceException;
import io.forkline.page.client.ReadLsn;
import io.forkline.page.protocol.proto.ErrorCode;
import io.forkline.page.protocol.proto.RelTag;
import io.forkline.page.protocol.proto.RelationEntry;
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

import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The synchronous client ({@link BlockingPageConnection}) against a real page service over real
 * PostgreSQL 15 WAL: it returns what the asynchronous {@link PageServiceClient} returns for every
 * relation fork of the cluster (protocol versions 2 and 1), maps the server's error responses to
 * the same {@link PageServiceException}s, fails at its deadline naming the request and the deadline
 * (a read waiting for ingest), and survives the server closing its connection.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BlockingPageConnectionIT {
    private static final String T = "blocking";
    private static TestServer server;
    private static TenantService tenants;
    private static String mainUri;
    private static TimelineId mainTl;
    private static final Map<String, Long> points = new LinkedHashMap<>();

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start("blocking-page", TestServer.Option.NO_BACKGROUND_GC);
        tenants = server.tenants();
        tenants.createTenant(T);
        mainUri = tenants.startEndpoint(T, "main");
        mainTl = TimelineId.parse(tenants.branch(T, "main").timelineId());
        points.put("loaded", PageServiceIT.loadAccounts(server, mainTl, mainUri));
        Sql.exec(mainUri, "postgres", PageServiceIT.CHANGE_ACCOUNTS);
        points.put("changed", server.awaitIngested(mainTl, mainUri));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static PageClientConfig config(String branch, String token) {
        return PageClientConfig.of("127.0.0.1", server.server().pagePort(), T, null, branch, token);
    }

    @Test
    @Order(1)
    void returnsWhatTheAsyncClientReturnsForEveryRelationFork() {
        try (PageServiceClient async = PageServiceClient.connect(config("main", server.adminToken()));
             BlockingPageConnection sync = BlockingPageConnection.connect(config("main", server.adminToken()));
             BlockingPageConnection syncV1 = BlockingPageConnection.connect(config("main", server.adminToken())
                     .withProtocolVersion(1))) {
            assertThat(sync.timelineId()).isEqualTo(mainTl.toString());
            assertThat(sync.session().getProtocolVersion()).isEqualTo(2);
            assertThat(syncV1.session().getProtocolVersion()).isEqualTo(1);
            int pages = 0;
            for (long lsn : points.values()) {
                List<RelationEntry> rels = PageServiceClient.await(async.listRelations(0, 0, ReadLsn.at(lsn)));
                assertThat(rels).hasSizeGreaterThan(100);
                for (RelationEntry e : rels) {
                    RelTag r = e.getRel();
                    assertThat(sync.relSize(r, ReadLsn.at(lsn))).isEqualTo(e.getNblocks());
                    assertThat(sync.relExists(r, ReadLsn.at(lsn))).isTrue();
                    for (int from = 0; from < e.getNblocks(); from += 64) {
                        int n = Math.min(64, e.getNblocks() - from);
                        int[] blocks = new int[n];
                        for (int i = 0; i < n; i++) {
                            blocks[i] = from + i;
                        }
                        List<byte[]> expected = PageServiceClient.await(async.getPages(r, blocks, ReadLsn.at(lsn)));
                        List<byte[]> got = sync.getPages(r, blocks, ReadLsn.at(lsn));
                        assertThat(got).hasSize(n);
                        for (int i = 0; i < n; i++) {
                            assertThat(got.get(i)).as("%s block %d at %s", r, from + i, Lsn.format(lsn))
                                    .hasSize(8192).isEqualTo(expected.get(i));
                        }
                        // one page per request too, and protocol version 1 (pages inside protobuf)
                        assertThat(sync.getPage(r, from, ReadLsn.at(lsn))).isEqualTo(expected.get(0));
                        assertThat(syncV1.getPage(r, from + n - 1, ReadLsn.at(lsn))).isEqualTo(expected.get(n - 1));
                        pages += n;
                    }
                }
                assertThat(sync.dbSize(1663, 5, ReadLsn.at(lsn)))
                        .isEqualTo(PageServiceClient.await(async.dbSize(1663, 5, ReadLsn.at(lsn))));
            }
            assertThat(pages).isGreaterThan(600);
            // the largest answer there is: 256 pages in one raw frame (2 MiB, past the codec's first buffer)
            long lsn = points.get("loaded");
            RelationEntry big = PageServiceClient.await(async.listRelations(0, 0, ReadLsn.at(lsn))).stream()
                    .filter(e -> e.getRel().getFork() == 0)
                    .max((a, b) -> Integer.compare(a.getNblocks(), b.getNblocks())).orElseThrow();
            assertThat(big.getNblocks()).isGreaterThanOrEqualTo(256);
            int[] blocks = new int[256];
            Arrays.setAll(blocks, i -> (i * 37) % big.getNblocks());
            List<byte[]> expected = PageServiceClient.await(async.getPages(big.getRel(), blocks, ReadLsn.at(lsn)));
            List<byte[]> got = sync.getPages(big.getRel(), blocks, ReadLsn.at(lsn));
            for (int i = 0; i < blocks.length; i++) {
                assertThat(got.get(i)).as("block %d", blocks[i]).isEqualTo(expected.get(i));
            }
            assertThat(sync.ping(new byte[]{4, 5, 6})).containsExactly(4, 5, 6);
        }
    }

    @Test
    @Order(2)
    void errorResponsesAreTheAsyncClientsExceptionsAndLeaveTheConnectionWorking() {
        long lsn = points.get("changed");
        try (PageServiceClient async = PageServiceClient.connect(config("main", server.adminToken()));
             BlockingPageConnection sync = BlockingPageConnection.connect(config("main", server.adminToken()))) {
            RelTag missing = PageServiceClient.rel(1663, 5, 999_999, 0);
            sameError(() -> sync.relSize(missing, ReadLsn.at(lsn)),
                    () -> PageServiceClient.await(async.relSize(missing, ReadLsn.at(lsn))), ErrorCode.NOT_FOUND, "999999");
            assertThat(sync.relExists(missing, ReadLsn.at(lsn))).isFalse();
            RelTag pgClass = PageServiceClient.rel(1663, 5, 1259, 0);
            int nblocks = sync.relSize(pgClass, ReadLsn.at(lsn));
            sameError(() -> sync.getPage(pgClass, nblocks + 5, ReadLsn.at(lsn)),
                    () -> PageServiceClient.await(async.getPage(pgClass, nblocks + 5, ReadLsn.at(lsn))),
                    ErrorCode.NOT_FOUND, "past its end");
            RelTag badFork = PageServiceClient.rel(1663, 5, 1259, 7);
            sameError(() -> sync.getPage(badFork, 0, ReadLsn.at(lsn)),
                    () -> PageServiceClient.await(async.getPage(badFork, 0, ReadLsn.at(lsn))),
                    ErrorCode.INVALID_REQUEST, "invalid fork number 7");
            sameError(() -> sync.getPage(pgClass, 0, ReadLsn.at(lsn, lsn + 1)),
                    () -> PageServiceClient.await(async.getPage(pgClass, 0, ReadLsn.at(lsn, lsn + 1))),
                    ErrorCode.INVALID_REQUEST, "not_modified_since_lsn");
            // errors are answers: the same socket goes on serving
            assertThat(sync.connected()).isTrue();
            assertThat(sync.getPage(pgClass, 0, ReadLsn.at(lsn)))
                    .isEqualTo(PageServiceClient.await(async.getPage(pgClass, 0, ReadLsn.at(lsn))));
            // bad input is refused before it is sent, naming the value
            assertThatThrownBy(() -> sync.getPages(pgClass, new int[0], ReadLsn.at(lsn)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("got 0");
            assertThatThrownBy(() -> sync.getPages(pgClass, new int[257], ReadLsn.at(lsn)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("got 257");
            assertThatThrownBy(() -> sync.getPages(pgClass, new int[]{0}, ReadLsn.at(lsn), Duration.ofMillis(-5)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PT-0.005S");
            assertThat(sync.connected()).isTrue();
        }
        // refused handshakes: a bad token, an unknown branch
        assertThatThrownBy(() -> BlockingPageConnection.connect(config("main", "garbage")))
                .isInstanceOf(PageServiceException.class).hasMessageContaining("malformed token")
                .satisfies(e -> assertThat(((PageServiceException) e).code()).isEqualTo(ErrorCode.UNAUTHORIZED));
        assertThatThrownBy(() -> BlockingPageConnection.connect(config("main", "")))
                .isInstanceOf(PageServiceException.class)
                .satisfies(e -> assertThat(((PageServiceException) e).code()).isEqualTo(ErrorCode.UNAUTHORIZED));
        assertThatThrownBy(() -> BlockingPageConnection.connect(config("nope", server.adminToken())))
                .isInstanceOf(PageServiceException.class).hasMessageContaining("nope")
                .satisfies(e -> assertThat(((PageServiceException) e).code()).isEqualTo(ErrorCode.NOT_FOUND));
        // nothing listens: INTERNAL naming the address
        assertThatThrownBy(() -> BlockingPageConnection.connect(PageClientConfig.of("127.0.0.1", 1, T, null, "main", "")))
                .isInstanceOf(PageServiceException.class).hasMessageContaining("127.0.0.1:1")
                .satisfies(e -> assertThat(((PageServiceException) e).code()).isEqualTo(ErrorCode.INTERNAL));
    }

    /** Both calls fail with a {@link PageServiceException} of {@code code}, the same message, naming {@code value}. */
    private static void sameError(Runnable sync, Runnable async, ErrorCode code, String value) {
        PageServiceException a = catchPse(async);
        PageServiceException s = catchPse(sync);
        assertThat(s.code()).isEqualTo(code);
        assertThat(s.getMessage()).contains(value).isEqualTo(a.getMessage());
        assertThat(s.earliestLsn()).isEqualTo(a.earliestLsn());
    }

    private static PageServiceException catchPse(Runnable r) {
        try {
            r.run();
        } catch (PageServiceException e) {
            return e;
        }
        throw new AssertionError("expected a PageServiceException");
    }

    @Test
    @Order(3)
    void aReadWaitingForIngestFailsAtItsDeadlineNamingItAndTheNextCallReconnects() {
        long lsn = points.get("changed");
        try (BlockingPageConnection sync = BlockingPageConnection.connect(config("main", server.adminToken()))) {
            RelTag pgClass = PageServiceClient.rel(1663, 5, 1259, 0);
            byte[] before = sync.getPage(pgClass, 0, ReadLsn.at(lsn));
            // 64 MiB past what is ingested: the server waits for ingest (up to 30 s), the client 700 ms
            long ahead = server.store().lastRecordLsn(mainTl) + (64L << 20);
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> sync.getPages(pgClass, new int[]{0}, ReadLsn.at(ahead), Duration.ofMillis(700)))
                    .isInstanceOf(PageServiceException.class)
                    .hasMessageContaining("700 ms").hasMessageContaining("GET_PAGE of relation 1663/5/1259 fork 0")
                    .hasMessageContaining("at LSN " + Lsn.format(ahead))
                    .satisfies(e -> assertThat(((PageServiceException) e).code()).isEqualTo(ErrorCode.LSN_TIMEOUT));
            long waitedMs = (System.nanoTime() - t0) / 1_000_000;
            assertThat(waitedMs).isBetween(690L, 10_000L);
            // the connection was closed (its late answer must not be read as the next request's)
            assertThat(sync.connected()).isFalse();
            assertThat(sync.getPage(pgClass, 0, ReadLsn.at(lsn))).isEqualTo(before);
            assertThat(sync.connected()).isTrue();
        }
    }

    @Test
    @Order(4)
    void aConnectionTheServerClosedIsReplacedOnTheNextCall() {
        try (BlockingPageConnection sync = BlockingPageConnection.connect(config("main", server.adminToken())
                .withDefaultDeadline(Duration.ofSeconds(20)))) {
            RelTag pgClass = PageServiceClient.rel(1663, 5, 1259, 0);
            byte[] before = sync.getPage(pgClass, 0, ReadLsn.latest());
            for (int round = 0; round < 3; round++) {
                assertThat(server.server().pageService().metrics().connections()).isPositive();
                // every connection of the server closed (as a restart of the page service would)
                server.server().pageService().closeConnections();
                awaitNoConnections();
                long t0 = System.nanoTime();
                assertThat(sync.getPage(pgClass, 0, ReadLsn.latest())).isEqualTo(before);
                // the first reconnect is immediate (the request is re-sent on a new connection at once)
                assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(2_000);
                assertThat(server.server().pageService().metrics().connections()).isPositive();
            }
        }
    }

    private static void awaitNoConnections() {
        long end = System.nanoTime() + 5_000_000_000L;
        while (server.server().pageService().metrics().connections() > 0 && System.nanoTime() < end) {
            Thread.onSpinWait();
        }
        assertThat(server.server().pageService().metrics().connections()).isZero();
    }

    @Test
    @Order(5)
    void readsBelowTheGcCutoffAreRefusedWithTheEarliestLsn() throws Exception {
        server.post("/v1/tenants/" + T + "/retention", "{\"pitr_interval\":\"0\",\"gc_horizon\":\"0\"}").ok();
        Sql.exec(mainUri, "postgres", "INSERT INTO accounts VALUES (20002, 2, 'gc')");
        server.awaitIngested(mainTl, mainUri);
        server.post("/v1/tenants/" + T + "/gc", "{}").ok();
        long cutoff = server.store().gcCutoff(mainTl);
        assertThat(cutoff).isGreaterThan(points.get("loaded"));
        try (PageServiceClient async = PageServiceClient.connect(config("main", server.adminToken()));
             BlockingPageConnection sync = BlockingPageConnection.connect(config("main", server.adminToken()))) {
            assertThat(sync.session().getEarliestLsn()).isEqualTo(cutoff);
            RelTag pgClass = PageServiceClient.rel(1663, 5, 1259, 0);
            long old = points.get("loaded");
            sameError(() -> sync.getPage(pgClass, 0, ReadLsn.at(old)),
                    () -> PageServiceClient.await(async.getPage(pgClass, 0, ReadLsn.at(old))),
                    ErrorCode.BELOW_GC_CUTOFF, Lsn.format(cutoff));
            PageServiceException e = catchPse(() -> sync.getPage(pgClass, 0, ReadLsn.at(old)));
            assertThat(e.earliestLsn()).isEqualTo(cutoff);
            assertThat(sync.getPage(pgClass, 0, ReadLsn.latest()))
                    .isEqualTo(PageServiceClient.await(async.getPage(pgClass, 0, ReadLsn.latest())));
        }
    }
}
