package io.forkline.wal.ingest.slru;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class MultiXactDescriptorTest {
    @Test
    void constantsMatchMultixactC() {
        assertThat(MultiXactDescriptor.OFFSETS_PER_PAGE).isEqualTo(2048);
        assertThat(MultiXactDescriptor.GROUP_SIZE).isEqualTo(20);
        assertThat(MultiXactDescriptor.GROUPS_PER_PAGE).isEqualTo(409);
        assertThat(MultiXactDescriptor.MEMBERS_PER_PAGE).isEqualTo(1636);
    }

    @Test
    void offsetPositions() {
        // multi 5000: page 5000 / 2048 = 2, entry 5000 - 4096 = 904, byte 3616
        assertThat(MultiXactDescriptor.offsetPage(5000)).isEqualTo(2);
        assertThat(MultiXactDescriptor.offsetEntryByte(5000)).isEqualTo(3616);
        assertThat(MultiXactDescriptor.nextMulti(-1)).isEqualTo(1); // 0xFFFFFFFF + 1 wraps past 0
        assertThat(MultiXactDescriptor.nextMulti(7)).isEqualTo(8);
    }

    @Test
    void memberPositions() {
        // offset 10: page 0, group 10 / 4 = 2 -> flags at 40, member 10 % 4 = 2 -> shift 16, xid at 40 + 4 + 8
        assertThat(MultiXactDescriptor.memberPage(10)).isEqualTo(0);
        assertThat(MultiXactDescriptor.flagsOffset(10)).isEqualTo(40);
        assertThat(MultiXactDescriptor.flagsBitShift(10)).isEqualTo(16);
        assertThat(MultiXactDescriptor.memberOffset(10)).isEqualTo(52);
        // offset 1637: page 1637 / 1636 = 1, group 409 % 409 = 0 -> flags at 0, member 1 -> shift 8, xid at 8
        assertThat(MultiXactDescriptor.memberPage(1637)).isEqualTo(1);
        assertThat(MultiXactDescriptor.flagsOffset(1637)).isEqualTo(0);
        assertThat(MultiXactDescriptor.flagsBitShift(1637)).isEqualTo(8);
        assertThat(MultiXactDescriptor.memberOffset(1637)).isEqualTo(8);
        // last member of page 0: offset 1635 -> group 408 -> flags at 8160, xid at 8160 + 4 + 12 = 8176
        assertThat(MultiXactDescriptor.flagsOffset(1635)).isEqualTo(8160);
        assertThat(MultiXactDescriptor.memberOffset(1635)).isEqualTo(8176);
    }
}
