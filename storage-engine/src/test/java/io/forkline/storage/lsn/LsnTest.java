package io.forkline.storage.lsn;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LsnTest {
    @Test
    void parsesAndFormatsLikePostgres() {
        assertThat(Lsn.parse("0/16B3748")).isEqualTo(0x16B3748L);
        assertThat(Lsn.parse("1/0")).isEqualTo(1L << 32);
        assertThat(Lsn.format(0x1_0000_00A0L)).isEqualTo("1/A0");
        assertThat(Lsn.parse(Lsn.format(0xABCDEF12_3456789AL))).isEqualTo(0xABCDEF12_3456789AL);
    }

    @Test
    void rejectsMalformedTextNamingIt() {
        for (String bad : new String[]{"", "12", "/1", "1/", "x/1", "123456789/0", "0/123456789", "-1/0", "+1/2", "1/-2",
                "\uFF10/1", "0/\uFF11", "0/\u0661"}) {
            assertThatThrownBy(() -> Lsn.parse(bad)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'" + bad + "'");
        }
    }

    @Test
    void walGeometry() {
        assertThat(Lsn.nextSegmentStart(0x1000028L)).isEqualTo(0x2000000L);
        assertThat(Lsn.segmentStart(0x1FFFFFFL)).isEqualTo(0x1000000L);
        assertThat(Lsn.pageStart(0x2001FFFL)).isEqualTo(0x2000000L);
        assertThat(Lsn.walFileName(1, Lsn.segmentNo(0x1_0300_0000L))).isEqualTo("000000010000000100000003");
    }

    @Test
    void insertPositionAfterARecordSkipsThePageHeaderAtPageAndSegmentBoundaries() {
        assertThat(Lsn.insertPositionAfter(0x16B3748L)).isEqualTo(0x16B3748L);
        assertThat(Lsn.insertPositionAfter(0x1002000L)).as("page boundary: short header").isEqualTo(0x1002018L);
        assertThat(Lsn.insertPositionAfter(0x2000000L)).as("segment boundary: long header").isEqualTo(0x2000028L);
        assertThat(Lsn.insertPositionAfter(0x1_0000_0000L)).isEqualTo(0x1_0000_0028L);
        assertThat(Lsn.insertPositionAfter(0x1001FF8L)).isEqualTo(0x1001FF8L);
    }

    @Test
    void coversWhenOnlyAPageHeaderLiesBetween() {
        assertThat(Lsn.covers(0x1000100L, 0x1000100L)).isTrue();
        assertThat(Lsn.covers(0x1000108L, 0x1000100L)).isTrue();
        assertThat(Lsn.covers(0x1000100L, 0x1000108L)).isFalse();
        assertThat(Lsn.covers(0x1002000L, 0x1002018L)).as("record ends at a page start").isTrue();
        assertThat(Lsn.covers(0x1002000L, 0x1002020L)).isFalse();
        assertThat(Lsn.covers(0x2000000L, 0x2000028L)).as("record ends at a segment start").isTrue();
        assertThat(Lsn.covers(0x2000000L, 0x2000030L)).isFalse();
        assertThat(Lsn.covers(0x1001FF8L, 0x1002018L)).as("not at a boundary").isFalse();
    }
}
