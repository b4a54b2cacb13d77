package io.forkline.pageserver.diff;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ChangedPagesTest {
    @Test
    void anInsertPositionRightAfterAPageHeaderWaitsForTheRecordBeforeIt() {
        assertThat(ChangedPages.beforePageHeader(0x2000 + 24)).isEqualTo(0x2000); // short header
        assertThat(ChangedPages.beforePageHeader(0x1000000 + 40)).isEqualTo(0x1000000); // long header, segment start
        assertThat(ChangedPages.beforePageHeader(0x1000000 + 24)).isEqualTo(0x1000000 + 24); // inside the long header's record
        assertThat(ChangedPages.beforePageHeader(0x2000 + 25)).isEqualTo(0x2000 + 25);
        assertThat(ChangedPages.beforePageHeader(0x2000)).isEqualTo(0x2000);
    }

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
