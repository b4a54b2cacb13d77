package io.forkline.wal.ingest.slru;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ClogDescriptorTest {
    @Test
    void positionsMatchClogMacros() {
        // CLOG_XACTS_PER_PAGE = 8192 * 4 = 32768
        assertThat(ClogDescriptor.XACTS_PER_PAGE).isEqualTo(32768);
        // xid 100000: page 100000 / 32768 = 3, index 100000 - 98304 = 1696, byte 1696 / 4 = 424, bit 0
        assertThat(ClogDescriptor.page(100000)).isEqualTo(3);
        assertThat(ClogDescriptor.byteInPage(100000)).isEqualTo(424);
        assertThat(ClogDescriptor.bitShift(100000)).isEqualTo(0);
        // xid 32771: page 1, index 3, byte 0, bit shift 3 * 2 = 6
        assertThat(ClogDescriptor.page(32771)).isEqualTo(1);
        assertThat(ClogDescriptor.byteInPage(32771)).isEqualTo(0);
        assertThat(ClogDescriptor.bitShift(32771)).isEqualTo(6);
        // xid 0xFFFFFFFF (unsigned): page 131071, byte 8191, shift 6
        assertThat(ClogDescriptor.page(-1)).isEqualTo(131071);
        assertThat(ClogDescriptor.byteInPage(-1)).isEqualTo(8191);
        assertThat(ClogDescriptor.bitShift(-1)).isEqualTo(6);
    }

    @Test
    void setStatusTouchesOnlyTwoBits() {
        byte[] page = new byte[8192];
        page[1] = (byte) 0xFF;
        ClogDescriptor.setStatus(page, 5, ClogDescriptor.STATUS_ABORTED); // byte 1, shift 2
        assertThat(page[1] & 0xFF).isEqualTo(0b1111_1011);
        ClogDescriptor.setStatus(page, 7, ClogDescriptor.STATUS_COMMITTED); // byte 1, shift 6
        assertThat(page[1] & 0xFF).isEqualTo(0b0111_1011);
        assertThat(ClogDescriptor.status(page, 5)).isEqualTo(ClogDescriptor.STATUS_ABORTED);
        assertThat(ClogDescriptor.status(page, 7)).isEqualTo(ClogDescriptor.STATUS_COMMITTED);
        assertThat(ClogDescriptor.status(page, 4)).isEqualTo(3);
    }
}
