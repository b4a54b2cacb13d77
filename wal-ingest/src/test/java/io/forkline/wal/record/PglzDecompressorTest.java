package io.forkline.wal.record;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Hand-made pglz streams, per the format of PostgreSQL 15 {@code src/common/pg_lzcompress.c}. */
class PglzDecompressorTest {

    private static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        return b;
    }

    private static String decompress(byte[] src, int rawSize) {
        byte[] out = new byte[rawSize];
        int n = PglzDecompressor.decompress(src, 0, src.length, out, 0, rawSize, true);
        assertThat(n).isEqualTo(rawSize);
        return new String(out, StandardCharsets.ISO_8859_1);
    }

    @Test
    void literalsOnlyAcrossTwoControlBytes() {
        byte[] src = bytes(0x00, 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 0x00, 'I', 'J');
        assertThat(decompress(src, 10)).isEqualTo("ABCDEFGHIJ");
    }

    @Test
    void overlappingMatchRepeatsTheLastByte() {
        // item 0 literal 'a'; item 1 tag: length 7 + 3 = 10, offset 1 -> run of 'a'
        byte[] src = bytes(0x02, 'a', 0x07, 0x01);
        assertThat(decompress(src, 11)).isEqualTo("a".repeat(11));
    }

    @Test
    void extendedLengthTagAddsTheExtensionByte() {
        // literals 'x','y'; tag LLLL = 15 (length 18) + extension 100 = 118, offset 2
        byte[] src = bytes(0x04, 'x', 'y', 0x0F, 0x02, 100);
        assertThat(decompress(src, 120)).isEqualTo("xy".repeat(60));
    }

    @Test
    void twelveBitOffsetUsesTheHighNibbleOfTheFirstTagByte() {
        ByteArrayOutputStream s = new ByteArrayOutputStream();
        StringBuilder expected = new StringBuilder();
        // 296 literals (37 groups of 8) of a non-repeating pattern
        for (int g = 0; g < 37; g++) {
            s.write(0x00);
            for (int i = 0; i < 8; i++) {
                char c = (char) ('a' + (g * 8 + i) % 26 + ((g * 8 + i) / 26 % 2) * ('A' - 'a'));
                s.write(c);
                expected.append(c);
            }
        }
        // one tag: length 5 (LLLL = 2), offset 0x123 = 291 -> OOOO = 0x1, low byte 0x23
        s.write(0x01);
        s.write(0x12);
        s.write(0x23);
        int from = expected.length() - 0x123;
        expected.append(expected, from, from + 5);
        assertThat(decompress(s.toByteArray(), expected.length())).isEqualTo(expected.toString());
    }

    @Test
    void writesAtTheGivenOffsets() {
        byte[] src = bytes(0xAA, 0, 0, 0x02, 'q', 0x01, 0x01, 0xBB);
        byte[] out = new byte[10];
        int n = PglzDecompressor.decompress(src, 3, 4, out, 2, 5, true);
        assertThat(n).isEqualTo(5);
        assertThat(new String(out, 2, 5, StandardCharsets.ISO_8859_1)).isEqualTo("qqqqq");
        assertThat(out[0]).isZero();
        assertThat(out[7]).isZero();
    }

    @Test
    void corruptStreamsAreRejected() {
        byte[] out = new byte[64];
        // offset 0 (would loop forever in a naive decoder)
        assertThat(PglzDecompressor.decompress(bytes(0x02, 'a', 0x07, 0x00), 0, 4, out, 0, 11, true)).isEqualTo(-1);
        // offset reaching before the start of the output
        assertThat(PglzDecompressor.decompress(bytes(0x02, 'a', 0x07, 0x02), 0, 4, out, 0, 11, true)).isEqualTo(-1);
        // tag cut off after its first byte
        assertThat(PglzDecompressor.decompress(bytes(0x02, 'a', 0x07), 0, 3, out, 0, 11, false)).isEqualTo(-1);
        // extension byte missing
        assertThat(PglzDecompressor.decompress(bytes(0x02, 'a', 0x0F, 0x01), 0, 4, out, 0, 40, false)).isEqualTo(-1);
    }

    @Test
    void sizeMismatchFailsOnlyWhenCompletenessIsChecked() {
        byte[] src = bytes(0x02, 'a', 0x07, 0x01); // 11 bytes of output
        byte[] out = new byte[64];
        assertThat(PglzDecompressor.decompress(src, 0, src.length, out, 0, 12, true)).isEqualTo(-1);
        assertThat(PglzDecompressor.decompress(src, 0, src.length, out, 0, 12, false)).isEqualTo(11);
        // output full before the input is consumed (the tag is never read)
        assertThat(PglzDecompressor.decompress(src, 0, src.length, out, 0, 1, true)).isEqualTo(-1);
        assertThat(PglzDecompressor.decompress(src, 0, src.length, out, 0, 1, false)).isEqualTo(1);
        // a match cut short by the end of the output consumes the whole tag: complete, as in PostgreSQL
        assertThat(PglzDecompressor.decompress(src, 0, src.length, out, 0, 5, true)).isEqualTo(5);
    }
}
