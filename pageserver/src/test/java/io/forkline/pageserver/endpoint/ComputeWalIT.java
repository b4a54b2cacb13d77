package io.forkline.pageserver.endpoint;

import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.pageserver.testing.Sql;
import io.forkline.pageserver.testing.TestServer;
import io.forkline.storage.id.TimelineId;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A compute of the server's own machine acknowledges a commit once its own WAL is fsync'd and
 * streams it to the store asynchronously ({@code ComputeSettings.commitSettings()}): no commit it
 * acknowledged may be lost when it dies before the store has it, and a branch or backup taken at
 * its head must include every commit it acknowledged.
 */
class ComputeWalIT {
    private static final String COUNT = "SELECT count(*) FROM t";

    @Test
    void acknowledgedCommitsOfAKilledComputeAreReadFromItsPgWal() throws Exception {
        try (TestServer s = TestServer.start("compute-wal-kill")) {
            s.post("/v1/tenants", "{\"name\":\"w\"}").expect(201);
            s.post("/v1/tenants/w/branches/main/endpoint/start", "{\"size\":\"xs\"}").ok();
            EndpointManager endpoints = s.tenants().endpoints();
            EndpointManager.Endpoint e = endpoints.get("w", "main");
            String uri = e.uri();
            TimelineId tl = e.timeline();
            Sql.exec(uri, "postgres", "CREATE TABLE t (n int PRIMARY KEY, pad text)");
            s.awaitIngested(tl, uri);
            long before = s.store().lastRecordLsn(tl);

            // the store stops following (as when the receiver's connection is lost); the compute goes on
            e.receiver().close();
            Sql.exec(uri, "postgres", "INSERT INTO t SELECT g, repeat('x', 100) FROM generate_series(1, 20000) g");
            for (int i = 0; i < 50; i++) {
                Sql.exec(uri, "postgres", "INSERT INTO t VALUES (" + (100_000 + i) + ", 'one by one')");
            }
            assertThat(s.store().lastRecordLsn(tl)).as("nothing of it reached the store").isEqualTo(before);
            kill(e.compute().pid());
            assertThat(Files.exists(walMarker(s, "w", "main"))).as("marker of the dead compute").isTrue();

            // the next start reads the dead compute's pg_wal before it builds a new data directory
            s.post("/v1/tenants/w/branches/main/endpoint/start", "{\"size\":\"xs\"}").ok();
            String again = endpoints.get("w", "main").uri();
            assertThat(Sql.queryLong(again, "postgres", COUNT)).isEqualTo(20_050);
            assertThat(s.store().lastRecordLsn(tl)).isGreaterThan(before);
        }
    }

    @Test
    void aBranchAtTheHeadWaitsForEveryCommitTheComputeAcknowledged() throws Exception {
        try (TestServer s = TestServer.start("compute-wal-head")) {
            s.post("/v1/tenants", "{\"name\":\"h\"}").expect(201);
            s.post("/v1/tenants/h/branches/main/endpoint/start", "{\"size\":\"xs\"}").ok();
            EndpointManager.Endpoint e = s.tenants().endpoints().get("h", "main");
            String uri = e.uri();
            Sql.exec(uri, "postgres", "CREATE TABLE t (n int PRIMARY KEY)");
            s.awaitIngested(e.timeline(), uri);
            // hold the walsender still: the compute acknowledges commits that the store cannot have yet
            long walsender = Sql.queryLong(uri, "postgres", "SELECT pid FROM pg_stat_replication LIMIT 1");
            signal("STOP", walsender);
            CompletableFuture<TestServer.Response> branch;
            try {
                Sql.exec(uri, "postgres", "INSERT INTO t VALUES (1)");
                assertThat(Sql.queryString(uri, "postgres", "SHOW synchronous_commit")).isEqualTo("local");
                branch = CompletableFuture.supplyAsync(() -> {
                    try {
                        return s.put("/v1/tenants/h/branches/snap", "{\"start\":true,\"size\":\"xs\"}");
                    } catch (Exception ex) {
                        throw new IllegalStateException(ex);
                    }
                });
                Thread.sleep(1500);
                assertThat(branch).as("the branch waits for the store to hold the acknowledged commit (answered: %s)",
                        branch.isDone() ? branch.join().status() + " " + branch.join().text() : "-").isNotDone();
            } finally {
                signal("CONT", walsender);
            }
            branch.get(2, TimeUnit.MINUTES).ok();
            String snap = s.tenants().endpoints().get("h", "snap").uri();
            assertThat(Sql.queryLong(snap, "postgres", COUNT)).isEqualTo(1);
        }
    }

    private static java.nio.file.Path walMarker(TestServer s, String tenant, String ref) {
        return s.dir().resolve("endpoints").resolve(tenant).resolve(ref).resolve(ComputeWal.MARKER);
    }

    private static void kill(long pid) throws Exception {
        signal("KILL", pid);
        ProcessHandle.of(pid).ifPresent(h -> h.onExit().orTimeout(30, TimeUnit.SECONDS).join());
    }

    private static void signal(String name, long pid) throws Exception {
        PostgresInstallation.runCommand(Duration.ofSeconds(10), List.of("kill", "-" + name, Long.toString(pid)));
    }
}
