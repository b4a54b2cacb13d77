package io.forkline.pageserver.mirror;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.forkline.compute.endpoint.ComputeProcess;
import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.pageserver.server.PageServerMain;
import io.forkline.pageserver.testing.Sql;
import io.forkline.pageserver.testing.TestData;
import io.forkline.pageserver.testing.TestPrimary;
import io.forkline.storage.lsn.Lsn;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Physical import of a running primary ({@code tenant import --from-primary}) end to end: a stock
 * PostgreSQL 15 primary with data checksums runs pgbench and a heap + btree workload while it is
 * imported; at recorded points on the primary (LSN + pg_dump), branches of the mirror at those
 * LSNs dump identically and pass pg_amcheck, across a kill -9 of the Forkline server and a restart
 * of the primary. Then the refusals: a compute or a branch point below the consistent LSN on the
 * mirror, a dropped slot. Hash, Gin, GiST and SP-GiST indexes on the primary (their records reach
 * the mirror without images) answer on each branch as a sequential scan does. The server
 * runs in a child JVM so that it can really be killed.
 */
class MirrorIT {
    private final HttpClient http = HttpClient.newHttpClient();
    private final ObjectMapper json = new ObjectMapper();
    private Process server;
    private int port;
    private Path dir;
    private TestPrimary primary;

    @AfterEach
    void tearDown() throws Exception {
        if (server != null && server.isAlive()) {
            server.destroy();
            server.waitFor();
        }
        if (primary != null) {
            primary.close();
        }
        if (port != 0) {
            Files.deleteIfExists(io.forkline.pageserver.auth.ClientTokenFiles.forLocalPort(TestData.configHome(), port));
        }
        if (dir != null) {
            TestData.deleteUnlessKept(dir);
            TestData.deleteUnlessKept(log(dir));
        }
    }

    private static Path log(Path dir) {
        return dir.resolveSibling(dir.getFileName() + ".log");
    }

    private Process startServer() throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-D" + TestData.CONFIG_HOME_PROPERTY + "=" + TestData.configHome(),
                "-Dforkline.redo.verify=" + System.getProperty("forkline.redo.verify", "true"),
                "-cp", System.getProperty("java.class.path"),
                PageServerMain.class.getName(), dir.toString(), Integer.toString(port)));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log(dir).toFile())).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            assertThat(p.isAlive()).as("server process alive").isTrue();
            try {
                call("GET", "/v1/status", null);
                return p;
            } catch (java.io.IOException e) {
                Thread.sleep(100);
            }
        }
        p.destroyForcibly(); // not left running after the test gives up on it
        p.waitFor();
        throw new AssertionError("server did not answer GET /v1/status within 60 s (log: " + log(dir) + ")");
    }

    private HttpResponse<String> send(String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofMinutes(10));
        Path token = dir.resolve("auth").resolve("admin.token");
        if (Files.exists(token)) {
            b.header("Authorization", "Bearer " + Files.readString(token).strip());
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode call(String method, String path, String body) throws Exception {
        HttpResponse<String> r = send(method, path, body);
        assertThat(r.statusCode()).as("%s %s -> %s", method, path, r.body()).isLessThan(300);
        return json.readTree(r.body());
    }

    private JsonNode mirror(String tenant) throws Exception {
        for (JsonNode t : call("GET", "/v1/tenants", null)) {
            if (t.path("name").asText().equals(tenant)) {
                return t.path("mirror");
            }
        }
        throw new AssertionError("no tenant " + tenant);
    }

    private void awaitMirror(String tenant, long lsn) {
        Awaitility.await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(300)).until(() -> {
            JsonNode m = mirror(tenant);
            assertThat(m.path("state").asText()).as("mirror %s: %s", tenant, m).isNotEqualTo("failed");
            return Long.compareUnsigned(Lsn.parse(m.path("last_record_lsn").asText()), lsn) >= 0;
        });
    }

    /** A point recorded on the primary: the WAL insert LSN with no write running, and its dump. */
    private record Point(String name, long lsn, String dump) {
    }

    private Point record(String name) throws Exception {
        long lsn;
        try (Connection c = primary.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT pg_current_wal_insert_lsn()")) {
            rs.next();
            lsn = Lsn.parse(rs.getString(1));
        }
        return new Point(name, lsn, dump(primary.uri()));
    }

    private String dump(String uri) {
        // the primary's own URI, or a branch's connection string through the Postgres proxy
        String out = PostgresInstallation.runCommand(Duration.ofMinutes(5), List.of(
                PostgresInstallation.detect().bin("pg_dump").toString(), "-d", Sql.libpq(uri, "postgres")));
        // pg_dump 15.14+ guards with a random key per dump
        return out.lines().filter(l -> !l.startsWith("\\restrict") && !l.startsWith("\\unrestrict"))
                .collect(Collectors.joining("\n"));
    }

    private static final java.util.regex.Pattern SETVAL = java.util.regex.Pattern.compile(
            "SELECT pg_catalog\\.setval\\('([^']+)', ([0-9]+), (true|false)\\);");

    /**
     * The branch's dump equals the primary's, except that a sequence may be ahead: like any standby
     * or crash recovery, a branch sees a sequence's WAL-logged value, which nextval logs up to 32
     * values ahead of what it handed out ({@code SEQ_LOG_VALS}).
     */
    private static void assertSameDump(Point p, String branchDump) {
        List<String> exp = p.dump().lines().toList();
        List<String> act = branchDump.lines().toList();
        assertThat(act).as("lines of the dump of branch %s", p.name()).hasSameSizeAs(exp);
        for (int i = 0; i < exp.size(); i++) {
            java.util.regex.Matcher e = SETVAL.matcher(exp.get(i));
            java.util.regex.Matcher a = SETVAL.matcher(act.get(i));
            if (e.matches() && a.matches() && e.group(1).equals(a.group(1))) {
                long ev = Long.parseLong(e.group(2));
                long av = Long.parseLong(a.group(2));
                assertThat(av).as("sequence %s on branch %s", e.group(1), p.name()).isBetween(ev, ev + 32);
                continue;
            }
            assertThat(act.get(i)).as("line %d of the dump of branch %s at %s", i + 1, p.name(), Lsn.format(p.lsn()))
                    .isEqualTo(exp.get(i));
        }
    }

    /**
     * The hash index on {@code items.v} finds what a sequential scan finds, for 150 values present on
     * the branch and one absent (pg_amcheck does not check hash indexes).
     */
    private static void assertHashIndexAnswersLikeASeqScan(String uri, String branch) throws SQLException {
        try (Connection c = java.sql.DriverManager.getConnection(Sql.jdbc(uri, "postgres"));
             Statement st = c.createStatement();
             java.sql.PreparedStatement count = c.prepareStatement("SELECT count(*) FROM items WHERE v = ?")) {
            List<String> values = new ArrayList<>();
            try (ResultSet rs = st.executeQuery("SELECT v FROM items ORDER BY id DESC LIMIT 100")) {
                while (rs.next()) {
                    values.add(rs.getString(1));
                }
            }
            try (ResultSet rs = st.executeQuery("SELECT v FROM items ORDER BY id LIMIT 50")) {
                while (rs.next()) {
                    values.add(rs.getString(1));
                }
            }
            values.add("absent");
            List<Long> viaSeqScan = new ArrayList<>();
            st.execute("SET enable_indexscan = off");
            st.execute("SET enable_bitmapscan = off");
            for (String v : values) {
                count.setString(1, v);
                try (ResultSet rs = count.executeQuery()) {
                    rs.next();
                    viaSeqScan.add(rs.getLong(1));
                }
            }
            st.execute("RESET enable_indexscan");
            st.execute("SET enable_seqscan = off");
            try (ResultSet rs = st.executeQuery("EXPLAIN SELECT count(*) FROM items WHERE v = 'absent'")) {
                StringBuilder plan = new StringBuilder();
                while (rs.next()) {
                    plan.append(rs.getString(1)).append('\n');
                }
                assertThat(plan.toString()).as("plan on branch %s", branch).contains("items_hash");
            }
            for (int i = 0; i < values.size(); i++) {
                count.setString(1, values.get(i));
                try (ResultSet rs = count.executeQuery()) {
                    rs.next();
                    assertThat(rs.getLong(1)).as("hash index scan for value %d on branch %s", i, branch)
                            .isEqualTo(viaSeqScan.get(i));
                }
            }
        }
    }

    /**
     * Each {@code count(*) FROM items WHERE condition} answers the same through {@code index} as through
     * a sequential scan (pg_amcheck checks only btree indexes).
     */
    private static void assertIndexAnswersLikeASeqScan(String uri, String branch, String index, List<String> conditions)
            throws SQLException {
        try (Connection c = java.sql.DriverManager.getConnection(Sql.jdbc(uri, "postgres"));
             Statement st = c.createStatement()) {
            List<Long> viaSeqScan = new ArrayList<>();
            st.execute("SET enable_indexscan = off");
            st.execute("SET enable_bitmapscan = off");
            for (String cond : conditions) {
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM items WHERE " + cond)) {
                    rs.next();
                    viaSeqScan.add(rs.getLong(1));
                }
            }
            st.execute("RESET enable_indexscan");
            st.execute("RESET enable_bitmapscan");
            st.execute("SET enable_seqscan = off");
            for (int i = 0; i < conditions.size(); i++) {
                String q = "SELECT count(*) FROM items WHERE " + conditions.get(i);
                StringBuilder plan = new StringBuilder();
                try (ResultSet rs = st.executeQuery("EXPLAIN " + q)) {
                    while (rs.next()) {
                        plan.append(rs.getString(1)).append('\n');
                    }
                }
                assertThat(plan.toString()).as("plan of %s on branch %s", q, branch).contains(index);
                try (ResultSet rs = st.executeQuery(q)) {
                    rs.next();
                    assertThat(rs.getLong(1)).as("%s through %s on branch %s", q, index, branch)
                            .isEqualTo(viaSeqScan.get(i));
                }
            }
            assertThat(viaSeqScan).as("rows the conditions match on branch %s", branch).anyMatch(n -> n > 0);
        }
    }

    private static void amcheck(String uri) {
        PostgresInstallation.runCommand(Duration.ofMinutes(5), List.of(
                PostgresInstallation.detect().bin("pg_amcheck").toString(), "--maintenance-db=" + Sql.libpq(uri, "postgres"),
                "--all", "--install-missing", "--heapallindexed"));
    }

    /** Heap + btree workload beside pgbench: inserts, HOT and non-HOT updates, deletes, row locks, vacuum. */
    private Thread mixed(AtomicBoolean stop, List<Throwable> errors) {
        Thread t = new Thread(() -> {
            Random rnd = new Random(7);
            try (Connection c = primary.connect(); Statement st = c.createStatement()) {
                int i = 0;
                while (!stop.get()) {
                    int k = rnd.nextInt(20_000);
                    switch (i++ % 6) {
                        case 0 -> st.execute("INSERT INTO items (k, v) SELECT " + k + " + g, repeat(md5(g::text), 3)"
                                + " FROM generate_series(1, 50) g");
                        case 1 -> st.execute("UPDATE items SET v = md5(v) WHERE k BETWEEN " + k + " AND " + (k + 10));
                        case 2 -> st.execute("UPDATE items SET k = k + 1 WHERE id % 997 = " + (k % 997));
                        case 3 -> st.execute("DELETE FROM items WHERE k BETWEEN " + k + " AND " + (k + 20));
                        case 4 -> st.execute("SELECT id FROM items WHERE k < " + k + " LIMIT 20 FOR SHARE");
                        default -> {
                            if (i % 30 == 5) {
                                st.execute("VACUUM items");
                            }
                        }
                    }
                    Thread.sleep(10);
                }
            } catch (SQLException | RuntimeException e) {
                errors.add(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "mixed-workload");
        t.start();
        return t;
    }

    private void pgbench(int seconds) throws Exception {
        primary.tool(Duration.ofSeconds(seconds + 60), "pgbench", "-c", "2", "-R", "100", "-T", Integer.toString(seconds), "-n",
                "postgres");
    }

    @Test
    void mirrorFollowsThePrimaryAcrossKillsAndRestarts() throws Exception {
        primary = new TestPrimary("mirror-primary");
        primary.tool(Duration.ofMinutes(3), "pgbench", "-i", "-s", "2", "-q", "postgres");
        try (Connection c = primary.connect(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE items (id bigserial PRIMARY KEY, k int, v text)");
            st.execute("CREATE INDEX items_k ON items (k)");
            // BRIN is redone natively too: its records reach the mirror without images
            st.execute("CREATE INDEX items_brin ON items USING brin ((id * 2)) WITH (pages_per_range = 2, autosummarize = on)");
            // and Hash: inserts, bucket splits, overflow pages, vacuum's deletes and squeezes reach it without images
            st.execute("CREATE INDEX items_hash ON items USING hash (v)");
            // and GiST and SP-GiST (splits, downlink updates, vacuum's deletions; radix tree over md5 text)
            st.execute("CREATE INDEX items_gist ON items USING gist (point(k, id % 100))");
            // (on an expression, so that equality on v stays the hash index's)
            st.execute("CREATE INDEX items_spgist ON items USING spgist ((left(v, 40)))");
            // and Gin: direct inserts into entry and posting trees (a frequent key), and a pending list
            st.execute("CREATE INDEX items_gin_k ON items USING gin ((ARRAY[k % 50, k])) WITH (fastupdate = off)");
            st.execute("CREATE INDEX items_gin_v ON items USING gin (to_tsvector('simple', left(v, 4) || ' ' || left(v, 1)))"
                    + " WITH (fastupdate = on, gin_pending_list_limit = 64)");
            st.execute("INSERT INTO items (k, v) SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, 20000) g");
        }
        dir = TestData.newDirectory("mirror");
        Files.createDirectories(dir.getParent());
        port = ComputeProcess.freePort();
        server = startServer();

        // the import runs while pgbench and the mixed workload write
        AtomicBoolean stop = new AtomicBoolean();
        List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        Process bench = primary.background("pgbench", "-c", "2", "-R", "100", "-T", "600", "-n", "postgres");
        Thread mixed = mixed(stop, errors);
        // the import's progress, polled while it runs (GET /v1/imports)
        List<JsonNode> progress = java.util.Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean importing = new AtomicBoolean(true);
        Thread poller = Thread.ofPlatform().start(() -> {
            while (importing.get()) {
                try {
                    call("GET", "/v1/imports", null).forEach(progress::add);
                    Thread.sleep(20);
                } catch (Exception e) {
                    errors.add(e);
                    return;
                }
            }
        });
        JsonNode imported = call("POST", "/v1/tenants/import", json.createObjectNode().put("name", "m")
                .put("from_primary", primary.replicationUri()).toString());
        importing.set(false);
        poller.join();
        assertThat(progress).as("progress seen while the import ran").isNotEmpty()
                .allSatisfy(v -> assertThat(v.path("tenant").asText()).isEqualTo("m"));
        assertThat(progress).extracting(v -> v.path("phase").asText()).contains("base backup");
        assertThat(progress).filteredOn(v -> v.path("phase").asText().equals("base backup") && v.path("bytes_total").isNumber())
                .as("pg_basebackup's own byte counts")
                .allSatisfy(v -> assertThat(v.path("bytes_done").asLong()).isBetween(0L, v.path("bytes_total").asLong()));
        assertThat(progress.toString()).doesNotContain(TestPrimary.REPL_PASSWORD);
        assertThat(call("GET", "/v1/imports", null)).as("nothing running after the import").isEmpty();
        long consistent = Lsn.parse(imported.path("init_lsn").asText());
        Thread.sleep(2000);
        bench.destroy();
        bench.waitFor();
        stop.set(true);
        mixed.join();
        assertThat(errors).isEmpty();

        List<Point> points = new ArrayList<>();
        points.add(record("after-import"));

        JsonNode m = mirror("m");
        assertThat(m.path("slot").asText()).isEqualTo("forkline_m");
        assertThat(m.path("primary").asText()).doesNotContain("secret").contains("repl:***@");
        assertNoClearPassword(dir, TestPrimary.REPL_PASSWORD);
        assertThat(m.path("consistent_lsn").asText()).isEqualTo(imported.path("init_lsn").asText());

        // kill -9 of the server while the primary writes; the mirror resumes from its slot
        stop.set(false);
        mixed = mixed(stop, errors);
        bench = primary.background("pgbench", "-c", "2", "-R", "100", "-T", "600", "-n", "postgres");
        Thread.sleep(3000);
        server.destroyForcibly().waitFor();
        Thread.sleep(2000);
        server = startServer();
        Thread.sleep(2000);
        bench.destroy();
        bench.waitFor();
        stop.set(true);
        mixed.join();
        assertThat(errors).isEmpty();
        points.add(record("after-kill"));

        // a restart of the primary while streaming: the receiver reconnects to the same slot
        pgbench(3);
        primary.stop();
        primary.start();
        pgbench(3);
        points.add(record("after-primary-restart"));

        for (Point p : points) {
            awaitMirror("m", p.lsn());
            call("POST", "/v1/tenants/m/branches", json.createObjectNode().put("ref", p.name())
                    .put("parent", "main").put("lsn", Lsn.format(p.lsn())).toString());
            String uri = call("POST", "/v1/tenants/m/branches/" + p.name() + "/endpoint/start", null).path("uri").asText();
            assertSameDump(p, dump(uri));
            amcheck(uri);
            // the BRIN index answers what a sequential scan answers
            try (Connection c = java.sql.DriverManager.getConnection(Sql.jdbc(uri, "postgres")); Statement st = c.createStatement()) {
                st.execute("SELECT brin_summarize_new_values('items_brin')");
                st.execute("SET enable_seqscan = off");
                st.execute("SET enable_indexscan = off");
                long viaBrin;
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM items WHERE id % 3 = 0 AND id * 2 BETWEEN 10000 AND 60000")) {
                    rs.next();
                    viaBrin = rs.getLong(1);
                }
                st.execute("RESET enable_seqscan");
                st.execute("SET enable_bitmapscan = off");
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM items WHERE id % 3 = 0 AND id * 2 BETWEEN 10000 AND 60000")) {
                    rs.next();
                    assertThat(viaBrin).as("BRIN scan on branch %s", p.name()).isEqualTo(rs.getLong(1));
                }
            }
            assertHashIndexAnswersLikeASeqScan(uri, p.name());
            assertIndexAnswersLikeASeqScan(uri, p.name(), "items_gist", List.of(
                    "point(k, id % 100) <@ box(point(0, 0), point(20000, 100))",
                    "point(k, id % 100) <@ box(point(100, 0), point(900, 40))",
                    "point(k, id % 100) <@ box(point(5000, 10), point(15000, 20))",
                    "point(k, id % 100) <@ box(point(-10, -10), point(-1, -1))"));
            assertIndexAnswersLikeASeqScan(uri, p.name(), "items_spgist", List.of(
                    "left(v, 40) ^@ '0'", "left(v, 40) ^@ 'a1'", "left(v, 40) ^@ 'ffe'", "left(v, 40) ^@ 'before'",
                    "left(v, 40) ^@ 'x'", "left(v, 40) ~>=~ 'e' AND left(v, 40) ~<~ 'e8'"));
            assertIndexAnswersLikeASeqScan(uri, p.name(), "items_gin_k", List.of(
                    "ARRAY[k % 50, k] @> ARRAY[0]", "ARRAY[k % 50, k] @> ARRAY[7]", "ARRAY[k % 50, k] @> ARRAY[49]",
                    "ARRAY[k % 50, k] @> ARRAY[123]", "ARRAY[k % 50, k] @> ARRAY[4567]", "ARRAY[k % 50, k] @> ARRAY[-5]"));
            assertIndexAnswersLikeASeqScan(uri, p.name(), "items_gin_v", List.of("a", "0", "f", "c4ca", "zzzz").stream()
                    .map(w -> "to_tsvector('simple', left(v, 4) || ' ' || left(v, 1)) @@ to_tsquery('simple', '" + w + "')")
                    .toList());
            // an ordinary writable branch
            Sql.exec(uri, "postgres", "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid < 100");
            call("POST", "/v1/tenants/m/branches/" + p.name() + "/endpoint/stop", null);
        }

        // lag is shown once the primary was polled; caught up now
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> {
            JsonNode s = mirror("m");
            return s.path("state").asText().equals("streaming") && s.path("lag_bytes").isNumber()
                    && s.path("lag_bytes").asLong() == 0 && s.path("lag_seconds").asDouble() == 0;
        });
        HttpResponse<String> metrics = send("GET", "/metrics", null);
        assertThat(metrics.body()).contains("forkline_mirror_lag_bytes{tenant=\"m\"}")
                .contains("forkline_mirror_lag_seconds{tenant=\"m\"}").contains("forkline_mirror_failed{tenant=\"m\"} 0.0");

        // main is a mirror: no compute, no restore; no branch before the consistent point
        HttpResponse<String> start = send("POST", "/v1/tenants/m/branches/main/endpoint/start", null);
        assertThat(start.statusCode()).isEqualTo(409);
        assertThat(start.body()).contains("mirrors the primary").contains("takes no writes");
        HttpResponse<String> early = send("POST", "/v1/tenants/m/branches", json.createObjectNode().put("ref", "early")
                .put("parent", "main").put("lsn", Lsn.format(consistent - 8)).toString());
        assertThat(early.statusCode()).as(early.body()).isEqualTo(409);
        assertThat(early.body()).contains(Lsn.format(consistent));

        // deleting the tenant drops its slot on the primary
        call("DELETE", "/v1/tenants/m?force=true", null);
        try (Connection c = primary.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_replication_slots")) {
            rs.next();
            assertThat(rs.getInt(1)).isZero();
        }
    }

    @Test
    void droppedSlotStopsTheMirrorWithAClearError() throws Exception {
        primary = new TestPrimary("mirror-slot");
        try (Connection c = primary.connect(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE t (id int PRIMARY KEY)");
            st.execute("INSERT INTO t SELECT generate_series(1, 1000)");
        }
        dir = TestData.newDirectory("mirror-slot");
        Files.createDirectories(dir.getParent());
        port = ComputeProcess.freePort();
        server = startServer();
        // bad input first: a clear 400 naming the value, the password never echoed
        HttpResponse<String> bad = send("POST", "/v1/tenants/import", json.createObjectNode().put("name", "x")
                .put("from_primary", "mysql://repl:hunter2@127.0.0.1/x").toString());
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("postgresql://").doesNotContain("hunter2");
        HttpResponse<String> wrongPassword = send("POST", "/v1/tenants/import", json.createObjectNode().put("name", "x")
                .put("from_primary", "postgresql://repl:wrong@127.0.0.1:" + primary.port + "/postgres").toString());
        assertThat(wrongPassword.statusCode()).as(wrongPassword.body()).isEqualTo(400);
        assertThat(wrongPassword.body()).contains("password authentication failed");

        call("POST", "/v1/tenants/import", json.createObjectNode().put("name", "s")
                .put("from_primary", primary.replicationUri()).toString());
        assertThat(send("POST", "/v1/tenants/import", json.createObjectNode().put("name", "s")
                .put("from_primary", primary.replicationUri()).toString()).statusCode()).isEqualTo(409);
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> mirror("s").path("state").asText().equals("streaming"));
        // drop the slot under the mirror (terminating its walsender, which reconnects at once)
        Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> {
            try (Connection c = primary.connect(); Statement st = c.createStatement()) {
                st.execute("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots"
                        + " WHERE slot_name = 'forkline_s' AND active_pid IS NOT NULL");
                st.execute("SELECT pg_drop_replication_slot('forkline_s')");
                return true;
            } catch (SQLException e) {
                return false;
            }
        });
        try (Connection c = primary.connect(); Statement st = c.createStatement()) {
            st.execute("INSERT INTO t SELECT generate_series(1001, 2000)");
        }
        Awaitility.await().atMost(Duration.ofMinutes(1)).until(() -> mirror("s").path("state").asText().equals("failed"));
        assertThat(mirror("s").path("error").asText()).contains("replication slot forkline_s does not exist");
    }

    /** Rows of {@code ct} with xmin, commit time (Unix microseconds) and origin, one string each, as of now. */
    private static final String CT_ROWS = "SELECT format('%s %s %s %s', id, ct.xmin,"
            + " (extract(epoch FROM c.timestamp) * 1000000)::bigint, c.roident)"
            + " FROM ct, LATERAL pg_xact_commit_timestamp_origin(ct.xmin) c ORDER BY id";
    /** One digest over {@code bulk}: count, rows with a commit time, and every xmin with its time. */
    private static final String BULK_DIGEST = "SELECT count(*) || ' ' || count(pg_xact_commit_timestamp(xmin)) || ' '"
            + " || md5(string_agg(xmin || ':' || coalesce(((extract(epoch FROM pg_xact_commit_timestamp(xmin))"
            + " * 1000000)::bigint)::text, '-'), ',' ORDER BY id)) FROM bulk";

    /** A point on the primary with its commit timestamps: the rows of {@code ct} and the digest of {@code bulk}. */
    private record TsPoint(long lsn, List<String> rows, String bulk) {
    }

    private long primaryLsn() throws SQLException {
        return Lsn.parse(Sql.queryString(primary.uri(), "postgres", "SELECT pg_current_wal_insert_lsn()"));
    }

    private TsPoint recordTimestamps() throws Exception {
        long lsn = primaryLsn();
        return new TsPoint(lsn, Sql.queryColumn(primary.uri(), "postgres", CT_ROWS),
                Sql.queryString(primary.uri(), "postgres", BULK_DIGEST));
    }

    private String branchAt(String tenant, String ref, TsPoint p) throws Exception {
        awaitMirror(tenant, p.lsn());
        call("POST", "/v1/tenants/" + tenant + "/branches", json.createObjectNode().put("ref", ref)
                .put("parent", "main").put("lsn", Lsn.format(p.lsn())).toString());
        return call("POST", "/v1/tenants/" + tenant + "/branches/" + ref + "/endpoint/start", null).path("uri").asText();
    }

    /** The commit timestamps of the branch at {@code p} are the primary's at {@code p}. */
    private static void assertSameTimestamps(TsPoint p, String uri) throws SQLException {
        assertThat(Sql.queryString(uri, "postgres", "SHOW track_commit_timestamp")).isEqualTo("on");
        assertThat(Sql.queryColumn(uri, "postgres", CT_ROWS)).containsExactlyElementsOf(p.rows());
        assertThat(Sql.queryString(uri, "postgres", BULK_DIGEST)).isEqualTo(p.bulk());
    }

    /**
     * Commit timestamps ({@code track_commit_timestamp}): a primary without them (its branches have
     * none: the compute runs with the setting off and says so), then turned on by a restart (the
     * {@code XLOG_PARAMETER_CHANGE} activates ingest's {@code pg_commit_ts}), commits with
     * subtransactions (also one with 1000 subtransactions across pages), two-phase commits, a commit
     * with a replication origin, 27,000 single-row commits (past a page and a segment boundary): the
     * branch at a recorded LSN answers {@code pg_xact_commit_timestamp_origin(xmin)} for every row as
     * the primary did there, and its own commits get timestamps that a branch of it sees too. A second
     * import of the primary, now with commit timestamps on in its {@code pg_control}, brings them in
     * with its base backup. Turned off again, branches are off too.
     */
    @Test
    void commitTimestampsFollowThePrimary() throws Exception {
        primary = new TestPrimary("mirror-committs", "max_prepared_transactions = 5");
        Sql.exec(primary.uri(), "postgres", "CREATE TABLE ct (id int PRIMARY KEY, note text)",
                "CREATE TABLE bulk (id int PRIMARY KEY)", "INSERT INTO ct VALUES (1, 'before import')");
        dir = TestData.newDirectory("mirror-committs");
        Files.createDirectories(dir.getParent());
        port = ComputeProcess.freePort();
        server = startServer();
        call("POST", "/v1/tenants/import", json.createObjectNode().put("name", "c")
                .put("from_primary", primary.replicationUri()).toString());
        Sql.exec(primary.uri(), "postgres", "INSERT INTO ct VALUES (2, 'off')");

        // off on the primary: so on its branches
        TsPoint off = new TsPoint(primaryLsn(), List.of(), null);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Sql.queryColumn(primary.uri(), "postgres", CT_ROWS))
                .hasMessageContaining("could not get commit timestamp data");
        String offUri = branchAt("c", "off", off);
        assertThat(Sql.queryString(offUri, "postgres", "SHOW track_commit_timestamp")).isEqualTo("off");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Sql.queryColumn(offUri, "postgres", CT_ROWS))
                .hasMessageContaining("could not get commit timestamp data");
        call("POST", "/v1/tenants/c/branches/off/endpoint/stop", null);

        // on after a restart of the primary: XLOG_PARAMETER_CHANGE
        Sql.exec(primary.uri(), "postgres", "ALTER SYSTEM SET track_commit_timestamp = on");
        primary.stop();
        primary.start();
        Sql.exec(primary.uri(), "postgres", "INSERT INTO ct VALUES (3, 'on')", "INSERT INTO ct VALUES (4, 'on')");
        try (Connection c = primary.connect(); Statement st = c.createStatement()) {
            // subtransactions: rows 6 and 7 carry subxids, row 8's was rolled back
            st.execute("BEGIN");
            st.execute("INSERT INTO ct VALUES (5, 'top')");
            st.execute("SAVEPOINT a");
            st.execute("INSERT INTO ct VALUES (6, 'sub a')");
            st.execute("SAVEPOINT b");
            st.execute("INSERT INTO ct VALUES (7, 'sub b')");
            st.execute("RELEASE b");
            st.execute("SAVEPOINT c");
            st.execute("INSERT INTO ct VALUES (8, 'rolled back')");
            st.execute("ROLLBACK TO c");
            st.execute("COMMIT");
            // two-phase commit with a subtransaction
            st.execute("BEGIN");
            st.execute("INSERT INTO ct VALUES (9, '2pc')");
            st.execute("SAVEPOINT a");
            st.execute("INSERT INTO ct VALUES (10, '2pc sub')");
            st.execute("RELEASE a");
            st.execute("PREPARE TRANSACTION 'ct1'");
            st.execute("COMMIT PREPARED 'ct1'");
            // a commit with a replication origin: its timestamp is the origin's
            st.execute("SELECT pg_replication_origin_create('ct_origin')");
            st.execute("SELECT pg_replication_origin_session_setup('ct_origin')");
            st.execute("BEGIN");
            st.execute("SELECT pg_replication_origin_xact_setup('0/1000', '2020-02-03 04:05:06.789+00')");
            st.execute("INSERT INTO ct VALUES (11, 'origin')");
            st.execute("COMMIT");
            st.execute("SELECT pg_replication_origin_session_reset()");
            // one transaction with 1000 subtransactions (subxids on two commit_ts pages)
            st.execute("DO $$ BEGIN FOR i IN 1..1000 LOOP BEGIN INSERT INTO ct VALUES (1000 + i, 'many subs');"
                    + " EXCEPTION WHEN others THEN RAISE; END; END LOOP; END $$");
            // 27,000 commits: past a page (819 xids) and a segment (26,208 xids) boundary
            st.execute("DO $$ BEGIN FOR i IN 1..27000 LOOP INSERT INTO bulk VALUES (i); COMMIT; END LOOP; END $$");
            // prepared, committed on the branch later
            st.execute("BEGIN");
            st.execute("INSERT INTO ct VALUES (12, 'prepared at the branch point')");
            st.execute("PREPARE TRANSACTION 'ct2'");
        }
        TsPoint on = recordTimestamps();
        // not vacuous: the primary has timestamps for what committed since, none for before, the
        // subxids differ from their top xid and share its time, the origin's time and id are there
        assertThat(on.rows()).hasSize(1010);
        assertThat(on.rows().get(0)).endsWith("  "); // rows 1 and 2: committed before it was on
        assertThat(on.rows().get(1)).endsWith("  ");
        String[] top = on.rows().get(4).split(" ");
        String[] subA = on.rows().get(5).split(" ");
        String[] subB = on.rows().get(6).split(" ");
        assertThat(subA[1]).isNotEqualTo(top[1]);
        assertThat(subB[1]).isNotEqualTo(subA[1]);
        assertThat(subA[2]).isEqualTo(top[2]).isNotEmpty();
        assertThat(subB[2]).isEqualTo(top[2]);
        assertThat(on.rows()).noneMatch(r -> r.startsWith("8 "));
        String[] origin = on.rows().get(9).split(" ");
        assertThat(origin[0]).isEqualTo("11");
        assertThat(origin[2]).isEqualTo("1580702706789000");
        assertThat(origin[3]).isNotEqualTo("0");
        assertThat(on.bulk()).startsWith("27000 27000 ");

        String onUri = branchAt("c", "on", on);
        assertSameTimestamps(on, onUri);
        // the branch's own commits: COMMIT PREPARED of what was prepared at the branch point, and an insert
        Sql.exec(onUri, "postgres", "COMMIT PREPARED 'ct2'", "INSERT INTO ct VALUES (13, 'on the branch')");
        List<String> branchRows = Sql.queryColumn(onUri, "postgres", CT_ROWS);
        assertThat(branchRows).filteredOn(r -> r.startsWith("12 ") || r.startsWith("13 "))
                .hasSize(2).allSatisfy(r -> assertThat(r.split(" ")).hasSize(4).allSatisfy(f -> assertThat(f).isNotEmpty()));
        // pg_last_committed_xact: a commit at least as new as the insert, with the time its xid has
        String last = Sql.queryString(onUri, "postgres", "SELECT format('%s %s %s', l.xid::text::bigint >= "
                + "(SELECT xmin::text::bigint FROM ct WHERE id = 13), l.timestamp = pg_xact_commit_timestamp(l.xid),"
                + " l.timestamp > now() - interval '5 minutes') FROM pg_last_committed_xact() l");
        assertThat(last).isEqualTo("t t t");
        // a branch of the branch (its compute's WAL, ingested) sees the branch's timestamps
        call("POST", "/v1/tenants/c/branches/on/endpoint/stop", null);
        call("POST", "/v1/tenants/c/branches", json.createObjectNode().put("ref", "on2").put("parent", "on").toString());
        String on2Uri = call("POST", "/v1/tenants/c/branches/on2/endpoint/start", null).path("uri").asText();
        assertThat(Sql.queryColumn(on2Uri, "postgres", CT_ROWS)).containsExactlyElementsOf(branchRows);
        call("POST", "/v1/tenants/c/branches/on2/endpoint/stop", null);

        // more commits, then a second import of the primary, now with commit timestamps in pg_control
        Sql.exec(primary.uri(), "postgres", "COMMIT PREPARED 'ct2'", "INSERT INTO ct VALUES (14, 'after')");
        call("POST", "/v1/tenants/import", json.createObjectNode().put("name", "c2")
                .put("from_primary", primary.replicationUri()).toString());
        Sql.exec(primary.uri(), "postgres", "INSERT INTO ct VALUES (15, 'after second import')");
        TsPoint later = recordTimestamps();
        assertSameTimestamps(later, branchAt("c", "later", later));
        assertSameTimestamps(later, branchAt("c2", "later", later));
        call("POST", "/v1/tenants/c/branches/later/endpoint/stop", null);
        call("POST", "/v1/tenants/c2/branches/later/endpoint/stop", null);

        // off again: XLOG_PARAMETER_CHANGE off; branches after it are off
        Sql.exec(primary.uri(), "postgres", "ALTER SYSTEM RESET track_commit_timestamp");
        primary.stop();
        primary.start();
        Sql.exec(primary.uri(), "postgres", "INSERT INTO ct VALUES (16, 'off again')");
        TsPoint offAgain = new TsPoint(primaryLsn(), List.of(), null);
        String offAgainUri = branchAt("c", "off-again", offAgain);
        assertThat(Sql.queryString(offAgainUri, "postgres", "SHOW track_commit_timestamp")).isEqualTo("off");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Sql.queryColumn(offAgainUri, "postgres", CT_ROWS))
                .hasMessageContaining("could not get commit timestamp data");
        // and a branch before it still has them
        String stillOn = branchAt("c", "still-on", later);
        assertSameTimestamps(later, stillOn);
        call("POST", "/v1/tenants/c/branches/off-again/endpoint/stop", null);
        call("POST", "/v1/tenants/c/branches/still-on/endpoint/stop", null);
    }

    @Test
    void onlyPostgres15IsStreamed() {
        assertThat(io.forkline.wal.replication.WalReceiver.serverVersionProblem(150014)).isNull();
        assertThat(io.forkline.wal.replication.WalReceiver.serverVersionProblem(160002))
                .contains("PostgreSQL 16").contains("PostgreSQL 15 only");
        assertThat(io.forkline.wal.replication.WalReceiver.serverVersionProblem(140010)).contains("PostgreSQL 14");
    }

    /** No file of the server's data directory (RocksDB SSTs and WAL, logs) holds the primary's password in clear. */
    private static void assertNoClearPassword(Path dataDir, String password) throws Exception {
        int files = 0;
        try (java.util.stream.Stream<Path> all = java.nio.file.Files.walk(dataDir)) {
            for (Path p : all.filter(java.nio.file.Files::isRegularFile).toList()) {
                byte[] bytes;
                try {
                    bytes = java.nio.file.Files.readAllBytes(p);
                } catch (java.io.IOException ex) {
                    continue; // a socket, or a file that went meanwhile
                }
                files++;
                String text = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1);
                assertThat(text.contains(password) || text.contains(password.replace(" ", "%20")))
                        .as("the primary's password in clear in %s", p).isFalse();
            }
        }
        assertThat(files).isGreaterThan(3);
    }
}
