package io.forkline.pageserver.access;

import io.forkline.pageserver.api.ApiException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Endpoint ids, suspend timeouts, connection strings and the sealing of passwords. */
class AccessTest {
    @Test
    void endpointIdsAreDnsLabelsAndRandom() {
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            String id = EndpointIds.generate();
            assertThat(id).matches("ep-[a-z0-9]{8}");
            assertThat(EndpointIds.isValid(id)).isTrue();
            ids.add(id);
        }
        assertThat(ids).hasSize(1000);
        assertThat(EndpointIds.isValid("ep-ABCDEFGH")).isFalse();
        assertThat(EndpointIds.isValid("ep-abc")).isFalse();
        assertThat(EndpointIds.isValid(null)).isFalse();
    }

    @Test
    void suspendAfterTakesSecondsMinutesHoursAndZero() {
        assertThat(SuspendAfter.parse("30s")).isEqualTo(Duration.ofSeconds(30));
        assertThat(SuspendAfter.parse("5m")).isEqualTo(Duration.ofMinutes(5));
        assertThat(SuspendAfter.parse(" 1h ")).isEqualTo(Duration.ofHours(1));
        assertThat(SuspendAfter.parse("0")).isZero();
        assertThat(SuspendAfter.normalize("0s")).isEqualTo("0");
        assertThat(SuspendAfter.normalize(null)).isNull();
        assertThat(SuspendAfter.effective(null)).isEqualTo(Duration.ofMinutes(5));
        assertThat(SuspendAfter.shown(null)).isEqualTo("5m");
        for (String bad : new String[]{"5x", "10", "-1s", "", "1d", "s", "169h"}) {
            assertThatThrownBy(() -> SuspendAfter.parse(bad)).as(bad).isInstanceOf(ApiException.class)
                    .hasMessageContaining("'" + bad + "'");
        }
    }

    @Test
    void connectionStringsRouteByOptionsAndCarryThePassword() {
        ConnectionStrings s = new ConnectionStrings("127.0.0.1", 55432);
        assertThat(s.uri("ep-abcdefgh", "pw_-x")).isEqualTo(
                "postgresql://postgres:pw_-x@127.0.0.1:55432/postgres?options=endpoint%3Dep-abcdefgh");
        assertThat(new ConnectionStrings("::1", 5).uri("ep-abcdefgh", "p")).contains("@[::1]:5/");
        assertThat(s.withPort(6000).uri("ep-abcdefgh", "p")).contains(":6000/");
        String old = System.getProperty(ConnectionStrings.PORT_PROPERTY);
        try {
            System.setProperty(ConnectionStrings.PORT_PROPERTY, "nope");
            assertThatThrownBy(ConnectionStrings::configured).hasMessageContaining("'nope'");
            System.setProperty(ConnectionStrings.PORT_PROPERTY, "6543");
            assertThat(ConnectionStrings.configured().port()).isEqualTo(6543);
        } finally {
            if (old == null) {
                System.clearProperty(ConnectionStrings.PORT_PROPERTY);
            } else {
                System.setProperty(ConnectionStrings.PORT_PROPERTY, old);
            }
        }
        assertThat(Credentials.newPassword()).hasSize(24).matches("[A-Za-z0-9_-]+");
    }

    @Test
    void readyPasswordsAreFreshAndMatchTheirVerifiers() {
        ReadyPasswords ready = new ReadyPasswords(new java.security.SecureRandom());
        ready.refill();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
                .until(() -> ready.readyCount() == ReadyPasswords.CAPACITY);
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 3 * ReadyPasswords.CAPACITY; i++) { // more than are ready: some made on this thread
            ReadyPasswords.Pair p = ready.take();
            assertThat(p.password()).hasSize(24).matches("[A-Za-z0-9_-]+");
            assertThat(p.verifier().iterations()).isEqualTo(4096);
            assertThat(p.verifier().matches(p.password().toCharArray())).isTrue();
            assertThat(p.verifier().matches((p.password() + "x").toCharArray())).isFalse();
            assertThat(seen.add(p.password())).as("handed out once").isTrue();
        }
    }

    @Test
    void sealedSecretsOpenOnlyWithTheirKeyAndContext(@TempDir Path dir) throws Exception {
        SecretBox box = SecretBox.open(dir);
        assertThat(Files.getPosixFilePermissions(SecretBox.keyFile(dir))).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        String sealed = box.seal("s3cret-password", "ep-aaaaaaaa");
        assertThat(sealed).doesNotContain("s3cret");
        assertThat(box.seal("s3cret-password", "ep-aaaaaaaa")).as("a fresh IV each time").isNotEqualTo(sealed);
        assertThat(SecretBox.open(dir).open(sealed, "ep-aaaaaaaa")).as("the key is reused").isEqualTo("s3cret-password");
        assertThatThrownBy(() -> box.open(sealed, "ep-bbbbbbbb")).hasMessageContaining("ep-bbbbbbbb");
        byte[] raw = java.util.Base64.getDecoder().decode(sealed);
        raw[raw.length - 1] ^= 1;
        String tampered = java.util.Base64.getEncoder().encodeToString(raw);
        assertThatThrownBy(() -> box.open(tampered, "ep-aaaaaaaa")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SecretBox.open(dir.resolve("other")).open(sealed, "ep-aaaaaaaa"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
