package io.forkline.wal.record;

/**
 * Decompressor for PostgreSQL's pglz format, as written by {@code pglz_compress} and read by
 * {@code pglz_decompress} (PostgreSQL 15 {@code src/common/pg_lzcompress.c}); used for full-page
 * images with {@code BKPIMAGE_COMPRESS_PGLZ}.
 *
 * <p>Format: a sequence of groups, each a control byte followed by up to 8 items; bit {@code i}
 * (least significant first) of the control byte describes item {@code i}:
 * <pre>
 *  bit 0: literal     | byte |                         copied to the output
 *  bit 1: match tag   | OOOO LLLL | oooooooo | [ext] |  length = LLLL + 3 (3..17), or when
 *                                                      LLLL = 15 (length 18) plus ext (0..255);
 *                                                      offset = OOOO oooooooo (1..4095) back from
 *                                                      the current output position; the copy
 *                                                      may overlap its own output (run-length).
 * </pre>
 * The stream ends when the input is exhausted or {@code rawSize} bytes were produced. Stateless
 * and thread-safe; allocates nothing.
 */
public final class PglzDecompressor {
    private PglzDecompressor() {
    }

    /**
     * Decompresses {@code src[srcOff, srcOff + srcLen)} into {@code dst[dstOff, dstOff + rawSize)}.
     *
     * @param checkComplete as PostgreSQL's {@code check_complete}: when true, succeed only if the
     *                      input was consumed exactly and exactly {@code rawSize} bytes were produced
     *                      (what {@code RestoreBlockImage} demands)
     * @return the number of bytes written to {@code dst}, or -1 when the input is corrupt (a tag
     * that runs past the input, an offset of 0 or reaching before the output's start) or, with
     * {@code checkComplete}, when the sizes do not match
     * @throws IndexOutOfBoundsException when the given ranges do not fit the arrays
     */
    public static int decompress(byte[] src, int srcOff, int srcLen, byte[] dst, int dstOff, int rawSize,
                                 boolean checkComplete) {
        java.util.Objects.checkFromIndexSize(srcOff, srcLen, src.length);
        java.util.Objects.checkFromIndexSize(dstOff, rawSize, dst.length);
        int sp = srcOff;
        final int srcEnd = srcOff + srcLen;
        int dp = dstOff;
        final int dstEnd = dstOff + rawSize;
        while (sp < srcEnd && dp < dstEnd) {
            int ctrl = src[sp++] & 0xFF;
            for (int item = 0; item < 8 && sp < srcEnd && dp < dstEnd; item++) {
                if ((ctrl & 1) != 0) {
                    if (sp + 2 > srcEnd) {
                        return -1;
                    }
                    int b0 = src[sp] & 0xFF;
                    int len = (b0 & 0x0F) + 3;
                    int off = ((b0 & 0xF0) << 4) | (src[sp + 1] & 0xFF);
                    sp += 2;
                    if (len == 18) {
                        if (sp >= srcEnd) {
                            return -1;
                        }
                        len += src[sp++] & 0xFF;
                    }
                    if (off == 0 || off > dp - dstOff) {
                        return -1;
                    }
                    len = Math.min(len, dstEnd - dp);
                    copyMatch(dst, dp, off, len);
                    dp += len;
                } else {
                    dst[dp++] = src[sp++];
                }
                ctrl >>>= 1;
            }
        }
        if (checkComplete && (dp != dstEnd || sp != srcEnd)) {
            return -1;
        }
        return dp - dstOff;
    }

    /** Copies {@code len} bytes from {@code off} bytes back, repeating the pattern when they overlap. */
    private static void copyMatch(byte[] dst, int dp, int off, int len) {
        // Each copy reads only bytes already written: chunks of at most 'off' bytes never overlap
        // their source; after each chunk the repeating pattern is twice as long.
        while (off < len) {
            System.arraycopy(dst, dp - off, dst, dp, off);
            dp += off;
            len -= off;
            off += off;
        }
        System.arraycopy(dst, dp - off, dst, dp, len);
    }
}
