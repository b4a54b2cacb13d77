package io.forkline.pageserver.access;

import io.forkline.pageserver.api.ApiException;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How long a branch's compute runs without a client session before it is suspended (scale to
 * zero): a whole number and a unit {@code s}, {@code m} or {@code h} ({@code 30s}, {@code 5m},
 * {@code 1h}), at most 7 days; {@code 0} = never. Default {@link #DEFAULT} (5 minutes).
 */
public final class SuspendAfter {
    /** The default timeout of a branch that names none. */
    public static final Duration DEFAULT = Duration.ofMinutes(5);
    /** The longest timeout. */
    public static final Duration MAX = Duration.ofDays(7);
    private static final Pattern FORM = Pattern.compile("([0-9]{1,9})([smh]?)");

    private SuspendAfter() {
    }

    /**
     * Parses a timeout and returns it in its canonical text ({@code 0}, or number and unit).
     *
     * @param text e.g. {@code 30s}; {@code null} stays {@code null} (not given)
     * @throws ApiException 400 naming the value when it is malformed or above 7 days
     */
    public static String normalize(String text) {
        if (text == null) {
            return null;
        }
        Duration d = parse(text);
        return d.isZero() ? "0" : text.strip();
    }

    /**
     * Parses a timeout.
     *
     * @return the duration, {@link Duration#ZERO} for never
     * @throws ApiException 400 naming the value when it is malformed (a bare number other than 0 is refused) or above 7 days
     */
    public static Duration parse(String text) {
        Matcher m = FORM.matcher(text == null ? "" : text.strip());
        if (!m.matches() || (m.group(2).isEmpty() && Long.parseLong(m.group(1)) != 0)) {
            throw ApiException.badRequest("invalid suspend_after '" + text + "': expected a number and a unit s, m or h "
                    + "(e.g. 30s, 5m, 1h), at most 7 days; 0 for never");
        }
        long n = Long.parseLong(m.group(1));
        Duration d = switch (m.group(2)) {
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ZERO;
        };
        if (d.compareTo(MAX) > 0) {
            throw ApiException.badRequest("invalid suspend_after '" + text + "': at most 7 days (168h)");
        }
        return d;
    }

    /** The effective timeout of a branch whose setting is {@code stored} ({@code null}: the default). */
    public static Duration effective(String stored) {
        if (stored == null) {
            return DEFAULT;
        }
        try {
            return parse(stored);
        } catch (ApiException e) {
            return DEFAULT;
        }
    }

    /** The text shown for a branch whose setting is {@code stored}. */
    public static String shown(String stored) {
        return stored == null ? "5m" : stored;
    }
}
