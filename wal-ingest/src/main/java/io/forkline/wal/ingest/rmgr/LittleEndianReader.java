package io.forkline.wal.ingest.rmgr;

/**
 * Bounds-checked little-endian reads of rmgr main data (x86-64 WAL is little-endian). Every read
 * throws {@link RecordFormatException} naming the offset and the available length when the data is
 * too short, so a truncated record never turns into a guess.
 */
public final class LittleEndianReader {
    private LittleEndianReader() {
    }

    /**
     * Throws unless {@code need} bytes are available at {@code off}.
     *
     * @throws RecordFormatException naming {@code what}, {@code need}, {@code off} and the data length
     *                               when {@code b[off, off + need)} does not fit, or either is negative
     */
    public static void require(byte[] b, int off, int need, String what) {
        require(b, off, (long) need, what);
    }

    /**
     * As {@link #require(byte[], int, int, String)} for a length computed as {@code count * elementSize}
     * in {@code long}, so that a huge count read from WAL cannot wrap around to a small length.
     *
     * @throws RecordFormatException naming {@code what}, {@code need}, {@code off} and the data length
     *                               when {@code b[off, off + need)} does not fit, or either is negative
     */
    public static void require(byte[] b, int off, long need, String what) {
        if (off < 0 || need < 0 || off > b.length - need) {
            throw new RecordFormatException(what + " needs " + need + " bytes at offset " + off + ", record has "
                    + b.length);
        }
    }

    /** Unsigned 16-bit value at {@code off}. */
    public static int u16(byte[] b, int off) {
        require(b, off, 2, "uint16");
        return (b[off] & 0xFF) | (b[off + 1] & 0xFF) << 8;
    }

    /** 32-bit value at {@code off} (interpret as unsigned where Postgres does). */
    public static int i32(byte[] b, int off) {
        require(b, off, 4, "int32");
        return (b[off] & 0xFF) | (b[off + 1] & 0xFF) << 8 | (b[off + 2] & 0xFF) << 16 | (b[off + 3] & 0xFF) << 24;
    }

    /** 64-bit value at {@code off}. */
    public static long i64(byte[] b, int off) {
        require(b, off, 8, "int64");
        return (i32(b, off) & 0xFFFFFFFFL) | ((long) i32(b, off + 4)) << 32;
    }

    /** Writes a 32-bit little-endian value. */
    public static void putI32(byte[] b, int off, int v) {
        b[off] = (byte) v;
        b[off + 1] = (byte) (v >>> 8);
        b[off + 2] = (byte) (v >>> 16);
        b[off + 3] = (byte) (v >>> 24);
    }

    /** Writes a 64-bit little-endian value. */
    public static void putI64(byte[] b, int off, long v) {
        putI32(b, off, (int) v);
        putI32(b, off + 4, (int) (v >>> 32));
    }

    /** Writes an unsigned 16-bit little-endian value. */
    public static void putU16(byte[] b, int off, int v) {
        b[off] = (byte) v;
        b[off + 1] = (byte) (v >>> 8);
    }
}
