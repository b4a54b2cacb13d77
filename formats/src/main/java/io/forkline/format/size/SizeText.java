package io.forkline.format.size;

import java.util.Locale;

/** Byte counts for people, as {@code branch list} and {@code tenant list} print them. */
public final class SizeText {
    private static final double MB = 1024.0 * 1024;
    private static final double GB = MB * 1024;

    private SizeText() {
    }

    /**
     * {@code "12.3 MB"} below 1 GB, else {@code "1.5 GB"} (one decimal; MB = 2^20 bytes, GB = 2^30, as
     * the retention settings count them).
     *
     * @param bytes at least 0
     * @throws IllegalArgumentException when negative (names the value)
     */
    public static String human(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("byte count must not be negative: " + bytes);
        }
        if (bytes < GB) {
            return String.format(Locale.ROOT, "%.1f MB", bytes / MB);
        }
        return String.format(Locale.ROOT, "%.1f GB", bytes / GB);
    }
}
