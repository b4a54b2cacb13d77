package io.forkline.compute.endpoint;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The compute's {@code wal_consistency_checking} follows redo verify mode. */
class ComputeSettingsTest {
    private final String saved = System.getProperty("forkline.redo.verify");

    @AfterEach
    void restore() {
        if (saved == null) {
            System.clearProperty("forkline.redo.verify");
        } else {
            System.setProperty("forkline.redo.verify", saved);
        }
    }

    @Test
    void productionChecksOnlyWhatIsNotRedoneNatively() {
        System.setProperty("forkline.redo.verify", "false");
        assertThat(ComputeSettings.forPort(5432).get("wal_consistency_checking"))
                .isEqualTo("''");
    }

    @Test
    void verifyModeChecksEverything() {
        System.setProperty("forkline.redo.verify", "true");
        assertThat(ComputeSettings.forPort(5432).get("wal_consistency_checking")).isEqualTo("'all'");
    }
}
