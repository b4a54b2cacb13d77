package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.forkline.pageserver.server.PageServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The command-line contract (README "Commands") against a real server with real PostgreSQL
 * computes: exit codes, exactly one stderr line naming the bad value on failure, {@code --json}
 * shapes, branch defaults and LSN ranges, and endpoint start/stop.
 *
 * <p>One server and one tenant ({@value #TENANT}) for the class; every test uses its own branch
 * names, and no endpoint ever runs on {@code main}, so main's last record LSN stays put.
 */
class CliIT {
    private static final String TENANT = "cli";
    private static final String LSN = "[0-9A-F]{1,8}/[0-9A-F]{1,8}";
    private static final ObjectMapper JSON = new ObjectMapper();

    private static PageServer server;
    private static Path dir;
    private static Map<String, String> env;

    /** What one CLI invocation did. */
    private record Result(int code, String out, String err) {
        List<String> errLines() {
            return err.lines().toList();
        }

        /** The single stderr line of a failure (asserts there is exactly one and no stdout). */
        String errorLine() {
            assertThat(errLines()).as("stderr of a failure: %s", err).hasSize(1);
            assertThat(out).as("stdout of a failure").isEmpty();
            assertThat(errLines().get(0)).startsWith("forkline: ");
            return errLines().get(0);
        }

        Result ok() {
            assertThat(code).as("exit code; stderr: %s", err).isZero();
            assertThat(err).as("stderr of a success").isEmpty();
            return this;
        }
    }

    @BeforeAll
    static void start() throws Exception {
        dir = Path.of("target", "it", "cli-" + System.nanoTime()).toAbsolutePath();
        server = PageServer.start(dir, 0, Clock.systemUTC());
        env = Map.of("FORKLINE_URL", "http://127.0.0.1:" + server.port());
        Result r = cli("tenant", "create", TENANT).ok();
        assertThat(r.out()).matches("tenant cli created \\(initdb at " + LSN + "\\)\\R");
    }

    @AfterAll
    static void stop() throws IOException {
        if (server != null) {
            server.close();
        }
        if (dir != null && Files.isDirectory(dir)) {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static Result cli(String... args) {
        return cli(env, args);
    }

    private static Result cli(Map<String, String> environment, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(environment, new PrintWriter(out), new PrintWriter(err), args);
        return new Result(code, out.toString(), err.toString());
    }

    private static JsonNode branches() throws IOException {
        JsonNode arr = JSON.readTree(cli("branch", "list", "--tenant", TENANT, "--json").ok().out());
        assertThat(arr.isArray()).isTrue();
        return arr;
    }

    private static JsonNode branch(String ref) throws IOException {
        for (JsonNode b : branches()) {
            if (b.path("ref").asText().equals(ref)) {
                return b;
            }
        }
        throw new AssertionError("branch " + ref + " not in branch list");
    }

    private static List<String> refs() throws IOException {
        List<String> out = new ArrayList<>();
        branches().forEach(b -> out.add(b.path("ref").asText()));
        return out;
    }

    private static String jdbc(String uri) {
        String rest = uri.substring("postgresql://".length());
        return "jdbc:postgresql://" + rest.substring(rest.indexOf('@') + 1) + "?user=" + rest.substring(0, rest.indexOf('@'));
    }

    // ------------------------------------------------------------------ tenants

    @Test
    void tenantListShowsTheTenantAsTextAndJson() throws IOException {
        Result text = cli("tenant", "list").ok();
        assertThat(text.out().lines()).first().asString().startsWith("NAME");
        assertThat(text.out().lines()).anyMatch(l -> l.startsWith(TENANT + " "));

        JsonNode arr = JSON.readTree(cli("tenant", "list", "--json").ok().out());
        assertThat(arr.isArray()).isTrue();
        JsonNode t = null;
        for (JsonNode n : arr) {
            if (n.path("name").asText().equals(TENANT)) {
                t = n;
            }
        }
        assertThat(t).as("tenant %s in %s", TENANT, arr).isNotNull();
        assertThat(Instant.parse(t.path("created_at").asText())).isBefore(Instant.now().plusSeconds(1));
        assertThat(t.path("init_lsn").asText()).matches(LSN);
        assertThat(t.path("logical_size_bytes").asLong()).isGreaterThan(5_000_000L);
        assertThat(t.path("total_physical_size_bytes").asLong()).isPositive();
        assertThat(t.path("history_size_bytes").asLong()).isGreaterThan(5_000_000L);
        assertThat(text.out().lines().findFirst().orElseThrow()).contains("LOGICAL").contains("PHYSICAL").contains("HISTORY");
    }

    @Test
    void duplicateTenantIsRefusedNamingIt() {
        Result r = cli("tenant", "create", TENANT);
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.errorLine()).contains("'" + TENANT + "'").contains("already exists");
    }

    @Test
    void invalidTenantNameIsRefusedNamingIt() {
        Result r = cli("tenant", "create", "Bad Name!");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.errorLine()).contains("'Bad Name!'").contains("invalid tenant name");

        Result list = cli("branch", "list", "--tenant", "UPPER");
        assertThat(list.code()).isEqualTo(1);
        assertThat(list.errorLine()).contains("'UPPER'");
    }

    @Test
    void unknownTenantAndBranchAreNamed() {
        Result t = cli("branch", "list", "--tenant", "nosuch");
        assertThat(t.code()).isEqualTo(1);
        assertThat(t.errorLine()).contains("tenant 'nosuch' does not exist");

        Result b = cli("endpoint", "start", "nosuch-branch", "--tenant", TENANT);
        assertThat(b.code()).isEqualTo(1);
        assertThat(b.errorLine()).contains("branch 'nosuch-branch' does not exist");

        Result p = cli("branch", "create", "orphan", "--tenant", TENANT, "--parent", "nosuch-parent");
        assertThat(p.code()).isEqualTo(1);
        assertThat(p.errorLine()).contains("'nosuch-parent'");

        Result d = cli("branch", "delete", "nosuch-branch", "--tenant", TENANT);
        assertThat(d.code()).isEqualTo(1);
        assertThat(d.errorLine()).contains("'nosuch-branch'");
    }

    // ------------------------------------------------------------------ branch create

    @Test
    void branchDefaultsToMainAtItsLastRecordLsn() throws IOException {
        JsonNode main = branch("main");
        Result r = cli("branch", "create", "defaults", "--tenant", TENANT).ok();
        assertThat(r.out()).startsWith("branch defaults created from main at " + main.path("last_record_lsn").asText());
        JsonNode b = branch("defaults");
        assertThat(b.path("parent").asText()).isEqualTo("main");
        assertThat(b.path("ancestor_lsn").asText()).isEqualTo(main.path("last_record_lsn").asText());
        assertThat(b.path("last_record_lsn").asText()).isEqualTo(main.path("last_record_lsn").asText());

        Result again = cli("branch", "create", "defaults", "--tenant", TENANT);
        assertThat(again.code()).isEqualTo(1);
        assertThat(again.errorLine()).contains("'defaults'").contains("already exists");
    }

    @Test
    void branchAtAnExplicitLsnOfItsParent() throws IOException {
        String last = branch("main").path("last_record_lsn").asText();
        cli("branch", "create", "explicit", "--tenant", TENANT, "--parent", "main", "--lsn", last).ok();
        assertThat(branch("explicit").path("ancestor_lsn").asText()).isEqualTo(last);
    }

    @Test
    void malformedLsnIsNamed() {
        Result r = cli("branch", "create", "bad-lsn", "--tenant", TENANT, "--lsn", "x/y");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.errorLine()).contains("'x/y'").contains("X/Y");
    }

    @Test
    void lsnBelowTheParentsStartIsRefusedWithTheValidRange() throws IOException {
        String last = branch("main").path("last_record_lsn").asText();
        Result r = cli("branch", "create", "too-early", "--tenant", TENANT, "--lsn", "0/1");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.errorLine()).contains("LSN 0/1 ").containsPattern("valid LSNs are " + LSN + " to " + last + "$");
        assertThat(refs()).doesNotContain("too-early");
    }

    @Test
    void lsnBeyondAStoppedParentsEndIsRefusedWithTheValidRange() throws IOException {
        String last = branch("main").path("last_record_lsn").asText();
        Result r = cli("branch", "create", "too-late", "--tenant", TENANT, "--lsn", "1/0");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.errorLine()).contains("LSN 1/0 ").containsPattern("valid LSNs are " + LSN + " to " + last + "$");
        assertThat(refs()).doesNotContain("too-late");
    }

    @Test
    void malformedTimestampIsNamed() {
        Result r = cli("branch", "create", "bad-at", "--tenant", TENANT, "--at", "yesterday");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.errorLine()).contains("'yesterday'").contains("RFC 3339");

        Result future = cli("branch", "create", "future-at", "--tenant", TENANT, "--at", "2999-01-01T00:00:00Z");
        assertThat(future.code()).isEqualTo(1);
        assertThat(future.errorLine()).contains("2999-01-01T00:00:00Z").contains("future");
    }

    @Test
    void lsnAndAtTogetherIsAUsageError() {
        Result r = cli("branch", "create", "both", "--tenant", TENANT, "--lsn", "0/1", "--at", "2020-01-01T00:00:00Z");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.errorLine()).contains("--lsn").contains("--at").contains("mutually exclusive");
    }

    @Test
    void missingOptionsAndUnknownCommandsAreUsageErrors() {
        Result noTenant = cli("branch", "create", "x");
        assertThat(noTenant.code()).isEqualTo(2);
        assertThat(noTenant.errorLine()).contains("--tenant");

        Result help = cli("branch", "create", "--help").ok();
        assertThat(help.out()).contains("Usage: forkline branch create").contains("--lsn").contains("--at");

        Result noSubcommand = cli("branch");
        assertThat(noSubcommand.code()).isEqualTo(2);
        assertThat(noSubcommand.errorLine()).contains("'forkline branch'").contains("create, list, delete");

        Result unknown = cli("branch", "frobnicate");
        assertThat(unknown.code()).isEqualTo(2);
        assertThat(unknown.errorLine()).contains("'frobnicate'");

        Result typo = cli("branch", "create", "x", "--tenant", TENANT, "--lsm", "0/1");
        assertThat(typo.code()).isEqualTo(2);
        assertThat(typo.errorLine()).contains("'--lsm'");

        Result dashRef = cli("branch", "create", "-bad", "--tenant", TENANT);
        assertThat(dashRef.code()).isEqualTo(1);
        assertThat(dashRef.errorLine()).contains("'-bad'").contains("invalid branch ref");

        Result badRef = cli("branch", "create", "bad ref", "--tenant", TENANT);
        assertThat(badRef.code()).isEqualTo(1);
        assertThat(badRef.errorLine()).contains("'bad ref'");
    }

    @Test
    void branchListJsonHasTheContractFields() throws IOException {
        cli("branch", "create", "listed", "--tenant", TENANT).ok();
        JsonNode arr = branches();
        assertThat(arr.size()).isGreaterThanOrEqualTo(2);
        for (JsonNode b : arr) {
            assertThat(b.isObject()).isTrue();
            for (String f : List.of("ref", "timeline_id", "parent", "ancestor_lsn", "last_record_lsn", "created_at")) {
                assertThat(b.has(f)).as("field %s in %s", f, b).isTrue();
            }
            assertThat(b.path("timeline_id").asText()).matches("[0-9a-f]{32}");
            assertThat(b.path("last_record_lsn").asText()).matches(LSN);
            // sizes: the cluster initdb made (three databases) is several MB; a fresh branch wrote (almost) nothing
            assertThat(b.path("logical_size_bytes").asLong()).as("%s", b).isGreaterThan(5_000_000L);
            assertThat(b.path("logical_size_bytes").asLong() % 8192).isZero();
            assertThat(b.path("physical_size_bytes").isIntegralNumber()).as("%s", b).isTrue();
            assertThat(b.path("stored_bytes").isIntegralNumber()).as("%s", b).isTrue();
            assertThat(Instant.parse(b.path("created_at").asText())).isNotNull();
            if (b.path("ref").asText().equals("main")) {
                assertThat(b.path("parent").isNull()).isTrue();
                assertThat(b.path("ancestor_lsn").isNull()).isTrue();
            } else {
                assertThat(b.path("parent").asText()).isNotEmpty();
                assertThat(b.path("ancestor_lsn").asText()).matches(LSN);
            }
        }
        Result text = cli("branch", "list", "--tenant", TENANT).ok();
        assertThat(text.out().lines()).anyMatch(l -> l.startsWith("listed "));
        assertThat(text.out().lines().findFirst().orElseThrow()).contains("LOGICAL").contains("PHYSICAL");
        assertThat(text.out().lines()).anyMatch(l -> l.startsWith("main ") && l.matches(".* \\d+\\.\\d MB .*"));
    }

    // ------------------------------------------------------------------ endpoints

    @Test
    void endpointStartPrintsOneUriIsIdempotentAndStops() throws Exception {
        cli("branch", "create", "ep", "--tenant", TENANT).ok();
        try {
            Result first = cli("endpoint", "start", "ep", "--tenant", TENANT).ok();
            assertThat(first.out().lines().toList()).hasSize(1);
            String uri = first.out().lines().findFirst().orElseThrow();
            assertThat(uri).matches("^postgresql://\\S+$");

            Result second = cli("endpoint", "start", "ep", "--tenant", TENANT).ok();
            assertThat(second.out().lines().toList()).containsExactly(uri);

            Instant beforeCommit;
            try (Connection c = DriverManager.getConnection(jdbc(uri)); Statement st = c.createStatement()) {
                st.execute("CREATE TABLE t (x int)");
                st.execute("INSERT INTO t VALUES (1)");
                Thread.sleep(20);
                beforeCommit = Instant.now().truncatedTo(ChronoUnit.MILLIS);
                Thread.sleep(20);
                st.execute("INSERT INTO t VALUES (2)");
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM t")) {
                    rs.next();
                    assertThat(rs.getLong(1)).isEqualTo(2);
                }
            }
            assertThat(branch("ep").path("endpoint").path("state").asText()).isEqualTo("running");

            // --at on a running parent: the branch holds the first row only
            cli("branch", "create", "ep-at", "--tenant", TENANT, "--parent", "ep", "--at", beforeCommit.toString()).ok();
            assertThat(branch("ep-at").path("parent").asText()).isEqualTo("ep");
            // RFC 3339 also allows a space between date and time, and any offset
            String spaced = beforeCommit.atOffset(java.time.ZoneOffset.ofHours(2)).toString().replace('T', ' ');
            cli("branch", "create", "ep-at-spaced", "--tenant", TENANT, "--parent", "ep", "--at", spaced).ok();
            assertThat(branch("ep-at-spaced").path("ancestor_lsn").asText()).isEqualTo(branch("ep-at").path("ancestor_lsn").asText());

            // an LSN far beyond a running parent's WAL is refused promptly, with the range
            long t0 = System.nanoTime();
            Result beyond = cli("branch", "create", "ep-beyond", "--tenant", TENANT, "--parent", "ep", "--lsn", "FF/0");
            assertThat(beyond.code()).isEqualTo(1);
            assertThat(beyond.errorLine()).contains("LSN FF/0 ").containsPattern("valid LSNs are " + LSN + " to " + LSN);
            assertThat((System.nanoTime() - t0) / 1_000_000).as("ms to refuse").isLessThan(10_000);

            Result stop = cli("endpoint", "stop", "ep", "--tenant", TENANT).ok();
            assertThat(stop.out()).isEqualTo("endpoint ep stopped" + System.lineSeparator());
            assertThat(branch("ep").path("endpoint").path("state").asText()).isEqualTo("stopped");
            cli("endpoint", "stop", "ep", "--tenant", TENANT).ok();

            String atUri = cli("endpoint", "start", "ep-at", "--tenant", TENANT).ok().out().strip();
            try (Connection c = DriverManager.getConnection(jdbc(atUri)); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT array_agg(x ORDER BY x)::text FROM t")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("{1}");
            }
            cli("endpoint", "stop", "ep-at", "--tenant", TENANT).ok();
        } finally {
            cli("endpoint", "stop", "ep-at", "--tenant", TENANT);
            cli("endpoint", "stop", "ep", "--tenant", TENANT);
        }
        cli("branch", "delete", "ep-at", "--tenant", TENANT).ok();
        cli("branch", "delete", "ep-at-spaced", "--tenant", TENANT).ok();
        cli("branch", "delete", "ep", "--tenant", TENANT).ok();
        assertThat(refs()).doesNotContain("ep", "ep-at", "ep-at-spaced");
    }

    // ------------------------------------------------------------------ branch delete

    @Test
    void mainCannotBeDeleted() throws IOException {
        Result r = cli("branch", "delete", "main", "--tenant", TENANT);
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.errorLine()).contains("'main'");
        assertThat(refs()).contains("main");
    }

    @Test
    void branchWithChildrenCannotBeDeletedUntilTheyAre() throws IOException {
        cli("branch", "create", "parent-b", "--tenant", TENANT).ok();
        cli("branch", "create", "child-b", "--tenant", TENANT, "--parent", "parent-b").ok();
        cli("branch", "create", "feature/child-c", "--tenant", TENANT, "--parent", "parent-b").ok();
        assertThat(branch("child-b").path("ancestor_lsn").asText()).isEqualTo(branch("parent-b").path("last_record_lsn").asText());

        Result r = cli("branch", "delete", "parent-b", "--tenant", TENANT);
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.errorLine()).contains("'parent-b'").contains("child-b").contains("feature/child-c");
        assertThat(refs()).contains("parent-b", "child-b", "feature/child-c");

        assertThat(cli("branch", "delete", "child-b", "--tenant", TENANT).ok().out()).contains("child-b");
        cli("branch", "delete", "feature/child-c", "--tenant", TENANT).ok();
        cli("branch", "delete", "parent-b", "--tenant", TENANT).ok();
        assertThat(refs()).doesNotContain("parent-b", "child-b", "feature/child-c");
    }

    // ------------------------------------------------------------------ branches by ref

    @Test
    void branchPutProtectTtlSizeAndQuotaFromTheCommandLine() throws IOException {
        Result created = cli("branch", "put", "ci-cli", "--tenant", TENANT, "--ttl", "4h", "--size", "xs").ok();
        assertThat(created.out()).startsWith("branch ci-cli created from main at ");
        Result again = cli("branch", "put", "ci-cli", "--tenant", TENANT, "--ttl", "4h").ok();
        assertThat(again.out()).startsWith("branch ci-cli reset from main at ");

        JsonNode b = branch("ci-cli");
        assertThat(b.path("size").asText()).isEqualTo("xs");
        assertThat(b.path("ttl").asText()).isEqualTo("4h");
        assertThat(Instant.parse(b.path("expires_at").asText())).isAfter(Instant.now().plusSeconds(3 * 3600));
        assertThat(b.path("protected").asBoolean()).isFalse();
        assertThat(b.path("endpoint").path("state").asText()).isEqualTo("stopped");
        assertThat(b.path("endpoint").path("size").asText()).isEqualTo("xs");
        assertThat(cli("branch", "list", "--tenant", TENANT).ok().out().lines())
                .anyMatch(l -> l.startsWith("ci-cli ") && l.contains(" xs ") && l.contains(" in 4h") && l.contains(" no "));

        assertThat(cli("branch", "protect", "ci-cli", "--tenant", TENANT).ok().out()).contains("ci-cli is protected");
        Result refused = cli("branch", "delete", "ci-cli", "--tenant", TENANT);
        assertThat(refused.code()).isEqualTo(1);
        assertThat(refused.errorLine()).contains("'ci-cli'").contains("protected");
        Result resetRefused = cli("branch", "reset", "ci-cli", "--tenant", TENANT);
        assertThat(resetRefused.code()).isEqualTo(1);
        assertThat(resetRefused.errorLine()).contains("protected");
        assertThat(cli("branch", "protect", "ci-cli", "--tenant", TENANT, "--off").ok().out()).contains("is not protected");
        assertThat(cli("branch", "reset", "ci-cli", "--tenant", TENANT).ok().out()).startsWith("branch ci-cli reset to main at ");

        Result resized = cli("endpoint", "resize", "ci-cli", "--tenant", TENANT, "--size", "m").ok();
        assertThat(resized.out()).isEqualTo("endpoint ci-cli size m (stopped)" + System.lineSeparator());
        assertThat(branch("ci-cli").path("size").asText()).isEqualTo("m");

        Result badTtl = cli("branch", "put", "ttl-bad", "--tenant", TENANT, "--ttl", "45d");
        assertThat(badTtl.code()).isEqualTo(1);
        assertThat(badTtl.errorLine()).contains("'45d'").contains("30 days");
        Result badSize = cli("endpoint", "start", "ci-cli", "--tenant", TENANT, "--size", "huge");
        assertThat(badSize.code()).isEqualTo(1);
        assertThat(badSize.errorLine()).contains("'huge'").contains("xs, s, m, l");
        Result noPoint = cli("branch", "restore", "ci-cli", "--tenant", TENANT);
        assertThat(noPoint.code()).isEqualTo(2);
        assertThat(noPoint.errorLine()).contains("--lsn").contains("--at");
        assertThat(refs()).doesNotContain("ttl-bad");

        int count = refs().size();
        try {
            Result cfg = cli("tenant", "config", TENANT, "max_branches=" + count).ok();
            assertThat(cfg.out().lines()).anyMatch(l -> l.matches("max_branches\\s+" + count + "\\s+" + count + "\\s+tenant"));
            Result over = cli("branch", "create", "over-quota", "--tenant", TENANT);
            assertThat(over.code()).isEqualTo(1);
            assertThat(over.errorLine()).contains(count + " of at most " + count).contains("max_branches");
            Result unknownKey = cli("tenant", "config", TENANT, "max_brnaches=3");
            assertThat(unknownKey.code()).isEqualTo(1);
            assertThat(unknownKey.errorLine()).contains("'max_brnaches'");
        } finally {
            cli("tenant", "config", TENANT, "max_branches=").ok();
        }
        assertThat(cli("tenant", "config", TENANT, "--json").ok().out()).contains("\"max_branches\" : 50");

        cli("branch", "put", "ci-cli/child", "--tenant", TENANT, "--parent", "ci-cli").ok();
        Result withChild = cli("branch", "delete", "ci-cli", "--tenant", TENANT);
        assertThat(withChild.code()).isEqualTo(1);
        assertThat(withChild.errorLine()).contains("ci-cli/child").contains("--recursive");
        Result recursive = cli("branch", "delete", "ci-cli", "--tenant", TENANT, "--recursive").ok();
        assertThat(recursive.out().lines().toList()).containsExactly("branch ci-cli/child deleted", "branch ci-cli deleted");
        assertThat(refs()).doesNotContain("ci-cli", "ci-cli/child");
    }

    // ------------------------------------------------------------------ the server URL

    @Test
    void unreachableServerIsOneClearLine() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String url = "http://127.0.0.1:" + port;
        Result r = cli(Map.of("FORKLINE_URL", url), "tenant", "list");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.errorLine()).contains("cannot reach").contains(url);
    }

    @Test
    void malformedServerUrlIsNamed() {
        for (String url : List.of("localhost:9898", "ftp://127.0.0.1:9898", "http://bad host:1")) {
            Result r = cli(Map.of("FORKLINE_URL", url), "tenant", "list");
            assertThat(r.code()).as(url).isEqualTo(1);
            assertThat(r.errorLine()).contains("FORKLINE_URL").contains("'" + url + "'");
        }
    }

    @Test
    void oneLineFoldsMultiLineMessages() {
        assertThat(Main.oneLine("cannot start:\n  log line 1\r\nlog line 2\n")).isEqualTo("cannot start: | log line 1 | log line 2");
    }
}
