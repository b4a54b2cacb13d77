package io.forkline.pageserver.backup;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How long a scheduled backup is kept: a count and a unit, {@code h} (hours), {@code d} (days),
 * {@code w} (weeks), {@code mo} (calendar months) or {@code y} (calendar years), e.g. {@code 36h},
 * {@code 14d}, {@code 8w}, {@code 12mo}, {@code 2y}. At least one hour, at most 10 years. Months
 * and years are calendar arithmetic in UTC. Immutable, thread-safe.
 *
 * @param count a positive count of {@code unit}
 * @param unit  {@code h}, {@code d}, {@code w}, {@code mo} or {@code y}
 */
public record Retention(int count, String unit) {
    private static final Pattern TEXT = Pattern.compile("([0-9]{1,6})(h|d|w|mo|y)");
    private static final long MAX_HOURS = 10L * 366 * 24;

    /**
     * Parses a retention.
     *
     * @throws IllegalArgumentException naming the value when it is malformed, zero, or above 10 years
     */
    public static Retention parse(String text) {
        Matcher m = text == null ? null : TEXT.matcher(text.strip());
        if (m == null || !m.matches()) {
            throw new IllegalArgumentException("invalid retention '" + text
                    + "': a count and a unit h, d, w, mo or y, e.g. 36h, 14d, 8w, 12mo, 2y");
        }
        int count = Integer.parseInt(m.group(1));
        Retention r = new Retention(count, m.group(2));
        if (count == 0 || r.approximateHours() > MAX_HOURS) {
            throw new IllegalArgumentException("invalid retention '" + text + "': must be between 1h and 10y");
        }
        return r;
    }

    private long approximateHours() {
        return switch (unit) {
            case "h" -> count;
            case "d" -> count * 24L;
            case "w" -> count * 24L * 7;
            case "mo" -> count * 24L * 31;
            case "y" -> count * 24L * 366;
            default -> throw new IllegalStateException("unit " + unit);
        };
    }

    /** When a backup taken at {@code created} expires. */
    public Instant expiry(Instant created) {
        return switch (unit) {
            case "h" -> created.plus(Duration.ofHours(count));
            case "d" -> created.plus(Duration.ofDays(count));
            case "w" -> created.plus(Duration.ofDays(7L * count));
            case "mo" -> created.atZone(ZoneOffset.UTC).plusMonths(count).toInstant();
            case "y" -> created.atZone(ZoneOffset.UTC).plusYears(count).toInstant();
            default -> throw new IllegalStateException("unit " + unit);
        };
    }

    /** The canonical text, e.g. {@code 14d}. */
    @Override
    public String toString() {
        return count + unit;
    }
}
