package io.forkline.pageserver.endpoint;

import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.pageserver.tenant.TenantService;
import io.forkline.pageserver.testing.Sql;
import io.forkline.pageserver.testing.TestData;
import io.forkline.pageserver.testing.TestServer;
import io.forkline.storage.id.TimelineId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The server and a compute node ({@code forkline compute-node}) as two processes with separate
 * data directories on loopback: the node runs on {@code compute-node/target} (its jar and
 * {@code lib/}, what the launcher runs it on), with no store on its class path; the server asks it
 * to start and stop computes over its authenticated API, and streams their WAL into the timeline.
 * Also: the node killed with {@code kill -9} (the endpoint reported failed, a restarted node cleans
 * the stale mount and the orphan postmaster, the endpoint restarts cleanly, nothing committed lost).
 */
class ComputeNodeIT {
    private static final Path NODE_TARGET = Path.of("..", "compute-node", "target").toAbsolutePath().normalize();
    private static TestServer server;
    private static TenantService tenants;
    private static Path nodeDir;
    private static Process node;
    private static URI nodeUrl;
    /** The node's own certificate (made at its first start), which the server pins. */
    private static Path nodeCert;

    @BeforeAll
    static void start() throws Exception {
        PostgresInstallation.detect();
        server = TestServer.start("compute-node");
        tenants = server.tenants();
        nodeDir = TestData.newDirectory("compute-node-dir");
        node = startNode();
        tenants.endpoints().useComputeNode(nodeUrl, nodeCert, server.adminToken());
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (server != null) {
                server.close();
            }
        } finally {
            if (node != null) {
                node.destroy();
                node.waitFor(60, TimeUnit.SECONDS);
                node.destroyForcibly();
            }
            if (nodeDir != null) { // what a node killed by a failing test left behind
                io.forkline.compute.node.LaunchedCompute.cleanOrphansUnder(nodeDir.resolve("computes"));
            }
        }
    }

    /** The compute-node jar and every jar of {@code compute-node/target/lib}. */
    private static List<Path> nodeClassPath() throws IOException {
        List<Path> cp = new ArrayList<>();
        try (Stream<Path> s = Files.list(NODE_TARGET)) {
            s.filter(p -> p.getFileName().toString().matches("forkline-compute-node-.*\\.jar")
                    && !p.getFileName().toString().contains("-tests")).forEach(cp::add);
        }
        assertThat(cp).as("the compute-node jar in %s (package the compute-node module first)", NODE_TARGET).hasSize(1);
        try (Stream<Path> s = Files.list(NODE_TARGET.resolve("lib"))) {
            s.sorted().forEach(cp::add);
        }
        return cp;
    }

    private static Process startNode() throws Exception {
        List<Path> cp = nodeClassPath();
        assertThat(cp).as("the compute node's class path has no store").noneMatch(p -> p.getFileName().toString()
                .matches("(rocksdbjni|forkline-storage-engine|forkline-pageserver|forkline-wal-ingest).*"));
        // a restarted node listens where it did before
        int apiPort = nodeUrl != null ? nodeUrl.getPort() : io.forkline.compute.endpoint.ComputeProcess.freePort();
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xmx256m", "-cp",
                String.join(":", cp.stream().map(Path::toString).toList()), "io.forkline.compute.node.ComputeNodeMain",
                "--pageserver", "127.0.0.1:" + server.server().pagePort(), "--token", server.adminToken(),
                "--data-dir", nodeDir.toString(), "--port", Integer.toString(apiPort)));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        CompletableFuture<Void> ready = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    System.out.println("[compute-node] " + line);
                    if (line.contains("forkline compute node listening on")) {
                        ready.complete(null);
                    }
                }
            } catch (IOException e) {
                // the process ended
            }
            ready.completeExceptionally(new AssertionError("the compute node exited before listening"));
        });
        ready.get(60, TimeUnit.SECONDS);
        nodeUrl = URI.create("https://127.0.0.1:" + apiPort);
        nodeCert = nodeDir.resolve("tls").resolve("compute.crt");
        return p;
    }

    /** FUSE mounts under the node's directory, from /proc/self/mounts. */
    private static List<String> mountsUnder(Path dir) throws IOException {
        String prefix = dir.toAbsolutePath().normalize() + "/";
        return Files.readAllLines(Path.of("/proc/self/mounts")).stream().map(l -> l.split(" "))
                .filter(f -> f.length > 2 && f[2].startsWith("fuse") && f[1].startsWith(prefix)).map(f -> f[1]).toList();
    }

    @Test
    void computesRunOnTheNodeAndTheirWritesAreCommittedInTheTimeline() throws Exception {
        tenants.createTenant("cn");
        String uri = tenants.startEndpoint("cn", "main");
        EndpointManager.Endpoint ep = tenants.endpoints().get("cn", "main");
        assertThat(ep.computeNode()).isEqualTo(nodeUrl.toString());
        assertThat(ep.storage()).isEqualTo("lazy");
        assertThat(ep.state()).isEqualTo(EndpointState.RUNNING);
        // the data directory is the node's (a FUSE mount there), none is in the server's directory
        assertThat(mountsUnder(nodeDir)).anyMatch(m -> m.endsWith("/computes/cn/main/pgdata"));
        assertThat(server.dir().resolve("endpoints/cn/main/pgdata")).doesNotExist();

        // the node's API is HTTPS with the node's certificate: plain HTTP gets no answer, a client that
        // pins another certificate does not talk to it, and the server's client refuses it too
        HttpClient plainHttp = HttpClient.newBuilder().connectTimeout(java.time.Duration.ofSeconds(5)).build();
        assertThatThrownBy(() -> plainHttp.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + nodeUrl.getPort()
                + "/v1/computes")).timeout(java.time.Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(IOException.class);
        Path otherCert = io.forkline.compute.proxy.tls.SelfSignedCertificate.ensure(TestData.newDirectory("other-node-tls"),
                "compute.crt", "compute.key", "forkline-compute-node", "localhost")[0];
        HttpClient wrongPin = HttpClient.newBuilder()
                .sslContext(io.forkline.compute.proxy.tls.PinnedCertificateTrust.clientContext(otherCert)).build();
        assertThatThrownBy(() -> wrongPin.send(HttpRequest.newBuilder(nodeUrl.resolve("/v1/computes"))
                .header("Authorization", "Bearer " + server.adminToken()).build(), HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(javax.net.ssl.SSLHandshakeException.class);
        RemoteComputeNode impostorCheck = new RemoteComputeNode(nodeUrl, otherCert, server.adminToken(), null);
        assertThatThrownBy(() -> impostorCheck.stop("cn", "x")).isInstanceOf(IOException.class)
                .hasMessageContaining(nodeUrl.toString()).hasMessageContaining("not the pinned");
        assertThat(impostorCheck.running("cn", "main", ep.address().port())).isFalse();

        // the node's API wants its token
        HttpClient http = HttpClient.newBuilder()
                .sslContext(io.forkline.compute.proxy.tls.PinnedCertificateTrust.clientContext(nodeCert)).build();
        assertThat(http.send(HttpRequest.newBuilder(nodeUrl.resolve("/v1/computes")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(401);
        assertThat(http.send(HttpRequest.newBuilder(nodeUrl.resolve("/v1/computes"))
                .header("Authorization", "Bearer " + server.tenantToken("cn", java.util.Optional.empty())).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(401);
        HttpResponse<String> bad = http.send(HttpRequest.newBuilder(nodeUrl.resolve("/v1/computes/start"))
                .header("Authorization", "Bearer " + server.adminToken())
                .POST(HttpRequest.BodyPublishers.ofString("{\"tenant\":\"cn\",\"ref\":\"x\",\"timeline_id\":\"zz\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("invalid timeline_id 'zz'");
        HttpResponse<String> noCa = http.send(HttpRequest.newBuilder(nodeUrl.resolve("/v1/computes/start"))
                .header("Authorization", "Bearer " + server.adminToken())
                .POST(HttpRequest.BodyPublishers.ofString("{\"tenant\":\"cn\",\"ref\":\"x\",\"timeline_id\":\""
                        + "0".repeat(32) + "\"}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(noCa.statusCode()).isEqualTo(400);
        assertThat(noCa.body()).contains("missing field 'client_ca'");

        // the compute accepts TCP connections only over TLS with the server's client certificate
        var address = ep.address();
        assertThat(address.tls()).isNotNull();
        String plain = "jdbc:postgresql://" + address.host() + ":" + address.port() + "/postgres?user=postgres&connectTimeout=10";
        assertThatThrownBy(() -> java.sql.DriverManager.getConnection(plain + "&sslmode=disable").close())
                .isInstanceOfSatisfying(java.sql.SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28000"))
                .hasMessageContaining("no encryption");
        assertThatThrownBy(() -> java.sql.DriverManager.getConnection(plain + "&sslmode=require").close())
                .isInstanceOfSatisfying(java.sql.SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28000"))
                .hasMessageContaining("certificate");
        var stranger = io.forkline.compute.proxy.tls.ComputeClientTls.ensure(TestData.newDirectory("stranger-tls"));
        assertThatThrownBy(() -> java.sql.DriverManager.getConnection(plain + "&sslmode=require&sslcert="
                + stranger.certificate() + "&sslkey=" + stranger.keyDer()).close())
                .as("a client certificate of another CA").isInstanceOf(java.sql.SQLException.class);
        assertThat(Sql.queryString(uri, "postgres", "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))
                .isEqualTo("true");
        // and the server verifies the compute: its clients use verify-ca with the node's certificate as the root,
        // so a compute presenting any other certificate is refused
        assertThat(address.tls().serverCertificate()).isEqualTo(nodeCert);
        assertThat(uri).contains("sslmode=verify-ca").contains("sslrootcert=");
        var serverTls = address.tls();
        assertThatThrownBy(() -> java.sql.DriverManager.getConnection(plain + "&sslmode=verify-ca&sslcert="
                + serverTls.certificate() + "&sslkey=" + serverTls.keyDer() + "&sslrootcert=" + otherCert).close())
                .as("verify-ca against another certificate").isInstanceOf(java.sql.SQLException.class);
        try (var c = java.sql.DriverManager.getConnection(plain + "&sslmode=verify-ca&sslcert=" + serverTls.certificate()
                + "&sslkey=" + serverTls.keyDer() + "&sslrootcert=" + nodeCert);
             var rs = c.createStatement().executeQuery("SELECT 'verified'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("verified");
        }
        // libpq tools with the URI (its sslkey is the PEM key), and users through the proxy with the branch's password
        PostgresInstallation pgi = PostgresInstallation.detect();
        assertThat(PostgresInstallation.runCommand(java.time.Duration.ofMinutes(1), List.of(pgi.bin("psql").toString(),
                "-X", "-A", "-t", "-d", uri, "-c", "SELECT 'libpq-tls'")).trim()).isEqualTo("libpq-tls");
        String cs = server.get("/v1/tenants/cn/branches/main/connection-string").ok().path("connection_string").asText();
        assertThat(Sql.queryString(cs, "postgres", "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))
                .as("the proxy's session to the compute is TLS").isEqualTo("true");

        Sql.exec(uri, "postgres",
                "CREATE TABLE t (id int PRIMARY KEY, v text)",
                "INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g",
                "CREATE INDEX ON t (v)");
        TimelineId tl = TimelineId.parse(tenants.branch("cn", "main").timelineId());
        long lsn = server.awaitIngested(tl, uri);

        // a branch of those writes on the server shows them (its compute on the node too)
        tenants.createBranch("cn", "child", "main", io.forkline.storage.lsn.Lsn.format(lsn), null);
        String childUri = tenants.startEndpoint("cn", "child");
        assertThat(Sql.queryLong(childUri, "postgres", "SELECT count(*) FROM t")).isEqualTo(20000);
        tenants.stopEndpoint("cn", "child");
        assertThat(mountsUnder(nodeDir)).noneMatch(m -> m.contains("/computes/cn/child/"));

        // kill -9 the node: the endpoint is reported failed; what was committed is in the timeline
        Sql.exec(uri, "postgres", "INSERT INTO t SELECT g, 'late' FROM generate_series(20001, 20100) g");
        node.destroyForcibly();
        assertThat(node.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(ep.state()).isEqualTo(EndpointState.FAILED);
        assertThat(server.get("/v1/tenants/cn/branches/main").ok().path("endpoint").path("state").asText())
                .isEqualTo("failed");
        assertThat(mountsUnder(nodeDir)).as("the dead node's mount").isNotEmpty();

        // a restarted node cleans the stale mount and the orphan postmaster; the endpoint starts again
        node = startNode();
        assertThat(mountsUnder(nodeDir)).isEmpty();
        String again = tenants.startEndpoint("cn", "main");
        assertThat(again).isEqualTo(uri);
        assertThat(tenants.endpoints().get("cn", "main").state()).isEqualTo(EndpointState.RUNNING);
        assertThat(Sql.queryLong(again, "postgres", "SELECT count(*) FROM t")).isEqualTo(20100);
        Sql.exec(again, "postgres", "INSERT INTO t VALUES (0, 'after')");
        tenants.stopEndpoint("cn", "main");
        assertThat(mountsUnder(nodeDir)).isEmpty();

        // and back in the server's process tree: the same rows
        tenants.endpoints().useComputeNode(null, null, null);
        try {
            String local = tenants.startEndpoint("cn", "main");
            assertThat(tenants.endpoints().get("cn", "main").computeNode()).isNull();
            assertThat(Sql.queryLong(local, "postgres", "SELECT count(*) FROM t")).isEqualTo(20101);
            tenants.stopEndpoint("cn", "main");
        } finally {
            tenants.endpoints().useComputeNode(nodeUrl, nodeCert, server.adminToken());
        }
    }
}
