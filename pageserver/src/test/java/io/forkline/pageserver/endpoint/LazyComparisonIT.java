package io.forkline.pageserver.endpoint;

import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.pageserver.tenant.TenantService;
import io.forkline.pageserver.testing.Digest;
import io.forkline.pageserver.testing.Sql;
import io.forkline.pageserver.testing.TestServer;
import io.forkline.storage.id.TimelineId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A lazy compute, a full compute and the primary itself show the same data at several LSNs of a
 * history that reuses relation file paths and moves whole databases: a database dropped and
 * created again with the same OID (so its catalogs come back under the same relfilenodes, with
 * fewer blocks than before), {@code CREATE DATABASE} with both strategies ({@code WAL_LOG},
 * {@code FILE_COPY}) and {@code DROP DATABASE}, and {@code CLUSTER}. At each recorded point a branch
 * is started lazily and fully and both must give the primary's digest.
 */
class LazyComparisonIT {
    private static final int DB_OID = 70000;
    private static PostgresInstallation pg;
    private static TestServer server;
    private static TenantService tenants;

    @BeforeAll
    static void start() throws Exception {
        pg = PostgresInstallation.detect();
        server = TestServer.start("lazy-comparison");
        tenants = server.tenants();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private record Point(String name, long lsn, Map<String, String> digest) {
    }

    private static Point record(String name, String uri, TimelineId tl) throws Exception {
        long lsn = server.awaitIngested(tl, uri);
        return new Point(name, lsn, Digest.of(pg, uri));
    }

    /** Many tables and columns in database {@code d}: its pg_class and pg_attribute grow by many blocks. */
    private static void growCatalogs(String uri, String prefix, int tables) throws Exception {
        List<String> ddl = new ArrayList<>();
        for (int i = 0; i < tables; i++) {
            ddl.add("CREATE TABLE " + prefix + i + " (a int, b text, c text, d text, e text, f text, g text, h text)");
        }
        Sql.exec(uri, "d", ddl.toArray(String[]::new));
    }

    @Test
    void lazyAndFullComputesShowWhatThePrimaryShowedAcrossDatabaseAndRelfilenodeReuse() throws Exception {
        tenants.createTenant("cmp");
        String uri = tenants.startEndpoint("cmp", "main");
        TimelineId tl = TimelineId.parse(tenants.branch("cmp", "main").timelineId());
        List<Point> points = new ArrayList<>();

        // 1: database d (OID 70000, FILE_COPY) with rows and grown catalogs; a CLUSTERed table
        Sql.exec(uri, "postgres", "CREATE DATABASE d OID " + DB_OID + " STRATEGY FILE_COPY");
        Sql.exec(uri, "d",
                "CREATE TABLE big (id int PRIMARY KEY, v text)",
                "INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 50000) g",
                "CREATE INDEX big_v ON big (v)");
        growCatalogs(uri, "first_", 60);
        Sql.exec(uri, "postgres",
                "CREATE TABLE c (id int, v text)",
                "INSERT INTO c SELECT (g * 7919) % 20000, md5(g::text) FROM generate_series(1, 20000) g",
                "CREATE INDEX c_id ON c (id)",
                "CLUSTER c USING c_id");
        points.add(record("d with grown catalogs, c clustered", uri, tl));

        // 2: d dropped; c updated and clustered again (a new relfilenode for it and its index)
        Sql.exec(uri, "postgres", "DROP DATABASE d",
                "UPDATE c SET v = v || 'x' WHERE id % 5 = 0",
                "CLUSTER c");
        points.add(record("d dropped, c clustered again", uri, tl));

        // 3: d again with the same OID (WAL_LOG): its catalogs under the same relfilenodes, fewer blocks
        Sql.exec(uri, "postgres", "CREATE DATABASE d OID " + DB_OID + " STRATEGY WAL_LOG");
        Sql.exec(uri, "d", "CREATE TABLE small (x int)", "INSERT INTO small SELECT generate_series(1, 10)");
        points.add(record("d again (WAL_LOG), same OID", uri, tl));

        // 4: and once more with FILE_COPY, from a template that has its own table
        Sql.exec(uri, "postgres", "CREATE DATABASE tpl STRATEGY WAL_LOG");
        Sql.exec(uri, "tpl", "CREATE TABLE seed (x int)", "INSERT INTO seed SELECT generate_series(1, 1000)");
        Sql.exec(uri, "postgres", "DROP DATABASE d",
                "CREATE DATABASE d OID " + DB_OID + " TEMPLATE tpl STRATEGY FILE_COPY");
        Sql.exec(uri, "d", "DELETE FROM seed WHERE x > 500");
        points.add(record("d again (FILE_COPY from tpl), same OID", uri, tl));

        for (int i = 0; i < points.size(); i++) {
            Point p = points.get(i);
            for (String storage : List.of("lazy", "full")) {
                String ref = "p" + i + "-" + storage;
                tenants.createBranch("cmp", ref, "main", io.forkline.storage.lsn.Lsn.format(p.lsn()), null);
                String started = server.post("/v1/tenants/cmp/branches/" + ref + "/endpoint/start",
                        "{\"storage\":\"" + storage + "\",\"size\":\"xs\"}").ok().path("uri").asText();
                assertThat(tenants.endpoints().get("cmp", ref).storage()).isEqualTo(storage);
                assertThat(Digest.of(pg, started)).as("%s compute at point '%s'", storage, p.name()).isEqualTo(p.digest());
                tenants.stopEndpoint("cmp", ref);
                tenants.branches().delete("cmp", ref, false, true);
            }
        }
        tenants.stopEndpoint("cmp", "main");
    }
}
