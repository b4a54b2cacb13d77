package io.forkline.format.interval;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Text form of a retention interval such as {@code pitr_interval}: {@code 0} or a count and a unit,
 * {@code s} (seconds), {@code m} or {@code min} (minutes), {@code h} (hours), {@code d} (days),
 * {@code w} (weeks), e.g. {@code 30s}, {@code 15m}, {@code 1h}, {@code 7d}, {@code 2w}. At most
 * 3660 days (about ten years). Stateless, thread-safe.
 */
public final class IntervalText {
    private static final Pattern TEXT = Pattern.compile("([0-9]{1,9})\\s*(s|m|min|h|d|w)?");
    /** Upper bound of an interval: 3660 days. */
    public static final Duration MAX = Duration.ofDays(3660);

    private IntervalText() {
    }

    /**
     * Parses an interval.
     *
     * @param text e.g. {@code 7d}; a bare number is only allowed for {@code 0}
     * @return the duration, zero or positive, at most {@link #MAX}
     * @throws IllegalArgumentException naming {@code text} when it is malformed or too long
     */
    public static Duration parse(String text) {
        Matcher m = text == null ? null : TEXT.matcher(text.strip());
        if (m == null || !m.matches() || (m.group(2) == null && Long.parseLong(m.group(1)) != 0)) {
            throw new IllegalArgumentException("invalid interval '" + text
                    + "': 0 or a count and a unit s, m, h, d or w, e.g. 30s, 15m, 1h, 7d, 2w");
        }
        long n = Long.parseLong(m.group(1));
        Duration d = switch (m.group(2) == null ? "s" : m.group(2)) {
            case "s" -> Duration.ofSeconds(n);
            case "m", "min" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            case "d" -> Duration.ofDays(n);
            case "w" -> Duration.ofDays(7 * n);
            default -> throw new IllegalStateException("unit " + m.group(2));
        };
        if (d.compareTo(MAX) > 0) {
            throw new IllegalArgumentException("invalid interval '" + text + "': at most " + MAX.toDays() + "d");
        }
        return d;
    }

    /** The shortest exact text of {@code d} (whole seconds): {@code 0}, {@code 90s}, {@code 15m}, {@code 1h}, {@code 7d}, {@code 14d}. */
    public static String format(Duration d) {
        long s = d.getSeconds();
        if (s == 0) {
            return "0";
        }
        if (s % 86400 == 0) {
            return s / 86400 + "d";
        }
        if (s % 3600 == 0) {
            return s / 3600 + "h";
        }
        if (s % 60 == 0) {
            return s / 60 + "m";
        }
        return s + "s";
    }
}
