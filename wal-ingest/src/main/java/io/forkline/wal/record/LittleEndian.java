package io.forkline.wal.record;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Unaligned little-endian reads from byte arrays (PostgreSQL writes WAL in the host's byte order,
 * which is little-endian on every platform Forkline supports: x86-64 and aarch64). Package-private
 * helper of the descriptor classes; no allocation, no bounds checks beyond the JVM's own.
 */
final class LittleEndian {
    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private LittleEndian() {
    }

    /** The unsigned byte at {@code off}, 0..255. */
    static int u8(byte[] b, int off) {
        return b[off] & 0xFF;
    }

    /** The unsigned 16-bit value at {@code off}, 0..65535. */
    static int u16(byte[] b, int off) {
        return ((short) SHORT.get(b, off)) & 0xFFFF;
    }

    /** The 32-bit value at {@code off} (callers treat it as unsigned where PostgreSQL does). */
    static int i32(byte[] b, int off) {
        return (int) INT.get(b, off);
    }

    /** The 64-bit value at {@code off}. */
    static long i64(byte[] b, int off) {
        return (long) LONG.get(b, off);
    }
}
