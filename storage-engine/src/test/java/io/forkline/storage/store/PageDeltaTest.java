package io.forkline.storage.store;

import io.forkline.storage.id.TimelineId;
import io.forkline.storage.key.Key;
import io.forkline.storage.key.RelTag;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The {@link PageDelta} codec. */
class PageDeltaTest {
    private static byte[] randomPage(Random rnd) {
        byte[] p = new byte[PageDelta.PAGE_SIZE];
        rnd.nextBytes(p);
        return p;
    }

    /** {@code base} with {@code runs} runs of 1..{@code maxRun} changed bytes at random places. */
    private static byte[] changed(Random rnd, byte[] base, int runs, int maxRun) {
        byte[] p = base.clone();
        for (int r = 0; r < runs; r++) {
            int len = 1 + rnd.nextInt(maxRun);
            int at = rnd.nextInt(PageDelta.PAGE_SIZE - len + 1);
            for (int i = at; i < at + len; i++) {
                p[i] = (byte) (p[i] + 1 + rnd.nextInt(255));
            }
        }
        return p;
    }

    @Test
    void roundTripsSmallChangesCompactly() {
        Random rnd = new Random(1);
        for (int n = 0; n < 2000; n++) {
            byte[] base = rnd.nextBoolean() ? randomPage(rnd) : new byte[PageDelta.PAGE_SIZE];
            int runs = rnd.nextInt(20);
            byte[] page = changed(rnd, base, runs, 1 + rnd.nextInt(120));
            byte[] d = PageDelta.encode(base, 0x1_0000_0028L + n, page, TimelineWriter.MAX_DELTA_BYTES);
            assertThat(d).as("delta of %d runs", runs).isNotNull();
            assertThat(PageDelta.isDelta(d)).isTrue();
            assertThat(PageDelta.baseLsn(d)).isEqualTo(0x1_0000_0028L + n);
            assertThat(d.length).isNotEqualTo(PageDelta.PAGE_SIZE).isLessThanOrEqualTo(TimelineWriter.MAX_DELTA_BYTES);
            assertThat(PageDelta.decode(base, d)).isEqualTo(page);
        }
    }

    /** The encoder as first written (one byte at a time): the word-at-a-time scan must emit exactly its ops. */
    private static byte[] referenceEncode(byte[] base, long baseLsn, byte[] page, int maxBytes) {
        java.io.ByteArrayOutputStream ops = new java.io.ByteArrayOutputStream();
        int pos = 0;
        while (pos < PageDelta.PAGE_SIZE) {
            int rel = Arrays.mismatch(base, pos, PageDelta.PAGE_SIZE, page, pos, PageDelta.PAGE_SIZE);
            if (rel < 0) {
                break;
            }
            int start = pos + rel;
            int end = start + 1;
            int equal = 0;
            for (int i = end; i < PageDelta.PAGE_SIZE && equal < PageDelta.MIN_GAP; i++) {
                if (base[i] == page[i]) {
                    equal++;
                } else {
                    equal = 0;
                    end = i + 1;
                }
            }
            for (int v : new int[]{start - pos, end - start}) {
                while (v >= 0x80) {
                    ops.write(v | 0x80);
                    v >>>= 7;
                }
                ops.write(v);
            }
            ops.write(page, start, end - start);
            pos = end;
        }
        if (PageDelta.HEADER_LENGTH + ops.size() > maxBytes) {
            return null;
        }
        byte[] d = new byte[PageDelta.HEADER_LENGTH + ops.size()];
        byte[] header = PageDelta.encode(base, baseLsn, base, maxBytes); // header only: identical pages
        System.arraycopy(header, 0, d, 0, PageDelta.HEADER_LENGTH);
        System.arraycopy(ops.toByteArray(), 0, d, PageDelta.HEADER_LENGTH, ops.size());
        return d;
    }

    @Test
    void emitsExactlyTheOpsOfTheByteByByteScan() {
        Random rnd = new Random(11);
        for (int n = 0; n < 3000; n++) {
            byte[] base = switch (n % 3) {
                case 0 -> randomPage(rnd);
                case 1 -> new byte[PageDelta.PAGE_SIZE];
                default -> { // sparse: zeros with scattered small values, as heap tuples and free space look
                    byte[] p = new byte[PageDelta.PAGE_SIZE];
                    for (int i = 0; i < p.length; i++) {
                        p[i] = rnd.nextInt(3) == 0 ? (byte) rnd.nextInt(4) : 0;
                    }
                    yield p;
                }
            };
            byte[] page = base.clone();
            int runs = rnd.nextInt(40);
            for (int r = 0; r < runs; r++) { // runs whose bytes sometimes stay equal (gaps of 0..9 bytes)
                int len = 1 + rnd.nextInt(rnd.nextBoolean() ? 16 : 600);
                int at = rnd.nextInt(PageDelta.PAGE_SIZE - len + 1);
                for (int i = at; i < at + len; i++) {
                    if (rnd.nextInt(5) != 0) {
                        page[i] = (byte) (page[i] + 1 + rnd.nextInt(255));
                    }
                }
            }
            int max = rnd.nextBoolean() ? TimelineWriter.MAX_DELTA_BYTES : PageDelta.PAGE_SIZE - 1;
            byte[] expected = referenceEncode(base, 42, page, max);
            byte[] actual = PageDelta.encode(base, 42, page, max);
            assertThat(actual).as("delta %d", n).isEqualTo(expected);
            if (actual != null) {
                assertThat(PageDelta.decode(base, actual)).isEqualTo(page);
            }
        }
    }

    @Test
    void identicalPageIsTheHeaderAlone() {
        byte[] base = randomPage(new Random(2));
        byte[] d = PageDelta.encode(base, 7, base.clone(), 100);
        assertThat(d).hasSize(PageDelta.HEADER_LENGTH);
        assertThat(PageDelta.decode(base, d)).isEqualTo(base);
    }

    @Test
    void changesAtBothEndsOfThePage() {
        byte[] base = new byte[PageDelta.PAGE_SIZE];
        byte[] page = base.clone();
        page[0] = 1;
        page[PageDelta.PAGE_SIZE - 1] = 2;
        byte[] d = PageDelta.encode(base, 7, page, 100);
        // header, op (0 skip, 1 byte), op (8190 skip: 2-byte varint, 1 byte)
        assertThat(d).hasSize(PageDelta.HEADER_LENGTH + 3 + 4);
        assertThat(PageDelta.decode(base, d)).isEqualTo(page);
    }

    @Test
    void worstCaseGivesUpSoTheFullImageIsStored() {
        Random rnd = new Random(3);
        byte[] base = randomPage(rnd);
        byte[] other = randomPage(rnd);
        assertThat(PageDelta.encode(base, 7, other, TimelineWriter.MAX_DELTA_BYTES)).isNull();
        // even with the largest allowed bound the delta never reaches the page size
        assertThat(PageDelta.encode(base, 7, other, PageDelta.PAGE_SIZE - 1)).isNull();
        // every byte changed would need 8192 bytes + header: never encodable
        byte[] flipped = base.clone();
        for (int i = 0; i < flipped.length; i++) {
            flipped[i] ^= (byte) 0xFF;
        }
        assertThat(PageDelta.encode(base, 7, flipped, PageDelta.PAGE_SIZE - 1)).isNull();
    }

    @Test
    void lengthIsNeverThePageSize() {
        Random rnd = new Random(4);
        for (int n = 0; n < 500; n++) {
            byte[] base = randomPage(rnd);
            byte[] page = changed(rnd, base, 1 + rnd.nextInt(200), 1 + rnd.nextInt(100));
            byte[] d = PageDelta.encode(base, 9, page, PageDelta.PAGE_SIZE - 1);
            if (d != null) {
                assertThat(d.length).isLessThan(PageDelta.PAGE_SIZE);
                assertThat(PageDelta.decode(base, d)).isEqualTo(page);
            }
        }
        assertThatThrownBy(() -> PageDelta.encode(new byte[8192], 1, new byte[8192], PageDelta.PAGE_SIZE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("8192");
        assertThatThrownBy(() -> PageDelta.encode(new byte[8192], 1, new byte[100], 4096))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("page 100");
    }

    @Test
    void fullImagesAndOtherValuesAreNotDeltas() {
        byte[] d = PageDelta.encode(new byte[8192], 5, new byte[8192], 100);
        byte[] fullWithMagic = new byte[PageDelta.PAGE_SIZE];
        System.arraycopy(d, 0, fullWithMagic, 0, d.length);
        assertThat(PageDelta.isDelta(fullWithMagic)).isFalse();
        assertThat(PageDelta.isDelta(new byte[0])).isFalse();
        assertThat(PageDelta.isDelta(Arrays.copyOf(d, 11))).isFalse();
        assertThat(PageDelta.isDelta(new byte[100])).isFalse();
        assertThat(PageDelta.isCandidate(Key.relBlock(new RelTag(1663, 5, 16384, 0), 3))).isTrue();
        assertThat(PageDelta.isCandidate(Key.slruPage(Key.SLRU_CLOG, 0))).isTrue();
        assertThat(PageDelta.isCandidate(Key.relSize(new RelTag(1663, 5, 16384, 0)))).isFalse();
        assertThat(PageDelta.isCandidate(Key.twoPhase(100))).isFalse();
    }

    @Test
    void corruptDeltasAreRefusedWithTheOffset() {
        byte[] base = new byte[PageDelta.PAGE_SIZE];
        byte[] page = base.clone();
        page[100] = 1;
        byte[] d = PageDelta.encode(base, 5, page, 100);
        byte[] truncated = Arrays.copyOf(d, d.length - 1); // the op's byte is missing
        assertThatThrownBy(() -> PageDelta.decode(base, truncated))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("corrupt page delta");
        byte[] pastPage = Arrays.copyOf(d, d.length + 3);
        pastPage[d.length] = (byte) 0xFF; // skip 16383
        pastPage[d.length + 1] = 0x7F;
        pastPage[d.length + 2] = 0;
        assertThatThrownBy(() -> PageDelta.decode(base, pastPage))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("skip 16383");
    }

    @Test
    void decodeIntoRebuildsInPlaceAndAScratchBufferGivesTheSameDelta() {
        Random rnd = new Random(3);
        byte[] scratch = new byte[TimelineWriter.MAX_DELTA_BYTES];
        for (int n = 0; n < 200; n++) {
            byte[] base = randomPage(rnd);
            byte[] page = changed(rnd, base, 1 + rnd.nextInt(10), 1 + rnd.nextInt(60));
            TimelineId ancestor = rnd.nextBoolean() ? null : TimelineId.generate();
            byte[] d = PageDelta.encode(base, 40 + n, ancestor, page, TimelineWriter.MAX_DELTA_BYTES);
            byte[] viaScratch = PageDelta.encode(base, 40 + n, ancestor, page, TimelineWriter.MAX_DELTA_BYTES, scratch);
            assertThat(viaScratch).isEqualTo(d).isNotSameAs(scratch);
            assertThat(PageDelta.hasAncestorBase(viaScratch)).isEqualTo(ancestor != null);
            byte[] own = base.clone();
            assertThat(PageDelta.decodeInto(own, viaScratch)).isSameAs(own).isEqualTo(page);
            assertThat(PageDelta.decode(base, d)).isEqualTo(page).isNotSameAs(base);
        }
    }

    @Test
    void isDeltaFromAHeaderPrefix() {
        byte[] base = new byte[PageDelta.PAGE_SIZE];
        byte[] page = base.clone();
        page[100] = 1;
        byte[] d = PageDelta.encode(base, 0x1234, page, 100);
        byte[] prefix = Arrays.copyOf(d, PageDelta.HEADER_LENGTH);
        assertThat(PageDelta.isDelta(prefix, d.length)).isTrue();
        assertThat(PageDelta.baseLsn(prefix)).isEqualTo(0x1234);
        assertThat(PageDelta.hasAncestorBase(prefix)).isFalse();
        assertThat(PageDelta.isDelta(prefix, PageDelta.PAGE_SIZE)).as("an 8192-byte value is a full image").isFalse();
        assertThat(PageDelta.isDelta(new byte[PageDelta.HEADER_LENGTH], d.length)).isFalse();
    }
}
