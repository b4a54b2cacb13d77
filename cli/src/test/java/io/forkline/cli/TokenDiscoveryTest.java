package io.forkline.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Which token the CLI sends: {@code FORKLINE_TOKEN}, else the token file named after {@code FORKLINE_URL}. */
class TokenDiscoveryTest {
    @Test
    void fileNamesFollowTheUrl() {
        assertThat(TokenDiscovery.fileNames(URI.create("http://127.0.0.1:9898"))).containsExactly("127.0.0.1_9898");
        assertThat(TokenDiscovery.fileNames(URI.create("http://localhost:19001/")))
                .containsExactly("localhost_19001", "127.0.0.1_19001");
        assertThat(TokenDiscovery.fileNames(URI.create("https://forkline.example.com"))).containsExactly("forkline.example.com_443");
        assertThat(TokenDiscovery.fileNames(URI.create("http://db-host"))).containsExactly("db-host_80");
        assertThat(TokenDiscovery.fileNames(URI.create("http://[::1]:9898"))).containsExactly("__1_9898");
    }

    @Test
    void forklineTokenWinsOverTheFile(@TempDir Path home) throws Exception {
        Path file = home.resolve("tokens").resolve("127.0.0.1_9898");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "  from-file \n");
        Map<String, String> env = Map.of("FORKLINE_CONFIG_HOME", home.toString());
        TokenDiscovery.Credentials c = TokenDiscovery.discover(env, "http://127.0.0.1:9898");
        assertThat(c.token()).isEqualTo("from-file");
        assertThat(c.source()).isEqualTo(file.toString());

        c = TokenDiscovery.discover(Map.of("FORKLINE_CONFIG_HOME", home.toString(), "FORKLINE_TOKEN", " env-token "),
                "http://127.0.0.1:9898");
        assertThat(c.token()).isEqualTo("env-token");
        assertThat(c.source()).isEqualTo("$FORKLINE_TOKEN");
        // a blank FORKLINE_TOKEN counts as unset
        assertThat(TokenDiscovery.discover(Map.of("FORKLINE_CONFIG_HOME", home.toString(), "FORKLINE_TOKEN", " "),
                "http://127.0.0.1:9898").token()).isEqualTo("from-file");
    }

    @Test
    void noTokenRemembersWhereItLooked(@TempDir Path home) {
        TokenDiscovery.Credentials c = TokenDiscovery.discover(Map.of("FORKLINE_CONFIG_HOME", home.toString()),
                "http://localhost:7");
        assertThat(c.token()).isNull();
        assertThat(c.looked()).containsExactly(home.resolve("tokens/localhost_7"), home.resolve("tokens/127.0.0.1_7"));
        assertThat(c.unauthorizedHint("http://localhost:7")).contains(home.resolve("tokens/localhost_7").toString())
                .contains("FORKLINE_TOKEN");
    }

    @Test
    void anEmptyTokenFileIsNamed(@TempDir Path home) throws Exception {
        Path file = home.resolve("tokens").resolve("127.0.0.1_1");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "\n");
        assertThatThrownBy(() -> TokenDiscovery.discover(Map.of("FORKLINE_CONFIG_HOME", home.toString()), "http://127.0.0.1:1"))
                .isInstanceOf(CliException.class).hasMessageContaining(file + " is empty");
    }

    @Test
    void theConfigHomeFollowsTheServersRule() {
        String prop = System.getProperty(TokenDiscovery.CONFIG_HOME_PROPERTY);
        try {
            System.clearProperty(TokenDiscovery.CONFIG_HOME_PROPERTY);
            assertThat(TokenDiscovery.configHome(Map.of("HOME", "/h"))).isEqualTo(Path.of("/h/.config/forkline"));
            assertThat(TokenDiscovery.configHome(Map.of("HOME", "/h", "XDG_CONFIG_HOME", "/x"))).isEqualTo(Path.of("/x/forkline"));
            System.setProperty(TokenDiscovery.CONFIG_HOME_PROPERTY, "/p");
            assertThat(TokenDiscovery.configHome(Map.of("XDG_CONFIG_HOME", "/x"))).isEqualTo(Path.of("/p"));
            assertThat(TokenDiscovery.configHome(Map.of("FORKLINE_CONFIG_HOME", "/f"))).isEqualTo(Path.of("/f"));
            // the same answers as the server's copy of the rule
            for (Map<String, String> env : List.of(Map.of("HOME", "/h"), Map.of("XDG_CONFIG_HOME", "/x"),
                    Map.of("FORKLINE_CONFIG_HOME", "/f"))) {
                assertThat(TokenDiscovery.configHome(env)).isEqualTo(io.forkline.pageserver.auth.ClientTokenFiles.configHome(env));
            }
        } finally {
            if (prop == null) {
                System.clearProperty(TokenDiscovery.CONFIG_HOME_PROPERTY);
            } else {
                System.setProperty(TokenDiscovery.CONFIG_HOME_PROPERTY, prop);
            }
        }
    }
}
