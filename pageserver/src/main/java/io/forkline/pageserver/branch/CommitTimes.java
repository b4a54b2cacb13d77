package io.forkline.pageserver.branch;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * Commit times as PostgreSQL records them (microseconds since the Unix epoch) turned into instants
 * and into RFC 3339 UTC text with exactly six fractional digits ({@code 2026-12-05T06:39:40.123456Z}),
 * so a printed time can be given back to {@code --at} and lands on the same commit.
 */
public final class CommitTimes {
    private static final DateTimeFormatter MICROS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'")
            .withZone(ZoneOffset.UTC);

    private CommitTimes() {
    }

    /** The instant of {@code micros} microseconds since the Unix epoch. */
    public static Instant instant(long micros) {
        return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L);
    }

    /** {@code micros} as RFC 3339 UTC with microseconds, e.g. {@code 2026-12-05T06:39:40.123456Z}. */
    public static String format(long micros) {
        return MICROS.format(instant(micros));
    }

    /** {@code t} as RFC 3339 UTC with microseconds; {@code null} stays null. */
    public static String format(Instant t) {
        return t == null ? null : MICROS.format(t);
    }
}
