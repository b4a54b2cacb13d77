package io.forkline.pageserver.diff;

import io.forkline.pageserver.api.ApiException;
import io.forkline.storage.lsn.Lsn;

/**
 * One side of a diff: {@code REF} (the branch now), {@code REF@LSN} ({@code X/Y}) or
 * {@code REF@TIMESTAMP} (RFC 3339, e.g. {@code 2026-05-01T12:00:00Z}). Refs never contain {@code @},
 * so the last {@code @} separates the point.
 *
 * @param ref  the branch
 * @param lsn  the LSN text, or {@code null}
 * @param at   the timestamp text, or {@code null}
 * @param text the side as given
 */
public record DiffSide(String ref, String lsn, String at, String text) {
    /**
     * Parses a side.
     *
     * @param what {@code from} or {@code to}, for messages
     * @throws ApiException 400 naming the value when it is empty or its point is neither an LSN nor a timestamp
     */
    public static DiffSide parse(String what, String text) {
        if (text == null || text.isBlank()) {
            throw ApiException.badRequest("missing '" + what + "': REF, REF@LSN (X/Y) or REF@TIMESTAMP (RFC 3339)");
        }
        String t = text.strip();
        int at = t.lastIndexOf('@');
        if (at < 0) {
            return new DiffSide(t, null, null, t);
        }
        String ref = t.substring(0, at);
        String point = t.substring(at + 1);
        if (ref.isEmpty() || point.isEmpty()) {
            throw ApiException.badRequest("invalid " + what + " '" + t + "': expected REF, REF@LSN or REF@TIMESTAMP");
        }
        if (point.contains("/")) {
            try {
                Lsn.parse(point);
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest("invalid LSN in " + what + " '" + t + "': " + e.getMessage());
            }
            return new DiffSide(ref, point, null, t);
        }
        return new DiffSide(ref, null, point, t);
    }

    /** Whether this is the branch's present state (no LSN, no time). */
    public boolean latest() {
        return lsn == null && at == null;
    }
}
