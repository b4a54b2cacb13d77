package io.forkline.wal.ingest.vm;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class VisibilityMapDescriptorTest {
    @Test
    void positionsMatchVisibilitymapMacros() {
        assertThat(VisibilityMapDescriptor.MAP_SIZE).isEqualTo(8168);
        assertThat(VisibilityMapDescriptor.HEAPBLOCKS_PER_PAGE).isEqualTo(32672);
        assertThat(VisibilityMapDescriptor.mapBlock(10)).isEqualTo(0);
        assertThat(VisibilityMapDescriptor.mapByte(10)).isEqualTo(2);
        assertThat(VisibilityMapDescriptor.mapOffset(10)).isEqualTo(4);
        assertThat(VisibilityMapDescriptor.mapBlock(32673)).isEqualTo(1);
        assertThat(VisibilityMapDescriptor.mapByte(32673)).isEqualTo(0);
        assertThat(VisibilityMapDescriptor.mapOffset(32673)).isEqualTo(2);
    }

    @Test
    void clearOnlyTheRequestedBits() {
        byte[] page = new byte[8192];
        page[24 + 2] = (byte) 0xFF; // heap blocks 8..11 all-visible and all-frozen
        assertThat(VisibilityMapDescriptor.clear(page, 10, VisibilityMapDescriptor.ALL_FROZEN)).isTrue();
        assertThat(page[26] & 0xFF).isEqualTo(0b1101_1111);
        assertThat(VisibilityMapDescriptor.clear(page, 10, VisibilityMapDescriptor.VALID_BITS)).isTrue();
        assertThat(page[26] & 0xFF).isEqualTo(0b1100_1111);
        assertThat(VisibilityMapDescriptor.clear(page, 10, VisibilityMapDescriptor.VALID_BITS)).isFalse();
        assertThat(VisibilityMapDescriptor.status(page, 11)).isEqualTo(3);
    }

    @Test
    void truncateKeepsPartialPageAndClearsTail() {
        assertThat(VisibilityMapDescriptor.truncatedMapBlocks(0)).isEqualTo(0);
        assertThat(VisibilityMapDescriptor.truncatedMapBlocks(5)).isEqualTo(1);
        assertThat(VisibilityMapDescriptor.truncatedMapBlocks(32672)).isEqualTo(1);
        assertThat(VisibilityMapDescriptor.truncatedMapBlocks(32673)).isEqualTo(2);
        byte[] page = new byte[8192];
        java.util.Arrays.fill(page, 24, 8192, (byte) 0xFF);
        // keep heap blocks 0..4: byte 1 keeps bits of block 4 only (offset 2 -> mask 0b11)
        assertThat(VisibilityMapDescriptor.clearTail(page, 5)).isTrue();
        assertThat(page[24] & 0xFF).isEqualTo(0xFF);
        assertThat(page[25] & 0xFF).isEqualTo(0x03);
        assertThat(page[26]).isZero();
        assertThat(page[8191]).isZero();
    }
}
