package io.forkline.storage.id;

import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * A timeline's identity: 16 random bytes, 32 lower-case hex digits in text (as Neon's
 * {@code TimelineId}). A branch is a timeline; the tenant's first timeline is its {@code main}
 * branch.
 */
public record TimelineId(byte[] bytes) implements Comparable<TimelineId> {
    /** Length of the binary form in bytes. */
    public static final int LENGTH = 16;
    private static final SecureRandom RANDOM = new SecureRandom();

    public TimelineId {
        if (bytes == null || bytes.length != LENGTH) {
            throw new IllegalArgumentException("timeline id must be " + LENGTH + " bytes");
        }
        bytes = bytes.clone();
    }

    /** A new random id. */
    public static TimelineId generate() {
        byte[] b = new byte[LENGTH];
        RANDOM.nextBytes(b);
        return new TimelineId(b);
    }

    /**
     * Parses 32 hex digits.
     *
     * @throws IllegalArgumentException naming the text when it is not 32 hex digits
     */
    public static TimelineId parse(String hex) {
        if (hex == null || hex.length() != 2 * LENGTH) {
            throw new IllegalArgumentException("invalid timeline id '" + hex + "': expected 32 hex digits");
        }
        try {
            return new TimelineId(HexFormat.of().parseHex(hex));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid timeline id '" + hex + "': expected 32 hex digits");
        }
    }

    @Override
    public byte[] bytes() {
        return bytes.clone();
    }

    /** Bytes 0..7 of the id, big-endian (with {@link #low()}: the id without an array, for compact map keys). */
    public long high() {
        return (long) LONGS.get(bytes, 0);
    }

    /** Bytes 8..15 of the id, big-endian (see {@link #high()}). */
    public long low() {
        return (long) LONGS.get(bytes, 8);
    }

    private static final java.lang.invoke.VarHandle LONGS = java.lang.invoke.MethodHandles.byteArrayViewVarHandle(
            long[].class, java.nio.ByteOrder.BIG_ENDIAN);

    /** Copies the 16 bytes into {@code dst} at {@code offset}. */
    public void writeTo(byte[] dst, int offset) {
        System.arraycopy(bytes, 0, dst, offset, LENGTH);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TimelineId t && java.util.Arrays.equals(bytes, t.bytes);
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(bytes);
    }

    @Override
    public int compareTo(TimelineId o) {
        return java.util.Arrays.compareUnsigned(bytes, o.bytes);
    }

    @Override
    public String toString() {
        return HexFormat.of().formatHex(bytes);
    }
}
