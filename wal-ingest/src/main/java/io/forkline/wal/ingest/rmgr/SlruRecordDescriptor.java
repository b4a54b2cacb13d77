package io.forkline.wal.ingest.rmgr;

/**
 * CLOG, multixact and commit timestamp records ({@code src/include/access/clog.h},
 * {@code src/include/access/multixact.h}, {@code src/include/access/commit_ts.h}), little-endian:
 *
 * <pre>
 *   CLOG_ZEROPAGE                0x00: pageno(4)
 *   CLOG_TRUNCATE                0x10: xl_clog_truncate: pageno(4) oldestXact(4) oldestXactDb(4)
 *   XLOG_MULTIXACT_ZERO_OFF_PAGE 0x00: pageno(4)
 *   XLOG_MULTIXACT_ZERO_MEM_PAGE 0x10: pageno(4)
 *   XLOG_MULTIXACT_CREATE_ID     0x20: xl_multixact_create: mid(4) moff(4) nmembers(4)
 *                                      members[nmembers]: { xid(4) status(4) }
 *   XLOG_MULTIXACT_TRUNCATE_ID   0x30: xl_multixact_truncate: oldestMultiDB(4) startTruncOff(4)
 *                                      endTruncOff(4) startTruncMemb(4) endTruncMemb(4)
 *   COMMIT_TS_ZEROPAGE           0x00: pageno(4)
 *   COMMIT_TS_TRUNCATE           0x10: xl_commit_ts_truncate: pageno(4) oldestXid(4)
 * </pre>
 */
public final class SlruRecordDescriptor {
    /** {@code CLOG_ZEROPAGE} (rmgr CLOG). */
    public static final int CLOG_ZEROPAGE = 0x00;
    /** {@code CLOG_TRUNCATE} (rmgr CLOG). */
    public static final int CLOG_TRUNCATE = 0x10;
    /** {@code XLOG_MULTIXACT_ZERO_OFF_PAGE} (rmgr MultiXact). */
    public static final int XLOG_MULTIXACT_ZERO_OFF_PAGE = 0x00;
    /** {@code XLOG_MULTIXACT_ZERO_MEM_PAGE} (rmgr MultiXact). */
    public static final int XLOG_MULTIXACT_ZERO_MEM_PAGE = 0x10;
    /** {@code XLOG_MULTIXACT_CREATE_ID} (rmgr MultiXact). */
    public static final int XLOG_MULTIXACT_CREATE_ID = 0x20;
    /** {@code XLOG_MULTIXACT_TRUNCATE_ID} (rmgr MultiXact). */
    public static final int XLOG_MULTIXACT_TRUNCATE_ID = 0x30;

    /** {@code COMMIT_TS_ZEROPAGE} (rmgr CommitTs). */
    public static final int COMMIT_TS_ZEROPAGE = 0x00;
    /** {@code COMMIT_TS_TRUNCATE} (rmgr CommitTs). */
    public static final int COMMIT_TS_TRUNCATE = 0x10;
    /** {@code SizeOfCommitTsTruncate}. */
    public static final int COMMIT_TS_TRUNCATE_SIZE = 8;

    /** {@code SizeOfMultiXactCreate}. */
    public static final int MULTIXACT_CREATE_HEADER = 12;
    /** {@code sizeof(MultiXactMember)}. */
    public static final int MULTIXACT_MEMBER_SIZE = 8;

    private SlruRecordDescriptor() {
    }

    /** {@code pageno} of zero-page and CLOG truncate records. */
    public static int pageNo(byte[] d) {
        int p = LittleEndianReader.i32(d, 0);
        if (p < 0) {
            throw new RecordFormatException("SLRU page number is negative: " + p);
        }
        return p;
    }

    /** {@code xl_commit_ts_truncate.oldestXid}: the new oldest xid with a commit timestamp. */
    public static int commitTsTruncateOldestXid(byte[] d) {
        LittleEndianReader.require(d, 0, COMMIT_TS_TRUNCATE_SIZE, "xl_commit_ts_truncate");
        return LittleEndianReader.i32(d, 4);
    }

    /** {@code xl_clog_truncate.oldestXact}. */
    public static int clogTruncateOldestXact(byte[] d) {
        return LittleEndianReader.i32(d, 4);
    }

    /** {@code xl_clog_truncate.oldestXactDb}. */
    public static int clogTruncateOldestXactDb(byte[] d) {
        return LittleEndianReader.i32(d, 8);
    }

    /**
     * {@code nmembers} of a CREATE_ID record, validated against the data length.
     *
     * @throws RecordFormatException naming the count when it is not positive or the data is shorter
     *                               than {@code 12 + 8 * nmembers} bytes
     */
    public static int createMembers(byte[] d) {
        int n = LittleEndianReader.i32(d, 8);
        if (n <= 0) {
            throw new RecordFormatException("xl_multixact_create nmembers is " + n + ", expected > 0");
        }
        LittleEndianReader.require(d, MULTIXACT_CREATE_HEADER, (long) n * MULTIXACT_MEMBER_SIZE,
                "xl_multixact_create members[" + n + "]");
        return n;
    }

    /** Member {@code i}'s xid. */
    public static int memberXid(byte[] d, int i) {
        return LittleEndianReader.i32(d, MULTIXACT_CREATE_HEADER + i * MULTIXACT_MEMBER_SIZE);
    }

    /** Member {@code i}'s {@code MultiXactStatus} (0..5). */
    public static int memberStatus(byte[] d, int i) {
        int s = LittleEndianReader.i32(d, MULTIXACT_CREATE_HEADER + i * MULTIXACT_MEMBER_SIZE + 4);
        if (s < 0 || s > 5) {
            throw new RecordFormatException("multixact member " + i + " has status " + s + ", expected 0..5");
        }
        return s;
    }
}
