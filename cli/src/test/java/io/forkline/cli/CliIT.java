package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.forkline.compute.endpoint.ComputeProcess;
import io.forkline.pageserver.testing.Sql;
import io.forkline.pageserver.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

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

    private static TestServer server;
    private static Map<String, String> env;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start("cli");
        env = Map.of("FORKLINE_URL", server.url());
        CliResult r = cli("tenant", "create", TENANT).ok();
        assertThat(r.out()).matches("tenant cli created \\(initdb at " + LSN + "\\)\\R");
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static CliResult cli(String... args) {
        return CliResult.run(env, args);
    }

    private static CliResult cli(Map<String, String> environment, String... args) {
        return CliResult.run(environment, args);
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

    // ------------------------------------------------------------------ tenants

    @Test
    void tenantListShowsTheTenantAsTextAndJson() throws IOException {
        CliResult text = cli("tenant", "list").ok();
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
        assertThat(cli("tenant", "create", TENANT).errorLine(1)).contains("'" + TENANT + "'").contains("already exists");
    }

    @Test
    void invalidTenantNameIsRefusedNamingIt() {
        assertThat(cli("tenant", "create", "Bad Name!").errorLine(1))
                .contains("'Bad Name!'").contains("invalid tenant name");

        assertThat(cli("branch", "list", "--tenant", "UPPER").errorLine(1)).contains("'UPPER'");
    }

    @Test
    void unknownTenantAndBranchAreNamed() {
        assertThat(cli("branch", "list", "--tenant", "nosuch").errorLine(1)).contains("tenant 'nosuch' does not exist");

        assertThat(cli("endpoint", "start", "nosuch-branch", "--tenant", TENANT).errorLine(1))
                .contains("branch 'nosuch-branch' does not exist");

        assertThat(cli("branch", "create", "orphan", "--tenant", TENANT, "--parent", "nosuch-parent").errorLine(1))
                .contains("'nosuch-parent'");

        assertThat(cli("branch", "delete", "nosuch-branch", "--tenant", TENANT).errorLine(1)).contains("'nosuch-branch'");
    }

    // ------------------------------------------------------------------ branch create

    @Test
    void branchDefaultsToMainAtItsLastRecordLsn() throws IOException {
        JsonNode main = branch("main");
        CliResult r = cli("branch", "create", "defaults", "--tenant", TENANT).ok();
        assertThat(r.out()).startsWith("branch defaults created from main at " + main.path("last_record_lsn").asText());
        JsonNode b = branch("defaults");
        assertThat(b.path("parent").asText()).isEqualTo("main");
        assertThat(b.path("ancestor_lsn").asText()).isEqualTo(main.path("last_record_lsn").asText());
        assertThat(b.path("last_record_lsn").asText()).isEqualTo(main.path("last_record_lsn").asText());

        assertThat(cli("branch", "create", "defaults", "--tenant", TENANT).errorLine(1))
                .contains("'defaults'").contains("already exists");
    }

    @Test
    void branchAtAnExplicitLsnOfItsParent() throws IOException {
        String last = branch("main").path("last_record_lsn").asText();
        cli("branch", "create", "explicit", "--tenant", TENANT, "--parent", "main", "--lsn", last).ok();
        assertThat(branch("explicit").path("ancestor_lsn").asText()).isEqualTo(last);
    }

    @Test
    void malformedLsnIsNamed() {
        assertThat(cli("branch", "create", "bad-lsn", "--tenant", TENANT, "--lsn", "x/y").errorLine(1))
                .contains("'x/y'").contains("X/Y");
    }

    @Test
    void lsnBelowTheParentsStartIsRefusedWithTheValidRange() throws IOException {
        String last = branch("main").path("last_record_lsn").asText();
        assertThat(cli("branch", "create", "too-early", "--tenant", TENANT, "--lsn", "0/1").errorLine(1))
                .contains("LSN 0/1 ").containsPattern("valid LSNs are " + LSN + " to " + last + "$");
        assertThat(refs()).doesNotContain("too-early");
    }

    @Test
    void lsnBeyondAStoppedParentsEndIsRefusedWithTheValidRange() throws IOException {
        String last = branch("main").path("last_record_lsn").asText();
        assertThat(cli("branch", "create", "too-late", "--tenant", TENANT, "--lsn", "1/0").errorLine(1))
                .contains("LSN 1/0 ").containsPattern("valid LSNs are " + LSN + " to " + last + "$");
        assertThat(refs()).doesNotContain("too-late");
    }

    @Test
    void malformedTimestampIsNamed() {
        assertThat(cli("branch", "create", "bad-at", "--tenant", TENANT, "--at", "yesterday").errorLine(1))
                .contains("'yesterday'").contains("RFC 3339");

        assertThat(cli("branch", "create", "future-at", "--tenant", TENANT, "--at", "2999-01-01T00:00:00Z").errorLine(1))
                .contains("2999-01-01T00:00:00Z").contains("future");
    }

    @Test
    void lsnAndAtTogetherIsAUsageError() {
        assertThat(cli("branch", "create", "both", "--tenant", TENANT, "--lsn", "0/1", "--at", "2020-01-01T00:00:00Z")
                .errorLine(2)).contains("--lsn").contains("--at").contains("mutually exclusive");
    }

    @Test
    void missingOptionsAndUnknownCommandsAreUsageErrors() {
        assertThat(cli("branch", "create", "x").errorLine(2)).contains("--tenant");

        CliResult help = cli("branch", "create", "--help").ok();
        assertThat(help.out()).contains("Usage: forkline branch create").contains("--lsn").contains("--at");

        assertThat(cli("branch").errorLine(2)).contains("'forkline branch'").contains("create, list, show, tree, log, delete");

        assertThat(cli("branch", "frobnicate").errorLine(2)).contains("'frobnicate'");

        assertThat(cli("branch", "create", "x", "--tenant", TENANT, "--lsm", "0/1").errorLine(2)).contains("'--lsm'");

        assertThat(cli("branch", "create", "-bad", "--tenant", TENANT).errorLine(1))
                .contains("'-bad'").contains("invalid branch ref");

        assertThat(cli("branch", "create", "bad ref", "--tenant", TENANT).errorLine(1)).contains("'bad ref'");
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
        CliResult text = cli("branch", "list", "--tenant", TENANT).ok();
        assertThat(text.out().lines()).anyMatch(l -> l.startsWith("listed "));
        assertThat(text.out().lines().findFirst().orElseThrow()).contains("LOGICAL").contains("PHYSICAL");
        assertThat(text.out().lines()).anyMatch(l -> l.startsWith("main ") && l.matches(".* \\d+\\.\\d MB .*"));
    }

    // ------------------------------------------------------------------ endpoint ids, passwords, suspend

    @Test
    void endpointIdsConnectionStringsPasswordResetAndSuspendAfter() throws Exception {
        cli("branch", "create", "acc", "--tenant", TENANT, "--suspend-after", "30s").ok();
        JsonNode b = JSON.readTree(cli("branch", "show", "acc", "--tenant", TENANT, "--json").ok().out());
        String id = b.path("endpoint_id").asText();
        assertThat(id).matches("ep-[a-z0-9]{8}");
        assertThat(b.path("suspend_after").asText()).isEqualTo("30s");
        String uriForm = "^postgresql://postgres:[A-Za-z0-9_-]{24}@127\\.0\\.0\\.1:" + server.server().pgPort()
                + "/postgres\\?options=endpoint%3D" + id + "$";

        CliResult cs = cli("branch", "connection-string", "acc", "--tenant", TENANT).ok();
        assertThat(cs.out().lines().toList()).singleElement().asString().matches(uriForm);
        String first = cs.out().strip();
        CliResult reset = cli("branch", "password", "reset", "acc", "--tenant", TENANT).succeeded();
        assertThat(reset.out().lines().toList()).singleElement().asString().matches(uriForm).isNotEqualTo(first);
        assertThat(reset.err()).contains("password of branch acc (" + id + ") reset");
        assertThat(cli("branch", "connection-string", "acc", "--tenant", TENANT).ok().out().strip())
                .isEqualTo(reset.out().strip());

        CliResult list = cli("branch", "list", "--tenant", TENANT).ok();
        assertThat(list.out().lines().findFirst().orElseThrow()).contains("ENDPOINT ID");
        assertThat(list.out().lines()).anyMatch(l -> l.startsWith("acc ") && l.contains(" " + id + " "));
        JsonNode arr = JSON.readTree(cli("branch", "list", "--tenant", TENANT, "--json").ok().out());
        for (JsonNode x : arr) {
            assertThat(x.path("endpoint_id").asText()).as("%s", x.path("ref")).matches("ep-[a-z0-9]{8}");
        }
        assertThat(cli("branch", "show", "acc", "--tenant", TENANT).ok().out()).contains(id).contains("postgresql://postgres:");

        assertThat(cli("endpoint", "config", "acc", "--tenant", TENANT, "--suspend-after", "0").ok().out())
                .isEqualTo("endpoint acc (" + id + ") suspends never\n");
        cli("branch", "put", "acc", "--tenant", TENANT, "--suspend-after", "1h").ok();
        JsonNode after = JSON.readTree(cli("branch", "show", "acc", "--tenant", TENANT, "--json").ok().out());
        assertThat(after.path("suspend_after").asText()).isEqualTo("1h");
        assertThat(after.path("endpoint_id").asText()).as("a put keeps the id").isEqualTo(id);
        assertThat(cli("endpoint", "list", "--tenant", TENANT).ok().out().lines())
                .anyMatch(l -> l.startsWith("acc ") && l.contains(id) && l.contains(" 1h "));

        assertThat(cli("branch", "create", "acc-bad", "--tenant", TENANT, "--suspend-after", "5x").errorLine(1))
                .contains("'5x'").contains("30s");
        assertThat(cli("endpoint", "config", "acc", "--tenant", TENANT, "--suspend-after", "10").errorLine(1)).contains("'10'");
        assertThat(cli("branch", "connection-string", "nosuch", "--tenant", TENANT).errorLine(1)).contains("'nosuch'");
        assertThat(cli("branch", "password", "reset", "nosuch", "--tenant", TENANT).errorLine(1)).contains("'nosuch'");
        assertThat(cli("server", "--pg-port", "70000").errorLine(1)).contains("--pg-port 70000");
    }

    // ------------------------------------------------------------------ endpoints

    @Test
    void endpointStartPrintsOneUriIsIdempotentAndStops() throws Exception {
        cli("branch", "create", "ep", "--tenant", TENANT).ok();
        try {
            CliResult first = cli("endpoint", "start", "ep", "--tenant", TENANT).ok();
            assertThat(first.out().lines().toList()).hasSize(1);
            String uri = first.out().lines().findFirst().orElseThrow();
            assertThat(uri).matches("^postgresql://\\S+$");

            CliResult second = cli("endpoint", "start", "ep", "--tenant", TENANT).ok();
            assertThat(second.out().lines().toList()).containsExactly(uri);

            Instant beforeCommit;
            try (Connection c = Sql.connect(uri, "postgres"); Statement st = c.createStatement()) {
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
            assertThat(cli("branch", "create", "ep-beyond", "--tenant", TENANT, "--parent", "ep", "--lsn", "FF/0").errorLine(1))
                    .contains("LSN FF/0 ").containsPattern("valid LSNs are " + LSN + " to " + LSN);
            assertThat((System.nanoTime() - t0) / 1_000_000).as("ms to refuse").isLessThan(10_000);

            CliResult stop = cli("endpoint", "stop", "ep", "--tenant", TENANT).ok();
            assertThat(stop.out()).isEqualTo("endpoint ep stopped" + System.lineSeparator());
            assertThat(branch("ep").path("endpoint").path("state").asText()).isEqualTo("stopped");
            cli("endpoint", "stop", "ep", "--tenant", TENANT).ok();

            String atUri = cli("endpoint", "start", "ep-at", "--tenant", TENANT).ok().out().strip();
            try (Connection c = Sql.connect(atUri, "postgres"); Statement st = c.createStatement();
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

    @Test
    void everyCommandThatStartsAComputePrintsExactlyTheUriOnStdout() throws Exception {
        try {
            CliResult put = cli("branch", "put", "uri-put", "--tenant", TENANT, "--start", "--size", "xs").succeeded();
            assertThat(put.out().lines().toList()).hasSize(1).allMatch(l -> l.matches("postgresql://\\S+"));
            assertThat(put.err()).startsWith("branch uri-put created from main at ");
            String uri = put.out().strip();
            assertThat(Sql.queryLong(uri, "postgres", "SELECT 1")).isEqualTo(1);

            CliResult again = cli("branch", "put", "uri-put", "--tenant", TENANT, "--start").succeeded();
            assertThat(again.out().lines().toList()).containsExactly(uri);
            assertThat(again.err()).startsWith("branch uri-put reset from main at ");

            CliResult create = cli("branch", "create", "uri-create", "--tenant", TENANT, "--start", "--size", "xs").succeeded();
            assertThat(create.out().lines().toList()).hasSize(1).allMatch(l -> l.matches("postgresql://\\S+"));
            assertThat(create.err()).startsWith("branch uri-create created from main at ");

            // without --start the status line is the result, on stdout
            CliResult plain = cli("branch", "put", "uri-plain", "--tenant", TENANT).ok();
            assertThat(plain.out()).startsWith("branch uri-plain created from main at ");
        } finally {
            cli("endpoint", "stop", "uri-put", "--tenant", TENANT);
            cli("endpoint", "stop", "uri-create", "--tenant", TENANT);
        }
        cli("branch", "delete", "uri-put", "--tenant", TENANT).ok();
        cli("branch", "delete", "uri-create", "--tenant", TENANT).ok();
        cli("branch", "delete", "uri-plain", "--tenant", TENANT).ok();
    }

    @Test
    void branchCreateAndPutStartWithTheStorageAsked() throws Exception {
        assertThat(cli("branch", "create", "st-bad", "--tenant", TENANT, "--start", "--storage", "fast").errorLine(1))
                .contains("'fast'").contains("lazy or full");
        assertThat(refs()).doesNotContain("st-bad");
        try {
            String uri = cli("branch", "create", "st", "--tenant", TENANT, "--start", "--size", "xs", "--storage", "full")
                    .succeeded().out().strip();
            assertThat(uri).matches("postgresql://\\S+");
            assertThat(branch("st").path("endpoint").path("storage").asText()).isEqualTo("full");
            assertThat(branch("st").path("endpoint").has("blocks_fetched")).isFalse();
            try (Connection c = Sql.connect(uri, "postgres"); Statement st = c.createStatement()) {
                st.execute("CREATE TABLE s (x int)");
                st.execute("INSERT INTO s VALUES (7)");
            }

            // a put keeps the URI and restarts the compute built the other way
            CliResult put = cli("branch", "put", "st", "--tenant", TENANT, "--parent", "main", "--start", "--storage", "lazy")
                    .succeeded();
            assertThat(put.out().lines().toList()).containsExactly(uri);
            assertThat(branch("st").path("endpoint").path("storage").asText()).isEqualTo("lazy");
            assertThat(branch("st").path("endpoint").path("blocks_fetched").isNumber()).isTrue();
            assertThat(Sql.queryLong(uri, "postgres", "SELECT count(*) FROM pg_class WHERE relname = 's'")).isZero();

            // remembered: a plain put --start builds the same kind again
            cli("branch", "put", "st", "--tenant", TENANT, "--start").succeeded();
            assertThat(branch("st").path("endpoint").path("storage").asText()).isEqualTo("lazy");
            assertThat(cli("branch", "put", "st", "--tenant", TENANT, "--storage", "Lazy!").errorLine(1))
                    .contains("'Lazy!'");
        } finally {
            cli("endpoint", "stop", "st", "--tenant", TENANT);
        }
        cli("branch", "delete", "st", "--tenant", TENANT).ok();
    }

    @Test
    void everydayCommandsShowTreeLogRenameEndpointsAndTenantDelete() throws Exception {
        Map<String, String> env2 = Map.of("FORKLINE_URL", server.url(), "FORKLINE_TENANT", TENANT);
        // FORKLINE_TENANT is the default for --tenant
        String uri = cli(env2, "branch", "put", "day", "--start", "--size", "xs").succeeded().out().strip();
        try {
            Sql.exec(uri, "postgres", "CREATE TABLE d (x int)", "INSERT INTO d VALUES (1)", "INSERT INTO d VALUES (2)");
            long xid = Sql.queryLong(uri, "postgres", "SELECT xmin::text::bigint FROM d WHERE x = 2");
            // commits are synchronous: Forkline has indexed them before INSERT returned

            List<String> log = cli(env2, "branch", "log", "day", "--limit", "2").ok().out().lines().toList();
            assertThat(log.get(0)).matches("earliest restorable: \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z \\(" + LSN + "\\)");
            assertThat(log.get(1)).startsWith("TIME").contains("LSN").contains("XID");
            assertThat(log).hasSize(4);
            assertThat(log.get(2)).matches("\\d{4}-\\S+\\.\\d{6}Z\\s+" + LSN + "\\s+" + xid);
            assertThat(cli(env2, "branch", "log", "day", "--since", "2099-01-01T00:00:00Z").ok().out().lines()).hasSize(2);
            assertThat(cli(env2, "branch", "log", "day", "--since", "yesterday").errorLine(1)).contains("'yesterday'");

            List<String> eps = cli(env2, "endpoint", "list").ok().out().lines().toList();
            assertThat(eps.get(0)).startsWith("REF").contains("LOG");
            assertThat(eps).anyMatch(l -> l.startsWith("day ") && l.contains("running") && l.contains(uri)
                    && l.contains("/endpoints/cli/day/postgres.log"));

            List<String> tail = cli(env2, "endpoint", "logs", "day", "--tail", "3").ok().out().lines().toList();
            assertThat(tail).hasSizeBetween(1, 3);
            Thread marker = new Thread(() -> {
                try {
                    Thread.sleep(700);
                    Sql.exec(uri, "postgres", "DO $$ BEGIN RAISE LOG 'forkline-follow-marker'; END $$");
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            marker.start();
            CliResult follow = cli(env2, "endpoint", "logs", "day", "--tail", "0", "--follow", "--follow-seconds", "3").ok();
            marker.join();
            assertThat(follow.out()).contains("forkline-follow-marker");

            List<String> show = cli(env2, "branch", "show", "day").ok().out().lines().toList();
            assertThat(show.get(0)).isEqualTo("branch day (tenant cli)");
            assertThat(show).anyMatch(l -> l.matches("  parent\\s+main at " + LSN))
                    .anyMatch(l -> l.matches("  restorable\\s+from \\S+\\.\\d{6}Z \\(" + LSN + "\\) to .*"))
                    .anyMatch(l -> l.matches("  compute\\s+running, size xs, " + java.util.regex.Pattern.quote(uri)))
                    .anyMatch(l -> l.matches("  expires\\s+never"))
                    .anyMatch(l -> l.matches("  protected\\s+no"))
                    .anyMatch(l -> l.matches("  restores\\s+none"));

            cli(env2, "branch", "put", "day-child", "--parent", "day").ok();
            List<String> tree = cli(env2, "branch", "tree").ok().out().lines().toList();
            assertThat(tree.get(0)).startsWith("main");
            int day = tree.indexOf(tree.stream().filter(l -> l.matches("[├└]── day at " + LSN + " \\[running]")).findFirst().orElseThrow());
            assertThat(tree.get(day + 1)).matches("[│ ]   └── day-child at " + LSN);

            assertThat(cli(env2, "branch", "rename", "day", "day2").errorLine(1)).contains("'day'").contains("stop it first");
        } finally {
            cli(env2, "endpoint", "stop", "day");
        }
        assertThat(cli(env2, "branch", "rename", "day", "day2").ok().out()).isEqualTo("branch day renamed to day2" + System.lineSeparator());
        assertThat(branch("day-child").path("parent").asText()).isEqualTo("day2");
        assertThat(refs()).contains("day2").doesNotContain("day");

        // messages: a protected branch with children says it is protected; a time without zone says so
        cli(env2, "branch", "protect", "day2").ok();
        assertThat(cli(env2, "branch", "delete", "day2").errorLine(1)).contains("'day2' is protected").doesNotContain("?");
        cli(env2, "branch", "protect", "day2", "--off").ok();
        assertThat(cli(env2, "branch", "delete", "day2").errorLine(1)).contains("--recursive").doesNotContain("?recursive");
        cli(env2, "branch", "delete", "day2", "--recursive").ok();
        assertThat(cli(env2, "branch", "create", "tz", "--at", "2026-12-05 06:39:40").errorLine(1))
                .contains("'2026-12-05 06:39:40'").contains("time zone is missing").contains("2026-12-05T06:39:40Z");
        assertThat(cli(env2, "tenant", "config", TENANT, "nope=1").errorLine(1))
                .isEqualTo("forkline: unknown setting 'nope': known are max_branches, max_running_endpoints, pitr_interval, gc_horizon");

        // tenant delete: refused while a compute runs, unless --force; frees everything
        cli("tenant", "create", "gone").ok();
        cli("endpoint", "start", "main", "--tenant", "gone").ok();
        assertThat(cli("tenant", "delete", "gone").errorLine(1)).contains("'gone'").contains("[main]").contains("--force");
        assertThat(cli("tenant", "delete", "gone", "--force").ok().out()).startsWith("tenant gone deleted: 1 branches, 1 timelines, ");
        assertThat(cli("tenant", "list").ok().out()).doesNotContain("gone");
        assertThat(cli("branch", "list", "--tenant", "gone").errorLine(1)).contains("tenant 'gone' does not exist");
        assertThat(server.store().timelines(new io.forkline.storage.id.TenantId("gone"))).isEmpty();
        assertThat(server.store().listMetadata("endpoint/gone/")).isEmpty();
        assertThat(server.dir().resolve("endpoints").resolve("gone")).doesNotExist();
        cli("tenant", "create", "gone").ok(); // the name is free again
        cli("tenant", "delete", "gone").ok();
    }

    // ------------------------------------------------------------------ branch delete

    @Test
    void mainCannotBeDeleted() throws IOException {
        assertThat(cli("branch", "delete", "main", "--tenant", TENANT).errorLine(1)).contains("'main'");
        assertThat(refs()).contains("main");
    }

    @Test
    void branchWithChildrenCannotBeDeletedUntilTheyAre() throws IOException {
        cli("branch", "create", "parent-b", "--tenant", TENANT).ok();
        cli("branch", "create", "child-b", "--tenant", TENANT, "--parent", "parent-b").ok();
        cli("branch", "create", "feature/child-c", "--tenant", TENANT, "--parent", "parent-b").ok();
        assertThat(branch("child-b").path("ancestor_lsn").asText()).isEqualTo(branch("parent-b").path("last_record_lsn").asText());

        assertThat(cli("branch", "delete", "parent-b", "--tenant", TENANT).errorLine(1))
                .contains("'parent-b'").contains("child-b").contains("feature/child-c");
        assertThat(refs()).contains("parent-b", "child-b", "feature/child-c");

        assertThat(cli("branch", "delete", "child-b", "--tenant", TENANT).ok().out()).contains("child-b");
        cli("branch", "delete", "feature/child-c", "--tenant", TENANT).ok();
        cli("branch", "delete", "parent-b", "--tenant", TENANT).ok();
        assertThat(refs()).doesNotContain("parent-b", "child-b", "feature/child-c");
    }

    // ------------------------------------------------------------------ branches by ref

    @Test
    void branchPutProtectTtlSizeAndQuotaFromTheCommandLine() throws IOException {
        CliResult created = cli("branch", "put", "ci-cli", "--tenant", TENANT, "--ttl", "4h", "--size", "xs").ok();
        assertThat(created.out()).startsWith("branch ci-cli created from main at ");
        CliResult again = cli("branch", "put", "ci-cli", "--tenant", TENANT, "--ttl", "4h").ok();
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
        assertThat(cli("branch", "delete", "ci-cli", "--tenant", TENANT).errorLine(1))
                .contains("'ci-cli'").contains("protected");
        assertThat(cli("branch", "reset", "ci-cli", "--tenant", TENANT).errorLine(1)).contains("protected");
        assertThat(cli("branch", "protect", "ci-cli", "--tenant", TENANT, "--off").ok().out()).contains("is not protected");
        assertThat(cli("branch", "reset", "ci-cli", "--tenant", TENANT).ok().out()).startsWith("branch ci-cli reset to main at ");

        CliResult resized = cli("endpoint", "resize", "ci-cli", "--tenant", TENANT, "--size", "m").ok();
        assertThat(resized.out()).isEqualTo("endpoint ci-cli size m (stopped)" + System.lineSeparator());
        assertThat(branch("ci-cli").path("size").asText()).isEqualTo("m");

        assertThat(cli("branch", "put", "ttl-bad", "--tenant", TENANT, "--ttl", "45d").errorLine(1))
                .contains("'45d'").contains("30 days");
        assertThat(cli("endpoint", "start", "ci-cli", "--tenant", TENANT, "--size", "huge").errorLine(1))
                .contains("'huge'").contains("xs, s, m, l");
        assertThat(cli("branch", "restore", "ci-cli", "--tenant", TENANT).errorLine(2)).contains("--lsn").contains("--at");
        assertThat(refs()).doesNotContain("ttl-bad");

        int count = refs().size();
        try {
            CliResult cfg = cli("tenant", "config", TENANT, "max_branches=" + count).ok();
            assertThat(cfg.out().lines()).anyMatch(l -> l.matches("max_branches\\s+" + count + "\\s+" + count + "\\s+tenant"));
            assertThat(cli("branch", "create", "over-quota", "--tenant", TENANT).errorLine(1))
                    .contains(count + " of at most " + count).contains("max_branches");
            assertThat(cli("tenant", "config", TENANT, "max_brnaches=3").errorLine(1)).contains("'max_brnaches'");
        } finally {
            cli("tenant", "config", TENANT, "max_branches=").ok();
        }
        assertThat(cli("tenant", "config", TENANT, "--json").ok().out()).contains("\"max_branches\" : 50");

        cli("branch", "put", "ci-cli/child", "--tenant", TENANT, "--parent", "ci-cli").ok();
        assertThat(cli("branch", "delete", "ci-cli", "--tenant", TENANT).errorLine(1))
                .contains("ci-cli/child").contains("--recursive");
        CliResult recursive = cli("branch", "delete", "ci-cli", "--tenant", TENANT, "--recursive").ok();
        assertThat(recursive.out().lines().toList()).containsExactly("branch ci-cli/child deleted", "branch ci-cli deleted");
        assertThat(refs()).doesNotContain("ci-cli", "ci-cli/child");
    }

    // ------------------------------------------------------------------ retention, GC, leases

    @Test
    void retentionSettingsAreSetShownAndResetAndABadValueChangesNothing() throws IOException {
        try {
            CliResult set = cli("tenant", "config", TENANT, "pitr_interval=1h", "gc_horizon=0").ok();
            assertThat(set.out().lines()).anyMatch(l -> l.matches("pitr_interval\\s+1h\\s+-\\s+tenant"))
                    .anyMatch(l -> l.matches("gc_horizon\\s+0\\s+-\\s+tenant"));
            JsonNode cfg = JSON.readTree(cli("tenant", "config", TENANT, "--json").ok().out());
            assertThat(cfg.path("retention").path("pitr_interval_seconds").asLong()).isEqualTo(3600);
            assertThat(cfg.path("retention").path("gc_horizon_bytes").asLong()).isZero();

            // a bad retention value is refused before anything is sent: the limit beside it stays unset
            assertThat(cli("tenant", "config", TENANT, "max_branches=7", "pitr_interval=3x").errorLine(1))
                    .contains("pitr_interval").contains("'3x'");
            assertThat(cli("tenant", "config", TENANT, "max_branches=7", "gc_horizon=64XB").errorLine(1))
                    .contains("gc_horizon").contains("'64XB'");
            JsonNode unchanged = JSON.readTree(cli("tenant", "config", TENANT, "--json").ok().out());
            assertThat(unchanged.path("config").has("max_branches")).as("%s", unchanged).isFalse();
            assertThat(unchanged.path("limits").path("max_branches").asInt()).isEqualTo(50);
            assertThat(unchanged.path("retention").path("pitr_interval_seconds").asLong()).isEqualTo(3600);
        } finally {
            cli("tenant", "config", TENANT, "pitr_interval=", "gc_horizon=").ok();
        }
        JsonNode reset = JSON.readTree(cli("tenant", "config", TENANT, "--json").ok().out()).path("retention");
        assertThat(reset.path("source").path("pitr_interval").asText()).isEqualTo("default");
        assertThat(reset.path("source").path("gc_horizon").asText()).isEqualTo("default");
    }

    @Test
    void gcRunReportsEveryTimelineAndOneBranch() throws IOException {
        // default retention keeps all of this tenant's recent history: GC examines, removes nothing
        CliResult text = cli("gc", "run", "--tenant", TENANT).ok();
        List<String> lines = text.out().lines().toList();
        assertThat(lines.get(0)).startsWith("BRANCH").contains("CUTOFF").contains("REMOVED");
        assertThat(lines).anyMatch(l -> l.startsWith("main ") && l.matches("main\\s+" + LSN + "\\s+" + LSN + "\\s+\\d+\\s+0\\s+0\\s+\\d+"));
        assertThat(lines.get(lines.size() - 1)).isEqualTo("removed 0 versions, 0 bytes");

        JsonNode one = JSON.readTree(cli("gc", "run", "--tenant", TENANT, "--branch", "main", "--json").ok().out());
        assertThat(one.path("tenant").asText()).isEqualTo(TENANT);
        assertThat(one.path("timelines")).hasSize(1);
        JsonNode t = one.path("timelines").get(0);
        assertThat(t.path("refs").get(0).asText()).isEqualTo("main");
        assertThat(t.path("timeline_id").asText()).isEqualTo(branch("main").path("timeline_id").asText());
        assertThat(t.path("versions_examined").asLong()).isPositive();
        assertThat(t.path("versions_removed").asLong()).isZero();

        assertThat(cli("gc", "run", "--tenant", TENANT, "--branch", "nosuch-gc").errorLine(1)).contains("'nosuch-gc'");
        assertThat(GcCommand.Run.shortId("0123456789abcdef")).isEqualTo("01234567");
        assertThat(GcCommand.Run.shortId("?")).isEqualTo("?");
    }

    @Test
    void leasesAreCreatedListedAndReleasedByTheirPercentEncodedLsn() throws IOException {
        cli("branch", "create", "leased", "--tenant", TENANT).ok();
        String lsn = branch("leased").path("last_record_lsn").asText();
        assertThat(lsn).contains("/"); // the DELETE route carries it percent-encoded: 0%2F16B3748
        try {
            CliResult created = cli("lease", "create", "leased", "--tenant", TENANT, "--lsn", lsn, "--ttl", "30m").ok();
            assertThat(created.out()).startsWith("lease on leased at " + lsn + " until ");
            String[] words = created.out().strip().split(" ");
            String expires = words[words.length - 1];
            assertThat(Instant.parse(expires)).isBetween(Instant.now().plusSeconds(25 * 60), Instant.now().plusSeconds(31 * 60));

            JsonNode leases = JSON.readTree(cli("lease", "list", "leased", "--tenant", TENANT, "--json").ok().out());
            assertThat(leases).hasSize(1);
            assertThat(leases.get(0).path("lsn").asText()).isEqualTo(lsn);
            assertThat(leases.get(0).path("expires_at").asText()).isEqualTo(expires);
            List<String> table = cli("lease", "list", "leased", "--tenant", TENANT).ok().out().lines().toList();
            assertThat(table).hasSize(2);
            assertThat(table.get(0)).startsWith("LSN").contains("EXPIRES");
            assertThat(table.get(1)).startsWith(lsn + " ");

            assertThat(cli("lease", "create", "leased", "--tenant", TENANT, "--lsn", "x/y").errorLine(1)).contains("'x/y'");
            assertThat(cli("lease", "create", "leased", "--tenant", TENANT, "--lsn", lsn, "--ttl", "31d").errorLine(1))
                    .contains("31d");

            assertThat(cli("lease", "delete", "leased", "--tenant", TENANT, "--lsn", lsn).ok().out())
                    .isEqualTo("lease on leased at " + lsn + " released" + System.lineSeparator());
            assertThat(JSON.readTree(cli("lease", "list", "leased", "--tenant", TENANT, "--json").ok().out())).isEmpty();
            assertThat(cli("lease", "delete", "leased", "--tenant", TENANT, "--lsn", lsn).errorLine(1))
                    .contains("no active lease").contains(lsn);
        } finally {
            cli("lease", "delete", "leased", "--tenant", TENANT, "--lsn", lsn);
            cli("branch", "delete", "leased", "--tenant", TENANT).ok();
        }
    }

    // ------------------------------------------------------------------ quickstart

    @Test
    void quickstartRefusesAPortOutOfRangeBeforeDoingAnything() {
        for (String port : List.of("0", "65536", "-1")) {
            assertThat(cli("quickstart", "--port", port).errorLine(1))
                    .isEqualTo("forkline: invalid --port " + port + ": expected 1..65535");
        }
    }

    @Test
    void serverRefusesABadComputeNodeUrlBeforeDoingAnything() {
        for (String url : List.of("ftp://h:1", "https://nohostport", "not a url")) {
            assertThat(cli("server", "--compute-node", url).errorLine(1))
                    .isEqualTo("forkline: invalid --compute-node '" + url + "': expected https://HOST:PORT");
        }
        assertThat(cli("server", "--compute-node", "http://127.0.0.1:9899").errorLine(1))
                .isEqualTo("forkline: invalid --compute-node 'http://127.0.0.1:9899': the compute node API is HTTPS "
                        + "(https://HOST:PORT, with --compute-node-cert)");
        assertThat(cli("server", "--compute-node", "https://127.0.0.1:9899").errorLine(1))
                .isEqualTo("forkline: --compute-node needs --compute-node-cert FILE (the node prints its certificate's "
                        + "path at start)");
        assertThat(cli("server", "--compute-node", "https://127.0.0.1:9899", "--compute-node-cert", "/nonexistent.crt")
                .errorLine(1)).isEqualTo("forkline: invalid --compute-node-cert '/nonexistent.crt': not a readable file");
    }

    // ------------------------------------------------------------------ the server URL

    @Test
    void unreachableServerIsOneClearLine() throws IOException {
        int port = ComputeProcess.freePort();
        String url = "http://127.0.0.1:" + port;
        assertThat(cli(Map.of("FORKLINE_URL", url), "tenant", "list").errorLine(1)).contains("cannot reach").contains(url);
    }

    @Test
    void malformedServerUrlIsNamed() {
        for (String url : List.of("localhost:9898", "ftp://127.0.0.1:9898", "http://bad host:1")) {
            CliResult r = cli(Map.of("FORKLINE_URL", url), "tenant", "list");
            assertThat(r.code()).as(url).isEqualTo(1);
            assertThat(r.errorLine()).contains("FORKLINE_URL").contains("'" + url + "'");
        }
    }

    @Test
    void oneLineFoldsMultiLineMessages() {
        assertThat(Main.oneLine("cannot start:\n  log line 1\r\nlog line 2\n")).isEqualTo("cannot start: | log line 1 | log line 2");
    }
}
