package io.forkline.pageserver.endpoint;

import io.forkline.pageserver.server.PageServer;
import io.forkline.pageserver.testing.Sql;
import io.forkline.pageserver.testing.TestData;
import io.forkline.pageserver.testing.TestServer;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Computes that ran when the server went down come back with the next server on the same port
 * (stored connection strings keep working); one stopped on purpose stays stopped; a process on the
 * TCP port number a compute had does not keep it from coming back (local computes are reached on
 * their private Unix-domain socket; that one then starts without its guarded TCP listener).
 */
class EndpointResumeIT {
    @Test
    void runningComputesComeBackOnTheirPortsAfterAServerRestart() throws Exception {
        Path dir;
        String mainUri;
        String devUri;
        String takenUri;
        try (TestServer first = TestServer.start("endpoint-resume", TestServer.Option.KEEP_DATA)) {
            dir = first.dir();
            first.post("/v1/tenants", "{\"name\":\"r\"}").expect(201);
            mainUri = first.post("/v1/tenants/r/branches/main/endpoint/start", "{\"size\":\"xs\"}").ok().path("uri").asText();
            Sql.exec(mainUri, "postgres", "CREATE TABLE kept (x int)", "INSERT INTO kept VALUES (42)");
            devUri = first.put("/v1/tenants/r/branches/dev", "{\"start\":true,\"size\":\"xs\"}").ok().path("endpoint").path("uri").asText();
            takenUri = first.put("/v1/tenants/r/branches/taken", "{\"start\":true,\"size\":\"xs\"}").ok().path("endpoint").path("uri").asText();
            // the API shows connection strings through the Postgres proxy; this test is about the computes' own ports
            EndpointManager started = first.tenants().endpoints();
            mainUri = started.get("r", "main").uri();
            devUri = started.get("r", "dev").uri();
            takenUri = started.get("r", "taken").uri();
            String idleUri = first.put("/v1/tenants/r/branches/idle", "{\"start\":true,\"size\":\"xs\"}").ok()
                    .path("endpoint").path("uri").asText();
            // a synchronous commit: the receiver is connected, so the stop's shutdown checkpoint is ingested at once
            Sql.exec(idleUri, "postgres", "CREATE TABLE idle (x int)");
            first.post("/v1/tenants/r/branches/idle/endpoint/stop", "").ok();
        }
        int takenPort = URI.create(takenUri).getPort();
        try (ServerSocket squatter = new ServerSocket(takenPort, 1, InetAddress.getLoopbackAddress());
             PageServer second = PageServer.start(dir, 0, Clock.systemUTC())) {
            EndpointManager endpoints = second.tenants().endpoints();
            assertThat(endpoints.get("r", "main").uri()).as("same URI after the restart").isEqualTo(mainUri);
            assertThat(endpoints.get("r", "dev").uri()).isEqualTo(devUri);
            assertThat(Sql.queryLong(mainUri, "postgres", "SELECT x FROM kept")).isEqualTo(42);
            assertThat(endpoints.get("r", "idle") == null || !endpoints.get("r", "idle").active())
                    .as("stopped on purpose: stays stopped").isTrue();
            // a compute of the server's own process tree is reached on its private socket, whose name
            // carries its port; a process on that TCP port does not keep it from coming back there (it
            // then starts without its guarded TCP listener)
            EndpointManager.Endpoint taken = endpoints.get("r", "taken");
            assertThat(taken.active()).as("resumed although another process listens on TCP port " + takenPort).isTrue();
            assertThat(taken.note()).isNull();
            assertThat(taken.uri()).isEqualTo(takenUri);
            assertThat(taken.proxyAddress().isUnix()).as("no TCP listener: the port is another process's").isTrue();
            if (io.forkline.compute.guard.PortGuard.shared() != null) {
                assertThat(endpoints.get("r", "main").proxyAddress().local()).as("the others: guarded ports").isTrue();
            }
            Sql.exec(takenUri, "postgres", "CREATE TABLE back (x int)"); // committed through its receiver
            for (String uri : new String[]{mainUri, devUri}) {
                Sql.exec(uri, "postgres", "CREATE TABLE IF NOT EXISTS after_restart (x int)");
            }
        } finally {
            TestData.deleteUnlessKept(dir);
        }
    }
}
