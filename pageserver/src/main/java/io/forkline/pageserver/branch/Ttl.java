package io.forkline.pageserver.branch;

import io.forkline.pageserver.api.ApiException;
import io.forkline.format.interval.IntervalText;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A branch's time to live as the API and CLI take it: a positive whole number and a unit,
 * {@code m} (minutes), {@code h} (hours) or {@code d} (days), e.g. {@code 30m}, {@code 4h},
 * {@code 7d}; at most {@link #MAX} (30 days). {@code 0} (or no value) means no expiry. A subset of
 * {@link IntervalText}'s forms, which does the conversion.
 */
public final class Ttl {
    /** The longest TTL a branch may have. */
    public static final Duration MAX = Duration.ofDays(30);
    private static final Pattern FORM = Pattern.compile("([0-9]{1,9})([mhd])");

    private Ttl() {
    }

    /**
     * Parses a TTL as a create or put gives it: absent stays absent, {@code 0} is an explicit "no expiry".
     *
     * @param text e.g. {@code 4h}; {@code null} when not given
     * @return the duration; {@link Duration#ZERO} for {@code 0} (or {@code 0h}, blank); {@code null} when {@code text} is null
     * @throws ApiException 400 naming the value when it is malformed or above 30 days
     */
    public static Duration parseGiven(String text) {
        if (text == null) {
            return null;
        }
        Duration d = parse(text);
        return d == null ? Duration.ZERO : d;
    }

    /**
     * Parses a TTL.
     *
     * @param text e.g. {@code 4h}; {@code null}, blank, {@code 0} or zero with a unit ({@code 0h}) for no expiry
     * @return the duration, or {@code null} for no expiry
     * @throws ApiException 400 naming the value when it is malformed or above 30 days
     */
    public static Duration parse(String text) {
        if (text == null || text.isBlank() || text.strip().equals("0")) {
            return null;
        }
        Matcher m = FORM.matcher(text.strip());
        if (!m.matches()) {
            throw ApiException.badRequest("invalid ttl '" + text + "': expected a number and a unit m, h or d "
                    + "(e.g. 30m, 4h, 7d), at most 30d; 0 for no expiry");
        }
        Duration d;
        try {
            d = IntervalText.parse(m.group());
        } catch (IllegalArgumentException e) { // beyond IntervalText's own bound: far beyond ours
            throw ApiException.badRequest("invalid ttl '" + text + "': at most 30 days (30d, 720h)");
        }
        if (d.isZero()) {
            return null;
        }
        if (d.compareTo(MAX) > 0) {
            throw ApiException.badRequest("invalid ttl '" + text + "': at most 30 days (30d, 720h)");
        }
        return d;
    }
}
