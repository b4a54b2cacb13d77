package io.forkline.wal.redo;

import java.util.Arrays;

/**
 * GIN's compressed posting lists ({@code src/backend/access/gin/ginpostinglist.c} of PostgreSQL 15):
 * the varbyte codec, segment walking and the merge that {@code ADDITEMS} redo needs.
 *
 * <p>Item pointers are passed around as {@code long} TIDs: {@code (blockNumber << 16) | offsetNumber}
 * with the block number unsigned, so that comparing two TIDs as longs is
 * {@code ginCompareItemPointers}. A segment ({@code GinPostingList}) is, little-endian:
 * <pre>
 *   first   ItemPointerData: bi_hi(2) bi_lo(2) ip_posid(2)   the first item, unpacked
 *   nbytes  uint16                                           varbyte bytes that follow
 *   bytes   nbytes deltas, then one zero padding byte when nbytes is odd
 * </pre>
 * so a segment takes {@code 8 + SHORTALIGN(nbytes)} bytes ({@code SizeOfGinPostingList}). Each
 * delta is the difference of consecutive items as 43-bit integers ({@code block << 11 | offset}),
 * 7 bits per byte, low bits first, high bit = continuation; the 6th byte carries 8 bits.
 */
public final class GinPostingList {
    /** {@code offsetof(GinPostingList, bytes)}. */
    public static final int HEADER_SIZE = 8;
    /** {@code MaxHeapTuplesPerPageBits}. */
    static final int OFFSET_BITS = 11;

    private GinPostingList() {
    }

    /** A TID from its block number (unsigned) and offset number. */
    public static long tid(int block, int offset) {
        return (Integer.toUnsignedLong(block) << 16) | (offset & 0xFFFF);
    }

    /** The block number of {@code tid}. */
    public static int block(long tid) {
        return (int) (tid >>> 16);
    }

    /** The offset number of {@code tid}. */
    public static int offset(long tid) {
        return (int) (tid & 0xFFFF);
    }

    /** Reads an {@code ItemPointerData} (6 bytes: bi_hi, bi_lo, ip_posid) at {@code at}. */
    public static long readItemPointer(byte[] b, int at) {
        int hi = BufPage.u16(b, at);
        int lo = BufPage.u16(b, at + 2);
        return tid(hi << 16 | lo, BufPage.u16(b, at + 4));
    }

    /** Writes {@code tid} as an {@code ItemPointerData} at {@code at}. */
    public static void writeItemPointer(byte[] b, int at, long tid) {
        int blk = block(tid);
        BufPage.putU16(b, at, blk >>> 16);
        BufPage.putU16(b, at + 2, blk & 0xFFFF);
        BufPage.putU16(b, at + 4, offset(tid));
    }

    /** {@code itemptr_to_uint64}: {@code block << 11 | offset} (an offset of 2048 or more overlaps the block, as in C). */
    static long toUint64(long tid) {
        return (Integer.toUnsignedLong(block(tid)) << OFFSET_BITS) | offset(tid);
    }

    /** {@code uint64_to_itemptr}. */
    static long fromUint64(long v) {
        int off = (int) (v & ((1 << OFFSET_BITS) - 1));
        v >>>= OFFSET_BITS;
        int lo = (int) (v & 0xFFFF);
        int hi = (int) ((v >>> 16) & 0xFFFF);
        return tid(hi << 16 | lo, off);
    }

    /** {@code SizeOfGinPostingList}: bytes taken by the segment at {@code at} of {@code b}. */
    public static int segmentSize(byte[] b, int at) {
        return HEADER_SIZE + BufPage.shortAlign(BufPage.u16(b, at + 6));
    }

    /**
     * {@code ginCompressPostingList}: encodes {@code items[0..n)} (strictly ascending) into one
     * segment of at most {@code SHORTALIGN_DOWN(maxSize)} bytes; items that do not fit are left out.
     *
     * @param written receives at {@code [0]} how many items were encoded (may be {@code null})
     * @return the segment, exactly {@link #segmentSize} bytes, the padding byte zero
     * @throws IllegalArgumentException when {@code n < 1} or {@code maxSize} leaves no room for the header
     */
    public static byte[] compress(long[] items, int n, int maxSize, int[] written) {
        maxSize &= ~1;
        int maxBytes = maxSize - HEADER_SIZE;
        if (n < 1 || maxBytes <= 0) {
            throw new IllegalArgumentException("ginCompressPostingList: " + n + " items, max size " + maxSize);
        }
        byte[] buf = new byte[Math.min(maxSize, HEADER_SIZE + 7 * (n - 1) + 2) + 8];
        writeItemPointer(buf, 0, items[0]);
        long prev = toUint64(items[0]);
        int ptr = HEADER_SIZE;
        int end = HEADER_SIZE + maxBytes;
        byte[] tmp = new byte[8];
        int packed;
        for (packed = 1; packed < n; packed++) {
            long val = toUint64(items[packed]);
            long delta = val - prev;
            if (end - ptr >= 6) {
                ptr = encodeVarbyte(delta, buf, ptr);
            } else {
                int len = encodeVarbyte(delta, tmp, 0);
                if (len > end - ptr) {
                    break; // output is full
                }
                System.arraycopy(tmp, 0, buf, ptr, len);
                ptr += len;
            }
            prev = val;
        }
        int nbytes = ptr - HEADER_SIZE;
        BufPage.putU16(buf, 6, nbytes);
        if (written != null) {
            written[0] = packed;
        }
        return Arrays.copyOf(buf, HEADER_SIZE + BufPage.shortAlign(nbytes)); // padding byte stays zero
    }

    /** {@code encode_varbyte}: writes {@code val} at {@code b[at..]}; returns the position after it. */
    static int encodeVarbyte(long val, byte[] b, int at) {
        while (Long.compareUnsigned(val, 0x7F) > 0) {
            b[at++] = (byte) (0x80 | (val & 0x7F));
            val >>>= 7;
        }
        b[at++] = (byte) val;
        return at;
    }

    /**
     * {@code ginPostingListDecode}: the items of the one segment at {@code b[at..]}.
     *
     * @throws RedoException when the segment runs past the end of {@code b}
     */
    public static long[] decode(byte[] b, int at) {
        return decodeAllSegments(b, at, segmentSize(b, at));
    }

    /**
     * {@code ginPostingListDecodeAllSegments}: the items of the segments stored one after another in
     * {@code b[at..at+len)}.
     *
     * @throws RedoException when a segment or varbyte runs past the end of {@code b}
     */
    public static long[] decodeAllSegments(byte[] b, int at, int len) {
        int endSeg = at + len;
        if (at < 0 || endSeg > b.length) {
            throw new RedoException("posting list of " + len + " bytes at " + at + " runs past " + b.length);
        }
        long[] out = new long[Math.max(16, len)];
        int n = 0;
        while (at < endSeg) {
            if (at + HEADER_SIZE > b.length) {
                throw new RedoException("posting list segment header at " + at + " runs past " + b.length);
            }
            long first = readItemPointer(b, at);
            int nbytes = BufPage.u16(b, at + 6);
            int ptr = at + HEADER_SIZE;
            int end = ptr + nbytes;
            if (end > b.length) {
                throw new RedoException("posting list segment at " + at + " (" + nbytes + " bytes) runs past "
                        + b.length);
            }
            out = grow(out, n);
            out[n++] = first;
            long val = toUint64(first);
            while (ptr < end) {
                long v = 0;
                int shift = 0;
                int c;
                do {
                    if (ptr >= b.length) {
                        throw new RedoException("varbyte at " + ptr + " runs past " + b.length);
                    }
                    c = b[ptr++] & 0xFF;
                    if (shift == 42) {
                        v |= (long) c << 42; // last byte, no continuation bit
                        break;
                    }
                    v |= (long) (c & 0x7F) << shift;
                    shift += 7;
                } while ((c & 0x80) != 0);
                val += v;
                out = grow(out, n);
                out[n++] = fromUint64(val);
            }
            at += HEADER_SIZE + BufPage.shortAlign(nbytes);
        }
        return Arrays.copyOf(out, n);
    }

    private static long[] grow(long[] a, int n) {
        return n < a.length ? a : Arrays.copyOf(a, a.length * 2);
    }

    /**
     * {@code ginMergeItemPointers}: the union of two ascending TID arrays, one copy of equal items.
     */
    public static long[] merge(long[] a, long[] b) {
        int na = a.length;
        int nb = b.length;
        long[] dst = new long[na + nb];
        if (na == 0 || nb == 0 || a[na - 1] < b[0]) {
            System.arraycopy(a, 0, dst, 0, na);
            System.arraycopy(b, 0, dst, na, nb);
            return dst;
        }
        if (b[nb - 1] < a[0]) {
            System.arraycopy(b, 0, dst, 0, nb);
            System.arraycopy(a, 0, dst, nb, na);
            return dst;
        }
        int i = 0;
        int j = 0;
        int d = 0;
        while (i < na && j < nb) {
            if (a[i] > b[j]) {
                dst[d++] = b[j++];
            } else if (a[i] == b[j]) {
                dst[d++] = b[j++];
                i++;
            } else {
                dst[d++] = a[i++];
            }
        }
        while (i < na) {
            dst[d++] = a[i++];
        }
        while (j < nb) {
            dst[d++] = b[j++];
        }
        return Arrays.copyOf(dst, d);
    }
}
