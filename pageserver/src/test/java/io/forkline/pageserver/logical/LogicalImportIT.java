package io.forkline.pageserver.logical;

import com.fasterxml.jackson.databind.JsonNode;
import io.forkline.pageserver.testing.Sql;
import io.forkline.pageserver.testing.TestPrimary;
import io.forkline.pageserver.testing.TestServer;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Logical import ({@code tenant import --from-publication}) end to end: a stock PostgreSQL 15
 * source with {@code wal_level = logical} and a publication of three tables in database
 * {@code shop}; the import copies the schema and subscribes {@code main}; changes on the source
 * arrive on {@code main}; a branch of {@code main} holds the data of its point and does not consume
 * the source's slot; DDL on the source disables the subscription and the status says how to go on;
 * a tenant delete drops the slot on the source.
 */
class LogicalImportIT {
    private static final List<String> TABLES = List.of("items", "orders", "notes");

    @Test
    void aPublicationIsCopiedFollowedAndBranchable() throws Exception {
        try (TestPrimary source = new TestPrimary("logical-source", "wal_level = logical");
             TestServer server = TestServer.start("logical-import")) {
            try (Connection c = source.connect(); Statement st = c.createStatement()) {
                st.execute("CREATE DATABASE shop");
            }
            exec(source, "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2))",
                    "CREATE TABLE orders (id bigserial PRIMARY KEY, item int REFERENCES items, qty int, at timestamptz DEFAULT now())",
                    "CREATE TABLE notes (k text PRIMARY KEY, body jsonb)",
                    "CREATE INDEX orders_item ON orders (item)",
                    "INSERT INTO items SELECT g, 'item ' || g, g * 1.5 FROM generate_series(1, 2000) g",
                    "INSERT INTO orders (item, qty) SELECT 1 + g % 2000, g % 7 FROM generate_series(1, 5000) g",
                    "INSERT INTO notes VALUES ('a', '{\"x\": 1}'), ('b', '[1, 2, 3]')",
                    "CREATE PUBLICATION pub FOR ALL TABLES",
                    "GRANT SELECT ON ALL TABLES IN SCHEMA public TO " + TestPrimary.REPL_USER,
                    "GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO " + TestPrimary.REPL_USER);
            String uri = source.replicationUri().replace("/postgres", "/shop");

            // bad input: named, nothing created
            assertThat(server.post("/v1/tenants/import", "{\"name\":\"shop\",\"from_publication\":\"" + uri + "\"}").status())
                    .isEqualTo(400);
            TestServer.Response missing = server.post("/v1/tenants/import",
                    "{\"name\":\"shop\",\"from_publication\":\"" + uri + "\",\"publication\":\"nope\"}");
            assertThat(missing.status()).isEqualTo(400);
            assertThat(missing.text()).contains("publication 'nope' does not exist in database 'shop'");
            assertThat(server.get("/v1/tenants").ok().findValuesAsText("name")).doesNotContain("shop");

            server.post("/v1/tenants/import", "{\"name\":\"shop\",\"from_publication\":\"" + uri + "\",\"publication\":\"pub\"}")
                    .expect(201);
            await("initial copy").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500))
                    .until(() -> "streaming".equals(subscription(server).path("state").asText()));
            JsonNode status = subscription(server);
            assertThat(status.path("tables_total").asLong()).isEqualTo(3);
            assertThat(status.path("tables_ready").asLong()).isEqualTo(3);
            assertThat(status.path("publication").asText()).isEqualTo("pub");
            assertThat(status.toString()).doesNotContain(TestPrimary.REPL_PASSWORD);
            String main = server.tenants().endpoints().get("shop", "main").uri();
            awaitSame(source, main);
            assertThat(io.forkline.pageserver.access.SuspendAfter.effective(
                    server.tenants().branches().get("shop", "main").suspendAfter())).as("main keeps following: never suspended")
                    .isZero();

            // sequences, which logical replication does not carry, follow the source's positions
            long sourceSeq = Sql.queryLong(sourceUri(source), "shop", "SELECT last_value FROM orders_id_seq");
            assertThat(sourceSeq).isEqualTo(5000);
            await("sequence synced").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                    .until(() -> Sql.queryLong(main, "shop", "SELECT last_value FROM orders_id_seq") == sourceSeq);

            // changes on the source arrive on main
            exec(source, "UPDATE items SET price = price + 1 WHERE id % 10 = 0", "DELETE FROM orders WHERE id % 3 = 0",
                    "INSERT INTO items VALUES (5001, 'new', 9.99)", "UPDATE notes SET body = '{\"x\": 2}' WHERE k = 'a'");
            awaitSame(source, main);

            // a branch holds main's data of its point and runs no apply worker of its own
            server.put("/v1/tenants/shop/branches/dev", "{\"start\":true,\"size\":\"xs\"}").ok();
            String dev = server.tenants().endpoints().get("shop", "dev").uri();
            assertThat(Sql.queryString(dev, "shop", "SHOW max_logical_replication_workers")).isEqualTo("0");
            assertThat(digest(dev)).isEqualTo(digest(main));
            exec(source, "INSERT INTO items VALUES (5002, 'after the branch', 1)");
            awaitSame(source, main);
            assertThat(Sql.queryLong(dev, "shop", "SELECT count(*) FROM items WHERE id = 5002")).isZero();
            assertThat(Sql.queryLong(dev, "shop", "SELECT count(*) FROM pg_stat_subscription WHERE pid IS NOT NULL")).isZero();
            Sql.exec(dev, "shop", "INSERT INTO items VALUES (9000, 'only on dev', 0)");
            assertThat(Sql.queryLong(main, "shop", "SELECT count(*) FROM items WHERE id = 9000")).isZero();

            // DDL on the source is not carried: the first row that needs it disables the subscription
            exec(source, "ALTER TABLE items ADD COLUMN color text", "INSERT INTO items VALUES (5003, 'red one', 2, 'red')");
            await("apply error reported").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                    .until(() -> "disabled".equals(subscription(server).path("state").asText()));
            assertThat(subscription(server).path("error").asText()).contains("ALTER SUBSCRIPTION \"forkline_shop\" ENABLE");
            assertThat(server.get("/metrics").text().lines().filter(l -> l.startsWith("forkline_subscription_disabled{")
                    && l.contains("tenant=\"shop\"")).toList()).singleElement().satisfies(l -> assertThat(l).endsWith(" 1.0"));
            // the documented way on: the same DDL on main, then enable
            Sql.exec(main, "shop", "ALTER TABLE items ADD COLUMN color text", "ALTER SUBSCRIPTION forkline_shop ENABLE");
            await("streaming again").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                    .until(() -> "streaming".equals(subscription(server).path("state").asText()));
            awaitSame(source, main);
            assertThat(Sql.queryString(main, "shop", "SELECT color FROM items WHERE id = 5003")).isEqualTo("red");

            // deleting the tenant drops the slot on the source
            assertThat(sourceSlots(source)).isEqualTo(1);
            server.delete("/v1/tenants/shop?force=true").ok();
            assertThat(sourceSlots(source)).isZero();
        }
    }

    private static JsonNode subscription(TestServer server) throws Exception {
        for (JsonNode t : server.get("/v1/tenants").ok()) {
            if (t.path("name").asText().equals("shop")) {
                return t.path("subscription");
            }
        }
        throw new AssertionError("tenant shop not listed");
    }

    private static void awaitSame(TestPrimary source, String main) {
        await("main equals the source").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
                .ignoreExceptions().until(() -> digest(sourceUri(source)).equals(digest(main)));
    }

    private static String sourceUri(TestPrimary source) {
        return source.uri();
    }

    /** count and md5 of every table's rows (as text, by key) in database shop. */
    private static String digest(String uri) throws SQLException {
        StringBuilder sb = new StringBuilder();
        for (String t : TABLES) {
            String key = t.equals("notes") ? "k" : "id";
            String cols = t.equals("items") ? "id, name, price" : t.equals("orders") ? "id, item, qty, at" : "k, body";
            sb.append(t).append(' ').append(Sql.queryString(uri, "shop", "SELECT count(*) || ':' || coalesce(md5(string_agg(x, "
                    + "E'\\n' ORDER BY k)), '') FROM (SELECT " + key + "::text AS k, row(" + cols + ")::text AS x FROM " + t
                    + ") s")).append('\n');
        }
        return sb.toString();
    }

    private static long sourceSlots(TestPrimary source) throws SQLException {
        try (Connection c = source.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'forkline_shop'")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static void exec(TestPrimary source, String... statements) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + source.port + "/shop?user=postgres");
             Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }
}
