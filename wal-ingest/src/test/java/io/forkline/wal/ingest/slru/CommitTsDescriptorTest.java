package io.forkline.wal.ingest.slru;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link CommitTsDescriptor} against values worked out by hand from commit_ts.c's macros:
 * {@code SizeOfCommitTimestampEntry = offsetof(CommitTimestampEntry, nodeid) + sizeof(RepOriginId) = 8 + 2},
 * {@code COMMIT_TS_XACTS_PER_PAGE = 8192 / 10 = 819}, {@code TransactionIdToCTsPage(xid) = xid / 819},
 * {@code TransactionIdToCTsEntry(xid) = xid % 819}, {@code SLRU_PAGES_PER_SEGMENT = 32}, file name
 * {@code %04X} of the segment.
 */
class CommitTsDescriptorTest {
    @Test
    void entriesAreTenBytesAndAPageHolds819() {
        assertThat(CommitTsDescriptor.ENTRY_SIZE).isEqualTo(10);
        assertThat(CommitTsDescriptor.XACTS_PER_PAGE).isEqualTo(819);
        // 819 * 10 = 8190: the last 2 bytes of every page are unused
        assertThat(CommitTsDescriptor.entryOffset(818)).isEqualTo(8180);
    }

    @Test
    void xidToPageEntryAndSegment() {
        assertThat(CommitTsDescriptor.page(3)).isZero();
        assertThat(CommitTsDescriptor.entry(3)).isEqualTo(3);
        assertThat(CommitTsDescriptor.page(818)).isZero();
        assertThat(CommitTsDescriptor.page(819)).isEqualTo(1);
        assertThat(CommitTsDescriptor.entry(819)).isZero();
        // 819 * 122 = 99918: xid 100000 is entry 82 of page 122, in segment 3 (pages 96..127)
        assertThat(CommitTsDescriptor.page(100_000)).isEqualTo(122);
        assertThat(CommitTsDescriptor.entryOffset(100_000)).isEqualTo(820);
        assertThat(CommitTsDescriptor.segment(122)).isEqualTo(3);
        // 819 * 32 = 26208 xids per segment: xid 26207 is the last of segment 0, 26208 the first of segment 1
        assertThat(CommitTsDescriptor.segment(CommitTsDescriptor.page(26_207))).isZero();
        assertThat(CommitTsDescriptor.segment(CommitTsDescriptor.page(26_208))).isEqualTo(1);
    }

    @Test
    void highestXidIsOnAPartialLastSegmentWithAFiveDigitName() {
        // 0xFFFFFFFF = 4294967295 = 819 * 5244160 + 255
        assertThat(CommitTsDescriptor.page(0xFFFF_FFFF)).isEqualTo(5_244_160).isEqualTo(CommitTsDescriptor.LAST_PAGE);
        assertThat(CommitTsDescriptor.entry(0xFFFF_FFFF)).isEqualTo(255);
        // 5244160 / 32 = 163880 = 0x28028
        assertThat(CommitTsDescriptor.LAST_SEGMENT).isEqualTo(163_880);
        assertThat(String.format("%04X", CommitTsDescriptor.LAST_SEGMENT)).isEqualTo("28028");
        // xid 2^31 (unsigned) stays a positive page number: 2147483648 / 819 = 2622080
        assertThat(CommitTsDescriptor.page(Integer.MIN_VALUE)).isEqualTo(2_622_080);
    }

    @Test
    void entryIsLittleEndianTimeThenOrigin() {
        byte[] page = new byte[8192];
        CommitTsDescriptor.setEntry(page, 820, 0x0102030405060708L, 0xABCD);
        // xid 820: entry 1 of page 1, bytes 10..19
        assertThat(java.util.Arrays.copyOfRange(page, 10, 20)).containsExactly(
                0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0xCD, 0xAB);
        assertThat(CommitTsDescriptor.time(page, 820)).isEqualTo(0x0102030405060708L);
        assertThat(CommitTsDescriptor.nodeId(page, 820)).isEqualTo(0xABCD);
        assertThat(page[9]).isZero();
        assertThat(page[20]).isZero();
    }

    @Test
    void pagePrecedesWrapsLikeCommitTsPagePrecedes() {
        assertThat(CommitTsDescriptor.pagePrecedes(0, 1)).isTrue();
        assertThat(CommitTsDescriptor.pagePrecedes(1, 0)).isFalse();
        assertThat(CommitTsDescriptor.pagePrecedes(5, 5)).isFalse();
        // the last page's xids (819 * 5244160 + 4 = 4294967044) precede page 0's (4) modulo 2^32
        assertThat(CommitTsDescriptor.pagePrecedes(CommitTsDescriptor.LAST_PAGE, 0)).isTrue();
        assertThat(CommitTsDescriptor.pagePrecedes(0, CommitTsDescriptor.LAST_PAGE)).isFalse();
        // a segment is removable when all of it precedes the cutoff segment
        assertThat(CommitTsDescriptor.mayDeleteSegment(0, 32)).isTrue();
        assertThat(CommitTsDescriptor.mayDeleteSegment(32, 32)).isFalse();
        assertThat(CommitTsDescriptor.mayDeleteSegment(64, 32)).isFalse();
    }

    @Test
    void segmentsBetweenWrapsAfterTheLastSegment() {
        assertThat(CommitTsDescriptor.segmentsBetween(0, 0)).containsExactly(0);
        assertThat(CommitTsDescriptor.segmentsBetween(31, 96)).containsExactly(0, 1, 2, 3);
        assertThat(CommitTsDescriptor.segmentsBetween(CommitTsDescriptor.LAST_PAGE - 40, 33))
                .containsExactly(163_878, 163_879, 163_880, 0, 1);
    }
}
