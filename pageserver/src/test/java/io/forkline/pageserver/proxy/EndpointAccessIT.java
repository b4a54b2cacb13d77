package io.forkline.pageserver.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import io.forkline.compute.proxy.ComputeAddress;
import io.forkline.compute.proxy.ComputeDirectory;
import io.forkline.pageserver.access.SecretBox;
import io.forkline.pageserver.endpoint.EndpointState;
import io.forkline.pageserver.server.PageServer;
import io.forkline.pageserver.testing.Sql;
import io.forkline.pageserver.testing.TestData;
import io.forkline.pageserver.testing.TestServer;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Endpoint ids, per-branch passwords and scale to zero against a real server with real PostgreSQL 15
 * computes, through {@link BranchComputeDirectory} as the Postgres proxy calls it: ids unique and
 * stable across reset, put, restore, rename and a server restart (older records get one at load);
 * passwords per branch, rotated by a reset, never stored in clear; a compute suspends after its
 * timeout once its last session closed, reads {@code suspended} in the API and {@code /metrics},
 * stays suspended across a restart, and one start serves 20 concurrent wakes with its data intact.
 */
class EndpointAccessIT {
    /**
     * The row the tests keep and look for: seven digits, so that no port number in an error message
     * (at most five digits) can contain it (with 42, a refused psql to port 54297 read as a leak).
     */
    private static final long KEPT = 7_654_321;

    private static final String T = "acc";

    @Test
    void idsPasswordsSuspendAndWake() throws Exception {
        Path dir;
        Map<String, String> ids = new java.util.TreeMap<>();
        Map<String, String> strings = new java.util.TreeMap<>();
        List<String> passwordsEverShown = new ArrayList<>();
        try (TestServer s = TestServer.start("endpoint-access", TestServer.Option.KEEP_DATA)) {
            dir = s.dir();
            assertThat(Files.getPosixFilePermissions(SecretBox.keyFile(dir)))
                    .isEqualTo(PosixFilePermissions.fromString("rw-------"));
            s.post("/v1/tenants", "{\"name\":\"" + T + "\"}").expect(201);
            s.put("/v1/tenants/" + T + "/branches/dev", "{\"size\":\"xs\",\"suspend_after\":\"30s\"}").expect(201);
            s.post("/v1/tenants/" + T + "/branches", "{\"ref\":\"child\",\"parent\":\"dev\"}").expect(201);
            s.post("/v1/tenants/" + T + "/branches", "{\"ref\":\"old\"}").expect(201);
            for (JsonNode b : s.get("/v1/tenants/" + T + "/branches").ok()) {
                ids.put(b.path("ref").asText(), b.path("endpoint_id").asText());
                strings.put(b.path("ref").asText(), b.path("connection_string").asText());
            }
            assertThat(ids.values()).allMatch(id -> id.matches("ep-[a-z0-9]{8}"));
            assertThat(new HashSet<>(ids.values())).as("unique ids").hasSize(4);
            assertThat(s.get("/v1/tenants/" + T + "/branches/dev").ok().path("suspend_after").asText()).isEqualTo("30s");
            assertThat(s.get("/v1/tenants/" + T + "/branches/child").ok().path("suspend_after").asText()).isEqualTo("5m");
            BranchComputeDirectory directory = s.server().computeDirectory();
            Set<String> passwords = new HashSet<>();
            for (Map.Entry<String, String> e : strings.entrySet()) {
                String id = ids.get(e.getKey());
                assertThat(e.getValue()).startsWith("postgresql://postgres:")
                        .endsWith("@127.0.0.1:" + s.server().pgPort() + "/postgres?options=endpoint%3D" + id);
                String pw = password(e.getValue());
                assertThat(pw).hasSize(24).matches("[A-Za-z0-9_-]+");
                passwords.add(pw);
                passwordsEverShown.add(pw);
                ComputeDirectory.Endpoint ep = directory.lookup(id);
                assertThat(ep.tenant()).isEqualTo(T);
                assertThat(ep.branch()).isEqualTo(e.getKey());
                assertThat(ep.verifier().matches(pw.toCharArray())).as("its own password opens %s", e.getKey()).isTrue();
                for (Map.Entry<String, String> other : strings.entrySet()) {
                    if (!other.getKey().equals(e.getKey())) {
                        assertThat(ep.verifier().matches(password(other.getValue()).toCharArray()))
                                .as("%s's password does not open %s", other.getKey(), e.getKey()).isFalse();
                    }
                }
            }
            assertThat(passwords).as("a password per branch, children too").hasSize(4);
            assertThat(s.get("/v1/tenants/" + T + "/branches/dev/connection-string").ok().path("connection_string").asText())
                    .isEqualTo(strings.get("dev"));

            // rotate: new password, same id; the old one no longer opens it
            JsonNode reset = s.post("/v1/tenants/" + T + "/branches/child/password/reset", "").ok();
            assertThat(reset.path("endpoint_id").asText()).isEqualTo(ids.get("child"));
            String rotated = reset.path("connection_string").asText();
            assertThat(rotated).isNotEqualTo(strings.get("child"));
            passwordsEverShown.add(password(rotated));
            assertThat(directory.lookup(ids.get("child")).verifier().matches(password(strings.get("child")).toCharArray())).isFalse();
            assertThat(directory.lookup(ids.get("child")).verifier().matches(password(rotated).toCharArray())).isTrue();
            strings.put("child", rotated);

            // reset, put, restore and rename keep id and password; restore's kept-as branch gets its own
            s.post("/v1/tenants/" + T + "/branches/dev/reset", "").ok();
            s.put("/v1/tenants/" + T + "/branches/dev", "{}").ok();
            String lsn = s.get("/v1/tenants/" + T + "/branches/dev").ok().path("last_record_lsn").asText();
            JsonNode restored = s.post("/v1/tenants/" + T + "/branches/dev/restore", "{\"lsn\":\"" + lsn + "\",\"keep_as\":\"dev-kept\"}").ok();
            assertThat(restored.path("branch").path("endpoint_id").asText()).isEqualTo(ids.get("dev"));
            assertThat(restored.path("kept_as").path("endpoint_id").asText()).matches("ep-[a-z0-9]{8}").isNotIn(ids.values());
            passwordsEverShown.add(password(restored.path("kept_as").path("connection_string").asText()));
            JsonNode dev = s.get("/v1/tenants/" + T + "/branches/dev").ok();
            assertThat(dev.path("endpoint_id").asText()).isEqualTo(ids.get("dev"));
            assertThat(dev.path("connection_string").asText()).isEqualTo(strings.get("dev"));
            assertThat(dev.path("suspend_after").asText()).as("a put without the option keeps it").isEqualTo("30s");
            s.post("/v1/tenants/" + T + "/branches/child/rename", "{\"new_ref\":\"kid\"}").ok();
            assertThat(directory.lookup(ids.get("child")).branch()).isEqualTo("kid");
            assertThat(s.get("/v1/tenants/" + T + "/branches/kid/connection-string").ok().path("connection_string").asText())
                    .isEqualTo(strings.get("child"));

            // bad input: clear errors naming the value
            assertThat(s.put("/v1/tenants/" + T + "/branches/dev", "{\"suspend_after\":\"5x\"}").error(400, "bad_request")).contains("'5x'");
            assertThat(s.post("/v1/tenants/" + T + "/branches/dev/endpoint/config", "{\"suspend_after\":\"10\"}")
                    .error(400, "bad_request")).contains("'10'");
            assertThat(s.get("/v1/tenants/" + T + "/branches/nosuch/connection-string").error(404, "not_found")).contains("'nosuch'");
            assertThat(s.post("/v1/tenants/" + T + "/branches/nosuch/password/reset", "").error(404, "not_found")).contains("'nosuch'");
            assertThat(directory.lookup("ep-zzzzzzzz")).isNull();
            assertThat(directory.lookup("not an id")).isNull();
            assertThatThrownBy(() -> directory.wake("ep-zzzzzzzz").get(5, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(ComputeDirectory.WakeException.class).hasMessageContaining("ep-zzzzzzzz");

            // a branch record of a server before endpoint ids: no id; the next start gives it one
            var store = s.store();
            String key = "branch/" + T + "/old";
            JsonNode rec = new com.fasterxml.jackson.databind.ObjectMapper().readTree(store.getMetadata(key));
            ((com.fasterxml.jackson.databind.node.ObjectNode) rec).remove("endpoint_id");
            store.putMetadata(key, rec.toString().getBytes(StandardCharsets.UTF_8));
            ids.remove("old");
            strings.remove("old");
        }
        try (PageServer s = PageServer.start(dir, 0, Clock.systemUTC())) {
            var branches = s.tenants().branches();
            assertThat(branches.get(T, "dev").endpointId()).as("stable across a restart").isEqualTo(ids.get("dev"));
            assertThat(branches.get(T, "kid").endpointId()).isEqualTo(ids.get("child"));
            // the same strings; only the proxy's port is new (an ephemeral one in tests)
            String newPort = "@127.0.0.1:" + s.pgPort() + "/";
            assertThat(branches.connectionString(T, "dev")).isEqualTo(strings.get("dev").replaceFirst("@127\\.0\\.0\\.1:\\d+/", newPort));
            assertThat(branches.connectionString(T, "kid")).isEqualTo(strings.get("child").replaceFirst("@127\\.0\\.0\\.1:\\d+/", newPort));
            String oldId = branches.get(T, "old").endpointId();
            assertThat(oldId).as("given at load").matches("ep-[a-z0-9]{8}").isNotIn(ids.values());
            assertThat(s.computeDirectory().lookup(oldId).branch()).isEqualTo("old");
            passwordsEverShown.add(password(branches.connectionString(T, "old")));
            assertThat(s.tenants().branches().get(T, "old").endpointId()).isEqualTo(oldId);

            suspendAndWake(s, ids.get("dev"));
        }
        try (PageServer s = PageServer.start(dir, 0, Clock.systemUTC())) {
            var e = s.tenants().endpoints().get(T, "dev");
            assertThat(e.state()).as("suspended stays suspended across a restart").isEqualTo(EndpointState.SUSPENDED);
            BranchComputeDirectory directory = s.computeDirectory();
            directory.sessionOpened(ids.get("dev"));
            ComputeAddress a = directory.wake(ids.get("dev")).get(60, TimeUnit.SECONDS);
            assertThat(a.isUnix() || a.local()).as("the proxy's address %s: private socket, guarded port or own namespace", a)
                    .isTrue();
            assertThat(Sql.queryLong(e.uri(), "postgres", "SELECT sum(x) FROM kept")).isEqualTo(KEPT);
            // an explicitly stopped endpoint wakes on connect too (Neon's behaviour)
            s.tenants().stopEndpoint(T, "dev");
            assertThat(e.state()).isEqualTo(EndpointState.STOPPED);
            directory.wake(ids.get("dev")).get(60, TimeUnit.SECONDS);
            assertThat(e.state()).isEqualTo(EndpointState.RUNNING);
            directory.sessionClosed(ids.get("dev"));
        } finally {
            assertNoClearSecrets(dir, passwordsEverShown);
            TestData.deleteUnlessKept(dir);
        }
    }

    /** dev: 1 s timeout; wake, write, suspend through sessions, 20 concurrent wakes, suspended again. */
    private static void suspendAndWake(PageServer s, String id) throws Exception {
        BranchComputeDirectory directory = s.computeDirectory();
        var branches = s.tenants().branches();
        branches.configureEndpoint(T, "dev", "1s");
        var endpoints = s.tenants().endpoints();
        long starts0 = directory.wakeStarts();

        directory.sessionOpened(id);
        ComputeAddress woken = directory.wake(id).get(60, TimeUnit.SECONDS);
        var e = endpoints.get(T, "dev");
        // the server's own clients use the private Unix socket; the proxy uses it too, or, with the kernel
        // relay (root), 127.0.0.1 of a port only the server's process may connect to (the default) or
        // inside the compute's own network namespace
        ComputeAddress a = e.address();
        assertThat(a.isUnix()).isTrue();
        assertThat(Files.exists(a.unixSocket())).as("socket %s", a.unixSocket()).isTrue();
        assertThat(a.unixSocket().toString().getBytes(StandardCharsets.UTF_8).length).isLessThan(108);
        assertThat(Files.getPosixFilePermissions(a.unixSocket().getParent()))
                .isEqualTo(PosixFilePermissions.fromString("rwx------"));
        assertThat(woken.isUnix() || woken.local()).as("the proxy's address %s", woken).isTrue();
        if (io.forkline.compute.guard.PortGuard.shared() != null) {
            assertThat(woken.local() && woken.netns() == null).as("where the guard loads (root): a guarded port by default (%s)",
                    woken).isTrue();
        }
        assertThat(woken.port()).isEqualTo(a.port());
        Sql.exec(e.uri(), "postgres", "CREATE TABLE kept (x int)", "INSERT INTO kept VALUES (" + KEPT + ")");
        // the compute's trust authentication is reachable only through the private socket (root and the
        // compute's OS user), from the server's own process on a guarded port, or from inside its own
        // network namespace (which only the server enters); everyone else goes through the proxy
        assertThat(Sql.queryString(e.uri(), "postgres", "SHOW listen_addresses"))
                .isEqualTo(woken.isUnix() ? "" : "127.0.0.1");
        String psql = otherProcessPsql(a.port());
        if (woken.local() && woken.netns() == null) {
            assertThat(psql).as("psql, another process, to the guarded 127.0.0.1:%d", a.port())
                    .contains("Operation not permitted").doesNotContain(Long.toString(KEPT));
        } else {
            assertThat(psql).as("psql to 127.0.0.1:%d", a.port()).contains("Connection refused").doesNotContain(Long.toString(KEPT));
            try (java.net.Socket tcp = new java.net.Socket()) {
                org.assertj.core.api.Assertions.assertThatThrownBy(
                                () -> tcp.connect(new java.net.InetSocketAddress("127.0.0.1", a.port()), 2000))
                        .as("TCP 127.0.0.1:%d of the compute", a.port()).isInstanceOf(java.net.ConnectException.class);
            }
        }
        Thread.sleep(1500);
        assertThat(e.state()).as("a session holds it awake past its timeout").isEqualTo(EndpointState.RUNNING);

        directory.sessionClosed(id);
        await().atMost(Duration.ofSeconds(60)).until(() -> e.state() == EndpointState.SUSPENDED);
        assertThat(branches.view(T, "dev").endpointState()).isEqualTo("suspended");
        assertThat(directory.suspends()).isGreaterThanOrEqualTo(1);
        String metrics = scrape(s);
        assertThat(metrics.lines().filter(l -> l.startsWith("forkline_endpoint_state{") && l.contains("branch=\"dev\"")
                && l.contains("state=\"suspended\"")).toList()).singleElement().satisfies(l -> assertThat(l).endsWith(" 1.0"));

        // 20 concurrent wakes of the suspended endpoint: one start, every caller gets its address
        directory.sessionOpened(id);
        List<CompletableFuture<ComputeAddress>> wakes = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            CompletableFuture<ComputeAddress> f = new CompletableFuture<>();
            wakes.add(f);
            threads.add(Thread.ofPlatform().start(() -> directory.wake(id).whenComplete((x, t) -> {
                if (t != null) {
                    f.completeExceptionally(t);
                } else {
                    f.complete(x);
                }
            })));
        }
        for (Thread t : threads) {
            t.join();
        }
        Set<ComputeAddress> addresses = new HashSet<>();
        for (CompletableFuture<ComputeAddress> f : wakes) {
            try {
                addresses.add(f.get(60, TimeUnit.SECONDS));
            } catch (ExecutionException ex) {
                throw new AssertionError("a wake failed", ex);
            }
        }
        assertThat(addresses).hasSize(1);
        assertThat(directory.wakeStarts() - starts0).as("computes started by wakes").isEqualTo(2);
        assertThat(Sql.queryLong(e.uri(), "postgres", "SELECT sum(x) FROM kept")).as("data intact").isEqualTo(KEPT);
        directory.sessionClosed(id);
        await().atMost(Duration.ofSeconds(60)).until(() -> e.state() == EndpointState.SUSPENDED);
        assertThat(s.tenants().endpoints().toResume()).noneMatch(r -> r.ref().equals("dev"));

        // a changed suspend_after applies at once to an idle compute: 0 keeps it up, then 1s suspends
        // it with no session opening or closing meanwhile
        branches.configureEndpoint(T, "dev", "0");
        directory.sessionOpened(id);
        directory.wake(id).get(60, TimeUnit.SECONDS);
        directory.sessionClosed(id);
        Thread.sleep(2500);
        assertThat(e.state()).as("suspend_after 0: never suspended").isEqualTo(EndpointState.RUNNING);
        branches.configureEndpoint(T, "dev", "1s");
        await().atMost(Duration.ofSeconds(60)).until(() -> e.state() == EndpointState.SUSPENDED);

        // started without the proxy (endpoint start): its timer runs from the start; a client on the
        // compute's private socket holds it up as a proxied session does, and it suspends once that
        // client is gone
        long suspends0 = directory.suspends();
        s.tenants().startEndpoint(T, "dev");
        try (java.sql.Connection direct = Sql.connect(e.uri(), "postgres")) {
            Thread.sleep(3000);
            assertThat(e.state()).as("a client on its socket holds it awake").isEqualTo(EndpointState.RUNNING);
            assertThat(Sql.queryLong(e.uri(), "postgres", "SELECT sum(x) FROM kept")).isEqualTo(KEPT);
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> e.state() == EndpointState.SUSPENDED);
        assertThat(directory.suspends()).isEqualTo(suspends0 + 1);
    }

    private static String scrape(PageServer s) throws Exception {
        var req = java.net.http.HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/metrics"))
                .header("Authorization", "Bearer " + s.auth().adminToken()).build();
        return java.net.http.HttpClient.newHttpClient().send(req, java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    }

    /** The password of a connection string {@code postgresql://postgres:PW@...}. */
    private static String password(String uri) {
        String userInfo = uri.substring("postgresql://".length(), uri.indexOf('@'));
        return URLDecoder.decode(userInfo.substring(userInfo.indexOf(':') + 1), StandardCharsets.UTF_8);
    }

    /** No file of the data directory (RocksDB files and WAL, records, logs) holds a password in clear. */
    private static void assertNoClearSecrets(Path dir, List<String> passwords) throws Exception {
        assertThat(passwords).hasSizeGreaterThanOrEqualTo(6);
        int files = 0;
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.filter(Files::isRegularFile).toList()) {
                byte[] bytes;
                try {
                    bytes = Files.readAllBytes(p);
                } catch (java.io.IOException ex) {
                    continue; // a socket or a file that went meanwhile
                }
                files++;
                String text = new String(bytes, StandardCharsets.ISO_8859_1);
                for (String pw : passwords) {
                    assertThat(text.contains(pw)).as("password in clear in %s", p).isFalse();
                }
            }
        }
        assertThat(files).isGreaterThan(3);
    }

    /** What {@code psql -h 127.0.0.1 -p port} (a process of its own, as any local user would run it) prints. */
    private static String otherProcessPsql(int port) throws Exception {
        var pg = io.forkline.compute.postgres.PostgresInstallation.detect();
        Process p = new ProcessBuilder(pg.bin("psql").toString(), "-h", "127.0.0.1", "-p", Integer.toString(port),
                "-U", "postgres", "-d", "postgres", "-Atc", "SELECT sum(x) FROM kept")
                .redirectErrorStream(true).start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    }
}
