package io.forkline.pageserver.retention;

import com.fasterxml.jackson.databind.JsonNode;
import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.pageserver.api.ApiException;
import io.forkline.pageserver.tenant.TenantService;
import io.forkline.pageserver.testing.Digest;
import io.forkline.pageserver.testing.Sql;
import io.forkline.pageserver.testing.TestClock;
import io.forkline.pageserver.testing.TestServer;
import io.forkline.pageserver.testing.TestServer.Response;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.lsn.Lsn;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Retention end to end against real PostgreSQL 15 computes, through the admin API: GC removes
 * history beyond the PITR window and horizon, and nothing that a branch, a lease or the window still
 * needs; what it removed cannot be branched any more, with a message naming the earliest
 * restorable point. The server's clock is injected: the test moves it forward to expire a lease.
 * Background GC is off ({@code forkline.gc.intervalSeconds=0}) so every run is one the test asked for.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RetentionIT {
    /** The server's "now": the test moves it forward to expire a lease. */
    private static final TestClock CLOCK = new TestClock();

    private static PostgresInstallation pg;
    private static TestServer server;
    private static TenantService tenants;

    @BeforeAll
    static void start() throws Exception {
        pg = PostgresInstallation.detect();
        server = TestServer.start("retention", CLOCK, TestServer.Option.NO_BACKGROUND_GC);
        tenants = server.tenants();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** The insert LSN of the compute once everything up to it is ingested. */
    private static long quiescentLsn(String uri, TimelineId tl) throws Exception {
        long lsn = Lsn.parse(Sql.queryString(uri, "postgres", "SELECT pg_current_wal_insert_lsn()"));
        await().atMost(Duration.ofSeconds(20)).until(() -> Long.compareUnsigned(server.store().lastRecordLsn(tl), lsn) >= 0);
        return lsn;
    }

    private static void updateAll(String uri, int times) throws Exception {
        for (int i = 0; i < times; i++) {
            Sql.exec(uri, "postgres", "UPDATE t SET v = md5(v), n = n + 1");
        }
    }

    private static JsonNode gc(String tenant) throws Exception {
        return server.post("/v1/tenants/" + tenant + "/gc", "{}").ok();
    }

    private static JsonNode report(JsonNode gc, TimelineId tl) {
        for (JsonNode t : gc.path("timelines")) {
            if (t.path("timeline_id").asText().equals(tl.toString())) {
                return t;
            }
        }
        throw new AssertionError("no report of timeline " + tl + " in " + gc.toPrettyString());
    }

    @Test
    @Order(1)
    void gcRemovesOnlyWhatNoBranchLeaseOrWindowNeeds() throws Exception {
        String tenant = "ret";
        server.post("/v1/tenants", "{\"name\":\"" + tenant + "\"}").ok();
        String main = tenants.startEndpoint(tenant, "main");
        TimelineId mainTl = TimelineId.parse(tenants.branch(tenant, "main").timelineId());
        Sql.exec(main, "postgres", "CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL, n int NOT NULL)",
                "INSERT INTO t SELECT g, md5(g::text), 0 FROM generate_series(1, 1000) g");

        long lsn0 = quiescentLsn(main, mainTl);
        String digest0 = Digest.ofDatabase(pg, main, "postgres");
        tenants.createBranch(tenant, "early", "main", Lsn.format(lsn0), null);

        updateAll(main, 2);
        long lsnTwo = quiescentLsn(main, mainTl);
        updateAll(main, 3);
        long lsnMid = quiescentLsn(main, mainTl);
        String digestMid = Digest.ofDatabase(pg, main, "postgres");
        JsonNode lease = server.post("/v1/tenants/" + tenant + "/branches/main/lsn_lease",
                "{\"lsn\":\"" + Lsn.format(lsnMid) + "\",\"ttl\":\"1h\"}").ok();
        assertThat(lease.path("lsn").asText()).isEqualTo(Lsn.format(lsnMid));
        assertThat(Instant.parse(lease.path("expires_at").asText()))
                .isBetween(CLOCK.instant().plus(Duration.ofMinutes(59)), CLOCK.instant().plus(Duration.ofMinutes(61)));
        updateAll(main, 5);
        quiescentLsn(main, mainTl);
        String digestMain = Digest.ofDatabase(pg, main, "postgres");

        // before any GC: defaults, and everything restorable from the start
        JsonNode status = server.get("/v1/tenants/" + tenant + "/retention").ok();
        assertThat(status.path("pitr_interval").asText()).isEqualTo("7d");
        assertThat(status.path("gc_horizon").asText()).isEqualTo("64MB");
        JsonNode first = gc(tenant);
        assertThat(report(first, mainTl).path("versions_removed").asLong()).as("7d window: nothing is old enough").isZero();

        JsonNode cfg = server.post("/v1/tenants/" + tenant + "/retention", "{\"pitr_interval\":\"0\",\"gc_horizon\":\"0\"}").ok();
        assertThat(cfg.path("pitr_interval_seconds").asLong()).isZero();
        assertThat(cfg.path("gc_horizon_bytes").asLong()).isZero();
        assertThat(cfg.path("source").path("gc_horizon").asText()).isEqualTo("tenant");

        JsonNode run = gc(tenant);
        JsonNode mainRun = report(run, mainTl);
        System.out.println("GC of main: " + mainRun.toPrettyString());
        assertThat(mainRun.path("versions_removed").asLong()).isGreaterThan(0);
        // each removed version counts its 42-byte key plus its value (a page delta can be a few bytes)
        assertThat(mainRun.path("bytes_removed").asLong()).isGreaterThan(mainRun.path("versions_removed").asLong() * 42);
        assertThat(mainRun.path("cutoff").asText()).as("the lease holds the cutoff").isEqualTo(Lsn.format(lsnMid));
        assertThat(mainRun.path("retained_lsns").toString()).contains(Lsn.format(lsn0));

        // below the applied cutoff: refused with the earliest restorable LSN
        assertThatThrownBy(() -> tenants.createBranch(tenant, "two", "main", Lsn.format(lsnTwo), null))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.status()).isEqualTo(409);
                    assertThat(e.code()).isEqualTo(EarliestRestorable.CODE);
                    assertThat(e.getMessage()).contains(Lsn.format(lsnTwo)).contains("earliest restorable LSN is "
                            + Lsn.format(lsnMid)).containsPattern("earliest restorable time is \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z");
                });
        Response refused = server.post("/v1/tenants/" + tenant + "/branches",
                "{\"ref\":\"two\",\"parent\":\"main\",\"lsn\":\"" + Lsn.format(lsnTwo) + "\"}");
        assertThat(refused.status()).isEqualTo(409);
        assertThat(refused.body().path("error").path("message").asText()).contains(Lsn.format(lsnMid));

        // main after an endpoint restart, and the branch from before GC, read exactly what they held
        tenants.stopEndpoint(tenant, "main");
        main = tenants.startEndpoint(tenant, "main");
        assertThat(Digest.ofDatabase(pg, main, "postgres")).isEqualTo(digestMain);
        tenants.stopEndpoint(tenant, "main");
        String early = tenants.startEndpoint(tenant, "early");
        assertThat(Digest.ofDatabase(pg, early, "postgres")).isEqualTo(digest0);
        tenants.stopEndpoint(tenant, "early");

        // the leased point is still branchable, with the right data
        assertThat(server.get("/v1/tenants/" + tenant + "/branches/main/lsn_lease").ok().size()).isEqualTo(1);
        tenants.createBranch(tenant, "leased", "main", Lsn.format(lsnMid), null);
        String leased = tenants.startEndpoint(tenant, "leased");
        assertThat(Digest.ofDatabase(pg, leased, "postgres")).isEqualTo(digestMid);
        tenants.stopEndpoint(tenant, "leased");

        // the lease expires: the next GC moves the cutoff past it, and the point is refused
        CLOCK.setOffset(Duration.ofHours(2));
        assertThat(server.get("/v1/tenants/" + tenant + "/branches/main/lsn_lease").ok().size()).isZero();
        JsonNode after = report(gc(tenant), mainTl);
        assertThat(Lsn.parse(after.path("applied_cutoff").asText())).isGreaterThan(lsnMid);
        assertThat(after.path("versions_removed").asLong()).isGreaterThan(0);
        assertThatThrownBy(() -> tenants.createBranch(tenant, "leased-again", "main", Lsn.format(lsnMid), null))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.code()).isEqualTo(EarliestRestorable.CODE));
        // ... while the branch made at that point keeps reading it (its branch point is retained)
        leased = tenants.startEndpoint(tenant, "leased");
        assertThat(Digest.ofDatabase(pg, leased, "postgres")).isEqualTo(digestMid);
        tenants.stopEndpoint(tenant, "leased");
        JsonNode status2 = server.get("/v1/tenants/" + tenant + "/retention").ok();
        assertThat(status2.path("branches").toString()).contains(after.path("applied_cutoff").asText());
        CLOCK.setOffset(Duration.ZERO);
    }

    @Test
    @Order(2)
    void droppedTableComesBackFromABranchBeforeTheDropWithinThePitrWindow() throws Exception {
        CLOCK.setOffset(Duration.ZERO);
        String tenant = "pitr";
        tenants.createTenant(tenant);
        server.post("/v1/tenants/" + tenant + "/retention", "{\"pitr_interval\":\"1h\",\"gc_horizon\":\"0\"}").ok();
        String main = tenants.startEndpoint(tenant, "main");
        TimelineId mainTl = TimelineId.parse(tenants.branch(tenant, "main").timelineId());
        Sql.exec(main, "postgres", "CREATE TABLE precious (id int PRIMARY KEY, v text)",
                "INSERT INTO precious SELECT g, 'row ' || g FROM generate_series(1, 500) g");
        Sql.exec(main, "postgres", "UPDATE precious SET v = v || '!' WHERE id % 2 = 0");
        quiescentLsn(main, mainTl);
        String digestBefore = Digest.ofDatabase(pg, main, "postgres");
        Thread.sleep(100);
        Instant beforeDrop = Instant.now();
        Thread.sleep(100);
        Sql.exec(main, "postgres", "DROP TABLE precious");
        Sql.exec(main, "postgres", "CREATE TABLE other (x int)", "INSERT INTO other SELECT generate_series(1, 100)");
        quiescentLsn(main, mainTl);

        JsonNode run = report(gc(tenant), mainTl);
        assertThat(run.path("pitr_cutoff").asText()).as("no commit is an hour old").isEqualTo(run.path("cutoff").asText());
        assertThat(run.path("versions_removed").asLong()).isZero();

        tenants.createBranch(tenant, "undo-drop", "main", null, beforeDrop.toString());
        String restored = tenants.startEndpoint(tenant, "undo-drop");
        assertThat(Sql.queryLong(restored, "postgres", "SELECT count(*) FROM precious")).isEqualTo(500);
        assertThat(Sql.queryLong(restored, "postgres", "SELECT count(*) FROM precious WHERE v LIKE '%!'")).isEqualTo(250);
        assertThat(Digest.ofDatabase(pg, restored, "postgres")).isEqualTo(digestBefore);
        tenants.stopEndpoint(tenant, "undo-drop");
        tenants.stopEndpoint(tenant, "main");
    }

    @Test
    @Order(3)
    void aRestoreBelowTheGcCutoffIsRefusedWhileTheEndpointKeepsRunning() throws Exception {
        CLOCK.setOffset(Duration.ZERO);
        String tenant = "restore-gc";
        tenants.createTenant(tenant);
        server.post("/v1/tenants/" + tenant + "/retention", "{\"pitr_interval\":\"0\",\"gc_horizon\":\"0\"}").ok();
        String main = tenants.startEndpoint(tenant, "main");
        try {
            TimelineId mainTl = TimelineId.parse(tenants.branch(tenant, "main").timelineId());
            Sql.exec(main, "postgres", "CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL, n int NOT NULL)",
                    "INSERT INTO t SELECT g, md5(g::text), 0 FROM generate_series(1, 200) g");
            long early = quiescentLsn(main, mainTl);
            updateAll(main, 2);
            quiescentLsn(main, mainTl);
            JsonNode run = report(gc(tenant), mainTl);
            assertThat(Lsn.parse(run.path("applied_cutoff").asText())).isGreaterThan(early);

            Response refused = server.post("/v1/tenants/" + tenant + "/branches/main/restore",
                    "{\"lsn\":\"" + Lsn.format(early) + "\"}");
            assertThat(refused.status()).isEqualTo(409);
            assertThat(refused.body().path("error").path("code").asText()).isEqualTo(EarliestRestorable.CODE);
            JsonNode after = server.get("/v1/tenants/" + tenant + "/branches/main").ok();
            assertThat(after.path("endpoint").path("state").asText()).as("refused before the endpoint stops")
                    .isEqualTo("running");
            // the same compute: the API shows its connection string through the Postgres proxy
            assertThat(after.path("endpoint").path("uri").asText()).isEqualTo(after.path("connection_string").asText());
            assertThat(tenants.endpoints().get(tenant, "main").uri()).isEqualTo(main);
            assertThat(Sql.queryLong(main, "postgres", "SELECT count(*) FROM t")).isEqualTo(200);
            assertThat(server.refs(tenant)).containsExactly("main");
        } finally {
            tenants.stopEndpoint(tenant, "main");
        }
    }
}
