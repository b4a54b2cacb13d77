package io.forkline.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * Repeated measurements of one quantity (seconds, MB/s, ...), in the order taken. Not thread-safe.
 */
public final class Samples {
    private final String name;
    private final String unit;
    private final List<Double> values = new ArrayList<>();

    /**
     * @param name what is measured, e.g. {@code "forkline branch"}
     * @param unit unit of every value, e.g. {@code "s"}
     */
    public Samples(String name, String unit) {
        this.name = name;
        this.unit = unit;
    }

    public void add(double value) {
        values.add(value);
    }

    public String name() {
        return name;
    }

    public String unit() {
        return unit;
    }

    public List<Double> values() {
        return List.copyOf(values);
    }

    /**
     * The median (mean of the two middle values for an even count).
     *
     * @throws IllegalStateException when there are no values
     */
    public double median() {
        if (values.isEmpty()) {
            throw new IllegalStateException("no samples of '" + name + "'");
        }
        List<Double> s = new ArrayList<>(values);
        Collections.sort(s);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    /** {@code "name: median unit (v1, v2, ...)"} with three significant decimals. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (double v : values) {
            sb.append(sb.isEmpty() ? "" : ", ").append(fmt(v));
        }
        return name + ": median " + fmt(median()) + " " + unit + " (runs: " + sb + ")";
    }

    /** A value with three decimals, locale-independent. */
    public static String fmt(double v) {
        return String.format(Locale.ROOT, "%.3f", v);
    }
}
