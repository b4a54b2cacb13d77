package io.forkline.wal.replication;

import org.junit.jupiter.api.Test;

import java.sql.SQLException;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WalReceiverConfigTest {
    /** The compute lists {@code ComputeSettings.INGEST_STANDBY_NAME} as its synchronous standby: the receiver must use that name. */
    @Test
    void defaultStandbyNameIsTheOneComputesWaitFor() {
        assertThat(WalReceiverConfig.DEFAULT_STANDBY_NAME)
                .isEqualTo(io.forkline.compute.endpoint.ComputeSettings.INGEST_STANDBY_NAME);
    }

    @Test
    void defaultsNameTheIngestStandbyAndSlot() {
        WalReceiverConfig c = WalReceiverConfig.of("127.0.0.1", 5432, "postgres");
        assertThat(c.standbyName()).isEqualTo("forkline_ingest");
        assertThat(c.slotName()).isEqualTo("forkline_ingest");
        assertThat(c.password()).isNull();
        assertThat(c.commitIntervalBytes()).isEqualTo(8L * 1024 * 1024);
        assertThat(c.withPassword("secret").toString()).doesNotContain("secret");
    }

    @Test
    void rejectsBadValuesNamingThem() {
        WalReceiverConfig c = WalReceiverConfig.of("127.0.0.1", 5432, "postgres");
        assertThatThrownBy(() -> WalReceiverConfig.of("h", 70000, "u")).hasMessageContaining("70000");
        assertThatThrownBy(() -> c.withSlotName("Bad-Slot")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Bad-Slot");
        assertThatThrownBy(() -> c.withSlotName("x".repeat(64))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> c.withCommitInterval(0, Duration.ofMillis(1))).hasMessageContaining("commitIntervalBytes 0");
        assertThatThrownBy(() -> c.withBackoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
                .hasMessageContaining("maxBackoff");
        assertThatThrownBy(() -> c.withStatusInterval(Duration.ZERO)).hasMessageContaining("statusInterval");
        assertThatThrownBy(() -> c.withStandbyName(" ")).hasMessageContaining("standby name");
    }

    @Test
    void connectionLossIsRetriedRefusalIsNot() {
        assertThat(WalReceiver.isRetryable(new SQLException("refused", "08001"))).isTrue();
        assertThat(WalReceiver.isRetryable(new SQLException("io", "08006"))).isTrue();
        assertThat(WalReceiver.isRetryable(new SQLException("admin shutdown", "57P01"))).isTrue();
        assertThat(WalReceiver.isRetryable(new SQLException("starting up", "57P03"))).isTrue();
        assertThat(WalReceiver.isRetryable(new SQLException("max_wal_senders", "53300"))).isTrue();
        assertThat(WalReceiver.isRetryable(new SQLException("slot active", "55006"))).isTrue();
        assertThat(WalReceiver.isRetryable(new SQLException("ahead of flush", "XX000"))).isFalse();
        assertThat(WalReceiver.isRetryable(new SQLException("segment removed", "58P01"))).isFalse();
        assertThat(WalReceiver.isRetryable(new SQLException("password", "28P01"))).isFalse();
    }
}
