package io.forkline.cli;

import io.forkline.pageserver.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The web console end to end in two real headless browsers, Debian's Chromium and Debian's stock
 * Firefox ESR: a server with tenant {@value #TENANT} (Chromium) and {@value #TENANT_FIREFOX} (Firefox),
 * {@code forkline console} for the sign-in URL, then {@code console/e2e/console-e2e.mjs}
 * (puppeteer-core driving {@code /usr/bin/chromium} over the DevTools protocol, or
 * {@code /usr/bin/firefox-esr} over WebDriver BiDi; no browser is downloaded), the same steps in both: sign in, tenants
 * overview, start main and write through the connection string it shows, restore main to a time
 * before a {@code DROP TABLE} and read the table again with psql, create a branch and see it in the
 * tree, its compute suspended by scale to zero shown as Suspended (and woken through the connection
 * string shown), a schema and data diff between the state kept by the restore and main (a stopped
 * side on a temporary branch), an API refusal shown in the API's words, a backup created, completed
 * and exported, a schedule.
 * Chromium's screenshots go to {@code target/console-screenshots}, or to the folder named by system
 * property {@code forkline.console.screenshots} (the committed ones in {@code docs/console} are made
 * with {@code -Dforkline.console.screenshots=../docs/console}); Firefox's to
 * {@code target/console-screenshots-firefox} (property {@code forkline.console.screenshots.firefox}).
 * Never skipped: a missing browser, node or {@code console/node_modules} fails the test with what to
 * install.
 */
class ConsoleE2EIT {
    private static final String TENANT = "shop";
    private static final String TENANT_FIREFOX = "market";
    private static final Path CHROMIUM = Path.of(System.getenv().getOrDefault("FORKLINE_E2E_CHROMIUM", "/usr/bin/chromium"));
    private static final Path FIREFOX = Path.of(System.getenv().getOrDefault("FORKLINE_E2E_FIREFOX", "/usr/bin/firefox-esr"));
    private static final int STEPS = 10;
    private static final List<String> SCREENSHOTS = List.of("tenants.png", "branches.png", "restore.png", "create-branch.png",
            "tree.png", "suspended.png", "error.png", "backups.png", "diff.png");
    private static TestServer server;
    private static Map<String, String> env;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start("console-e2e", TestServer.Option.NO_BACKGROUND_GC);
        env = Map.of("FORKLINE_URL", server.url());
        CliResult.run(env, "tenant", "create", TENANT).ok();
        CliResult.run(env, "tenant", "create", TENANT_FIREFOX).ok();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static Path consoleDir() {
        Path dir = Path.of("").toAbsolutePath().resolveSibling("console");
        assertThat(dir.resolve("e2e/console-e2e.mjs")).as("the console module beside cli").exists();
        return dir;
    }

    @Test
    void consolePrintsOneSingleUseSignInUrl() throws Exception {
        CliResult r = CliResult.run(env, "console").ok();
        assertThat(r.out().lines().toList()).hasSize(1);
        assertThat(r.out().strip()).matches("\\Q" + server.url() + "\\E/console/signin\\?code=[A-Za-z0-9_-]{43}");

        CliResult json = CliResult.run(env, "console", "--tenant", TENANT, "--json").ok();
        assertThat(json.out()).contains("\"scope\" : \"tenant:" + TENANT + "\"").contains("\"url\" : \"" + server.url());

        assertThat(CliResult.run(env, "console", "--tenant", "nope").errorLine(1)).contains("nope");
        String other = server.tenantToken(TENANT, java.util.Optional.empty());
        server.post("/v1/tenants", "{\"name\":\"other\"}").expect(201);
        assertThat(CliResult.run(Map.of("FORKLINE_URL", server.url(), "FORKLINE_TOKEN", other), "console", "--tenant", "other")
                .errorLine(1)).contains("does not cover tenant 'other'");
    }

    @Test
    void theConsoleWorksInHeadlessChromium() throws Exception {
        assertThat(Files.isExecutable(CHROMIUM)).as("%s is missing: apt-get install -y chromium (.ci/run installs it)", CHROMIUM)
                .isTrue();
        runSteps("chromium", CHROMIUM, TENANT,
                Path.of(System.getProperty("forkline.console.screenshots", "target/console-screenshots")));
    }

    @Test
    void theConsoleWorksInHeadlessFirefox() throws Exception {
        assertThat(Files.isExecutable(FIREFOX)).as("%s is missing: apt-get install -y firefox-esr (.ci/run installs it)", FIREFOX)
                .isTrue();
        runSteps("firefox", FIREFOX, TENANT_FIREFOX,
                Path.of(System.getProperty("forkline.console.screenshots.firefox", "target/console-screenshots-firefox")));
    }

    /** Runs the e2e script in {@code browser} on {@code tenant}; asserts every step passed and every screenshot exists. */
    private static void runSteps(String browser, Path executable, String tenant, Path shotsDir) throws Exception {
        Path console = consoleDir();
        assertThat(console.resolve("node_modules/puppeteer-core/package.json"))
                .as("puppeteer-core is not installed: the console module's build runs npm ci (mvn -pl cli -am ...)")
                .exists();
        Path shots = shotsDir.toAbsolutePath();
        String url = CliResult.run(env, "console").ok().out().strip();

        Path log = Path.of("target/console-e2e-" + browser + ".log").toAbsolutePath();
        ProcessBuilder pb = new ProcessBuilder(List.of("node", "e2e/console-e2e.mjs"))
                .directory(console.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().put("FORKLINE_E2E_SIGNIN_URL", url);
        pb.environment().put("FORKLINE_E2E_TENANT", tenant);
        pb.environment().put("FORKLINE_E2E_SCREENSHOTS", shots.toString());
        pb.environment().put("FORKLINE_E2E_BROWSER", browser);
        pb.environment().put("FORKLINE_E2E_BROWSER_PATH", executable.toString());
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new AssertionError("cannot run node (Node 20.19+ is needed): " + e.getMessage(), e);
        }
        boolean done = p.waitFor(8, TimeUnit.MINUTES);
        if (!done) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        System.out.println(out);
        assertThat(done).as("the %s e2e script finished within 8 minutes:\n%s", browser, out).isTrue();
        assertThat(p.exitValue()).as("%s e2e script exit code; its output:\n%s", browser, out).isZero();
        assertThat(out).contains("browser: " + browser).contains(STEPS + " passed, 0 failed");
        for (String png : SCREENSHOTS) {
            assertThat(shots.resolve(png)).as("screenshot").isNotEmptyFile();
        }
    }
}
