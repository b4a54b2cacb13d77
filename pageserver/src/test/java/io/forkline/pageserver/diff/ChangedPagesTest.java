package io.forkline.pageserver.diff;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ChangedPagesTest {
    @Test
    void thePropertyTurnsThePathOff() {
        System.setProperty(ChangedPages.PROPERTY, "false");
        try {
            assertThat(ChangedPages.enabled()).isFalse();
            assertThat(ChangedPages.settle(null, null, null).unavailable()).contains(ChangedPages.PROPERTY);
        } finally {
            System.clearProperty(ChangedPages.PROPERTY);
        }
        assertThat(ChangedPages.enabled()).isTrue();
        assertThat(ChangedPages.none("why").changed(new io.forkline.storage.key.RelTag(1663, 5, 16384, 0))).isNull();
    }
}
