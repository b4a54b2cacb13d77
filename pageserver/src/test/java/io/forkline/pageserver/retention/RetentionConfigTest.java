package io.forkline.pageserver.retention;

import io.forkline.format.interval.IntervalText;
import io.forkline.format.size.ByteSizeText;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Text forms of the retention settings and their round trip. */
class RetentionConfigTest {
    @Test
    void intervalsParseAndFormat() {
        assertThat(IntervalText.parse("0")).isZero();
        assertThat(IntervalText.parse("30s")).isEqualTo(Duration.ofSeconds(30));
        assertThat(IntervalText.parse("15m")).isEqualTo(Duration.ofMinutes(15));
        assertThat(IntervalText.parse("15min")).isEqualTo(Duration.ofMinutes(15));
        assertThat(IntervalText.parse(" 1h ")).isEqualTo(Duration.ofHours(1));
        assertThat(IntervalText.parse("7d")).isEqualTo(Duration.ofDays(7));
        assertThat(IntervalText.parse("2w")).isEqualTo(Duration.ofDays(14));
        for (String s : new String[] {"0", "90s", "15m", "1h", "7d", "14d"}) {
            assertThat(IntervalText.format(IntervalText.parse(s))).isEqualTo(s);
        }
        for (String bad : new String[] {"", "7", "-1h", "1y", "1.5h", "h", "9999d"}) {
            assertThatThrownBy(() -> IntervalText.parse(bad)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'" + bad + "'");
        }
    }

    @Test
    void sizesAreBinaryLikePostgres() {
        assertThat(ByteSizeText.parse("0")).isZero();
        assertThat(ByteSizeText.parse("1000")).isEqualTo(1000);
        assertThat(ByteSizeText.parse("64MB")).isEqualTo(64L << 20);
        assertThat(ByteSizeText.parse("64MiB")).isEqualTo(64L << 20);
        assertThat(ByteSizeText.parse("8kB")).isEqualTo(8192);
        assertThat(ByteSizeText.parse("1 gb")).isEqualTo(1L << 30);
        assertThat(ByteSizeText.format(64L << 20)).isEqualTo("64MB");
        assertThat(ByteSizeText.format(1000)).isEqualTo("1000B");
        assertThat(ByteSizeText.format(0)).isEqualTo("0");
        for (String bad : new String[] {"", "-1", "64XB", "1.5GB", "2048TB"}) {
            assertThatThrownBy(() -> ByteSizeText.parse(bad)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'" + bad + "'");
        }
    }

    @Test
    void configChangesOnlyTheGivenKeys() {
        RetentionConfig c = RetentionConfig.DEFAULT.with(Map.of("gc_horizon", "0"));
        assertThat(c.pitrInterval()).isEqualTo(Duration.ofDays(7));
        assertThat(c.gcHorizonBytes()).isZero();
        assertThat(c.asSettings()).containsExactly(Map.entry("pitr_interval", "7d"), Map.entry("gc_horizon", "0"));
        assertThatThrownBy(() -> c.with(Map.of("pitr", "1h"))).hasMessageContaining("'pitr'");
    }
}
