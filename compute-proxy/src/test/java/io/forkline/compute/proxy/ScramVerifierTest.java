package io.forkline.compute.proxy;

import org.junit.jupiter.api.Test;

import java.security.SecureRandom;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ScramVerifierTest {
    @Test
    void matchesPostgresqlsOwnSecretForAKnownSaltAndPassword() {
        // made by PostgreSQL 15 (postgres --single: ALTER ROLE postgres PASSWORD 'postgres'; SELECT rolpassword);
        // our derivation from its salt and iteration count must give the same keys.
        ScramVerifier pg = ScramVerifier.parse(PG_SECRET);
        ScramVerifier ours = ScramVerifier.create("postgres".toCharArray(), pg.salt(), pg.iterations());
        assertThat(ours).isEqualTo(pg);
        assertThat(ours.toString()).isEqualTo(PG_SECRET);
    }

    @Test
    void roundTripsAndChecksClearPasswords() {
        ScramVerifier v = ScramVerifier.create("s3cret-ü".toCharArray(), new SecureRandom());
        assertThat(ScramVerifier.parse(v.toString())).isEqualTo(v);
        assertThat(v.matches("s3cret-ü".toCharArray())).isTrue();
        assertThat(v.matches("s3cret-u".toCharArray())).isFalse();
        assertThat(v.salt()).hasSize(ScramVerifier.SALT_LENGTH);
        assertThat(v.iterations()).isEqualTo(4096);
    }

    @Test
    void rejectsMalformedSecretsNamingTheProblem() {
        assertThatThrownBy(() -> ScramVerifier.parse("md5abc")).hasMessageContaining("not a SCRAM-SHA-256 secret");
        assertThatThrownBy(() -> ScramVerifier.parse("SCRAM-SHA-256$x:AAAA$AAAA:AAAA")).hasMessageContaining("'x'");
        String b = Base64.getEncoder().encodeToString(new byte[31]);
        assertThatThrownBy(() -> ScramVerifier.parse("SCRAM-SHA-256$4096:AAAA$" + b + ":" + b)).hasMessageContaining("32 bytes");
    }

    static final String PG_SECRET = "SCRAM-SHA-256$4096:2CuYOf1BXZGxoUtLU0/ghg==$ZG2nboRcNUXMTpdPyYr7TL9xnOIYTc7/bUs9hjCSYeE=:x+yQh1DbILDvHh0EAI8er0WzPoc0SXNrw2SjoKHAeKk=";
}
