package io.forkline.pageserver.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.pageserver.testing.Sql;
import io.forkline.pageserver.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;

import java.nio.file.Files;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The server's Postgres proxy end to end: a branch's printed connection string points at the
 * proxy's port and works unchanged with psql and pgjdbc, with and without TLS (a self-signed
 * certificate generated under {@code <dataDir>/tls}); the first connection wakes the compute; the
 * running endpoint's {@code uri} is the same string; a wrong password gets 28P01.
 */
class PgProxyServerIT {
    /**
     * By default (root) the compute listens on a guarded 127.0.0.1 port of the host and the server's
     * proxy relays a plain session in the kernel's SK_MSG shape.
     */
    @Test
    void printedConnectionStringsGoThroughTheProxyAndWakeTheCompute() throws Exception {
        printedConnectionStrings(io.forkline.compute.guard.PortGuard.shared() != null);
    }

    /**
     * With {@code forkline.compute.netns=true} (root) the compute runs in its own network namespace and
     * the server's proxy relays a plain session in the SK_MSG shape too; the same strings work.
     */
    @Test
    void theSameWithTheComputeInItsOwnNetworkNamespace() throws Exception {
        String before = System.setProperty(io.forkline.pageserver.endpoint.EndpointManager.NETNS_PROPERTY, "true");
        try {
            printedConnectionStrings(io.forkline.compute.netns.NetNamespace.available());
        } finally {
            if (before == null) {
                System.clearProperty(io.forkline.pageserver.endpoint.EndpointManager.NETNS_PROPERTY);
            } else {
                System.setProperty(io.forkline.pageserver.endpoint.EndpointManager.NETNS_PROPERTY, before);
            }
        }
    }

    /** @param tcpCompute whether the compute listens on loopback TCP the kernel relay's SK_MSG shape can use */
    private void printedConnectionStrings(boolean tcpCompute) throws Exception {
        try (TestServer s = TestServer.start("pg-proxy")) {
            s.post("/v1/tenants", "{\"name\":\"px\"}").expect(201);
            JsonNode main = s.get("/v1/tenants/px/branches/main").ok();
            String cs = s.get("/v1/tenants/px/branches/main/connection-string").ok().path("connection_string").asText();
            int port = s.server().pgPort();
            assertThat(port).isPositive();
            assertThat(cs).startsWith("postgresql://postgres:").contains("@127.0.0.1:" + port + "/postgres?options=endpoint%3D"
                    + main.path("endpoint_id").asText());
            assertThat(Files.isRegularFile(s.dir().resolve("tls").resolve("proxy.crt"))).isTrue();

            // psql, exactly the printed string (the compute is not running: the proxy wakes it)
            PostgresInstallation pg = PostgresInstallation.detect();
            String out = PostgresInstallation.runCommand(Duration.ofMinutes(2), List.of(pg.bin("psql").toString(), "-X", "-A", "-t",
                    "-d", cs, "-c", "SELECT 40 + 2"));
            assertThat(out.trim()).isEqualTo("42");
            String viaTls = PostgresInstallation.runCommand(Duration.ofMinutes(2), List.of(pg.bin("psql").toString(), "-X", "-A", "-t",
                    "-d", cs + "&sslmode=require&sslrootcert=/nonexistent", "-c", "SELECT 'tls'"));
            assertThat(viaTls.trim()).isEqualTo("tls");
            // pgjdbc, from the same string
            assertThat(Sql.queryString(cs, "postgres", "SELECT current_user")).isEqualTo("postgres");
            long msgBefore = s.server().pgProxy().stats().sessionsMsgRelayed.get();
            long directBefore = s.server().pgProxy().stats().sessionsClientDirect.get();
            assertThat(Sql.queryString(cs + "&sslmode=disable", "postgres", "SELECT 'plain'")).isEqualTo("plain");
            String plainPsql = PostgresInstallation.runCommand(Duration.ofMinutes(2), List.of(pg.bin("psql").toString(), "-X",
                    "-A", "-t", "-d", cs + "&sslmode=disable", "-c", "SELECT count(*) FROM generate_series(1, 100000)"));
            assertThat(plainPsql.trim()).isEqualTo("100000");
            if (s.server().pgProxy().kernelRelayOn() && tcpCompute) {
                // root, no TLS (pgjdbc's default sslmode=prefer gets TLS here, which stays in user space): the
                // compute listens on loopback TCP and the kernel relays in the SK_MSG shape
                assertThat(s.server().pgProxy().stats().sessionsMsgRelayed.get() - msgBefore)
                        .as("sessions relayed in the SK_MSG shape").isEqualTo(2);
                if (s.server().pgProxy().clientSocketsCaptured()) {
                    // and each client's own socket (pgjdbc's in this JVM, psql's in its process) sends straight
                    // into its backend's
                    assertThat(s.server().pgProxy().stats().sessionsClientDirect.get() - directBefore)
                            .as("sessions whose client socket sends straight into the backend's").isEqualTo(2);
                }
            }
            assertThat(Sql.queryString(cs + "&sslmode=require", "postgres", "SELECT 'jdbc-tls'")).isEqualTo("jdbc-tls");
            // the running endpoint's uri is the proxy's string too
            JsonNode endpoints = s.get("/v1/tenants/px/endpoints").ok();
            List<String> uris = new ArrayList<>();
            endpoints.forEach(e -> uris.add(e.path("uri").asText()));
            assertThat(uris).contains(cs);
            // a wrong password: PostgreSQL's own error
            String wrong = cs.replaceFirst("postgres:[^@]+@", "postgres:wrong@");
            assertThatThrownBy(() -> DriverManager.getConnection(Sql.jdbc(wrong, "postgres")).close())
                    .isInstanceOfSatisfying(PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28P01"));
        }
    }
}
