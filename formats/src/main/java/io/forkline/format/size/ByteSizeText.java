package io.forkline.format.size;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Text form of a byte count such as {@code gc_horizon}: a number with an optional unit {@code B},
 * {@code kB}/{@code KiB}, {@code MB}/{@code MiB}, {@code GB}/{@code GiB}, {@code TB}/{@code TiB}
 * (case-insensitive). As in PostgreSQL's own settings ({@code src/backend/utils/misc/guc.c},
 * {@code memory_unit_conversion_table}) every unit is a power of 1024: {@code 64MB} is 67,108,864
 * bytes. At most 1 PiB. Stateless, thread-safe.
 */
public final class ByteSizeText {
    private static final Pattern TEXT = Pattern.compile("([0-9]{1,15})\\s*([A-Za-z]*)");
    /** Upper bound: 1 PiB. */
    public static final long MAX = 1L << 50;

    private ByteSizeText() {
    }

    /**
     * Parses a byte count.
     *
     * @param text e.g. {@code 64MB}, {@code 0}, {@code 1048576}
     * @return bytes, 0 to {@link #MAX}
     * @throws IllegalArgumentException naming {@code text} when it is malformed, has an unknown unit
     *                                  or is above {@link #MAX}
     */
    public static long parse(String text) {
        Matcher m = text == null ? null : TEXT.matcher(text.strip());
        if (m == null || !m.matches()) {
            throw new IllegalArgumentException("invalid size '" + text + "': a number of bytes with an optional unit "
                    + "B, kB, MB, GB, TB (powers of 1024), e.g. 64MB");
        }
        long n = Long.parseLong(m.group(1));
        int shift = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "", "b" -> 0;
            case "k", "kb", "kib" -> 10;
            case "m", "mb", "mib" -> 20;
            case "g", "gb", "gib" -> 30;
            case "t", "tb", "tib" -> 40;
            default -> throw new IllegalArgumentException("invalid size '" + text + "': unknown unit '" + m.group(2)
                    + "' (B, kB, MB, GB, TB)");
        };
        if (n > (MAX >> shift)) {
            throw new IllegalArgumentException("invalid size '" + text + "': at most 1024TB");
        }
        return n << shift;
    }

    /** The shortest exact text of {@code bytes}: {@code 0}, {@code 1000B}, {@code 64MB}, {@code 2GB}. */
    public static String format(long bytes) {
        if (bytes == 0) {
            return "0";
        }
        String[] units = {"B", "kB", "MB", "GB", "TB"};
        int u = 0;
        long v = bytes;
        while (u < units.length - 1 && v % 1024 == 0) {
            v /= 1024;
            u++;
        }
        return v + units[u];
    }
}
