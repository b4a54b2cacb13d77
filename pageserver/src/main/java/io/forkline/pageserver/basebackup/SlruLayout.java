package io.forkline.pageserver.basebackup;

import io.forkline.storage.key.Key;

/**
 * Geometry of PostgreSQL 15's SLRUs as stored under {@link Key#slruPage}: 8192-byte pages,
 * {@value #PAGES_PER_SEGMENT} pages per segment file, file names {@code %04X} of the segment number
 * ({@code slru.c SlruFileName}; more digits once the number exceeds 0xFFFF), and which page holds
 * a given xid / multixact id / member offset ({@code clog.c TransactionIdToPage},
 * {@code multixact.c MultiXactIdToOffsetPage}, {@code MXOffsetToMemberPage}).
 */
public final class SlruLayout {
    /** {@code SLRU_PAGES_PER_SEGMENT}. */
    public static final int PAGES_PER_SEGMENT = 32;
    /** {@code BLCKSZ}. */
    public static final int PAGE_SIZE = 8192;
    /** {@code CLOG_XACTS_PER_PAGE}: 4 transactions per byte. */
    public static final long CLOG_XACTS_PER_PAGE = PAGE_SIZE * 4L;
    /** {@code MULTIXACT_OFFSETS_PER_PAGE}: one 4-byte offset per multixact. */
    public static final long MULTIXACT_OFFSETS_PER_PAGE = PAGE_SIZE / 4;
    /** {@code MULTIXACT_MEMBERS_PER_PAGE}: 409 groups of (4 flag bytes + 4 xids) per page. */
    public static final long MULTIXACT_MEMBERS_PER_PAGE = (PAGE_SIZE / 20) * 4L;

    private SlruLayout() {
    }

    /**
     * Data-directory path of an SLRU: {@code pg_xact}, {@code pg_multixact/offsets}, {@code pg_multixact/members},
     * {@code pg_commit_ts}.
     */
    public static String directory(int slru) {
        return switch (slru) {
            case Key.SLRU_CLOG -> "pg_xact";
            case Key.SLRU_MULTIXACT_OFFSETS -> "pg_multixact/offsets";
            case Key.SLRU_MULTIXACT_MEMBERS -> "pg_multixact/members";
            case Key.SLRU_COMMIT_TS -> "pg_commit_ts";
            default -> throw new IllegalArgumentException("unknown SLRU kind " + slru);
        };
    }

    /** File name of segment {@code segNo} ({@code %04X}). */
    public static String segmentFileName(long segNo) {
        return String.format("%04X", segNo);
    }

    /** CLOG page holding the status of {@code xid} (32-bit, unsigned). */
    public static int clogPage(int xid) {
        return (int) (Integer.toUnsignedLong(xid) / CLOG_XACTS_PER_PAGE);
    }

    /** Offsets page of multixact {@code multi} (unsigned). */
    public static int multiXactOffsetPage(int multi) {
        return (int) (Integer.toUnsignedLong(multi) / MULTIXACT_OFFSETS_PER_PAGE);
    }

    /** Members page of member offset {@code offset} (unsigned). */
    public static int multiXactMemberPage(int offset) {
        return (int) (Integer.toUnsignedLong(offset) / MULTIXACT_MEMBERS_PER_PAGE);
    }
}
