package io.forkline.wal.record;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.forkline.wal.testing.WalPages;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A hand-built first WAL page (long header, two records), decoded without PostgreSQL. */
class WalDecoderTest {
    private static final long SEG_START = WalPages.SEG_START;
    private static final long REC1 = WalPages.REC1;
    private static final long REC2 = WalPages.REC2;

    private static byte[] page(int firstRmid, long secondPrev) {
        return WalPages.page(firstRmid, secondPrev);
    }

    private static List<WalRecord> decodeByteByByte(WalDecoder d, byte[] page) {
        List<WalRecord> out = new ArrayList<>();
        for (int i = 0; i < page.length; i++) {
            d.feed(page, i, 1);
            for (WalRecord r = d.next(); r != null; r = d.next()) {
                out.add(r);
            }
        }
        return out;
    }

    @Test
    void decodesRecordsFedOneByteAtATime() {
        WalDecoder d = new WalDecoder(SEG_START);
        List<WalRecord> got = decodeByteByByte(d, page(21, REC1));
        assertThat(got).hasSize(2);
        WalRecord a = got.get(0);
        assertThat(a.startLsn()).isEqualTo(REC1);
        assertThat(a.endLsn()).isEqualTo(REC2);
        assertThat(a.rmid()).isEqualTo(21);
        assertThat(a.xid()).isEqualTo(7);
        assertThat(a.type()).isEqualTo(0x10);
        assertThat(new String(a.mainData(), StandardCharsets.US_ASCII)).isEqualTo("hello");
        assertThat(a.blocks()).isEmpty();
        WalRecord b = got.get(1);
        assertThat(b.startLsn()).isEqualTo(REC2);
        assertThat(b.endLsn()).isEqualTo(REC2 + 56); // MAXALIGN(51)
        assertThat(b.blocks()).singleElement().satisfies(ref -> {
            assertThat(ref.relTag()).isEqualTo(new io.forkline.storage.key.RelTag(1663, 5, 16384, 0));
            assertThat(ref.blockNo()).isEqualTo(7);
            assertThat(ref.hasImage()).isFalse();
            assertThat(new String(ref.data(), StandardCharsets.US_ASCII)).isEqualTo("abc");
        });
        assertThat(new String(b.mainData(), StandardCharsets.US_ASCII)).isEqualTo("xy");
        assertThat(d.nextRecordLsn()).isEqualTo(REC2 + 56);
        assertThat(d.position()).isEqualTo(SEG_START + 8192);
        assertThat(d.next()).isNull(); // zero-filled rest of the page: no record written yet
    }

    /**
     * Fed one byte at a time, {@link WalDecoder#hasPartialRecord()} is true exactly while a record's
     * bytes are fed but the record is not complete, false over the page header and the alignment
     * padding, and true again once bytes past the last record (the zero tail) were fed.
     */
    @Test
    void hasPartialRecordExactlyWhileARecordIsIncomplete() {
        byte[] page = page(21, REC1);
        WalDecoder d = new WalDecoder(SEG_START);
        assertThat(d.hasPartialRecord()).as("nothing fed").isFalse();
        long rec1End = REC1 + WalPages.REC1_LENGTH;
        long rec2RawEnd = REC2 + WalPages.REC2_LENGTH;
        int records = 0;
        for (int i = 0; i < page.length; i++) {
            d.feed(page, i, 1);
            while (d.next() != null) {
                records++;
            }
            long fed = d.position();
            boolean expected = (fed > REC1 && fed < rec1End) || (fed > REC2 && fed < rec2RawEnd)
                    || fed > WalPages.REC2_END;
            assertThat(d.hasPartialRecord()).as("partial record after feeding up to 0x%s", Long.toHexString(fed))
                    .isEqualTo(expected);
        }
        assertThat(records).isEqualTo(2);
    }

    @Test
    void hasPartialRecordAtARecordStartInsideAPage() {
        byte[] page = page(21, REC1);
        WalDecoder d = new WalDecoder(REC2);
        assertThat(d.hasPartialRecord()).isFalse();
        d.feed(page, (int) (REC2 - SEG_START), 3);
        assertThat(d.next()).isNull();
        assertThat(d.hasPartialRecord()).as("3 bytes of a record header").isTrue();
        d.feed(page, (int) (REC2 - SEG_START) + 3, WalPages.REC2_LENGTH - 3);
        assertThat(d.next()).isNotNull();
        assertThat(d.hasPartialRecord()).as("record complete, padding not fed yet").isFalse();
    }

    @Test
    void hasPartialRecordIsRefusedAfterAFailure() {
        WalDecoder d = new WalDecoder(SEG_START);
        assertThatThrownBy(() -> decodeByteByByte(d, page(99, REC1))).isInstanceOf(WalDecodeException.class);
        assertThatThrownBy(d::hasPartialRecord).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void startsAtARecordInsideThePage() {
        byte[] page = page(21, REC1);
        WalDecoder d = new WalDecoder(REC2);
        d.feed(page, (int) (REC2 - SEG_START), 8192 - (int) (REC2 - SEG_START));
        WalRecord r = d.next();
        assertThat(r.startLsn()).isEqualTo(REC2);
        assertThat(d.next()).isNull();
    }

    @Test
    void invalidResourceManagerIsRejectedWithTheRecordLsn() {
        WalDecoder d = new WalDecoder(SEG_START);
        assertThatThrownBy(() -> decodeByteByByte(d, page(99, REC1)))
                .isInstanceOf(WalDecodeException.class)
                .hasMessageContaining("invalid resource manager ID 99")
                .hasMessageContaining("0/1000028");
        assertThatThrownBy(d::next).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> d.feed(new byte[1], 0, 1)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void wrongPrevLinkIsRejected() {
        assertThatThrownBy(() -> decodeByteByByte(new WalDecoder(SEG_START), page(21, REC1 - 8)))
                .isInstanceOf(WalDecodeException.class)
                .hasMessageContaining("incorrect prev-link 0/1000020")
                .hasMessageContaining("0/1000048");
    }

    @Test
    void badMagicIsRejectedWithThePageLsn() {
        byte[] page = page(21, REC1);
        page[0] = 0x11;
        WalDecoder d = new WalDecoder(SEG_START);
        d.feed(page, 0, page.length);
        assertThatThrownBy(d::next).isInstanceOf(WalDecodeException.class)
                .hasMessageContaining("invalid magic number D111")
                .hasMessageContaining("0/1000000")
                .satisfies(e -> assertThat(((WalDecodeException) e).lsn()).isEqualTo(SEG_START));
    }

    @Test
    void rejectsStartPositionsThatCannotBeRecordStarts() {
        assertThatThrownBy(() -> new WalDecoder(SEG_START + 16)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0/1000010");
        assertThatThrownBy(() -> new WalDecoder(REC1 + 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new WalDecoder(SEG_START + 8192 + 8)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void feedAtAnotherLsnIsRejectedUnlessSkippingASwitchTail() {
        WalDecoder d = new WalDecoder(SEG_START);
        assertThatThrownBy(() -> d.feed(SEG_START + 8, new byte[1], 0, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0/1000008").hasMessageContaining("0/1000000");
    }
}
