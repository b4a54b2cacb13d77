package io.forkline.pageserver.endpoint;

import io.forkline.compute.lazy.LazyStats;
import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.pageserver.tenant.TenantService;
import io.forkline.pageserver.testing.Digest;
import io.forkline.pageserver.testing.Sql;
import io.forkline.pageserver.testing.TestServer;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.lsn.Lsn;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Lazy computes on a real FUSE mount: a compute whose relation blocks come from the page service on
 * first read serves the same data as a full compute (digests of every database, pg_amcheck), takes
 * writes of every kind (extension, truncation, DROP / CREATE DATABASE, VACUUM FULL, unlogged and
 * temp tables) that survive a restart, and fetched only part of the cluster.
 */
class LazyComputeIT {
    private static TestServer server;
    private static TenantService tenants;
    private static PostgresInstallation pg;

    @BeforeAll
    static void start() throws Exception {
        pg = PostgresInstallation.detect();
        server = TestServer.start("lazy-compute"); // lazy is the default
        tenants = server.tenants();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void aLazyComputeServesWhatAFullOneServesAndKeepsItsWrites() throws Exception {
        tenants.createTenant("lz");
        String uri = tenants.startEndpoint("lz", "main");
        EndpointManager.Endpoint ep = tenants.endpoints().get("lz", "main");
        assertThat(ep.storage()).isEqualTo("lazy");
        TimelineId tl = TimelineId.parse(tenants.branch("lz", "main").timelineId());
        Sql.exec(uri, "postgres",
                "CREATE TABLE t (id int PRIMARY KEY, v text)",
                "INSERT INTO t SELECT g, repeat('v', 100) FROM generate_series(1, 30000) g",
                "CREATE INDEX ON t (v)",
                "DELETE FROM t WHERE id % 3 = 0",
                "VACUUM t",
                "CREATE UNLOGGED TABLE u (x int)",
                "INSERT INTO u VALUES (1), (2)",
                "CREATE TABLE gone (x int)",
                "INSERT INTO gone SELECT generate_series(1, 1000)",
                "TRUNCATE gone",
                "CREATE DATABASE other",
                "VACUUM FULL t");
        Sql.exec(uri, "other", "CREATE TABLE o (x int)", "INSERT INTO o SELECT generate_series(1, 5000)");
        Sql.exec(uri, "postgres", "CREATE DATABASE dropme", "DROP DATABASE dropme");
        try (var c = Sql.connect(uri, "postgres"); var st = c.createStatement()) {
            st.execute("CREATE TEMP TABLE tmp AS SELECT generate_series(1, 100) x");
            var rs = st.executeQuery("SELECT count(*) FROM tmp");
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(100);
        }
        long lsn = server.awaitIngested(tl, uri);
        Map<String, String> lazyDigest = Digest.of(pg, uri);
        LazyStats stats = ep.lazyStats();
        assertThat(stats.blocksFetched()).isPositive();
        // one request in flight per FUSE read: by default over the pooled synchronous connections
        assertThat(stats.synchronousFetches()).isPositive().isLessThanOrEqualTo(stats.fetches());
        // FUSE's writeback cache: the kernel hands the checkpoint's 8 KiB page writes over in runs
        Sql.exec(uri, "postgres", "CHECKPOINT");
        assertThat(stats.writes()).isPositive();
        assertThat(stats.writtenBytes() / stats.writes())
                .as("mean bytes per FUSE write (%d writes)", stats.writes()).isGreaterThan(8192);

        // a branch at that point on a full compute, and main restarted lazily: same data
        tenants.createBranch("lz", "full-copy", "main", Lsn.format(lsn), null);
        assertThat(server.post("/v1/tenants/lz/branches/full-copy/endpoint/start", "{\"storage\":\"fast\"}")
                .error(400, "bad_request")).contains("invalid storage 'fast'");
        var started = server.post("/v1/tenants/lz/branches/full-copy/endpoint/start", "{\"storage\":\"full\"}").ok();
        String fullUri = started.path("uri").asText();
        assertThat(started.path("storage").asText()).isEqualTo("full");
        assertThat(tenants.endpoints().get("lz", "full-copy").storage()).isEqualTo("full");
        assertThat(server.get("/v1/tenants/lz/branches/main").ok().path("endpoint").path("blocks_fetched").asLong())
                .isPositive();
        Map<String, String> fullDigest = Digest.of(pg, fullUri);
        // the same, but for the unlogged table's rows, which no new compute has
        assertThat(fullDigest.get("postgres")).contains("-- data public.u 0:");
        assertThat(fullDigest.get("postgres").replaceAll("-- data public\\.u [^\\n]*", ""))
                .isEqualTo(lazyDigest.get("postgres").replaceAll("-- data public\\.u [^\\n]*", ""));
        assertThat(fullDigest.get("other")).isEqualTo(lazyDigest.get("other"));
        assertThat(fullDigest.keySet()).isEqualTo(lazyDigest.keySet());
        tenants.stopEndpoint("lz", "full-copy");

        tenants.stopEndpoint("lz", "main");
        String again = tenants.startEndpoint("lz", "main");
        assertThat(tenants.endpoints().get("lz", "main").storage()).isEqualTo("lazy");
        assertThat(Digest.of(pg, again)).isEqualTo(fullDigest);
        assertThat(Sql.queryLong(again, "postgres", "SELECT count(*) FROM t")).isEqualTo(20000);
        assertThat(Sql.queryLong(again, "postgres", "SELECT count(*) FROM u")).isZero(); // unlogged: empty after restart
        Sql.exec(again, "postgres", "CREATE EXTENSION IF NOT EXISTS amcheck");
        String amcheck = PostgresInstallation.runCommand(java.time.Duration.ofMinutes(2),
                pg.command("pg_amcheck", "--heapallindexed", "-d", "postgres", "-h", Sql.host(again), "-p", Sql.port(again),
                        "-U", "postgres"));
        assertThat(amcheck).doesNotContain("corrupt");
        // the restart prewarmed what the previous run had read, in the background
        LazyStats fresh = tenants.endpoints().get("lz", "main").lazyStats();
        org.awaitility.Awaitility.await("prewarm of the restarted compute").atMost(java.time.Duration.ofSeconds(60))
                .until(() -> fresh.prefetchedBlocks() > 0);
        assertThat(server.dir().resolve("endpoints/lz/main/prewarm.list")).exists();
        // a lazy start fetches only what it reads (and prewarms)
        long clusterBlocks = Sql.queryLong(again, "postgres",
                "SELECT (sum(pg_database_size(oid)) / 8192)::bigint FROM pg_database");
        assertThat(fresh.blocksFetched()).isLessThan(clusterBlocks);
        tenants.stopEndpoint("lz", "main");
    }
}
