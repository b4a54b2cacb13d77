package io.forkline.pageserver.backup;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RetentionTest {
    private static final Instant T = Instant.parse("2030-01-31T12:00:00Z");

    @Test
    void unitsFromHoursToYears() {
        assertThat(Retention.parse("36h").expiry(T)).isEqualTo(Instant.parse("2030-02-02T00:00:00Z"));
        assertThat(Retention.parse("14d").expiry(T)).isEqualTo(Instant.parse("2030-02-14T12:00:00Z"));
        assertThat(Retention.parse("8w").expiry(T)).isEqualTo(Instant.parse("2030-03-28T12:00:00Z"));
        assertThat(Retention.parse("1mo").expiry(T)).isEqualTo(Instant.parse("2030-02-28T12:00:00Z"));
        assertThat(Retention.parse("12mo").expiry(T)).isEqualTo(Instant.parse("2031-01-31T12:00:00Z"));
        assertThat(Retention.parse("2y").expiry(T)).isEqualTo(Instant.parse("2032-01-31T12:00:00Z"));
        assertThat(Retention.parse(" 14d ").toString()).isEqualTo("14d");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "14", "d", "0h", "-1d", "3m", "1.5d", "11y", "200mo", "14 d"})
    void invalidRetentionsNameTheValue(String text) {
        assertThatThrownBy(() -> Retention.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'" + text + "'");
    }
}
