package io.forkline.pageserver.testing;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * A UTC clock a test hands to a server and then moves: the system clock plus an offset
 * ({@link #setOffset}), or one fixed instant while {@link #setFixed} holds one. Thread-safe: the
 * server reads it from its own threads while the test sets it.
 */
public final class TestClock extends Clock {
    private volatile Duration offset = Duration.ZERO;
    private volatile Instant fixed;

    /** From now on "now" is the system clock plus {@code offset} (may be negative; ZERO undoes it). */
    public void setOffset(Duration offset) {
        this.offset = offset;
    }

    /** From now on "now" is {@code t}, whatever the system clock says; {@code null} lets it run again. */
    public void setFixed(Instant t) {
        this.fixed = t;
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    /** @throws UnsupportedOperationException always: the clock is UTC only */
    @Override
    public Clock withZone(ZoneId zone) {
        throw new UnsupportedOperationException("UTC only");
    }

    @Override
    public Instant instant() {
        Instant t = fixed;
        return t != null ? t : Instant.now().plus(offset);
    }
}
