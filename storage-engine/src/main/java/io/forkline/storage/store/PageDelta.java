package io.forkline.storage.store;

import io.forkline.storage.id.TimelineId;
import io.forkline.storage.key.Key;

import java.util.Arrays;

/**
 * The stored form of a delta-encoded page version: the bytes that differ from a <em>base</em>, a
 * full 8192-byte image of the same key on the same timeline at an older LSN.
 *
 * <pre>
 *   base on the same timeline (magic D1 F1 DE 17):
 *   0        4            12
 *   +--------+------------+----------------------------------------------------+
 *   | magic  | baseLsn    | op* : skip(varint) | count(varint) | count new bytes |
 *   +--------+------------+----------------------------------------------------+
 *
 *   base on an ancestor timeline (magic D1 F1 DE 18):
 *   0        4            12                 28
 *   +--------+------------+------------------+-----+
 *   | magic  | baseLsn    | baseTimelineId   | op* |
 *   +--------+------------+------------------+-----+
 *
 *   baseLsn = version LSN of the base (big-endian, 8 bytes)
 *   op      = leave `skip` bytes as in the base, then write the next `count` bytes of the page
 *   varint  = unsigned LEB128 (7 bits per byte, low first; 1-2 bytes for values up to 8192)
 * </pre>
 *
 * Bytes past the last op are the base's. A page identical to its base is the header alone.
 * A base on an ancestor is the full image a read of the key at the branch point is rebuilt from
 * (a branch's first write of a page); the ancestor's GC keeps it, because it keeps the newest
 * version at or below every branch point and the base of every delta it keeps. The encoder emits an op for every changed run, merging runs separated by fewer than
 * {@link #MIN_GAP} equal bytes (an op costs at least 2 bytes).
 *
 * <p>How stored values are told apart (no stored value carries a tag but deltas, so stores
 * written before deltas existed read unchanged): only keys whose {@link #isCandidate kind} is
 * {@link Key#REL_BLOCK} or {@link Key#SLRU_PAGE} ever hold deltas; for those, a value of exactly
 * {@link #PAGE_SIZE} bytes is a full image, an empty value a tombstone, and any other value that
 * starts with the magic is a delta ({@link #isDelta}). A delta is never {@link #PAGE_SIZE} bytes
 * long: the encoder gives up above {@code maxBytes}, which is below the page size. Writers refuse
 * other values of those keys that start with the magic ({@link TimelineWriter#put}).
 *
 * <p>Package-private: only {@link TimelineWriter} writes and {@link PageStore} reads deltas.
 *
 * <p>Not from Postgres. The idea is Neon's delta layers (a page's WAL records on top of an older
 * image), with a byte diff instead of WAL records because ingest only has post-images.
 */
final class PageDelta {
    /** Size of every delta-encodable value: a PostgreSQL page (BLCKSZ). */
    public static final int PAGE_SIZE = 8192;
    /** Offset of the magic. */
    public static final int MAGIC_OFFSET = 0;
    /** Offset of the base LSN. */
    public static final int BASE_LSN_OFFSET = 4;
    /** Length of the header of a delta with its base on the same timeline; the ops follow. */
    public static final int HEADER_LENGTH = 12;
    /** Offset of the base timeline id in a delta whose base is on an ancestor. */
    public static final int BASE_TIMELINE_OFFSET = 12;
    /** Length of the header of a delta with its base on an ancestor timeline. */
    public static final int ANCESTOR_HEADER_LENGTH = BASE_TIMELINE_OFFSET + TimelineId.LENGTH;
    /** Equal-byte gaps shorter than this are copied inside one op rather than ending it. */
    public static final int MIN_GAP = 4;

    private static final byte[] MAGIC = {(byte) 0xD1, (byte) 0xF1, (byte) 0xDE, (byte) 0x17};
    private static final byte ANCESTOR_MAGIC_LAST = (byte) 0x18;

    private PageDelta() {
    }

    /** Whether versions of {@code key} may be stored as deltas (relation blocks and SLRU pages). */
    public static boolean isCandidate(Key key) {
        byte kind = key.kind();
        return kind == Key.REL_BLOCK || kind == Key.SLRU_PAGE;
    }

    /**
     * Whether a stored value of a {@linkplain #isCandidate candidate} key is a delta: not
     * {@link #PAGE_SIZE} bytes, at least a header, and starting with the magic.
     */
    public static boolean isDelta(byte[] stored) {
        return stored.length != PAGE_SIZE && hasMagic(stored, stored.length);
    }

    /**
     * Like {@link #isDelta(byte[])} from the first bytes of a stored value only.
     *
     * @param prefix the value's first {@code min(length, prefix.length)} bytes; at least
     *               {@link #HEADER_LENGTH} long (enough for {@link #baseLsn} and
     *               {@link #hasAncestorBase} too)
     * @param length the value's full length in bytes
     */
    static boolean isDelta(byte[] prefix, int length) {
        return length != PAGE_SIZE && hasMagic(prefix, length);
    }

    /**
     * Whether a delta's base is on an ancestor timeline (caller checked {@link #isDelta}); reads
     * only the magic, so a {@link #HEADER_LENGTH}-byte prefix will do.
     */
    static boolean hasAncestorBase(byte[] delta) {
        return delta[MAGIC_OFFSET + 3] == ANCESTOR_MAGIC_LAST;
    }

    private static boolean hasMagic(byte[] b, int length) {
        if (length < HEADER_LENGTH || !Arrays.equals(b, MAGIC_OFFSET, MAGIC_OFFSET + 3, MAGIC, 0, 3)) {
            return false;
        }
        byte last = b[MAGIC_OFFSET + 3];
        return last == MAGIC[3] || (last == ANCESTOR_MAGIC_LAST && length >= ANCESTOR_HEADER_LENGTH);
    }

    /**
     * The timeline of a delta's base when it is an ancestor, or {@code null} when the base is on
     * the delta's own timeline (caller checked {@link #isDelta}).
     */
    public static TimelineId baseTimeline(byte[] delta) {
        if (!hasAncestorBase(delta)) {
            return null;
        }
        return new TimelineId(Arrays.copyOfRange(delta, BASE_TIMELINE_OFFSET, ANCESTOR_HEADER_LENGTH));
    }

    private static int headerLength(byte[] delta) {
        return delta[MAGIC_OFFSET + 3] == ANCESTOR_MAGIC_LAST ? ANCESTOR_HEADER_LENGTH : HEADER_LENGTH;
    }

    /** The base LSN of a delta (caller checked {@link #isDelta}, or a prefix of at least 12 bytes). */
    public static long baseLsn(byte[] delta) {
        return PageStore.bytesToLong(delta, BASE_LSN_OFFSET);
    }

    /**
     * Encodes {@code page} against {@code base}.
     *
     * @param base     the base's full image, {@link #PAGE_SIZE} bytes
     * @param baseLsn  the base's version LSN
     * @param page     the new full image, {@link #PAGE_SIZE} bytes
     * @param maxBytes give up when the delta would be longer than this; must be below
     *                 {@link #PAGE_SIZE} and at least {@link #HEADER_LENGTH}
     * @return the delta, at most {@code maxBytes} long (never {@link #PAGE_SIZE}), or {@code null}
     *         when it would be longer (store the full image then)
     * @throws IllegalArgumentException when a page is not {@link #PAGE_SIZE} bytes or
     *                                  {@code maxBytes} is out of range
     */
    public static byte[] encode(byte[] base, long baseLsn, byte[] page, int maxBytes) {
        return encode(base, baseLsn, null, page, maxBytes);
    }

    /**
     * Like {@link #encode(byte[], long, byte[], int)} with the base on {@code baseTimeline}, an
     * ancestor of the delta's timeline ({@code null}: the same timeline), whose id the delta then
     * carries ({@link #ANCESTOR_HEADER_LENGTH}-byte header).
     */
    public static byte[] encode(byte[] base, long baseLsn, TimelineId baseTimeline, byte[] page, int maxBytes) {
        return encode(base, baseLsn, baseTimeline, page, maxBytes, null);
    }

    /**
     * Like {@link #encode(byte[], long, TimelineId, byte[], int)}, building the delta in
     * {@code scratch} (a buffer its single-threaded owner reuses across calls) and returning an
     * exact-length copy: one allocation per delta instead of two.
     *
     * @param scratch a work buffer of at least {@code maxBytes} bytes, overwritten; {@code null}
     *                (or a shorter one) to allocate one
     * @return a new array (never {@code scratch}), or {@code null} as there
     */
    static byte[] encode(byte[] base, long baseLsn, TimelineId baseTimeline, byte[] page, int maxBytes,
                         byte[] scratch) {
        if (base.length != PAGE_SIZE || page.length != PAGE_SIZE) {
            throw new IllegalArgumentException("delta pages must be " + PAGE_SIZE + " bytes, got base "
                    + base.length + " and page " + page.length);
        }
        if (maxBytes < HEADER_LENGTH || maxBytes >= PAGE_SIZE) {
            throw new IllegalArgumentException("maxBytes must be in [" + HEADER_LENGTH + ", " + PAGE_SIZE + "), got "
                    + maxBytes);
        }
        int header = baseTimeline == null ? HEADER_LENGTH : ANCESTOR_HEADER_LENGTH;
        if (maxBytes < header) {
            return null;
        }
        boolean scratched = scratch != null && scratch.length >= maxBytes;
        byte[] out = scratched ? scratch : new byte[maxBytes];
        System.arraycopy(MAGIC, 0, out, MAGIC_OFFSET, MAGIC.length);
        PageStore.putLong(out, BASE_LSN_OFFSET, baseLsn);
        if (baseTimeline != null) {
            out[MAGIC_OFFSET + 3] = ANCESTOR_MAGIC_LAST;
            baseTimeline.writeTo(out, BASE_TIMELINE_OFFSET);
        }
        int o = header;
        int pos = 0; // first byte not yet covered by an op
        while (pos < PAGE_SIZE) {
            int rel = Arrays.mismatch(base, pos, PAGE_SIZE, page, pos, PAGE_SIZE);
            if (rel < 0) {
                break;
            }
            int start = pos + rel;
            int end = runEnd(base, page, start);
            int count = end - start;
            int need = varintLength(start - pos) + varintLength(count) + count;
            if (o + need > maxBytes) {
                return null;
            }
            o = putVarint(out, o, start - pos);
            o = putVarint(out, o, count);
            System.arraycopy(page, start, out, o, count);
            o += count;
            pos = end;
        }
        return o == out.length && !scratched ? out : Arrays.copyOf(out, o);
    }

    /**
     * The end (exclusive) of the changed run that starts with the differing byte at {@code start}:
     * one past its last differing byte before {@link #MIN_GAP} equal bytes in a row (or the page's
     * end). Compares eight bytes at a time: a word whose bytes all differ extends the run, a word
     * whose bytes are all equal ends it (eight equal bytes are at least {@code MIN_GAP}), and only a
     * mixed word is walked byte by byte, so the result is the byte-by-byte scan's.
     */
    private static int runEnd(byte[] base, byte[] page, int start) {
        int end = start + 1;
        int equal = 0;
        int i = end;
        while (i < PAGE_SIZE && equal < MIN_GAP) {
            if (equal == 0 && i + Long.BYTES <= PAGE_SIZE) {
                long x = (long) LONGS.get(base, i) ^ (long) LONGS.get(page, i);
                if (x == 0) {
                    return end; // eight equal bytes right after a differing one
                }
                // high bit of each byte of x that is zero (Hacker's Delight 6-1, exact: no carries across bytes)
                long zeroBytes = ~(((x & 0x7F7F7F7F7F7F7F7FL) + 0x7F7F7F7F7F7F7F7FL) | x | 0x7F7F7F7F7F7F7F7FL);
                if (zeroBytes == 0) { // all eight differ
                    i += Long.BYTES;
                    end = i;
                    continue;
                }
            }
            if (base[i] == page[i]) {
                equal++;
            } else {
                equal = 0;
                end = i + 1;
            }
            i++;
        }
        return end;
    }

    private static final java.lang.invoke.VarHandle LONGS =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

    /**
     * Rebuilds the full image from a delta and its base.
     *
     * @param base  the base's full image ({@link #PAGE_SIZE} bytes; not changed)
     * @param delta the stored delta
     * @return a new {@link #PAGE_SIZE}-byte array
     * @throws IllegalArgumentException when the delta is malformed (an op runs past the page or
     *                                  the value ends inside an op); the message names the offset
     */
    public static byte[] decode(byte[] base, byte[] delta) {
        checkBase(base);
        return decodeInto(base.clone(), delta);
    }

    /**
     * Rebuilds the full image from a delta in place of its base: {@link #decode} without the copy,
     * for a base the caller owns and no longer needs (one 8 KiB copy less per delta read).
     *
     * @param base  the base's full image ({@link #PAGE_SIZE} bytes), overwritten with the page; its
     *              contents are undefined after an exception
     * @param delta the stored delta
     * @return {@code base}, now holding the page
     * @throws IllegalArgumentException as {@link #decode}
     */
    static byte[] decodeInto(byte[] base, byte[] delta) {
        checkBase(base);
        byte[] page = base;
        int i = headerLength(delta);
        int pos = 0;
        while (i < delta.length) {
            long skip = readVarint(delta, i);
            i = (int) (skip >>> 32);
            long count = readVarint(delta, i);
            i = (int) (count >>> 32);
            int s = (int) skip;
            int c = (int) count;
            if (s > PAGE_SIZE - pos || c > PAGE_SIZE - pos - s || c > delta.length - i) {
                throw new IllegalArgumentException("corrupt page delta: op at offset " + i + " (skip " + s + ", count "
                        + c + ") runs past the page (at " + pos + ") or the value (" + delta.length + " bytes)");
            }
            pos += s;
            System.arraycopy(delta, i, page, pos, c);
            pos += c;
            i += c;
        }
        return page;
    }

    private static void checkBase(byte[] base) {
        if (base.length != PAGE_SIZE) {
            throw new IllegalArgumentException("delta base must be " + PAGE_SIZE + " bytes, got " + base.length);
        }
    }

    private static int varintLength(int v) {
        return v < 0x80 ? 1 : v < 0x4000 ? 2 : 3;
    }

    private static int putVarint(byte[] b, int off, int v) {
        while (v >= 0x80) {
            b[off++] = (byte) (v | 0x80);
            v >>>= 7;
        }
        b[off++] = (byte) v;
        return off;
    }

    /** Reads a varint at {@code off}: returns {@code (nextOffset << 32) | value}. */
    private static long readVarint(byte[] b, int off) {
        int v = 0;
        for (int shift = 0; shift <= 14; shift += 7) {
            if (off >= b.length) {
                throw new IllegalArgumentException("corrupt page delta: value ends inside a varint at offset " + off);
            }
            int x = b[off++] & 0xFF;
            v |= (x & 0x7F) << shift;
            if ((x & 0x80) == 0) {
                return ((long) off << 32) | v;
            }
        }
        throw new IllegalArgumentException("corrupt page delta: varint longer than 3 bytes before offset " + off);
    }
}
