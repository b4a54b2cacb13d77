package io.forkline.format.size;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SizeTextTest {
    @Test
    void megabytesBelowAGigabyteThenGigabytes() {
        assertThat(SizeText.human(0)).isEqualTo("0.0 MB");
        assertThat(SizeText.human(8192)).isEqualTo("0.0 MB");
        assertThat(SizeText.human(1_572_864)).isEqualTo("1.5 MB");
        assertThat(SizeText.human(1023L * 1024 * 1024)).isEqualTo("1023.0 MB");
        assertThat(SizeText.human(1024L * 1024 * 1024)).isEqualTo("1.0 GB");
        assertThat(SizeText.human(5L * 1024 * 1024 * 1024 / 2)).isEqualTo("2.5 GB");
        assertThatThrownBy(() -> SizeText.human(-1)).hasMessageContaining("-1");
    }
}
