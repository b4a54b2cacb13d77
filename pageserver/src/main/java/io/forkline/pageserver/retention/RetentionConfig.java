package io.forkline.pageserver.retention;

import io.forkline.format.interval.IntervalText;
import io.forkline.format.size.ByteSizeText;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A tenant's retention settings, stored by {@link RetentionService} as the JSON record
 * {@code retention/<tenant>} ({@code {"pitr_interval_seconds":N,"gc_horizon_bytes":N}}) in the page
 * store's metadata (absent = {@link #DEFAULT}). Per timeline, GC's cutoff is
 * {@code min(last_record_lsn - gc_horizon, LSN at (now - pitr_interval))}
 * ({@link RetentionService}); Neon's tenant settings of the same names mean the same.
 *
 * @param pitrInterval   how far back in time every branch stays restorable (the PITR window);
 *                       zero or positive
 * @param gcHorizonBytes how many bytes of WAL below each timeline's last record LSN stay restorable
 *                       regardless of time; zero or positive
 */
public record RetentionConfig(Duration pitrInterval, long gcHorizonBytes) {
    /** Key of {@link #pitrInterval} in {@code key=value} settings and JSON. */
    public static final String PITR_INTERVAL = "pitr_interval";
    /** Key of {@link #gcHorizonBytes} in {@code key=value} settings and JSON. */
    public static final String GC_HORIZON = "gc_horizon";
    /** The keys {@link #with} understands; a tenant config command can route exactly these here. */
    public static final Set<String> KEYS = Set.of(PITR_INTERVAL, GC_HORIZON);
    /** 7 days of PITR and 64 MiB of WAL horizon. */
    public static final RetentionConfig DEFAULT = new RetentionConfig(Duration.ofDays(7), 64L << 20);

    /**
     * @throws IllegalArgumentException when a value is negative (names it)
     */
    public RetentionConfig {
        if (pitrInterval.isNegative()) {
            throw new IllegalArgumentException("pitr_interval must not be negative, got " + pitrInterval);
        }
        if (gcHorizonBytes < 0) {
            throw new IllegalArgumentException("gc_horizon must not be negative, got " + gcHorizonBytes);
        }
    }

    /** {@code pitr_interval} as text, e.g. {@code 7d} ({@link IntervalText}). */
    public String pitrIntervalText() {
        return IntervalText.format(pitrInterval);
    }

    /** {@code gc_horizon} as text, e.g. {@code 64MB} ({@link ByteSizeText}). */
    public String gcHorizonText() {
        return ByteSizeText.format(gcHorizonBytes);
    }

    /**
     * This config with some settings changed.
     *
     * @param settings key → text value, keys from {@link #KEYS}: {@code pitr_interval} as
     *                 {@link IntervalText} ({@code 7d}), {@code gc_horizon} as {@link ByteSizeText}
     *                 ({@code 64MB})
     * @throws IllegalArgumentException for an unknown key or a malformed value (names both)
     */
    public RetentionConfig with(Map<String, String> settings) {
        Duration pitr = pitrInterval;
        long horizon = gcHorizonBytes;
        for (Map.Entry<String, String> e : settings.entrySet()) {
            switch (e.getKey()) {
                case PITR_INTERVAL -> pitr = IntervalText.parse(e.getValue());
                case GC_HORIZON -> horizon = ByteSizeText.parse(e.getValue());
                default -> throw new IllegalArgumentException("unknown retention setting '" + e.getKey()
                        + "': known are " + PITR_INTERVAL + ", " + GC_HORIZON);
            }
        }
        return new RetentionConfig(pitr, horizon);
    }

    /** The settings as {@code key → text}, in a fixed order. */
    public Map<String, String> asSettings() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(PITR_INTERVAL, pitrIntervalText());
        m.put(GC_HORIZON, gcHorizonText());
        return m;
    }
}
