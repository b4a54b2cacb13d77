package io.forkline.pageserver.retention;

import java.time.Duration;

/**
 * How the server runs GC.
 *
 * @param interval            delay between the end of one background pass over every tenant and
 *                            the start of the next; {@link Duration#ZERO} disables background GC
 * @param maxDeletesPerBatch  versions deleted per RocksDB write batch (bounds the write burst GC
 *                            adds beside ingest), at least 1
 * @param pauseBetweenBatches background GC sleeps this long after each batch (on-demand runs do
 *                            not), so it never takes more than a bounded share of the disk
 */
public record GcSettings(Duration interval, int maxDeletesPerBatch, Duration pauseBetweenBatches) {
    /** System property: background GC interval in seconds (0 disables); default 60. */
    public static final String INTERVAL_PROPERTY = "forkline.gc.intervalSeconds";
    /** System property: deletes per batch; default 10000. */
    public static final String BATCH_PROPERTY = "forkline.gc.maxDeletesPerBatch";
    /** System property: background pause after each batch in milliseconds; default 20. */
    public static final String PAUSE_PROPERTY = "forkline.gc.pauseMillis";
    /** Every 60 s, 10,000 deletes per batch, 20 ms pause. */
    public static final GcSettings DEFAULT = new GcSettings(Duration.ofSeconds(60), 10_000, Duration.ofMillis(20));

    /**
     * @throws IllegalArgumentException when a value is out of range (names it)
     */
    public GcSettings {
        if (interval.isNegative()) {
            throw new IllegalArgumentException("GC interval must not be negative, got " + interval);
        }
        if (maxDeletesPerBatch < 1) {
            throw new IllegalArgumentException("GC maxDeletesPerBatch must be at least 1, got " + maxDeletesPerBatch);
        }
        if (pauseBetweenBatches.isNegative()) {
            throw new IllegalArgumentException("GC pause must not be negative, got " + pauseBetweenBatches);
        }
    }

    /**
     * The settings from system properties ({@value #INTERVAL_PROPERTY}, {@value #BATCH_PROPERTY},
     * {@value #PAUSE_PROPERTY}), {@link #DEFAULT} for each one unset; the environment variable
     * {@code FORKLINE_GC_INTERVAL_SECONDS} sets the interval when the property is unset.
     *
     * @throws IllegalArgumentException when a value is not a number or out of range (names it)
     */
    public static GcSettings fromSystem() {
        String interval = System.getProperty(INTERVAL_PROPERTY, System.getenv("FORKLINE_GC_INTERVAL_SECONDS"));
        return new GcSettings(
                interval == null ? DEFAULT.interval() : Duration.ofSeconds(number(INTERVAL_PROPERTY, interval)),
                (int) number(BATCH_PROPERTY, System.getProperty(BATCH_PROPERTY, String.valueOf(DEFAULT.maxDeletesPerBatch()))),
                Duration.ofMillis(number(PAUSE_PROPERTY, System.getProperty(PAUSE_PROPERTY,
                        String.valueOf(DEFAULT.pauseBetweenBatches().toMillis())))));
    }

    private static long number(String name, String value) {
        try {
            return Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a whole number, got '" + value + "'");
        }
    }
}
