package io.forkline.pageserver.backup;

import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FrequencyTest {
    private static Instant t(String s) {
        return Instant.parse(s);
    }

    @Test
    void fixedPeriodsRunEveryPeriodFromTheStart() {
        Frequency hourly = Frequency.parse("HOURLY");
        Instant start = t("2030-01-01T00:30:00Z");
        assertThat(hourly.nextRun(start, t("2029-12-31T00:00:00Z"))).isEqualTo(start);
        assertThat(hourly.nextRun(start, start)).isEqualTo(t("2030-01-01T01:30:00Z"));
        assertThat(hourly.nextRun(start, t("2030-01-01T05:10:00Z"))).isEqualTo(t("2030-01-01T05:30:00Z"));
        assertThat(Frequency.parse("daily").nextRun(start, t("2030-01-03T00:30:00Z"))).isEqualTo(t("2030-01-04T00:30:00Z"));
        assertThat(Frequency.parse("weekly").nextRun(start, t("2030-01-03T00:00:00Z"))).isEqualTo(t("2030-01-08T00:30:00Z"));
    }

    @Test
    void monthlyKeepsTheStartDayAndClampsShortMonths() {
        Frequency monthly = Frequency.parse("monthly");
        Instant start = t("2030-01-31T03:00:00Z");
        assertThat(monthly.nextRun(start, start)).isEqualTo(t("2030-02-28T03:00:00Z"));
        assertThat(monthly.nextRun(start, t("2030-02-28T03:00:00Z"))).isEqualTo(t("2030-03-31T03:00:00Z"));
        assertThat(monthly.nextRun(start, t("2030-07-01T00:00:00Z"))).isEqualTo(t("2030-07-31T03:00:00Z"));
    }

    @Test
    void cronExpressionsAreUnixFiveFieldInUtcAndNotBeforeTheStart() {
        Frequency weekdays = Frequency.parse("0 3 * * 1-5");
        assertThat(weekdays.text()).isEqualTo("0 3 * * 1-5");
        // 2030-01-04 is a Friday: the next weekday 03:00 after Friday 04:00 is Monday the 7th
        assertThat(weekdays.nextRun(t("2030-01-01T00:00:00Z"), t("2030-01-04T04:00:00Z"))).isEqualTo(t("2030-01-07T03:00:00Z"));
        assertThat(weekdays.nextRun(t("2030-01-09T12:00:00Z"), t("2030-01-01T00:00:00Z"))).isEqualTo(t("2030-01-10T03:00:00Z"));
        assertThat(Frequency.parse("*/15 * * * *").nextRun(t("2030-01-01T00:00:00Z"), t("2030-01-01T00:00:00Z")))
                .isEqualTo(t("2030-01-01T00:15:00Z"));
    }

    @Test
    void invalidFrequenciesNameTheValue() {
        assertThatThrownBy(() -> Frequency.parse("fortnightly")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'fortnightly'");
        assertThatThrownBy(() -> Frequency.parse("61 * * * *")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'61 * * * *'");
        assertThatThrownBy(() -> Frequency.parse("0 0 0 * * *")).isInstanceOf(IllegalArgumentException.class);
    }
}
