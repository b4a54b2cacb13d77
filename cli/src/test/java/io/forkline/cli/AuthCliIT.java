package io.forkline.cli;

import io.forkline.pageserver.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The CLI against a server with authentication on: the token file the server wrote for its port is
 * found from {@code FORKLINE_URL} alone, {@code FORKLINE_TOKEN} wins over it, {@code token create}
 * prints a working tenant token, and a missing or refused token is one stderr line that says where
 * the CLI looked and what to do.
 */
class AuthCliIT {
    private static final String TENANT = "authcli";
    private static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start("auth-cli", TestServer.Option.NO_BACKGROUND_GC);
        CliResult.run(Map.of("FORKLINE_URL", server.url()), "tenant", "create", TENANT).ok();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static CliResult cli(Map<String, String> env, String... args) {
        return CliResult.run(env, args);
    }

    @Test
    void theTokenFileOfTheUrlIsFoundWithoutFurtherSetUp() {
        assertThat(server.clientTokenFile()).exists();
        CliResult r = cli(Map.of("FORKLINE_URL", server.url()), "tenant", "list").ok();
        assertThat(r.out()).contains(TENANT);
        // localhost names the same server: its file is 127.0.0.1_PORT
        cli(Map.of("FORKLINE_URL", "http://localhost:" + server.port()), "tenant", "list").ok();
    }

    @Test
    void tokenCreatePrintsOneLineThatWorksAsForklineToken() {
        CliResult created = cli(Map.of("FORKLINE_URL", server.url()), "token", "create", "--tenant", TENANT, "--ttl", "1h").ok();
        assertThat(created.out().lines()).hasSize(1);
        String token = created.out().strip();
        assertThat(token).matches("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+");

        Map<String, String> env = Map.of("FORKLINE_URL", server.url(), "FORKLINE_TOKEN", token);
        assertThat(cli(env, "branch", "list", "--tenant", TENANT).ok().out()).contains("main");
        assertThat(cli(env, "tenant", "list").ok().out().lines().skip(1)).allMatch(l -> l.startsWith(TENANT + " "));
        // FORKLINE_TOKEN wins over the token file, so the tenant token cannot create tenants
        String err = cli(env, "tenant", "create", "other").errorLine(1);
        assertThat(err).contains("needs an admin token").contains("tenant:" + TENANT).contains("$FORKLINE_TOKEN");
        assertThat(err).doesNotContain(token);
        // nor mint tokens
        assertThat(cli(env, "token", "create", "--tenant", TENANT).errorLine(1)).contains("needs an admin token");

        assertThat(cli(Map.of("FORKLINE_URL", server.url()), "token", "create", "--tenant", TENANT, "--json").ok().out())
                .contains("\"scope\" : \"tenant:" + TENANT + "\"").contains("\"expires_at\" : null");
    }

    @Test
    void badTokenCreateArgumentsAreNamed() {
        Map<String, String> env = Map.of("FORKLINE_URL", server.url());
        assertThat(cli(env, "token", "create", "--tenant", "nobody").errorLine(1)).contains("'nobody'");
        assertThat(cli(env, "token", "create", "--tenant", TENANT, "--ttl", "soon").errorLine(1)).contains("'soon'");
        assertThat(cli(env, "token", "create").errorLine(2)).contains("--tenant");
    }

    @Test
    void aRefusedForklineTokenSaysWhereItCameFrom() {
        String err = cli(Map.of("FORKLINE_URL", server.url(), "FORKLINE_TOKEN", "garbage-token"), "tenant", "list")
                .errorLine(1);
        assertThat(err).contains("token from $FORKLINE_TOKEN refused").contains("malformed token")
                .doesNotContain("garbage-token");
    }

    @Test
    void aStaleTokenFileSaysWhichFile(@TempDir Path home) throws Exception {
        Path file = home.resolve("tokens").resolve("127.0.0.1_" + server.port());
        Files.createDirectories(file.getParent());
        Files.writeString(file, "stale.stale.stale\n");
        String err = cli(Map.of("FORKLINE_URL", server.url(), "FORKLINE_CONFIG_HOME", home.toString()), "tenant", "list")
                .errorLine(1);
        assertThat(err).contains("token from " + file + " refused");
    }

    @Test
    void noTokenFileIsAClearErrorSayingWhereTheCliLookedAndWhatToDo(@TempDir Path home) {
        String err = cli(Map.of("FORKLINE_URL", server.url(), "FORKLINE_CONFIG_HOME", home.toString()), "tenant", "list")
                .errorLine(1);
        assertThat(err).contains("needs a token").contains("FORKLINE_TOKEN is not set")
                .contains(home.resolve("tokens").resolve("127.0.0.1_" + server.port()).toString())
                .contains("auth/admin.token").contains("forkline token create");
        // the same from a download (backup export streams its body)
        String export = cli(Map.of("FORKLINE_URL", server.url(), "FORKLINE_CONFIG_HOME", home.toString()), "backup",
                "export", "nope", "--tenant", TENANT, "--out", home.resolve("x.tar").toString()).errorLine(1);
        assertThat(export).contains("needs a token");
        assertThat(home.resolve("x.tar")).doesNotExist();
    }
}
