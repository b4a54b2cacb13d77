package io.forkline.pageserver.backup;

import com.cronutils.model.Cron;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.Optional;

/**
 * How often a backup schedule runs: {@code hourly}, {@code daily}, {@code weekly} or
 * {@code monthly} (every period from the schedule's start time: a daily schedule started at 03:30
 * runs at 03:30 every day; a monthly one started on the 31st runs on the last day of shorter months),
 * or a UNIX cron expression of five fields ({@code minute hour day-of-month month day-of-week}, e.g.
 * {@code 0 3 * * 1-5}), parsed by cron-utils. All times are UTC. Immutable, thread-safe.
 */
public final class Frequency {
    private static final CronParser CRON = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));

    private final String text;
    private final Duration period;       // hourly, daily, weekly
    private final boolean monthly;
    private final ExecutionTime cron;    // cron expressions

    private Frequency(String text, Duration period, boolean monthly, ExecutionTime cron) {
        this.text = text;
        this.period = period;
        this.monthly = monthly;
        this.cron = cron;
    }

    /**
     * Parses a frequency.
     *
     * @param text {@code hourly}, {@code daily}, {@code weekly}, {@code monthly} (any case) or a
     *             five-field UNIX cron expression
     * @throws IllegalArgumentException naming the value when it is none of these
     */
    public static Frequency parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("missing frequency: give hourly, daily, weekly, monthly or a cron expression");
        }
        String t = text.strip();
        switch (t.toLowerCase(Locale.ROOT)) {
            case "hourly":
                return new Frequency("hourly", Duration.ofHours(1), false, null);
            case "daily":
                return new Frequency("daily", Duration.ofDays(1), false, null);
            case "weekly":
                return new Frequency("weekly", Duration.ofDays(7), false, null);
            case "monthly":
                return new Frequency("monthly", null, true, null);
            default:
                break;
        }
        Cron cron;
        try {
            cron = CRON.parse(t).validate();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid frequency '" + text + "': not hourly, daily, weekly, monthly or a "
                    + "UNIX cron expression (minute hour day-of-month month day-of-week, e.g. '0 3 * * *'): " + e.getMessage());
        }
        return new Frequency(cron.asString(), null, false, ExecutionTime.forCron(cron));
    }

    /** The normalized text: {@code hourly} ... {@code monthly}, or the cron expression. */
    public String text() {
        return text;
    }

    /**
     * The first run time strictly after {@code after} that is not before {@code start}.
     *
     * @param start the schedule's start time: the first run of a fixed period; no cron run precedes it
     * @param after usually the time of the last run (or just before "now")
     * @throws IllegalStateException when a cron expression never fires again (e.g. {@code 0 0 30 2 *})
     */
    public Instant nextRun(Instant start, Instant after) {
        if (cron != null) {
            ZonedDateTime base = (after.isBefore(start) ? start.minusNanos(1) : after).atZone(ZoneOffset.UTC);
            Optional<ZonedDateTime> next = cron.nextExecution(base);
            while (next.isPresent() && next.get().toInstant().isBefore(start)) {
                next = cron.nextExecution(next.get());
            }
            return next.orElseThrow(() -> new IllegalStateException("cron expression '" + text
                    + "' has no run after " + after)).toInstant();
        }
        if (after.isBefore(start)) {
            return start;
        }
        if (monthly) {
            ZonedDateTime s = start.atZone(ZoneOffset.UTC);
            long months = ChronoUnit.MONTHS.between(s, after.atZone(ZoneOffset.UTC));
            Instant next = s.plusMonths(months).toInstant();
            while (!next.isAfter(after)) {
                next = s.plusMonths(++months).toInstant();
            }
            return next;
        }
        long periods = Duration.between(start, after).dividedBy(period) + 1;
        return start.plus(period.multipliedBy(periods));
    }

    @Override
    public String toString() {
        return text;
    }
}
