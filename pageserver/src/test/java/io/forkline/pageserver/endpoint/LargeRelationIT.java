package io.forkline.pageserver.endpoint;

import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.pageserver.tenant.TenantService;
import io.forkline.pageserver.testing.Sql;
import io.forkline.pageserver.testing.TestServer;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.lsn.Lsn;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A relation larger than 1 GiB, so with a second segment file ({@code RELFILENODE.1}): one row per
 * 8 KiB page (fillfactor 10, ~730-byte rows) for 140,000 pages (1.07 GiB), written fast because
 * each insert's WAL is a small compressed page image. A lazy compute lists the second segment at
 * its exact size and reads its blocks; a lazy and a full compute give the primary's size and rows
 * across the segment boundary and in the second segment.
 */
class LargeRelationIT {
    private static final int ROWS = 140_000; // 131,072 blocks fill the first segment
    private static PostgresInstallation pg;
    private static TestServer server;
    private static TenantService tenants;

    @BeforeAll
    static void start() throws Exception {
        pg = PostgresInstallation.detect();
        server = TestServer.start("large-relation");
        tenants = server.tenants();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static long ms(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }

    @Test
    void aRelationWithASecondSegmentReadsTheSameLazilyAndFully() throws Exception {
        tenants.createTenant("big");
        String uri = tenants.startEndpoint("big", "main");
        TimelineId tl = TimelineId.parse(tenants.branch("big", "main").timelineId());
        long t0 = System.nanoTime();
        Sql.exec(uri, "postgres",
                "CREATE TABLE huge (id int, pad char(700)) WITH (fillfactor = 10, autovacuum_enabled = off)",
                "INSERT INTO huge SELECT g, md5(g::text) FROM generate_series(1, " + ROWS + ") g");
        long lsn = server.awaitIngested(tl, uri);
        long insertMs = ms(t0);
        String file = Sql.queryString(uri, "postgres", "SELECT pg_relation_filepath('huge')");
        Map<String, String> primary = facts(uri);
        assertThat(primary.get("blocks")).isEqualTo(Integer.toString(ROWS));
        tenants.stopEndpoint("big", "main");

        tenants.createBranch("big", "lazy", "main", Lsn.format(lsn), null);
        t0 = System.nanoTime();
        String lazy = tenants.startEndpoint("big", "lazy");
        long lazyStartMs = ms(t0);
        assertThat(tenants.endpoints().get("big", "lazy").storage()).isEqualTo("lazy");
        Path pgdata = server.dir().resolve("endpoints/big/lazy/pgdata");
        assertThat(Files.size(pgdata.resolve(file))).isEqualTo(131_072L * 8192);
        assertThat(Files.size(pgdata.resolve(file + ".1"))).isEqualTo((ROWS - 131_072L) * 8192);
        assertThat(pgdata.resolve(file + ".2")).doesNotExist();
        // the last block, in the second segment, read first
        assertThat(Sql.queryString(lazy, "postgres", "SELECT id || ':' || trim(pad) FROM huge WHERE ctid = '(" + (ROWS - 1) + ",1)'"))
                .isEqualTo(ROWS + ":" + md5(ROWS));
        t0 = System.nanoTime();
        assertThat(facts(lazy)).isEqualTo(primary);
        long lazyReadMs = ms(t0);
        tenants.stopEndpoint("big", "lazy");

        tenants.createBranch("big", "full", "main", Lsn.format(lsn), null);
        t0 = System.nanoTime();
        String full = server.post("/v1/tenants/big/branches/full/endpoint/start", "{\"storage\":\"full\"}").ok()
                .path("uri").asText();
        long fullStartMs = ms(t0);
        assertThat(facts(full)).isEqualTo(primary);
        tenants.stopEndpoint("big", "full");
        System.out.printf("1.07 GiB relation: insert+ingest %d ms, lazy start %d ms, lazy read of the segment boundary "
                + "and the second segment (%d blocks fetched) %d ms, full start %d ms%n", insertMs, lazyStartMs,
                ROWS - 131_070, lazyReadMs, fullStartMs);
    }

    /**
     * What must agree: the size in blocks (PostgreSQL adds up both segments) and the rows of the
     * last two blocks of the first segment and of the whole second one (a TID range scan reads only
     * those: fetching all 1.07 GiB lazily would take minutes here).
     */
    private static Map<String, String> facts(String uri) throws Exception {
        return Map.of(
                "blocks", Sql.queryString(uri, "postgres", "SELECT pg_relation_size('huge') / 8192"),
                "tail", Sql.queryString(uri, "postgres", "SELECT count(*) || ':' || md5(string_agg(id || pad, ',' ORDER BY id)) "
                        + "FROM huge WHERE ctid >= '(131070,0)'"));
    }

    private static String md5(int n) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("MD5")
                .digest(Integer.toString(n).getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
    }
}
