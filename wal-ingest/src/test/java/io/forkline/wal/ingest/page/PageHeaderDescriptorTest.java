package io.forkline.wal.ingest.page;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class PageHeaderDescriptorTest {
    @Test
    void lsnIsStoredAsXlogidThenXrecoffLittleEndian() {
        byte[] page = new byte[8192];
        PageHeaderDescriptor.setLsn(page, 0x0000000112345678L);
        assertThat(page).startsWith(1, 0, 0, 0, 0x78, 0x56, 0x34, 0x12);
        assertThat(PageHeaderDescriptor.lsn(page)).isEqualTo(0x0000000112345678L);
    }

    @Test
    void newPagesGetNoChecksum() {
        byte[] page = new byte[8192];
        assertThat(PageHeaderDescriptor.isNew(page)).isTrue();
        PageChecksum.setInPlace(page, 3);
        assertThat(PageHeaderDescriptor.checksum(page)).isZero();
        page[14] = 0x40; // pd_upper = 64
        PageChecksum.setInPlace(page, 3);
        int c = PageHeaderDescriptor.checksum(page);
        assertThat(c).isBetween(1, 65535).isEqualTo(PageChecksum.compute(page, 3));
        assertThat(PageChecksum.compute(page, 4)).isNotEqualTo(c); // block number is mixed in
    }
}
