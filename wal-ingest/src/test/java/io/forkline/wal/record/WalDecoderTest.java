package io.forkline.wal.record;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/** A hand-built first WAL page (long header, two records), decoded without PostgreSQL. */
class WalDecoderTest {
    private static final long SEG_START = 0x1000000L;
    private static final long REC1 = SEG_START + 40;
    private static final long REC2 = REC1 + 32;

    /** A page with records {@code [rmid 21, 5 bytes main data]} and {@code [1 block with data, 2 bytes main]}. */
    private static byte[] page(int firstRmid, long secondPrev) {
        ByteBuffer b = ByteBuffer.allocate(8192).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort((short) 0xD110).putShort((short) XLogPageHeaderDescriptor.XLP_LONG_HEADER).putInt(1)
                .putLong(SEG_START).putInt(0).putInt(0).putLong(123456789L).putInt(16 * 1024 * 1024).putInt(8192);
        // record 1: header + DATA_SHORT(5) + "hello"
        record(b, (int) (REC1 - SEG_START), 7, 0x0FFFFF0L, 0x10, firstRmid,
                new byte[] {(byte) 255, 5, 'h', 'e', 'l', 'l', 'o'});
        ByteBuffer frag = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        frag.put((byte) 0).put((byte) XLogRecordBlockDescriptor.BKPBLOCK_HAS_DATA).putShort((short) 3)
                .putInt(1663).putInt(5).putInt(16384).putInt(7)
                .put((byte) 255).put((byte) 2).put("abc".getBytes(StandardCharsets.US_ASCII))
                .put("xy".getBytes(StandardCharsets.US_ASCII));
        byte[] f = new byte[frag.position()];
        frag.flip().get(f);
        record(b, (int) (REC2 - SEG_START), 8, secondPrev, 0x00, 10, f);
        return b.array();
    }

    private static void record(ByteBuffer b, int off, int xid, long prev, int info, int rmid, byte[] payload) {
        int tot = 24 + payload.length;
        b.position(off);
        b.putInt(tot).putInt(xid).putLong(prev).put((byte) info).put((byte) rmid).putShort((short) 0).putInt(0);
        b.put(payload);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), off + 24, payload.length);
        crc.update(b.array(), off, 20);
        b.putInt(off + 20, (int) crc.getValue());
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
