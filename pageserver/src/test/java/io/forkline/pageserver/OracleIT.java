package io.forkline.pageserver;

import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.pageserver.tenant.TenantService;
import io.forkline.pageserver.testing.Digest;
import io.forkline.pageserver.testing.Sql;
import io.forkline.pageserver.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The oracle test: Postgres itself says what a branch must hold. A mixed workload runs on
 * {@code main}; at quiescent points the LSN and a digest of every database are recorded; then a
 * branch at each LSN (and one by timestamp) must produce exactly that digest, pass
 * {@code pg_amcheck --heapallindexed}, accept writes without changing its parent, and be
 * branchable itself.
 */
class OracleIT {
    private static PostgresInstallation pg;
    private static TestServer server;
    private static TenantService tenants;

    @BeforeAll
    static void start() throws Exception {
        pg = PostgresInstallation.detect();
        server = TestServer.start("oracle");
        tenants = server.tenants();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private record Point(String name, String lsn, Map<String, String> digest) {
    }

    private static Point record(String name, String uri) throws Exception {
        String lsn = Sql.queryString(uri, "postgres", "SELECT pg_current_wal_insert_lsn()");
        return new Point(name, lsn, Digest.of(pg, uri));
    }

    private static void pgbench(String uri, String... args) {
        List<String> cmd = new ArrayList<>(List.of(pg.bin("pgbench").toString()));
        cmd.addAll(List.of(args));
        cmd.add(uri);
        PostgresInstallation.runCommand(Duration.ofMinutes(5), cmd);
    }

    @Test
    void branchesAtRecordedPointsMatchTheParentExactly() throws Exception {
        tenants.createTenant("oracle");
        String main = tenants.startEndpoint("oracle", "main");
        List<Point> points = new ArrayList<>();

        // 1: pgbench data and a short run
        pgbench(main, "-i", "-s", "1", "-q");
        pgbench(main, "-T", "3", "-c", "2");
        Sql.exec(main, "postgres",
                "CREATE TABLE docs (id serial PRIMARY KEY, title text NOT NULL, body text, tags text[], pos point)",
                "CREATE INDEX docs_tags ON docs USING gin (tags)",
                "CREATE INDEX docs_pos ON docs USING gist (pos)",
                "CREATE INDEX docs_title ON docs (title)",
                "CREATE SEQUENCE ticket_seq",
                "INSERT INTO docs (title, body, tags, pos) SELECT 'doc ' || g, repeat(md5(g::text), 20), "
                        + "ARRAY['t' || (g % 7), 'u' || (g % 3)], point(g % 100, g / 100) FROM generate_series(1, 5000) g",
                // TOASTed, incompressible values
                "INSERT INTO docs (title, body) SELECT 'big ' || g, (SELECT string_agg(md5(g::text || i::text), '') "
                        + "FROM generate_series(1, 3000) i) FROM generate_series(1, 20) g",
                "SELECT nextval('ticket_seq') FROM generate_series(1, 10)");
        points.add(record("p1", main));

        // 2: updates, deletes, vacuum, savepoints rolled back, DDL
        try (Connection c = Sql.connect(main, "postgres"); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("UPDATE docs SET title = title || ' (edited)' WHERE id % 5 = 0");
            st.execute("SAVEPOINT s1");
            st.execute("DELETE FROM docs WHERE id < 1000");
            st.execute("ROLLBACK TO SAVEPOINT s1");
            st.execute("DELETE FROM docs WHERE id % 11 = 0");
            c.commit();
            c.setAutoCommit(true);
            st.execute("VACUUM docs");
            st.execute("ALTER TABLE docs ADD COLUMN rating int DEFAULT 3");
            st.execute("CREATE TABLE scratch (a int, b text)");
            st.execute("INSERT INTO scratch SELECT g, 'x' || g FROM generate_series(1, 1000) g");
            st.execute("CREATE TABLE doomed AS SELECT g AS a FROM generate_series(1, 500) g");
            st.execute("DROP TABLE doomed");
            st.execute("BEGIN; INSERT INTO scratch VALUES (-1, 'rolled back'); ROLLBACK");
        }
        points.add(record("p2", main));

        // 3: TRUNCATE, CREATE DATABASE with both strategies
        Sql.exec(main, "postgres",
                "TRUNCATE scratch",
                "INSERT INTO scratch VALUES (1, 'after truncate')",
                "CREATE DATABASE app_copy STRATEGY file_copy",
                "CREATE DATABASE app_wal STRATEGY wal_log");
        Sql.exec(main, "app_copy", "CREATE TABLE items (id int PRIMARY KEY, v text)",
                "INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 2000) g");
        Sql.exec(main, "postgres", "CREATE DATABASE app_clone TEMPLATE app_copy STRATEGY wal_log",
                "CREATE DATABASE app_clone2 TEMPLATE app_copy STRATEGY file_copy");
        Sql.exec(main, "app_wal", "CREATE TABLE t (x int)", "INSERT INTO t SELECT generate_series(1, 100)");
        points.add(record("p3", main));
        Thread.sleep(50);
        Instant t3 = Instant.now();
        Thread.sleep(50);

        // 4: a transaction left open across the branch point
        Connection open = Sql.connect(main, "postgres");
        open.setAutoCommit(false);
        try (Statement st = open.createStatement()) {
            st.execute("INSERT INTO scratch SELECT g, 'uncommitted' FROM generate_series(1, 300) g");
            st.execute("UPDATE docs SET rating = 5 WHERE id < 100");
        }
        pgbench(main, "-T", "2", "-c", "2");
        points.add(record("p4", main));
        open.commit();
        open.close();

        // 5: more of everything
        pgbench(main, "-T", "2", "-c", "2");
        Sql.exec(main, "postgres", "DELETE FROM pgbench_history WHERE tid % 2 = 0", "VACUUM (ANALYZE) pgbench_history",
                "DROP DATABASE app_clone2");
        points.add(record("p5", main));

        Map<String, String> branchUris = new LinkedHashMap<>();
        for (Point p : points) {
            tenants.createBranch("oracle", p.name(), "main", p.lsn(), null);
            String uri = tenants.startEndpoint("oracle", p.name());
            branchUris.put(p.name(), uri);
            assertThat(Digest.of(pg, uri)).as("digest of branch %s at %s", p.name(), p.lsn()).isEqualTo(p.digest());
            amcheck(uri);
            tenants.stopEndpoint("oracle", p.name());
        }

        // by timestamp: the time just after point 3
        tenants.createBranch("oracle", "at-t3", "main", null, t3.toString());
        String atT3 = tenants.startEndpoint("oracle", "at-t3");
        assertThat(Digest.of(pg, atT3)).as("branch by timestamp %s", t3).isEqualTo(points.get(2).digest());
        tenants.stopEndpoint("oracle", "at-t3");

        // write on a branch: the parent does not change
        Map<String, String> mainBefore = Digest.of(pg, main);
        String p5 = tenants.startEndpoint("oracle", "p5");
        Sql.exec(p5, "postgres", "INSERT INTO scratch VALUES (42, 'only on p5')", "CREATE TABLE p5_only (x int)",
                "INSERT INTO p5_only VALUES (1)");
        Map<String, String> p5After = Digest.of(pg, p5);
        assertThat(p5After).isNotEqualTo(points.get(4).digest());
        assertThat(Digest.of(pg, main)).isEqualTo(mainBefore);

        // branch of a branch holds the branch's write
        tenants.createBranch("oracle", "p5-child", "p5", null, null);
        String child = tenants.startEndpoint("oracle", "p5-child");
        assertThat(Digest.of(pg, child)).isEqualTo(p5After);
        assertThat(Sql.queryLong(child, "postgres", "SELECT count(*) FROM scratch WHERE b = 'only on p5'")).isEqualTo(1);
        amcheck(child);

        // restarting main continues where it was
        tenants.stopEndpoint("oracle", "main");
        String main2 = tenants.startEndpoint("oracle", "main");
        assertThat(Digest.of(pg, main2)).isEqualTo(mainBefore);
    }

    private static void amcheck(String uri) {
        PostgresInstallation.runCommand(Duration.ofMinutes(5), List.of(pg.bin("pg_amcheck").toString(),
                "-h", Sql.host(uri), "-p", Sql.port(uri), "-U", "postgres", "--all", "--install-missing", "--heapallindexed"));
    }
}
