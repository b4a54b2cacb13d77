package io.forkline.pageserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.forkline.compute.endpoint.ComputeProcess;
import io.forkline.pageserver.server.PageServerMain;
import io.forkline.pageserver.testing.Sql;
import io.forkline.pageserver.testing.TestData;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Durability: a client commits numbered rows on {@code main}; the server is killed with SIGKILL
 * mid-stream and restarted; every row whose commit was acknowledged must be on {@code main} and on
 * a new branch. The server runs in a child JVM so that it can really be killed.
 */
class DurabilityIT {
    private final HttpClient http = HttpClient.newHttpClient();
    private final ObjectMapper json = new ObjectMapper();
    private Process server;
    private int port;
    /** The server's data directory; its log is the sibling {@code <dir>.log}. */
    private Path dir;

    /** Stops the server (SIGTERM: it stops its computes), then deletes its data and log (see {@link TestData}). */
    @AfterEach
    void tearDown() throws Exception {
        if (server != null && server.isAlive()) {
            server.destroy();
            server.waitFor();
        }
        if (port != 0) {
            java.nio.file.Files.deleteIfExists(io.forkline.pageserver.auth.ClientTokenFiles.forLocalPort(TestData.configHome(), port));
        }
        if (dir != null) {
            TestData.deleteUnlessKept(dir);
            TestData.deleteUnlessKept(log(dir));
        }
    }

    private static Path log(Path dir) {
        return dir.resolveSibling(dir.getFileName() + ".log");
    }

    private Process startServer(Path dir) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-D" + TestData.CONFIG_HOME_PROPERTY + "=" + TestData.configHome(),
                "-cp", System.getProperty("java.class.path"),
                PageServerMain.class.getName(), dir.toString(), Integer.toString(port)));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log(dir).toFile()))
                .start();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            assertThat(p.isAlive()).as("server process alive").isTrue();
            try {
                call("GET", "/v1/status", null);
                return p;
            } catch (java.io.IOException e) {
                Thread.sleep(100);
            }
        }
        throw new AssertionError("server did not start");
    }

    private JsonNode call(String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofMinutes(5));
        java.nio.file.Path token = dir.resolve("auth").resolve("admin.token"); // the server made it at its first start
        if (java.nio.file.Files.exists(token)) {
            b.header("Authorization", "Bearer " + java.nio.file.Files.readString(token).strip());
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("%s %s -> %s", method, path, r.body()).isLessThan(300);
        return json.readTree(r.body());
    }

    @Test
    void everyAcknowledgedCommitSurvivesKill9() throws Exception {
        dir = TestData.newDirectory("durability");
        java.nio.file.Files.createDirectories(dir.getParent());
        port = ComputeProcess.freePort();
        server = startServer(dir);
        call("POST", "/v1/tenants", "{\"name\":\"dur\"}");
        String uri = call("POST", "/v1/tenants/dur/branches/main/endpoint/start", null).path("uri").asText();
        Sql.exec(uri, "postgres", "CREATE TABLE acked (n int PRIMARY KEY, pad text)");

        AtomicLong lastAcked = new AtomicLong(-1);
        Set<Integer> acked = java.util.Collections.synchronizedSet(new TreeSet<>());
        Thread writer = new Thread(() -> {
            try (Connection c = Sql.connect(uri, "postgres");
                 PreparedStatement ps = c.prepareStatement("INSERT INTO acked VALUES (?, repeat('x', 200))")) {
                for (int n = 0; ; n++) {
                    ps.setInt(1, n);
                    ps.executeUpdate(); // autocommit: returns after the synchronous standby (Forkline) flushed
                    acked.add(n);
                    lastAcked.set(n);
                }
            } catch (SQLException expected) {
                // the compute goes away with the server
            }
        }, "durability-writer");
        writer.start();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (lastAcked.get() < 300 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(lastAcked.get()).as("commits acknowledged before the kill").isGreaterThanOrEqualTo(300);

        server.destroyForcibly(); // SIGKILL: no shutdown hook runs
        server.waitFor();
        server = startServer(dir); // kills the orphaned compute, which ends the writer
        writer.join(Duration.ofSeconds(60).toMillis());
        assertThat(writer.isAlive()).as("writer ended when its compute was killed").isFalse();
        Set<Integer> ackedNow = new TreeSet<>(acked);

        String main = call("POST", "/v1/tenants/dur/branches/main/endpoint/start", null).path("uri").asText();
        assertThat(present(main)).containsAll(ackedNow);
        call("POST", "/v1/tenants/dur/branches", "{\"ref\":\"after-crash\"}");
        String branch = call("POST", "/v1/tenants/dur/branches/after-crash/endpoint/start", null).path("uri").asText();
        assertThat(present(branch)).containsAll(ackedNow);
        // main keeps working after the restart
        Sql.exec(main, "postgres", "INSERT INTO acked VALUES (-1, 'after restart')");
        assertThat(Sql.queryLong(main, "postgres", "SELECT count(*) FROM acked WHERE n = -1")).isEqualTo(1);
    }

    private static Set<Integer> present(String uri) throws SQLException {
        Set<Integer> out = new TreeSet<>();
        try (Connection c = Sql.connect(uri, "postgres"); Statement st = c.createStatement();
             var rs = st.executeQuery("SELECT n FROM acked")) {
            while (rs.next()) {
                out.add(rs.getInt(1));
            }
        }
        return out;
    }
}
