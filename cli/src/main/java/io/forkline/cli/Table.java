package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.forkline.format.size.SizeText;

import java.io.PrintWriter;

/**
 * A text table of columns: one {@link java.util.Formatter} format (ending in {@code %n}) gives each
 * column's minimum width ({@code %-24s}) and alignment; rows are collected and printed by
 * {@link #end()}, every column widened to its longest cell, so long refs and names never push the
 * columns after them out of line. Not thread-safe.
 */
final class Table {
    private static final java.util.regex.Pattern SPEC = java.util.regex.Pattern.compile("%(-?)(\\d*)s");

    private final PrintWriter out;
    private final String format;
    private final java.util.List<Object[]> rows = new java.util.ArrayList<>();

    /** A table whose header is {@code columns}, laid out by {@code format}; prints nothing until {@link #end()}. */
    Table(PrintWriter out, String format, String... columns) {
        this.out = out;
        this.format = format;
        rows.add(columns);
    }

    /** Adds one row (printed by {@link #end()}). */
    void row(Object... cells) {
        rows.add(cells);
    }

    /** Prints the header and every row, each column as wide as its longest cell (at least the format's width). */
    void end() {
        java.util.regex.Matcher m = SPEC.matcher(format);
        StringBuilder f = new StringBuilder();
        int col = 0;
        int last = 0;
        while (m.find()) {
            f.append(format, last, m.start());
            if (m.group(2).isEmpty()) {
                f.append(m.group()); // unbounded (the last column): as is
            } else {
                int w = Integer.parseInt(m.group(2));
                for (Object[] r : rows) {
                    if (col < r.length && r[col] != null) {
                        w = Math.max(w, String.valueOf(r[col]).length());
                    }
                }
                f.append('%').append(m.group(1)).append(w).append('s');
            }
            col++;
            last = m.end();
        }
        f.append(format.substring(last));
        String widened = f.toString();
        for (Object[] r : rows) {
            out.printf(widened, r);
        }
        rows.clear();
    }

    /** The text of {@code n.field}, or {@code "-"} when it is missing or null. */
    static String text(JsonNode n, String field) {
        JsonNode v = n.path(field);
        return v.isMissingNode() || v.isNull() ? "-" : v.asText();
    }

    /**
     * A byte count for people ({@link SizeText#human}: "12.3 MB" / "1.5 GB", MB = 2^20 bytes,
     * locale-independent), or "-" when the server did not report it ({@code n} missing, null or not a
     * number).
     *
     * @throws IllegalArgumentException when the number is negative
     */
    static String bytes(JsonNode n) {
        return n.isNumber() ? SizeText.human(n.asLong()) : "-";
    }
}
