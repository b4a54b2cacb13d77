package io.forkline.pageserver.auth;

import io.forkline.pageserver.testing.TestClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The files under {@code <data-dir>/auth/} and the client token file: created at the first start
 * with owner-only modes, reused after, repaired when the admin token is gone or stale.
 */
class TokenAuthorityTest {
    private final TestClock clock = new TestClock();

    private static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    @Test
    void theFirstStartCreatesAKeyAndAnAdminTokenOnlyTheOwnerCanRead(@TempDir Path data) throws Exception {
        TokenAuthority a = TokenAuthority.open(data, AuthMode.ON, clock);
        Path dir = data.resolve("auth");
        assertThat(mode(dir)).isEqualTo("rwx------");
        assertThat(mode(dir.resolve("signing-key.jwk"))).isEqualTo("rw-------");
        assertThat(mode(dir.resolve("admin.token"))).isEqualTo("rw-------");
        assertThat(a.adminTokenFile()).isEqualTo(dir.resolve("admin.token"));
        assertThat(Files.readString(a.adminTokenFile()).strip()).isEqualTo(a.adminToken());
        assertThat(a.verifier().verify(a.adminToken()).isAdmin()).isTrue();
        assertThat(Files.readString(dir.resolve("signing-key.jwk"))).contains("\"kty\":\"EC\"").contains("\"crv\":\"P-256\"")
                .contains("\"d\":");
        // no temporary files left behind
        try (var s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("signing-key.jwk", "admin.token");
        }
    }

    @Test
    void laterStartsKeepTheKeyAndTheTokensItSigned(@TempDir Path data) throws Exception {
        TokenAuthority first = TokenAuthority.open(data, AuthMode.ON, clock);
        String tenant = first.issuer().tenantToken("acme", java.util.Optional.empty()).token();
        TokenAuthority second = TokenAuthority.open(data, AuthMode.ON, clock);
        assertThat(second.adminToken()).isEqualTo(first.adminToken());
        assertThat(second.verifier().verify(tenant).tenant()).contains("acme");
    }

    @Test
    void aMissingAdminTokenIsRecreatedWithTheSameKey(@TempDir Path data) throws Exception {
        TokenAuthority first = TokenAuthority.open(data, AuthMode.ON, clock);
        Files.delete(first.adminTokenFile());
        TokenAuthority second = TokenAuthority.open(data, AuthMode.ON, clock);
        assertThat(second.adminToken()).isNotEqualTo(first.adminToken());
        assertThat(second.verifier().verify(first.adminToken()).isAdmin()).as("same key").isTrue();
        assertThat(mode(second.adminTokenFile())).isEqualTo("rw-------");
    }

    @Test
    void aNewKeyInvalidatesEveryOldTokenAndRewritesTheAdminToken(@TempDir Path data) throws Exception {
        TokenAuthority first = TokenAuthority.open(data, AuthMode.ON, clock);
        Files.delete(data.resolve("auth").resolve("signing-key.jwk"));
        TokenAuthority second = TokenAuthority.open(data, AuthMode.ON, clock);
        assertThat(second.adminToken()).isNotEqualTo(first.adminToken());
        AuthException e = org.junit.jupiter.api.Assertions.assertThrows(AuthException.class,
                () -> second.verifier().verify(first.adminToken()));
        assertThat(e.code()).isEqualTo(AuthException.Code.UNAUTHORIZED);
        assertThat(Files.readString(second.adminTokenFile()).strip()).isEqualTo(second.adminToken());
    }

    @Test
    void exposedFilesAreRestrictedAgain(@TempDir Path data) throws Exception {
        TokenAuthority.open(data, AuthMode.ON, clock);
        Path key = data.resolve("auth").resolve("signing-key.jwk");
        Path token = data.resolve("auth").resolve("admin.token");
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
        Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-rw-rw-"));
        TokenAuthority.open(data, AuthMode.ON, clock);
        assertThat(mode(key)).isEqualTo("rw-------");
        assertThat(mode(token)).isEqualTo("rw-------");
    }

    @Test
    void aCorruptKeyFileStopsTheStartNamingIt(@TempDir Path data) throws Exception {
        Files.createDirectories(data.resolve("auth"));
        Files.writeString(data.resolve("auth").resolve("signing-key.jwk"), "{\"kty\":\"oct\"");
        assertThatThrownBy(() -> TokenAuthority.open(data, AuthMode.ON, clock))
                .isInstanceOf(java.io.IOException.class).hasMessageContaining("signing-key.jwk");
    }

    @Test
    void authOffStillCreatesTheFilesButChecksNothing(@TempDir Path data) throws Exception {
        TokenAuthority a = TokenAuthority.open(data, AuthMode.OFF, clock);
        assertThat(a.mode()).isEqualTo(AuthMode.OFF);
        assertThat(a.verifier().enabled()).isFalse();
        assertThat(a.verifier().verify(null).isAdmin()).isTrue();
        assertThat(a.adminTokenFile()).exists();
    }

    @Test
    void theAdminTokenIsPublishedToTheClientTokenFileOfThePort(@TempDir Path data, @TempDir Path home) throws Exception {
        TokenAuthority a = TokenAuthority.open(data, AuthMode.ON, clock);
        Path written = a.publishAdminToken(19876, Map.of("FORKLINE_CONFIG_HOME", home.resolve("cfg").toString()));
        assertThat(written).isEqualTo(home.resolve("cfg").resolve("tokens").resolve("127.0.0.1_19876"));
        assertThat(Files.readString(written)).isEqualTo(a.adminToken() + "\n");
        assertThat(mode(written)).isEqualTo("rw-------");
        assertThat(mode(written.getParent())).isEqualTo("rwx------");
        // an unwritable config home is logged, not fatal
        Path file = home.resolve("file");
        Files.writeString(file, "x");
        assertThat(a.publishAdminToken(19876, Map.of("FORKLINE_CONFIG_HOME", file.toString()))).isNull();
    }

    @Test
    void theConfigHomeFollowsTheDocumentedOrder() {
        String prop = System.getProperty(ClientTokenFiles.CONFIG_HOME_PROPERTY);
        try {
            System.clearProperty(ClientTokenFiles.CONFIG_HOME_PROPERTY);
            assertThat(ClientTokenFiles.configHome(Map.of("HOME", "/h"))).isEqualTo(Path.of("/h/.config/forkline"));
            assertThat(ClientTokenFiles.configHome(Map.of("HOME", "/h", "XDG_CONFIG_HOME", "/x")))
                    .isEqualTo(Path.of("/x/forkline"));
            System.setProperty(ClientTokenFiles.CONFIG_HOME_PROPERTY, "/p");
            assertThat(ClientTokenFiles.configHome(Map.of("HOME", "/h", "XDG_CONFIG_HOME", "/x"))).isEqualTo(Path.of("/p"));
            assertThat(ClientTokenFiles.configHome(Map.of("FORKLINE_CONFIG_HOME", "/f", "XDG_CONFIG_HOME", "/x")))
                    .isEqualTo(Path.of("/f"));
        } finally {
            if (prop == null) {
                System.clearProperty(ClientTokenFiles.CONFIG_HOME_PROPERTY);
            } else {
                System.setProperty(ClientTokenFiles.CONFIG_HOME_PROPERTY, prop);
            }
        }
    }
}
