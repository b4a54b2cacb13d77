package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.forkline.pageserver.size.SizeText;

import java.io.PrintWriter;

/**
 * A text table of fixed-width columns: one {@link java.util.Formatter} format (ending in {@code %n})
 * for the header and every row. Not thread-safe.
 */
final class Table {
    private final PrintWriter out;
    private final String format;

    /** Prints the header line {@code columns} in {@code format}. */
    Table(PrintWriter out, String format, String... columns) {
        this.out = out;
        this.format = format;
        out.printf(format, (Object[]) columns);
    }

    /** Prints one row in the table's format. */
    void row(Object... cells) {
        out.printf(format, cells);
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
