package io.forkline.wal.ingest.vm;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class FreeSpaceMapDescriptorTest {
    @Test
    void constantsMatchFsmInternals() {
        assertThat(FreeSpaceMapDescriptor.NODES_PER_PAGE).isEqualTo(8164);
        assertThat(FreeSpaceMapDescriptor.NON_LEAF_NODES_PER_PAGE).isEqualTo(4095);
        assertThat(FreeSpaceMapDescriptor.SLOTS_PER_PAGE).isEqualTo(4069);
    }

    @Test
    void logicalToPhysical() {
        // leaf 0 sits after the root (0) and the first level-1 page (1)
        assertThat(FreeSpaceMapDescriptor.physicalBlock(0)).isEqualTo(2);
        assertThat(FreeSpaceMapDescriptor.physicalBlock(1)).isEqualTo(3);
        // leaf 4069 starts a new level-1 subtree: 4070 leaves + 2 level-1 pages + root - 1
        assertThat(FreeSpaceMapDescriptor.physicalBlock(4069)).isEqualTo(4072);
        assertThat(FreeSpaceMapDescriptor.truncatedBlocks(0)).isEqualTo(2);
        assertThat(FreeSpaceMapDescriptor.truncatedBlocks(10)).isEqualTo(3);
        assertThat(FreeSpaceMapDescriptor.truncatedBlocks(4069)).isEqualTo(3);
    }

    @Test
    void truncateAvailRebuildsTree() {
        byte[] page = new byte[8192];
        int leaves = FreeSpaceMapDescriptor.NODES_OFFSET + FreeSpaceMapDescriptor.NON_LEAF_NODES_PER_PAGE;
        page[leaves] = 5;
        page[leaves + 3] = 9;
        page[FreeSpaceMapDescriptor.NODES_OFFSET] = 9; // root
        assertThat(FreeSpaceMapDescriptor.truncateAvail(page, 2)).isTrue();
        assertThat(page[leaves + 3]).isZero();
        assertThat(page[FreeSpaceMapDescriptor.NODES_OFFSET]).isEqualTo((byte) 5);
        assertThat(FreeSpaceMapDescriptor.truncateAvail(page, 2)).isFalse();
    }
}
