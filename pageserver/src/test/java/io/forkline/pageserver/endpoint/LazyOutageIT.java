package io.forkline.pageserver.endpoint;

import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.pageserver.pageservice.PageService;
import io.forkline.pageserver.tenant.TenantService;
import io.forkline.pageserver.testing.Sql;
import io.forkline.pageserver.testing.TestServer;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.lsn.Lsn;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The page service stopped and restarted under a running lazy compute: a read of a block that is
 * not local yet waits while the service is down; it completes when the service comes back within
 * the client's deadline, and fails with EIO after it (the query errors, the compute stays up, later
 * reads work again once the service is back). Nothing committed is lost.
 */
class LazyOutageIT {
    private static TestServer server;
    private static TenantService tenants;

    @BeforeAll
    static void start() throws Exception {
        PostgresInstallation.detect();
        // EIO after 8 s instead of the default 30 s (the kernel retries a failed read once)
        System.setProperty(io.forkline.compute.lazy.LazyDataDirectory.READ_DEADLINE_PROPERTY, "8");
        server = TestServer.start("lazy-outage");
        tenants = server.tenants();
    }

    @AfterAll
    static void stop() {
        System.clearProperty(io.forkline.compute.lazy.LazyDataDirectory.READ_DEADLINE_PROPERTY);
        if (server != null) {
            server.close();
        }
    }

    private static long count(Statement st, String table) throws SQLException {
        try (ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void readsWaitForThePageServiceAndFailWithEioAfterTheDeadline() throws Exception {
        tenants.createTenant("po");
        String mainUri = tenants.startEndpoint("po", "main");
        Sql.exec(mainUri, "postgres",
                "CREATE TABLE a (id int, v text)",
                "INSERT INTO a SELECT g, repeat('a', 300) FROM generate_series(1, 5000) g",
                "CREATE TABLE b (id int, v text)",
                "INSERT INTO b SELECT g, repeat('b', 300) FROM generate_series(1, 5000) g");
        TimelineId tl = TimelineId.parse(tenants.branch("po", "main").timelineId());
        long lsn = server.awaitIngested(tl, mainUri);
        tenants.stopEndpoint("po", "main");

        // a fresh lazy compute (a new branch: no prewarm list) that has read none of a's or b's blocks
        tenants.createBranch("po", "cold", "main", Lsn.format(lsn), null);
        String uri = tenants.startEndpoint("po", "cold");
        EndpointManager.Endpoint ep = tenants.endpoints().get("po", "cold");
        assertThat(ep.storage()).isEqualTo("lazy");
        PageService pages = server.server().pageService();
        try (Connection c = Sql.connect(uri, "postgres"); Statement st = c.createStatement()) {
            // plan both queries once, so that catalog reads are done before the outage
            st.execute("EXPLAIN SELECT count(*) FROM a");
            st.execute("EXPLAIN SELECT count(*) FROM b");
            long fetchedBefore = ep.lazyStats().blocksFetched();

            // a short outage: the read waits and completes once the service is back
            pages.stopListening();
            CompletableFuture<Long> read = CompletableFuture.supplyAsync(() -> {
                try {
                    return count(st, "a");
                } catch (SQLException e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            });
            Thread.sleep(2000);
            assertThat(read).as("a read of a block not local waits while the page service is down").isNotDone();
            pages.listenAgain();
            assertThat(read.get(60, TimeUnit.SECONDS)).isEqualTo(5000);
            assertThat(ep.lazyStats().blocksFetched()).isGreaterThan(fetchedBefore);

            // an outage longer than the client's deadline: EIO, the query errors, the compute stays up
            pages.stopListening();
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> count(st, "b")).isInstanceOf(SQLException.class)
                    .hasMessageContaining("could not read block").hasMessageContaining("Input/output error");
            long waitedMs = (System.nanoTime() - t0) / 1_000_000;
            System.out.println("read failed with EIO after " + waitedMs + " ms of page service outage");
            assertThat(count(st, "a")).as("blocks already local still read").isEqualTo(5000);
            assertThat(ep.state()).isEqualTo(EndpointState.RUNNING);
            st.execute("INSERT INTO a VALUES (0, 'during the outage')");

            pages.listenAgain();
            assertThat(count(st, "b")).as("the same read once the service is back").isEqualTo(5000);
        } finally {
            pages.listenAgain();
        }
        // nothing committed lost: what the compute wrote during the outage is in the timeline
        tenants.stopEndpoint("po", "cold");
        String again = tenants.startEndpoint("po", "cold");
        assertThat(Sql.queryLong(again, "postgres", "SELECT count(*) FROM a")).isEqualTo(5001);
        assertThat(Sql.queryLong(again, "postgres", "SELECT count(*) FROM b")).isEqualTo(5000);
        tenants.stopEndpoint("po", "cold");
    }
}
