package io.forkline.storage.lsn;

import java.util.HexFormat;

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
    /**
     * Bytes of the header of a WAL page that does not start a segment ({@code SizeOfXLogShortPHD},
     * {@code MAXALIGN(sizeof(XLogPageHeaderData))}, PostgreSQL {@code src/include/access/xlog_internal.h}).
     */
    public static final int SHORT_PAGE_HEADER_BYTES = 24;
    /**
     * Bytes of the header of the first WAL page of a segment ({@code SizeOfXLogLongPHD},
     * {@code MAXALIGN(sizeof(XLogLongPageHeaderData))}, PostgreSQL {@code src/include/access/xlog_internal.h}).
     */
    public static final int LONG_PAGE_HEADER_BYTES = 40;

    private Lsn() {
    }

    /**
     * Parses {@code X/Y} (hex, either case, each half at most 8 ASCII digits {@code 0-9a-fA-F};
     * other Unicode digits such as fullwidth ones are refused).
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
            if (i != slash && !HexFormat.isHexDigit(c)) {
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

    /**
     * The WAL insert position right after a record that ends at {@code recordEnd}: where the next
     * record starts. PostgreSQL reports a record's end with {@code XLogBytePosToEndRecPtr}, which
     * at a WAL page boundary points at the page's start (before its header), while the next
     * record's start is {@code XLogBytePosToRecPtr} of the same byte position, which points past the
     * header (PostgreSQL {@code src/backend/access/transam/xlog.c}). So the insert position is
     * {@code recordEnd} itself, or {@code recordEnd + 40} ({@link #LONG_PAGE_HEADER_BYTES}) at a
     * segment boundary, or {@code recordEnd + 24} ({@link #SHORT_PAGE_HEADER_BYTES}) at another page
     * boundary. Assumes the default geometry ({@link #WAL_PAGE_SIZE}, {@link #WAL_SEGMENT_SIZE}).
     *
     * @param recordEnd end LSN of a record as PostgreSQL reports it (WAL byte position, MAXALIGNed
     *                  by {@code XLogInsertRecord}); not checked
     * @return the insert position after it, WAL byte position, at least {@code recordEnd}
     */
    public static long insertPositionAfter(long recordEnd) {
        if (Long.remainderUnsigned(recordEnd, WAL_SEGMENT_SIZE) == 0) {
            return recordEnd + LONG_PAGE_HEADER_BYTES;
        }
        if (Long.remainderUnsigned(recordEnd, WAL_PAGE_SIZE) == 0) {
            return recordEnd + SHORT_PAGE_HEADER_BYTES;
        }
        return recordEnd;
    }

    /**
     * Whether WAL ingested up to a record ending at {@code lastRecordEnd} covers everything before
     * the insert position {@code insertLsn} (e.g. {@code pg_current_wal_insert_lsn()}, or a
     * requested read LSN): {@code lastRecordEnd >= insertLsn}, or {@code insertLsn} is at most the
     * insert position right after that record ({@link #insertPositionAfter}: only a page header
     * lies between them). Comparisons are unsigned.
     *
     * @param lastRecordEnd end LSN of the last ingested record (WAL byte position)
     * @param insertLsn     an insert position (WAL byte position)
     * @return {@code true} when no WAL record lies between the two positions
     */
    public static boolean covers(long lastRecordEnd, long insertLsn) {
        return Long.compareUnsigned(lastRecordEnd, insertLsn) >= 0
                || Long.compareUnsigned(insertPositionAfter(lastRecordEnd), insertLsn) >= 0;
    }
}
