package io.forkline.pageserver.size;

import com.fasterxml.jackson.databind.JsonNode;
import io.forkline.pageserver.tenant.TenantService;
import io.forkline.pageserver.testing.Sql;
import io.forkline.pageserver.testing.TestServer;
import io.forkline.storage.id.TimelineId;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;

import java.io.StringReader;
import java.sql.Connection;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Branch and tenant sizes against a real PostgreSQL 15 compute, through the admin API: a branch
 * that writes ~8 MB (incompressible, COPY: about one page image per heap page) grows its own
 * physical and stored bytes by about that, its logical size by the table's size, and its parent's
 * sizes do not move; the tenant's totals are the sums over its timelines.
 */
class SizesIT {
    private static final String TENANT = "sz";
    private static final int ROWS = 8000;
    private static final int ROW_HEX_CHARS = 1000;

    private static TestServer server;
    private static TenantService tenants;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start("sizes", TestServer.Option.NO_BACKGROUND_GC);
        tenants = server.tenants();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static JsonNode get(String path) throws Exception {
        return server.get(path).expect(200);
    }

    /**
     * The branch as the listing shows it once its sizes are current: a listing answers from the
     * size cache and refreshes it in the background, so right after writes the first answers may
     * be of an older LSN ({@code size_lsn} behind {@code last_record_lsn}).
     */
    private static JsonNode branch(String ref) {
        JsonNode[] found = new JsonNode[1];
        Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).untilAsserted(() -> {
            JsonNode b = listed(ref);
            assertThat(b.path("size_lsn").asText()).as("size_lsn of %s", b).isEqualTo(b.path("last_record_lsn").asText());
            found[0] = b;
        });
        return found[0];
    }

    private static JsonNode listed(String ref) throws Exception {
        for (JsonNode b : get("/v1/tenants/" + TENANT + "/branches")) {
            if (b.path("ref").asText().equals(ref)) {
                return b;
            }
        }
        throw new AssertionError("no branch " + ref);
    }

    @Test
    void logicalSizeIsWhatTheComputesRelationFilesHoldAcrossAllDatabases() throws Exception {
        tenants.createTenant("logical");
        String uri = tenants.startEndpoint("logical", "main");
        try {
            Sql.exec(uri, "postgres", "CREATE TABLE l (x int, pad text)",
                    "INSERT INTO l SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g", "VACUUM l",
                    "ALTER DATABASE template0 ALLOW_CONNECTIONS true", "CHECKPOINT");
            long fromSql = 0;
            for (String db : new String[]{"postgres", "template1", "template0"}) {
                fromSql += Sql.queryLong(uri, db, "SELECT coalesce(sum(pg_relation_size(c.oid, f)), 0) FROM pg_class c, "
                        + "unnest('{main,vm,init}'::text[]) f WHERE c.relkind IN ('r','i','t','m','S') AND "
                        + (db.equals("postgres") ? "true" : "NOT c.relisshared"));
            }
            server.awaitIngested(TimelineId.parse(tenants.branch("logical", "main").timelineId()), uri);
            long logical = server.get("/v1/tenants/logical/branches/main").expect(200).path("logical_size_bytes").asLong();
            assertThat(logical).as("Σ pg_relation_size(main, vm, init) over every database").isEqualTo(fromSql);
        } finally {
            tenants.stopEndpoint("logical", "main");
        }
    }

    @Test
    void aBranchPaysForWhatItWritesAndItsParentDoesNot() throws Exception {
        tenants.createTenant(TENANT);
        tenants.createBranch(TENANT, "dev", "main", null, null);
        JsonNode main0 = branch("main");
        JsonNode dev0 = branch("dev");
        for (JsonNode b : new JsonNode[]{main0, dev0}) {
            for (String f : new String[]{"logical_size_bytes", "physical_size_bytes", "stored_bytes"}) {
                assertThat(b.path(f).isIntegralNumber()).as("%s in %s", f, b).isTrue();
            }
        }
        // a fresh branch shares everything: same logical size, (almost) nothing of its own
        assertThat(dev0.path("logical_size_bytes").asLong()).isEqualTo(main0.path("logical_size_bytes").asLong())
                .isGreaterThan(5_000_000L);
        assertThat(dev0.path("stored_bytes").asLong()).isZero();
        assertThat(dev0.path("physical_size_bytes").asLong()).isLessThan(100_000L);
        assertThat(main0.path("stored_bytes").asLong()).isGreaterThan(5_000_000L);

        String uri = tenants.startEndpoint(TENANT, "dev");
        TimelineId devTl = TimelineId.parse(dev0.path("timeline_id").asText());
        long tableBytes;
        try (Connection c = Sql.connect(uri, "postgres")) {
            c.createStatement().execute("CREATE TABLE big (id int, pad text)");
            StringBuilder rows = new StringBuilder();
            Random rnd = new Random(7);
            byte[] pad = new byte[ROW_HEX_CHARS / 2];
            for (int i = 0; i < ROWS; i++) {
                rnd.nextBytes(pad);
                rows.append(i).append('\t').append(HexFormat.of().formatHex(pad)).append('\n');
            }
            c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY big FROM STDIN", new StringReader(rows.toString()));
            var rs = c.createStatement().executeQuery("SELECT pg_relation_size('big')");
            rs.next();
            tableBytes = rs.getLong(1);
        }
        server.awaitIngested(devTl, uri);
        assertThat(tableBytes).isGreaterThan(7_000_000L); // ~8 MB of rows, incompressible

        JsonNode main1 = branch("main");
        JsonNode dev1 = branch("dev");
        long devLogical = dev1.path("logical_size_bytes").asLong() - dev0.path("logical_size_bytes").asLong();
        long devStored = dev1.path("stored_bytes").asLong() - dev0.path("stored_bytes").asLong();
        long devPhysical = dev1.path("physical_size_bytes").asLong() - dev0.path("physical_size_bytes").asLong();
        long mainPhysical = main1.path("physical_size_bytes").asLong() - main0.path("physical_size_bytes").asLong();
        System.out.printf("SizesIT: table %d B; dev grew logical %d, stored %d, physical %d B; main physical moved %d B%n",
                tableBytes, devLogical, devStored, devPhysical, mainPhysical);
        // logical: the table plus a little catalog growth
        assertThat(devLogical).isBetween(tableBytes, tableBytes + 2_000_000L);
        // stored/physical: about one image per written page (COPY writes a record per page), WAL-image overhead
        // of catalogs and the endpoint's start checkpoint on top, but the same order as what was written
        assertThat(devStored).isBetween(tableBytes, 4 * tableBytes);
        assertThat(devPhysical).isBetween(tableBytes / 2, 4 * tableBytes);
        // the parent did not pay: its own versions are exactly the same, and on disk about the same
        assertThat(main1.path("stored_bytes").asLong()).isEqualTo(main0.path("stored_bytes").asLong());
        assertThat(Math.abs(mainPhysical)).isLessThan(devPhysical / 4);
        assertThat(main1.path("logical_size_bytes").asLong()).isEqualTo(main0.path("logical_size_bytes").asLong());

        // tenant: sums over its timelines, main's logical size
        JsonNode size = get("/v1/tenants/" + TENANT + "/size");
        assertThat(size.path("tenant").asText()).isEqualTo(TENANT);
        assertThat(size.path("logical_size_bytes").asLong()).isEqualTo(main1.path("logical_size_bytes").asLong());
        long physical = 0;
        long stored = 0;
        for (JsonNode t : size.path("timelines")) {
            physical += t.path("physical_size_bytes").asLong();
            stored += t.path("stored_bytes").asLong();
        }
        assertThat(size.path("timelines")).hasSize(2);
        assertThat(size.path("total_physical_size_bytes").asLong()).isEqualTo(physical);
        assertThat(size.path("history_size_bytes").asLong()).isEqualTo(stored)
                .isEqualTo(main1.path("stored_bytes").asLong() + dev1.path("stored_bytes").asLong());
        JsonNode listed = null;
        for (JsonNode t : get("/v1/tenants")) {
            if (t.path("name").asText().equals(TENANT)) {
                listed = t;
            }
        }
        assertThat(listed).isNotNull();
        assertThat(listed.path("history_size_bytes").asLong()).isEqualTo(stored);
        assertThat(listed.path("logical_size_bytes").asLong()).isEqualTo(main1.path("logical_size_bytes").asLong());
        assertThat(listed.path("total_physical_size_bytes").asLong()).isPositive();

        // the logical size is cached per (timeline, last record LSN): a cached value must follow new writes
        long cached = tenants.sizes().logicalSize(devTl);
        Sql.exec(uri, "postgres", "CREATE TABLE more AS SELECT g FROM generate_series(1, 100000) g");
        server.awaitIngested(devTl, uri);
        long moreBytes = Sql.queryLong(uri, "postgres", "SELECT pg_relation_size('more')");
        assertThat(tenants.sizes().logicalSize(devTl)).isGreaterThanOrEqualTo(cached + moreBytes);
        tenants.stopEndpoint(TENANT, "dev");
    }
}
