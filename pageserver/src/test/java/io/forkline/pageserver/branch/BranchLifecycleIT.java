package io.forkline.pageserver.branch;

import com.fasterxml.jackson.databind.JsonNode;
import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.pageserver.testing.Sql;
import io.forkline.pageserver.testing.TestClock;
import io.forkline.pageserver.testing.TestServer;
import io.forkline.pageserver.testing.TestServer.Response;
import io.forkline.storage.id.TimelineId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Branches by ref against a real server over real HTTP with real PostgreSQL 15 computes: put
 * (concurrent, create-then-reset), reset, restore, TTL expiry with an injected clock, protection,
 * quotas, recursive delete, schema-only branches and compute sizes.
 *
 * <p>One server and one tenant for the class; main's endpoint runs throughout (its data is the
 * parent state), every test uses its own refs and stops the endpoints it starts.
 */
class BranchLifecycleIT {
    private static final String TENANT = "refs";
    /** The paths of the helpers below are relative to this one. */
    private static final String TENANT_PATH = "/v1/tenants/" + TENANT;

    /** The server's clock: the test moves it forward to expire branches. */
    private static final TestClock CLOCK = new TestClock();

    private static TestServer server;
    private static String mainUri;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start("branch-lifecycle", CLOCK);
        assertThat(server.post("/v1/tenants", "{\"name\":\"" + TENANT + "\"}").status()).isEqualTo(201);
        mainUri = post("/branches/main/endpoint/start", "{\"size\":\"xs\"}").ok().path("uri").asText();
        Sql.exec(mainUri, "postgres", "CREATE TABLE t (x int)", "INSERT INTO t VALUES (1)");
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    // ------------------------------------------------------------------ HTTP, relative to the tenant

    private static Response get(String path) throws IOException, InterruptedException {
        return server.get(TENANT_PATH + path);
    }

    private static Response post(String path, String body) throws IOException, InterruptedException {
        return server.post(TENANT_PATH + path, body);
    }

    private static Response put(String ref, String body) throws IOException, InterruptedException {
        return server.put(TENANT_PATH + "/branches/" + ref, body);
    }

    private static Response delete(String path) throws IOException, InterruptedException {
        return server.delete(TENANT_PATH + path);
    }

    private static List<String> refs() throws IOException, InterruptedException {
        return server.refs(TENANT);
    }

    private static JsonNode branch(String ref) throws IOException, InterruptedException {
        return get("/branches/" + ref).ok();
    }

    private static String uriOf(JsonNode b) {
        return b.path("endpoint").path("uri").asText();
    }

    private static String rows(String uri, String table) throws SQLException {
        return Sql.queryString(uri, "postgres", "SELECT coalesce(array_agg(x ORDER BY x)::text, '{}') FROM " + table);
    }

    private static void stopEndpoint(String ref) throws IOException, InterruptedException {
        post("/branches/" + ref + "/endpoint/stop", "");
    }

    /** {@code <data>/endpoints/<tenant>/<ref>}: the endpoint's directory (pgdata and postgres.log). */
    private static Path endpointDir(String ref) {
        return server.dir().resolve("endpoints").resolve(TENANT).resolve(ref.replace("/", "%2F"));
    }

    // ------------------------------------------------------------------ put, reset

    @Test
    void concurrentPutsOfOneRefConverge() throws Exception {
        int before = refs().size();
        CyclicBarrier barrier = new CyclicBarrier(2);
        Callable<Response> call = () -> {
            barrier.await();
            return put("ci%2Fconcurrent", "{}");
        };
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<Response> a = pool.submit(call);
            Future<Response> b = pool.submit(call);
            Response ra = a.get();
            Response rb = b.get();
            ra.ok();
            rb.ok();
            assertThat(List.of(ra.status(), rb.status())).containsExactlyInAnyOrder(201, 200);
            assertThat(List.of(ra.body().path("created").asBoolean(), rb.body().path("created").asBoolean()))
                    .containsExactlyInAnyOrder(true, false);
            // the put that came second (a reset) decided the final state
            Response second = ra.body().path("created").asBoolean() ? rb : ra;
            assertThat(branch("ci%2Fconcurrent").path("timeline_id").asText()).isEqualTo(second.body().path("timeline_id").asText());
        } finally {
            pool.shutdownNow();
        }
        List<String> after = refs();
        assertThat(after).filteredOn("ci/concurrent"::equals).hasSize(1);
        assertThat(after).hasSize(before + 1);
        assertThat(delete("/branches/ci%2Fconcurrent").ok().path("deleted").get(0).asText()).isEqualTo("ci/concurrent");
    }

    @Test
    void putTwiceResetsAndResetKeepsTheUriOfARunningEndpoint() throws Exception {
        Sql.exec(mainUri, "postgres", "CREATE TABLE pr (x int)", "INSERT INTO pr VALUES (1)");
        Response first = put("pr-42", "{\"start\":true,\"size\":\"xs\"}");
        assertThat(first.status()).isEqualTo(201);
        String uri = uriOf(first.body());
        assertThat(uri).startsWith("postgresql://");
        try {
            Sql.exec(uri, "postgres", "INSERT INTO pr VALUES (99)");
            assertThat(rows(uri, "pr")).isEqualTo("{1,99}");
            Sql.exec(mainUri, "postgres", "INSERT INTO pr VALUES (2)");

            Response second = put("pr-42", "{}");
            assertThat(second.status()).isEqualTo(200);
            assertThat(second.body().path("created").asBoolean()).isFalse();
            assertThat(second.body().path("timeline_id").asText()).isNotEqualTo(first.body().path("timeline_id").asText());
            assertThat(uriOf(second.body())).as("same URI after a put of a running branch").isEqualTo(uri);
            assertThat(second.body().path("endpoint").path("state").asText()).isEqualTo("running");
            assertThat(second.body().path("size").asText()).as("size kept when a put does not name one").isEqualTo("xs");
            assertThat(rows(uri, "pr")).as("the branch's own row is gone, the parent's new row is there").isEqualTo("{1,2}");

            Sql.exec(uri, "postgres", "INSERT INTO pr VALUES (98)");
            Sql.exec(mainUri, "postgres", "INSERT INTO pr VALUES (3)");
            // commits are synchronous: main's last record LSN now covers the INSERT; the compute may
            // write more WAL of its own (running-xacts records) at any time, so the reset's point lies
            // between that LSN and main's last record LSN after the reset
            long before = io.forkline.storage.lsn.Lsn.parse(branch("main").path("last_record_lsn").asText());
            JsonNode reset = post("/branches/pr-42/reset", "").ok();
            long point = io.forkline.storage.lsn.Lsn.parse(reset.path("ancestor_lsn").asText());
            long after = io.forkline.storage.lsn.Lsn.parse(branch("main").path("last_record_lsn").asText());
            assertThat(Long.compareUnsigned(point, before)).as("reset point %s >= %s", reset.path("ancestor_lsn"),
                    io.forkline.storage.lsn.Lsn.format(before)).isGreaterThanOrEqualTo(0);
            assertThat(Long.compareUnsigned(point, after)).as("reset point %s <= %s", reset.path("ancestor_lsn"),
                    io.forkline.storage.lsn.Lsn.format(after)).isLessThanOrEqualTo(0);
            assertThat(uriOf(reset)).isEqualTo(uri);
            assertThat(reset.path("endpoint").path("state").asText()).isEqualTo("running");
            assertThat(rows(uri, "pr")).isEqualTo("{1,2,3}");
        } finally {
            stopEndpoint("pr-42");
        }
        assertThat(endpointDir("pr-42").resolve("pgdata")).as("a stopped compute's basebackup is deleted").doesNotExist();
        assertThat(endpointDir("pr-42").resolve("postgres.log")).as("its log stays").exists();
        // main (the root) has no parent to reset to
        assertThat(post("/branches/main/reset", "").error(409, "conflict")).contains("'main'").contains("root");
        delete("/branches/pr-42").ok();
        assertThat(endpointDir("pr-42")).as("a deleted branch leaves no endpoint directory").doesNotExist();
    }

    @Test
    void aBranchWhoseTimelineVanishedIsLeftOutOfListingsAndStillDeletes() throws Exception {
        TimelineId tl = TimelineId.parse(put("vanish", "{}").ok().path("timeline_id").asText());
        // what a concurrent delete does between the listing's read of the record and of its timeline
        server.store().deleteTimeline(tl);
        assertThat(refs()).doesNotContain("vanish").contains("main");
        assertThat(server.get("/v1/tenants").ok().findValuesAsText("name")).contains(TENANT);
        assertThat(server.get("/metrics").status()).isEqualTo(200);
        delete("/branches/vanish").ok();
        assertThatThrownBy(() -> server.tenants().branch(TENANT, "vanish")).hasMessageContaining("'vanish'");
    }

    @Test
    void resetOfABranchWithChildrenRetiresItsOldTimelineUntilTheLastChildGoes() throws Exception {
        String oldTl = put("ret", "{}").ok().path("timeline_id").asText();
        put("ret-child", "{\"parent\":\"ret\"}").ok();
        Sql.exec(mainUri, "postgres", "INSERT INTO t VALUES (5)"); // main moves on: the reset needs a new timeline
        String newTl = post("/branches/ret/reset", "").ok().path("timeline_id").asText();
        assertThat(newTl).isNotEqualTo(oldTl);
        TimelineId old = TimelineId.parse(oldTl);
        assertThat(server.store().timeline(old)).as("kept: ret-child reads through it").isNotNull();
        // the child is shown hanging from ret's former timeline, not from the point on ret's new one
        JsonNode child = branch("ret-child");
        assertThat(child.path("parent").asText()).isEqualTo("ret");
        assertThat(child.path("ancestor_timeline_id").asText()).isEqualTo(oldTl);
        assertThat(child.path("on_parent_timeline").asBoolean()).isFalse();
        assertThat(child.path("ancestor_ref").isNull()).as("no ref points at the former timeline").isTrue();
        assertThat(branch("ret").path("on_parent_timeline").asBoolean()).isTrue();
        assertThat(server.store().listMetadata("retired-timeline/" + TENANT + "/")).containsKey(
                "retired-timeline/" + TENANT + "/" + oldTl);
        String childUri = post("/branches/ret-child/endpoint/start", "{\"size\":\"xs\"}").ok().path("uri").asText();
        try {
            assertThat(rows(childUri, "t")).doesNotContain("5");
        } finally {
            stopEndpoint("ret-child");
        }
        delete("/branches/ret-child").ok();
        assertThat(server.store().timeline(old)).as("deleted with its last descendant").isNull();
        assertThat(server.store().listMetadata("retired-timeline/" + TENANT + "/")).isEmpty();
        delete("/branches/ret").ok();
        assertThat(server.store().timeline(TimelineId.parse(newTl))).isNull();
    }

    @Test
    void aLaterPutKeepsSchemaOnlyTtlAndSizeUnlessItChangesThem() throws Exception {
        Sql.exec(mainUri, "postgres", "CREATE TABLE leak (x int)", "INSERT INTO leak VALUES (1), (2)");
        JsonNode first = put("pr-schema", "{\"schema_only\":true,\"ttl\":\"2h\",\"size\":\"xs\"}").ok();
        assertThat(first.path("schema_only").asBoolean()).isTrue();
        Instant firstExpiry = Instant.parse(first.path("expires_at").asText());
        try {
            CLOCK.setOffset(Duration.ofMinutes(30));
            JsonNode again = put("pr-schema", "{\"start\":true}").ok();
            String uri = uriOf(again);
            assertThat(again.path("schema_only").asBoolean()).as("schema-only kept by a put without flags").isTrue();
            assertThat(again.path("ttl").asText()).isEqualTo("2h");
            assertThat(Instant.parse(again.path("expires_at").asText())).as("TTL renewed from now")
                    .isAfterOrEqualTo(firstExpiry.plus(Duration.ofMinutes(30)));
            assertThat(again.path("size").asText()).isEqualTo("xs");
            assertThat(rows(uri, "leak")).as("no parent rows leak into a schema-only branch").isEqualTo("{}");
        } finally {
            CLOCK.setOffset(Duration.ZERO);
            stopEndpoint("pr-schema");
        }
        // options given on a later put change the branch
        JsonNode changed = put("pr-schema", "{\"schema_only\":false,\"ttl\":\"0\",\"size\":\"s\"}").ok();
        assertThat(changed.path("schema_only").asBoolean()).isFalse();
        assertThat(changed.path("ttl").isNull()).isTrue();
        assertThat(changed.path("expires_at").isNull()).isTrue();
        assertThat(changed.path("size").asText()).isEqualTo("s");
        String uri = post("/branches/pr-schema/endpoint/start", "{\"size\":\"xs\"}").ok().path("uri").asText();
        try {
            assertThat(rows(uri, "leak")).isEqualTo("{1,2}");
        } finally {
            stopEndpoint("pr-schema");
        }
        delete("/branches/pr-schema").ok();
    }

    // ------------------------------------------------------------------ restore

    @Test
    void restoreBeforeADropTableBringsItBackAndKeepsThePreRestoreState() throws Exception {
        JsonNode created = put("rs", "{\"start\":true,\"size\":\"xs\"}").ok();
        String uri = uriOf(created);
        Instant beforeDrop;
        try {
            Sql.exec(uri, "postgres", "CREATE TABLE precious (x int)", "INSERT INTO precious VALUES (7), (8)");
            Thread.sleep(50);
            beforeDrop = Instant.now().truncatedTo(ChronoUnit.MILLIS);
            Thread.sleep(50);
            Sql.exec(uri, "postgres", "DROP TABLE precious", "CREATE TABLE after_drop (x int)");

            JsonNode r = post("/branches/rs/restore", "{\"at\":\"" + beforeDrop + "\"}").ok();
            String kept = r.path("kept_as").path("ref").asText();
            assertThat(kept).startsWith("rs-before-restore-");
            assertThat(r.path("branch").path("ref").asText()).isEqualTo("rs");
            assertThat(uriOf(r.path("branch"))).as("same URI after restore").isEqualTo(uri);
            assertThat(rows(uri, "precious")).isEqualTo("{7,8}");
            assertThat(Sql.queryLong(uri, "postgres", "SELECT count(*) FROM pg_class WHERE relname = 'after_drop'")).isZero();

            // the pre-restore state is a branch of its own: no precious, but after_drop
            String keptUri = post("/branches/" + kept + "/endpoint/start", "{\"size\":\"xs\"}").ok().path("uri").asText();
            try {
                assertThat(Sql.queryLong(keptUri, "postgres", "SELECT count(*) FROM pg_class WHERE relname = 'precious'")).isZero();
                assertThat(Sql.queryLong(keptUri, "postgres", "SELECT count(*) FROM pg_class WHERE relname = 'after_drop'")).isEqualTo(1);
            } finally {
                stopEndpoint(kept);
            }
            assertThat(branch(kept).path("parent").asText()).isEqualTo("rs");

            // a keep-as name that exists is refused, nothing changes
            String tl = branch("rs").path("timeline_id").asText();
            assertThat(post("/branches/rs/restore", "{\"at\":\"" + beforeDrop + "\",\"keep_as\":\"" + kept + "\"}")
                    .error(409, "conflict")).contains("'" + kept + "'");
            assertThat(branch("rs").path("timeline_id").asText()).isEqualTo(tl);
            assertThat(post("/branches/rs/restore", "{}").error(400, "bad_request")).contains("needs a point");
        } finally {
            stopEndpoint("rs");
        }
        // the kept branch is a child: delete needs --recursive; it deletes the child first
        assertThat(delete("/branches/rs").error(409, "conflict")).contains("rs-before-restore-");
        JsonNode deleted = delete("/branches/rs?recursive=true").ok().path("deleted");
        assertThat(deleted.size()).isEqualTo(2);
        assertThat(deleted.get(1).asText()).isEqualTo("rs");
        assertThat(refs()).noneMatch(r -> r.startsWith("rs"));
    }

    @Test
    void historyBeforeARestoreStaysReachableAndDeletingItsOnlyPathIsRefusedUnlessForced() throws Exception {
        JsonNode created = put("hist", "{\"start\":true,\"size\":\"xs\"}").ok();
        String uri = uriOf(created);
        String firstTl = created.path("timeline_id").asText();
        try {
            Sql.exec(uri, "postgres", "CREATE TABLE h (x int)", "INSERT INTO h VALUES (1)");
            Thread.sleep(50);
            Instant t1 = Instant.now().truncatedTo(ChronoUnit.MILLIS);
            Thread.sleep(50);
            Sql.exec(uri, "postgres", "INSERT INTO h VALUES (2)");
            Thread.sleep(50);
            Instant t2 = Instant.now().truncatedTo(ChronoUnit.MILLIS);
            Thread.sleep(50);
            Sql.exec(uri, "postgres", "INSERT INTO h VALUES (3)");

            JsonNode r = post("/branches/hist/restore", "{\"at\":\"" + t2 + "\"}").ok();
            String kept = r.path("kept_as").path("ref").asText();
            assertThat(rows(uri, "h")).isEqualTo("{1,2}");
            JsonNode restores = r.path("branch").path("restores");
            assertThat(restores.size()).isEqualTo(1);
            assertThat(restores.get(0).path("from_timeline_id").asText()).isEqualTo(firstTl);
            assertThat(restores.get(0).path("kept_as").asText()).isEqualTo(kept);

            // the kept branch is the only way to the commit of row 3, inside the PITR window
            String refused = delete("/branches/" + kept).error(409, "history_would_be_lost");
            assertThat(refused).contains("'" + kept + "'").contains("1 commit(s)").contains("PITR window").contains("--force");
            assertThat(refs()).contains(kept);
            delete("/branches/" + kept + "?force=true").ok();

            // history before the restore point is still the branch's history: a branch at t1 finds it
            JsonNode atT1 = post("/branches", "{\"ref\":\"hist-t1\",\"parent\":\"hist\",\"at\":\"" + t1 + "\"}").expect(201);
            assertThat(atT1.path("ancestor_timeline_id").asText()).as("hangs from hist's former timeline").isEqualTo(firstTl);
            assertThat(atT1.path("on_parent_timeline").asBoolean()).isFalse();
            String t1Uri = post("/branches/hist-t1/endpoint/start", "{\"size\":\"xs\"}").ok().path("uri").asText();
            try {
                assertThat(rows(t1Uri, "h")).isEqualTo("{1}");
            } finally {
                stopEndpoint("hist-t1");
            }
            // and so does a second restore, and the restorable window reaches back to the first timeline's start
            JsonNode window = branch("hist").path("restorable");
            assertThat(window.path("earliest_lsn").asText()).isEqualTo(created.path("ancestor_lsn").asText());
            assertThat(window.path("earliest_time").asText()).matches(".*\\.[0-9]{6}Z");
            post("/branches/hist/restore", "{\"at\":\"" + t1 + "\",\"keep_as\":\"hist-kept2\"}").ok();
            assertThat(rows(uri, "h")).isEqualTo("{1}");
            assertThat(branch("hist").path("restores").size()).isEqualTo(2);
        } finally {
            stopEndpoint("hist");
        }
        delete("/branches/hist?recursive=true").ok();
        assertThat(refs()).noneMatch(x -> x.startsWith("hist"));
        assertThat(server.store().timeline(TimelineId.parse(firstTl))).as("released with its last descendant").isNull();
    }

    // ------------------------------------------------------------------ TTL

    @Test
    void expiredBranchesAreReapedWithTheirEndpointsUnlessProtected() throws Exception {
        JsonNode tmp = put("tmp-ttl", "{\"ttl\":\"1h\",\"start\":true,\"size\":\"xs\"}").ok();
        String uri = uriOf(tmp);
        assertThat(tmp.path("ttl").asText()).isEqualTo("1h");
        Instant expires = Instant.parse(tmp.path("expires_at").asText());
        assertThat(expires).isBetween(Instant.now().plus(Duration.ofMinutes(59)), Instant.now().plus(Duration.ofMinutes(61)));
        put("kept-ttl", "{\"ttl\":\"30m\"}").ok();
        post("/branches/kept-ttl/protect", "{\"protected\":true}").ok();
        assertThat(put("tmp-ttl-bad", "{\"ttl\":\"31d\"}").error(400, "bad_request")).contains("'31d'").contains("30 days");
        assertThat(put("tmp-ttl-bad", "{\"ttl\":\"soon\"}").error(400, "bad_request")).contains("'soon'");
        try {
            server.tenants().reaper().runOnce();
            assertThat(refs()).contains("tmp-ttl", "kept-ttl");

            CLOCK.setOffset(Duration.ofHours(2));
            server.tenants().reaper().runOnce();
            assertThat(refs()).doesNotContain("tmp-ttl").contains("kept-ttl", "main");
            assertThat(server.tenants().endpoints().get(TENANT, "tmp-ttl")).isNull();
            assertThat(endpointDir("tmp-ttl")).as("an expired branch leaves no endpoint directory").doesNotExist();
            assertThatThrownBy(() -> Sql.queryLong(uri, "postgres", "SELECT 1")).isInstanceOf(SQLException.class);
        } finally {
            CLOCK.setOffset(Duration.ZERO);
        }
        post("/branches/kept-ttl/protect", "{\"protected\":false}").ok();
        delete("/branches/kept-ttl").ok();
    }

    // ------------------------------------------------------------------ protection, delete

    @Test
    void protectedBranchesRefuseDeleteResetAndPutWith409() throws Exception {
        put("guarded", "{}").ok();
        JsonNode p = post("/branches/guarded/protect", "{}").ok();
        assertThat(p.path("protected").asBoolean()).isTrue();
        assertThat(delete("/branches/guarded").error(409, "conflict")).contains("'guarded'").contains("protected");
        assertThat(post("/branches/guarded/reset", "").error(409, "conflict")).contains("protected");
        assertThat(put("guarded", "{}").error(409, "conflict")).contains("protected");
        assertThat(delete("/branches/main").error(409, "conflict")).contains("'main'");
        assertThat(branch("main").path("protected").asBoolean()).isTrue();

        put("guarded%2Fchild", "{\"parent\":\"guarded\"}").ok();
        post("/branches/guarded/protect", "{\"protected\":false}").ok();
        post("/branches/guarded%2Fchild/protect", "{\"protected\":true}").ok();
        assertThat(delete("/branches/guarded?recursive=true").error(409, "conflict")).contains("guarded/child");
        assertThat(refs()).contains("guarded", "guarded/child");
        post("/branches/guarded%2Fchild/protect", "{\"protected\":false}").ok();
        assertThat(delete("/branches/guarded?recursive=yes").error(400, "bad_request")).contains("'yes'");
        delete("/branches/guarded?recursive=true").ok();
        assertThat(refs()).doesNotContain("guarded", "guarded/child");
    }

    @Test
    void deleteWithChildrenIs409UnlessRecursive() throws Exception {
        put("tree", "{}").ok();
        put("tree-a", "{\"parent\":\"tree\"}").ok();
        put("tree-a-1", "{\"parent\":\"tree-a\"}").ok();
        put("tree-b", "{\"parent\":\"tree\"}").ok();
        assertThat(put("tree", "{\"parent\":\"tree-a-1\"}").error(400, "bad_request")).contains("descendants");
        assertThat(delete("/branches/tree").error(409, "conflict")).contains("tree-a").contains("tree-b").contains("--recursive");
        JsonNode deleted = delete("/branches/tree?recursive=true").ok().path("deleted");
        List<String> order = new ArrayList<>();
        deleted.forEach(d -> order.add(d.asText()));
        assertThat(order).containsExactlyInAnyOrder("tree", "tree-a", "tree-a-1", "tree-b");
        assertThat(order.indexOf("tree-a-1")).isLessThan(order.indexOf("tree-a"));
        assertThat(order.get(order.size() - 1)).isEqualTo("tree");
        assertThat(refs()).noneMatch(r -> r.startsWith("tree"));
    }

    // ------------------------------------------------------------------ quotas

    @Test
    void quotasRefuseWith403AndTheUsage() throws Exception {
        JsonNode cfg = get("/config").ok();
        int branches = cfg.path("usage").path("branches").asInt();
        assertThat(branches).isEqualTo(refs().size());
        assertThat(cfg.path("limits").path("max_branches").asInt()).isEqualTo(50);
        try {
            post("/config", "{\"max_branches\":" + (branches + 1) + "}").ok();
            put("quota-1", "{}").ok();
            String m = put("quota-2", "{}").error(403, "quota_exceeded");
            assertThat(m).contains((branches + 1) + " of at most " + (branches + 1)).contains("max_branches");
            assertThat(refs()).doesNotContain("quota-2");
            // a put of an existing branch is a reset, not a new branch
            put("quota-1", "{}").ok();

            int running = get("/config").ok().path("usage").path("running_endpoints").asInt();
            assertThat(running).isGreaterThanOrEqualTo(1);
            post("/config", "{\"max_running_endpoints\":" + running + "}").ok();
            String e = post("/branches/quota-1/endpoint/start", "").error(403, "quota_exceeded");
            assertThat(e).contains(running + " of at most " + running).contains("max_running_endpoints");
            assertThat(branch("quota-1").path("endpoint").path("state").asText()).isEqualTo("stopped");

            assertThat(post("/config", "{\"max_brnaches\":3}").error(400, "bad_request")).contains("'max_brnaches'");
            assertThat(post("/config", "{\"max_branches\":0}").error(400, "bad_request")).contains("max_branches");
        } finally {
            post("/config", "{\"max_branches\":null,\"max_running_endpoints\":null}").ok();
        }
        assertThat(get("/config").ok().path("config").size()).isZero();
        delete("/branches/quota-1").ok();
    }

    // ------------------------------------------------------------------ schema-only, sizes

    @Test
    void schemaOnlyBranchHasTheTablesButNoRows() throws Exception {
        Sql.exec(mainUri, "postgres",
                "CREATE TABLE so_parent (id int PRIMARY KEY)",
                "CREATE TABLE so_child (id int REFERENCES so_parent)",
                "INSERT INTO so_parent SELECT generate_series(1, 100)",
                "INSERT INTO so_child SELECT generate_series(1, 100)",
                "CREATE DATABASE so_other");
        Sql.exec(mainUri, "so_other", "CREATE TABLE other_t AS SELECT generate_series(1, 10) AS x");
        JsonNode b = put("schema", "{\"schema_only\":true}").ok();
        assertThat(b.path("schema_only").asBoolean()).isTrue();
        assertThat(b.path("endpoint").path("state").asText()).as("left stopped as asked").isEqualTo("stopped");
        String uri = post("/branches/schema/endpoint/start", "{\"size\":\"xs\"}").ok().path("uri").asText();
        try {
            assertThat(Sql.queryLong(uri, "postgres", "SELECT count(*) FROM so_parent")).isZero();
            assertThat(Sql.queryLong(uri, "postgres", "SELECT count(*) FROM so_child")).isZero();
            assertThat(Sql.queryLong(uri, "postgres", "SELECT count(*) FROM t")).isZero();
            assertThat(Sql.queryLong(uri, "so_other", "SELECT count(*) FROM other_t")).isZero();
            assertThat(Sql.queryLong(uri, "postgres",
                    "SELECT count(*) FROM pg_constraint WHERE conrelid = 'so_child'::regclass AND contype = 'f'")).isEqualTo(1);
        } finally {
            stopEndpoint("schema");
        }
        assertThat(Sql.queryLong(mainUri, "postgres", "SELECT count(*) FROM so_parent")).isEqualTo(100);
        delete("/branches/schema").ok();
    }

    @Test
    void resizeKeepsTheUriAndChangesSharedBuffers() throws Exception {
        put("sized", "{\"size\":\"xs\"}").ok();
        String uri = post("/branches/sized/endpoint/start", "").ok().path("uri").asText();
        try {
            assertThat(Sql.queryString(uri, "postgres", "SHOW shared_buffers")).isEqualTo("64MB");
            assertThat(Sql.queryString(uri, "postgres", "SHOW max_connections")).isEqualTo("20");
            assertThat(post("/branches/sized/endpoint/start", "{\"size\":\"m\"}").error(409, "conflict")).contains("resize");
            JsonNode e = post("/branches/sized/endpoint/resize", "{\"size\":\"s\"}").ok();
            assertThat(e.path("uri").asText()).isEqualTo(uri);
            assertThat(e.path("size").asText()).isEqualTo("s");
            assertThat(Sql.queryString(uri, "postgres", "SHOW shared_buffers")).isEqualTo("128MB");
            assertThat(Sql.queryString(uri, "postgres", "SHOW work_mem")).isEqualTo("4MB");
            assertThat(branch("sized").path("size").asText()).isEqualTo("s");
            assertThat(post("/branches/sized/endpoint/resize", "{\"size\":\"xxl\"}").error(400, "bad_request"))
                    .contains("'xxl'").contains("xs, s, m, l");
        } finally {
            stopEndpoint("sized");
        }
        delete("/branches/sized").ok();
    }

    // ------------------------------------------------------------------ data checksums

    @Test
    void aTenantWithDataChecksumsReadsWhatItsComputeWroteAfterARestart() throws Exception {
        PostgresInstallation pg = PostgresInstallation.detect();
        Path cluster = server.dir().resolve("checksummed-initdb");
        pg.prepareDirectory(cluster);
        pg.run(Duration.ofMinutes(2), "initdb", "-D", cluster.toString(), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                "--locale=C", "--no-sync", "--data-checksums");
        server.tenants().importTenant("sums", cluster);
        String uri = server.tenants().startEndpoint("sums", "main");
        try {
            assertThat(Sql.queryString(uri, "postgres", "SHOW data_checksums")).isEqualTo("on");
            Sql.exec(uri, "postgres", "CREATE TABLE c (x int)", "INSERT INTO c SELECT generate_series(1, 1000)");
            server.tenants().stopEndpoint("sums", "main");
            uri = server.tenants().startEndpoint("sums", "main");
            // every page of c now comes from ingest: a stale pd_checksum fails this read
            assertThat(Sql.queryLong(uri, "postgres", "SELECT sum(x) FROM c")).isEqualTo(500500);
        } finally {
            server.tenants().stopEndpoint("sums", "main");
        }
    }
}
