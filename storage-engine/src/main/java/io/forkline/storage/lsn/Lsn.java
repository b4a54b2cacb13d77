package io.forkline.storage.lsn;

/**
 * A WAL position (log sequence number): an unsigned 64-bit byte offset into the WAL, printed the way
 * PostgreSQL prints {@code XLogRecPtr}: {@code X/Y}, the high and low 32 bits in upper-case hex
 * (see PostgreSQL {@code src/include/access/xlogdefs.h}, {@code LSN_FORMAT_ARGS}).
 *
 * <p>Forkline passes LSNs as primitive {@code long}s on hot paths; this class holds the parsing,
 * formatting and WAL-geometry helpers. Comparisons must be unsigned ({@link Long#compareUnsigned}),
 * although real LSNs never reach the sign bit.
 */
public final class Lsn {
    /** {@code InvalidXLogRecPtr}. */
    public static final long INVALID = 0L;
    /** WAL page size in bytes ({@code XLOG_BLCKSZ}, default build). */
    public static final int WAL_PAGE_SIZE = 8192;
    /** WAL segment size in bytes (initdb default, 16 MiB). */
    public static final int WAL_SEGMENT_SIZE = 16 * 1024 * 1024;

    private Lsn() {
    }

    /**
     * Parses {@code X/Y} (hex, either case, each half at most 8 digits).
     *
     * @throws IllegalArgumentException naming the text when it is not of that form
     */
    public static long parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("LSN is missing: expected X/Y in hex, e.g. 0/16B3748");
        }
        int slash = text.indexOf('/');
        if (slash <= 0 || slash == text.length() - 1 || slash > 8 || text.length() - slash - 1 > 8) {
            throw new IllegalArgumentException("invalid LSN '" + text + "': expected X/Y in hex, e.g. 0/16B3748");
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (i != slash && Character.digit(c, 16) < 0) {
                throw new IllegalArgumentException("invalid LSN '" + text + "': expected X/Y in hex, e.g. 0/16B3748");
            }
        }
        try {
            long hi = Long.parseLong(text.substring(0, slash), 16);
            long lo = Long.parseLong(text.substring(slash + 1), 16);
            return (hi << 32) | lo;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid LSN '" + text + "': expected X/Y in hex, e.g. 0/16B3748");
        }
    }

    /** Formats as {@code X/Y}, e.g. {@code 0/16B3748}. */
    public static String format(long lsn) {
        return Long.toHexString(lsn >>> 32).toUpperCase() + "/" + Long.toHexString(lsn & 0xFFFFFFFFL).toUpperCase();
    }

    /** Start of the WAL segment that holds {@code lsn}. */
    public static long segmentStart(long lsn) {
        return lsn - Long.remainderUnsigned(lsn, WAL_SEGMENT_SIZE);
    }

    /** Start of the WAL segment after the one holding {@code lsn}. */
    public static long nextSegmentStart(long lsn) {
        return segmentStart(lsn) + WAL_SEGMENT_SIZE;
    }

    /** Start of the WAL page that holds {@code lsn}. */
    public static long pageStart(long lsn) {
        return lsn - Long.remainderUnsigned(lsn, WAL_PAGE_SIZE);
    }

    /** Segment number of {@code lsn} ({@code XLByteToSeg}). */
    public static long segmentNo(long lsn) {
        return Long.divideUnsigned(lsn, WAL_SEGMENT_SIZE);
    }

    /** WAL file name for a segment on timeline {@code pgTimeline} ({@code XLogFileName}), 24 hex digits. */
    public static String walFileName(int pgTimeline, long segNo) {
        long perId = 0x100000000L / WAL_SEGMENT_SIZE;
        return String.format("%08X%08X%08X", pgTimeline, segNo / perId, segNo % perId);
    }
}
