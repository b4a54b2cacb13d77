package io.forkline.cli;

import io.forkline.format.size.SizeText;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.forkline.pageserver.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code forkline backup ...} and {@code tenant import} against a real server (no computes): the
 * output, {@code --json} shapes, filters, one-line errors, and an export imported as a new tenant.
 */
class BackupCliIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static TestServer server;
    private static Path dir;
    private static Map<String, String> env;

    private static CliResult cli(String... args) {
        return CliResult.run(env, args);
    }

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start("backup-cli");
        dir = server.dir();
        env = Map.of("FORKLINE_URL", server.url());
        cli("tenant", "create", "bk").ok();
        cli("branch", "create", "dev", "--tenant", "bk").ok();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void importFromARunningPrimary() throws Exception {
        assertThat(cli("tenant", "import", "pm").errorLine(1))
                .isEqualTo("forkline: give exactly one of --from FILE.tar, --from-primary URI and --from-publication URI");
        assertThat(cli("tenant", "import", "pm", "--from-publication", "postgresql://u@h/db").errorLine(1))
                .isEqualTo("forkline: --from-publication needs --publication PUB (the publication's name on the source)");
        assertThat(cli("tenant", "import", "pm", "--from-primary", "postgresql://u@h/db", "--publication", "p").errorLine(1))
                .isEqualTo("forkline: --publication goes with --from-publication URI");
        assertThat(cli("tenant", "import", "pm", "--from-primary", "http://x:secret@h/").errorLine(1))
                .contains("must start with postgresql://").doesNotContain("secret");
        try (io.forkline.pageserver.testing.TestPrimary primary = new io.forkline.pageserver.testing.TestPrimary("cli-primary")) {
            try (java.sql.Connection c = primary.connect(); java.sql.Statement st = c.createStatement()) {
                st.execute("CREATE TABLE t AS SELECT generate_series(1, 1000) AS n");
            }
            CliResult imp = cli("tenant", "import", "pm", "--from-primary", primary.replicationUri()).succeeded();
            assertThat(imp.out()).startsWith("tenant pm imported from the primary; main is consistent from ");
            // progress lines (every 2 s while the request runs) go to stderr, never the password
            assertThat(imp.err().lines().toList()).allSatisfy(l -> assertThat(l).startsWith("import of pm: ")
                    .doesNotContain(io.forkline.pageserver.testing.TestPrimary.REPL_PASSWORD));
            long deadline = System.nanoTime() + java.time.Duration.ofSeconds(30).toNanos();
            while (cli("tenant", "list").ok().out().lines().noneMatch(l -> l.startsWith("pm ")
                    && l.contains("streaming, lag 0.0 MB / 0.0 s"))) {
                assertThat(System.nanoTime()).as("mirror streaming and caught up within 30 s").isLessThan(deadline);
                Thread.sleep(300);
            }
            String line = cli("tenant", "list").ok().out().lines().filter(l -> l.startsWith("pm ")).findFirst().orElseThrow();
            assertThat(line).contains("postgresql://repl:***@127.0.0.1:" + primary.port + "/postgres").doesNotContain("secret");
            JsonNode m = null;
            for (JsonNode t : JSON.readTree(cli("tenant", "list", "--json").ok().out())) {
                if (t.path("name").asText().equals("pm")) {
                    m = t.path("mirror");
                }
            }
            assertThat(m.path("slot").asText()).isEqualTo("forkline_pm");
            assertThat(cli("endpoint", "start", "main", "--tenant", "pm").errorLine(1)).contains("mirrors the primary");
            cli("tenant", "delete", "pm", "--force").ok();
        }
    }

    @Test
    void backupsSchedulesExportAndImport() throws Exception {
        // sizes print the same whatever the locale (SizeText: MB = 2^20 bytes, a '.' decimal point)
        Locale locale = Locale.getDefault();
        CliResult c;
        try {
            Locale.setDefault(Locale.GERMANY);
            c = cli("backup", "create", "--tenant", "bk", "--label", "first").ok();
        } finally {
            Locale.setDefault(locale);
        }
        assertThat(c.out()).matches("backup bk-[0-9a-f]{8} of main at [0-9A-F]+/[0-9A-F]+ completed \\([0-9]+\\.[0-9] MB\\)\\R");
        String id = c.out().split(" ")[1];
        cli("backup", "create", "--tenant", "bk", "--branch", "dev").ok();

        JsonNode all = JSON.readTree(cli("backup", "list", "--tenant", "bk", "--json").ok().out());
        assertThat(all).hasSize(2);
        JsonNode dev = JSON.readTree(cli("backup", "list", "--tenant", "bk", "--branch", "dev", "--json").ok().out());
        assertThat(dev).hasSize(1);
        assertThat(dev.get(0).path("branch").asText()).isEqualTo("dev");
        assertThat(dev.get(0).path("status").asText()).isEqualTo("completed");
        assertThat(cli("backup", "list", "--tenant", "bk").ok().out()).contains(id).contains("first").contains("manual");

        CliResult s = cli("backup", "schedule", "create", "--tenant", "bk", "--frequency", "0 3 * * *",
                "--start", "2099-01-01T00:00:00Z", "--retention", "14d", "--name", "nightly").ok();
        assertThat(s.out()).contains("next run 2099-01-01T03:00:00Z");
        String sid = s.out().split(" ")[1];
        JsonNode sl = JSON.readTree(cli("backup", "schedule", "list", "--tenant", "bk", "--json").ok().out());
        assertThat(sl).hasSize(1);
        assertThat(sl.get(0).path("name").asText()).isEqualTo("nightly");
        assertThat(sl.get(0).path("retention").asText()).isEqualTo("14d");
        assertThat(cli("backup", "schedule", "create", "--tenant", "bk", "--frequency", "daily", "--retention", "3x")
                .errorLine(1)).isEqualTo("forkline: invalid retention '3x': a count and a unit h, d, w, mo or y, e.g. 36h, 14d, 8w, 12mo, 2y");
        cli("backup", "schedule", "delete", sid, "--tenant", "bk").ok();
        assertThat(cli("backup", "schedule", "delete", sid, "--tenant", "bk").errorLine(1)).contains("'" + sid + "'");
        assertThat(cli("backup", "restore", "bk-00000000", "--tenant", "bk", "--branch", "x").errorLine(1))
                .isEqualTo("forkline: backup 'bk-00000000' does not exist in tenant 'bk'");

        CliResult r = cli("backup", "restore", id, "--tenant", "bk", "--branch", "from-backup").ok();
        assertThat(r.out()).startsWith("branch from-backup restored from backup " + id + " at ");

        Path tar = dir.resolve("bk.tar");
        // a missing or unwritable directory is named before anything is downloaded
        assertThat(cli("backup", "export", id, "--tenant", "bk", "--out", "/nonexistent/dir/x.tar").errorLine(1))
                .isEqualTo("forkline: cannot export to /nonexistent/dir/x.tar: directory /nonexistent/dir does not exist");
        assertThat(cli("backup", "export", id, "--tenant", "bk", "--out", dir.toString()).errorLine(1))
                .contains("is a directory");
        CliResult exported = cli("backup", "export", id, "--tenant", "bk", "--out", tar.toString()).ok();
        assertThat(exported.out()).startsWith("backup " + id + " exported to " + tar);
        String hint = exported.out().lines().filter(l -> l.startsWith("start it with: ")).findFirst().orElseThrow();
        runStartHint(hint, id);
        assertThat(Files.size(tar)).isGreaterThan(16L << 20);
        assertThat(dir.resolve("bk.tar.part")).doesNotExist();
        assertThat(cli("backup", "export", "bk-00000000", "--tenant", "bk", "--out", dir.resolve("no.tar").toString())
                .errorLine(1)).contains("'bk-00000000'");
        assertThat(dir.resolve("no.tar")).doesNotExist();
        assertThat(dir.resolve("no.tar.part")).doesNotExist();

        CliResult imp = cli("tenant", "import", "bk-copy", "--from", tar.toString()).ok();
        assertThat(imp.out()).startsWith("tenant bk-copy imported from " + tar);
        assertThat(cli("tenant", "list").ok().out()).contains("bk-copy");
        assertThat(cli("branch", "list", "--tenant", "bk-copy").ok().out()).contains("main");
        assertThat(cli("tenant", "import", "bk-copy", "--from", tar.toString()).errorLine(1)).contains("already exists");
        Files.writeString(dir.resolve("junk.tar"), "junk".repeat(300));
        assertThat(cli("tenant", "import", "junk", "--from", dir.resolve("junk.tar").toString()).errorLine(1))
                .contains("not a tar archive");

        cli("backup", "delete", id, "--tenant", "bk").ok();
        assertThat(JSON.readTree(cli("backup", "list", "--tenant", "bk", "--json").ok().out())).hasSize(1);
    }

    /**
     * Runs the printed start hint as a user would (bash), with a free port and a test directory
     * instead of 5433 and /var/tmp, then connects over TCP with the password the hint set: the
     * export starts on stock PostgreSQL 15, as root too, and asks for a password.
     */
    private static void runStartHint(String hint, String id) throws Exception {
        int port = io.forkline.compute.endpoint.ComputeProcess.freePort();
        Path pgDir = dir.resolve("hint-" + id);
        String cmd = hint.substring("start it with: ".length(), hint.indexOf("; connect with: "))
                .replace("/var/tmp/forkline-" + id, pgDir.toString()).replace("5433", Integer.toString(port));
        io.forkline.compute.postgres.PostgresInstallation.detect().prepareDirectory(dir);
        Process p = new ProcessBuilder("bash", "-c", cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        try {
            assertThat(p.waitFor()).as("%s%n%s", cmd, out).isZero();
            String url = "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres";
            // pg_ctl start waits until the server accepts connections
            try (var c = java.sql.DriverManager.getConnection(url + "&password=CHANGE-ME")) {
                assertThat(c.isValid(5)).isTrue();
            }
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> java.sql.DriverManager.getConnection(url))
                    .hasMessageContaining("password");
        } finally {
            io.forkline.compute.postgres.PostgresInstallation pg = io.forkline.compute.postgres.PostgresInstallation.detect();
            try {
                pg.run(java.time.Duration.ofMinutes(1), "pg_ctl", "-D", pgDir.toString(), "-m", "fast", "stop");
            } catch (RuntimeException e) {
                // not running
            }
        }
    }
}
