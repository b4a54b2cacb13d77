package io.forkline.pageserver.diff;

import com.fasterxml.jackson.databind.JsonNode;
import io.forkline.pageserver.testing.Sql;
import io.forkline.pageserver.testing.TestServer;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.lsn.Lsn;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Diffs on real computes: between main at an LSN before a migration (a column added, an index
 * dropped, rows inserted, deleted and updated) and main now; a stopped branch and a timestamp side;
 * temporary branches and their computes are gone afterwards; bad sides are 400 naming the value.
 */
class DiffIT {
    private static final String T = "d";
    private static TestServer server;
    private static String mainUri;
    private static String before;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start("diff", TestServer.Option.NO_BACKGROUND_GC);
        server.post("/v1/tenants", "{\"name\":\"" + T + "\"}").expect(201);
        mainUri = server.post("/v1/tenants/" + T + "/branches/main/endpoint/start", "{}").expect(200).path("uri").asText();
        Sql.exec(mainUri, "postgres",
                "CREATE TABLE orders (id int PRIMARY KEY, item text NOT NULL, qty int NOT NULL)",
                "CREATE INDEX orders_item ON orders (item)",
                "INSERT INTO orders SELECT g, 'item-' || g, g % 7 FROM generate_series(1, 5000) g",
                "CREATE TABLE notes (body text)",
                "CREATE TABLE pairs (a int, b int, v text, PRIMARY KEY (a, b))",
                "INSERT INTO pairs SELECT g, g * 2, 'x' FROM generate_series(1, 50) g",
                // json and point have no hash function: rows hash by their columns' text forms
                "CREATE TABLE shapes (id int PRIMARY KEY, doc json, p point, note text)",
                "INSERT INTO shapes SELECT g, json_build_object('n', g), point(g, g), NULL FROM generate_series(1, 20) g",
                // rewritten by VACUUM FULL below: its rows move, so nearly every physical range differs
                "CREATE TABLE moved (id int PRIMARY KEY, v text)",
                "INSERT INTO moved SELECT g, 'v' || g FROM generate_series(1, 3000) g",
                // ~600 heap blocks, a few rows changed: answered from the store's changed-block list
                "CREATE TABLE big (id int PRIMARY KEY, v text NOT NULL)",
                "INSERT INTO big SELECT g, repeat(chr(97 + g % 26), 200) FROM generate_series(1, 20000) g",
                // TOASTed values (incompressible, ~4 kB): a change writes TOAST blocks, so the hash scans answer
                "CREATE TABLE docs (id int PRIMARY KEY, body text)",
                "INSERT INTO docs SELECT g, (SELECT string_agg(md5(g::text || i::text), '') FROM generate_series(1, 130) i)"
                        + " FROM generate_series(1, 40) g",
                // for the transaction that spans a past point (its own table, so the other tests' counts stay)
                "CREATE TABLE held (id int PRIMARY KEY, v text NOT NULL)",
                "INSERT INTO held SELECT g, repeat('h', 200) FROM generate_series(1, 3000) g",
                "VACUUM big");
        TimelineId tl = TimelineId.parse(server.get("/v1/tenants/" + T + "/branches/main").expect(200).path("timeline_id").asText());
        server.awaitIngested(tl, mainUri);
        before = Lsn.format(server.store().lastRecordLsn(tl));
        Sql.exec(mainUri, "postgres",
                "ALTER TABLE orders ADD COLUMN note text",
                "DROP INDEX orders_item",
                "INSERT INTO orders (id, item, qty) VALUES (6001, 'new-1', 1), (6002, 'new-2', 2), (6003, 'new-3', 3)",
                "DELETE FROM orders WHERE id IN (10, 20)",
                "UPDATE orders SET qty = qty + 100 WHERE id IN (1, 2, 3, 4)",
                "UPDATE pairs SET v = 'y' WHERE a = 7",
                "UPDATE shapes SET doc = '{\"n\": 2}' WHERE id = 2", // same value as json_build_object's, other text
                "UPDATE shapes SET p = NULL WHERE id = 3",
                "UPDATE shapes SET note = '' WHERE id = 4", // NULL -> empty string is a change
                "UPDATE shapes SET p = point(5, 5) WHERE id = 5", // the same value: not a change
                "UPDATE orders SET qty = qty WHERE id = 2500", // a new row version at another place, same content
                "UPDATE moved SET v = 'w' WHERE id = 5",
                "DELETE FROM moved WHERE id = 6",
                "VACUUM FULL moved",
                "INSERT INTO moved VALUES (3001, 'new')",
                "UPDATE big SET v = 'changed' WHERE id IN (5, 9000, 19999)",
                "DELETE FROM big WHERE id = 12345",
                "INSERT INTO big VALUES (20001, 'new')",
                "UPDATE docs SET body = body || 'x' WHERE id = 7");
        server.awaitIngested(tl, mainUri);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static JsonNode diff(String from, String to, String mode) throws Exception {
        return server.get("/v1/tenants/" + T + "/diff?from=" + enc(from) + "&to=" + enc(to) + (mode == null ? "" : "&mode=" + mode))
                .expect(200);
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static JsonNode table(JsonNode data, String name) {
        for (JsonNode t : data) {
            if (t.path("database").asText().equals("postgres") && t.path("table").asText().equals(name)) {
                return t;
            }
        }
        throw new AssertionError("no table " + name + " in " + data.toPrettyString());
    }

    @Test
    void aMigrationShowsInSchemaAndData() throws Exception {
        JsonNode r = diff("main@" + before, "main", null);
        assertThat(r.at("/from/lsn").asText()).isEqualTo(before);
        JsonNode postgres = null;
        for (JsonNode db : r.path("schema")) {
            if (db.path("database").asText().equals("postgres")) {
                postgres = db;
            } else {
                assertThat(db.path("changed").asBoolean()).as(db.toString()).isFalse();
            }
        }
        assertThat(postgres).isNotNull();
        assertThat(postgres.path("changed").asBoolean()).isTrue();
        String diff = postgres.path("diff").asText();
        assertThat(diff).startsWith("--- main@" + before + "/postgres\n+++ main/postgres\n");
        assertThat(diff.lines()).anyMatch(l -> l.startsWith("+") && l.contains("note text"));
        assertThat(diff.lines()).anyMatch(l -> l.startsWith("-CREATE INDEX orders_item ON public.orders"));
        assertThat(diff.lines()).noneMatch(l -> l.startsWith("-") && l.contains("CREATE TABLE public.notes"));
        assertThat(diff).doesNotContain("restrict"); // pg_dump's per-dump random guard lines are left out

        JsonNode orders = table(r.path("data"), "public.orders");
        assertThat(orders.path("added").asLong()).isEqualTo(3);
        assertThat(orders.path("removed").asLong()).isEqualTo(2);
        // the added column is a schema change: only the 4 updated rows count as changed
        assertThat(orders.path("changed").asLong()).isEqualTo(4);
        List<String> sample = new ArrayList<>();
        orders.path("sample").forEach(s -> sample.add(s.path("change").asText() + ":" + s.path("key").asText()));
        assertThat(sample).hasSize(9).contains("added:6001", "removed:10", "changed:1");
        JsonNode pairs = table(r.path("data"), "public.pairs");
        assertThat(pairs.path("changed").asLong()).isEqualTo(1);
        assertThat(pairs.path("sample").get(0).path("key").asText()).isEqualTo("(7,14)");
        assertThat(table(r.path("data"), "public.notes").path("note").asText()).isEqualTo("no primary key");
        JsonNode shapes = table(r.path("data"), "public.shapes");
        assertThat(shapes.path("changed").asLong()).as(shapes.toString()).isEqualTo(3);
        List<String> shapeKeys = new ArrayList<>();
        shapes.path("sample").forEach(x -> shapeKeys.add(x.path("key").asText()));
        assertThat(shapeKeys).containsExactlyInAnyOrder("2", "3", "4");
        // the layout diverged: compared by key hash buckets instead of physical ranges, as exactly
        JsonNode moved = table(r.path("data"), "public.moved");
        assertThat(List.of(moved.path("added").asLong(), moved.path("removed").asLong(), moved.path("changed").asLong()))
                .as(moved.toString()).containsExactly(1L, 1L, 1L);
        List<String> movedSample = new ArrayList<>();
        moved.path("sample").forEach(s -> movedSample.add(s.path("change").asText() + ":" + s.path("key").asText()));
        assertThat(movedSample).containsExactlyInAnyOrder("added:3001", "removed:6", "changed:5");
        assertThat(moved.path("method").asText()).isEqualTo("key-buckets"); // VACUUM FULL: another relfilenode
        assertThat(moved.path("blocks_read").isNull()).isTrue();

        // a past point of a larger table: only the blocks the store lists as changed were read
        JsonNode big = table(r.path("data"), "public.big");
        assertThat(List.of(big.path("added").asLong(), big.path("removed").asLong(), big.path("changed").asLong()))
                .as(big.toString()).containsExactly(1L, 1L, 3L);
        List<String> bigSample = new ArrayList<>();
        big.path("sample").forEach(s -> bigSample.add(s.path("change").asText() + ":" + s.path("key").asText()));
        assertThat(bigSample).containsExactlyInAnyOrder("added:20001", "removed:12345", "changed:5", "changed:9000",
                "changed:19999");
        assertThat(big.path("method").asText()).as(big.toString()).isEqualTo("changed-pages");
        assertThat(big.path("blocks_read").asLong()).as(big.toString()).isBetween(1L, 20L);
        // a changed TOAST value: its TOAST blocks changed, so the hash scans answered, as exactly
        JsonNode docs = table(r.path("data"), "public.docs");
        assertThat(List.of(docs.path("added").asLong(), docs.path("removed").asLong(), docs.path("changed").asLong()))
                .as(docs.toString()).containsExactly(0L, 0L, 1L);
        assertThat(docs.path("method").asText()).as(docs.toString()).isNotEqualTo("changed-pages");

        // the temporary branch and its compute are gone
        assertThat(server.refs(T)).containsExactly("main");
    }

    @Test
    void sidesCanBeStoppedBranchesAndTimes() throws Exception {
        server.post("/v1/tenants/" + T + "/branches", "{\"ref\":\"feat/x\",\"parent\":\"main\"}").expect(201);
        try {
            // a stopped branch against itself at a time after its creation: nothing differs
            String now = java.time.Instant.now().plusSeconds(1).toString();
            Thread.sleep(1500);
            JsonNode r = diff("feat/x", "main", "data");
            assertThat(r.path("schema").isNull()).isTrue();
            for (JsonNode t : r.path("data")) {
                if (t.path("note").isNull()) {
                    assertThat(t.path("added").asLong() + t.path("removed").asLong() + t.path("changed").asLong())
                            .as(t.toString()).isZero();
                }
            }
            JsonNode s = diff("main@" + now, "feat/x", "schema");
            assertThat(s.path("data").isNull()).isTrue();
            s.path("schema").forEach(db -> assertThat(db.path("changed").asBoolean()).as(db.toString()).isFalse());
            assertThat(server.refs(T)).containsExactlyInAnyOrder("main", "feat/x");
            assertThat(server.get("/v1/tenants/" + T + "/branches/feat%2Fx").expect(200).at("/endpoint/state").asText())
                    .isEqualTo("stopped");
        } finally {
            server.delete("/v1/tenants/" + T + "/branches/feat%2Fx").expect(200);
        }
    }

    @Test
    void aBranchAgainstItsParentReadsOnlyTheBranchsChangedBlocks() throws Exception {
        String branchUri = null;
        server.post("/v1/tenants/" + T + "/branches", "{\"ref\":\"feat/y\",\"parent\":\"main\"}").expect(201);
        try {
            branchUri = server.post("/v1/tenants/" + T + "/branches/feat%2Fy/endpoint/start", "{}").expect(200).path("uri").asText();
            Sql.exec(branchUri, "postgres",
                    "UPDATE big SET v = 'on the branch' WHERE id = 77",
                    "DELETE FROM big WHERE id = 78",
                    "INSERT INTO big VALUES (30000, 'branch row')");
            JsonNode r = diff("main", "feat/y", "data");
            JsonNode big = table(r.path("data"), "public.big");
            assertThat(List.of(big.path("added").asLong(), big.path("removed").asLong(), big.path("changed").asLong()))
                    .as(big.toString()).containsExactly(1L, 1L, 1L);
            assertThat(big.path("method").asText()).as(big.toString()).isEqualTo("changed-pages");
            assertThat(big.path("blocks_read").asLong()).as(big.toString()).isBetween(1L, 10L);
            JsonNode orders = table(r.path("data"), "public.orders");
            assertThat(orders.path("added").asLong() + orders.path("removed").asLong() + orders.path("changed").asLong())
                    .as(orders.toString()).isZero();
            // the other way round: the same rows, added and removed swapped
            JsonNode back = table(diff("feat/y", "main", "data").path("data"), "public.big");
            assertThat(List.of(back.path("added").asLong(), back.path("removed").asLong(), back.path("changed").asLong()))
                    .as(back.toString()).containsExactly(1L, 1L, 1L);
            assertThat(back.path("sample").toString()).contains("\"removed\"").contains("30000");
        } finally {
            server.delete("/v1/tenants/" + T + "/branches/feat%2Fy").expect(200);
        }
    }

    /**
     * A transaction that wrote its tuples before the past point and committed after it changes no heap
     * page in between (only {@code pg_xact}): the page lists are refused and the scans answer.
     */
    @Test
    void aTransactionSpanningThePastPointIsFoundByTheScans() throws Exception {
        TimelineId tl = TimelineId.parse(server.get("/v1/tenants/" + T + "/branches/main").expect(200).path("timeline_id").asText());
        try (java.sql.Connection c = Sql.connect(mainUri, "postgres")) {
            c.setAutoCommit(false);
            try (java.sql.Statement st = c.createStatement()) {
                st.executeUpdate("UPDATE held SET v = 'held' WHERE id = 1500");
            }
            Sql.exec(mainUri, "postgres", "SELECT pg_switch_wal()"); // the update's WAL flushed, not committed
            server.awaitIngested(tl, mainUri);
            String point = Lsn.format(server.store().lastRecordLsn(tl));
            c.commit();
            Sql.exec(mainUri, "postgres", "UPDATE held SET v = 'later' WHERE id = 2");
            server.awaitIngested(tl, mainUri);
            JsonNode held = table(diff("main@" + point, "main", "data").path("data"), "public.held");
            assertThat(List.of(held.path("added").asLong(), held.path("removed").asLong(), held.path("changed").asLong()))
                    .as(held.toString()).containsExactly(0L, 0L, 2L);
            assertThat(held.path("method").asText()).as(held.toString()).isNotEqualTo("changed-pages");
            List<String> keys = new ArrayList<>();
            held.path("sample").forEach(x -> keys.add(x.path("key").asText()));
            assertThat(keys).containsExactlyInAnyOrder("2", "1500");
        }
    }

    @Test
    void badSidesAreRefusedNamingTheValue() throws Exception {
        assertThat(server.get("/v1/tenants/" + T + "/diff?to=main").error(400, "bad_request")).contains("from");
        assertThat(server.get("/v1/tenants/" + T + "/diff?from=main@1/zz&to=main").error(400, "bad_request")).contains("1/zz");
        assertThat(server.get("/v1/tenants/" + T + "/diff?from=main&to=main&mode=rows").error(400, "bad_request")).contains("rows");
        assertThat(server.get("/v1/tenants/" + T + "/diff?from=nope&to=main").status()).isEqualTo(404);
        assertThat(server.refs(T)).contains("main").noneMatch(r -> r.startsWith("diff-tmp-"));
    }
}
