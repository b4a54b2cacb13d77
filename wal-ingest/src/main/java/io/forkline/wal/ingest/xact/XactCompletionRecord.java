package io.forkline.wal.ingest.xact;

import io.forkline.storage.key.RelTag;
import io.forkline.wal.ingest.rmgr.LittleEndianReader;
import io.forkline.wal.ingest.rmgr.RecordFormatException;

/**
 * A parsed {@code xl_xact_commit} / {@code xl_xact_abort} (PostgreSQL 15, {@code src/include/access/xact.h}),
 * following {@code ParseCommitRecord} / {@code ParseAbortRecord} in
 * {@code src/backend/access/rmgrdesc/xactdesc.c}. Main data, little-endian, each part present only
 * when its {@code xinfo} flag is set:
 *
 * <pre>
 *   xact_time (TimestampTz, 8)
 *   xinfo (uint32)                                  if info & XLOG_XACT_HAS_INFO (0x80)
 *   dbId (4) tsId (4)                               XACT_XINFO_HAS_DBINFO        0x001
 *   nsubxacts (4) subxacts[nsubxacts] (4 each)      XACT_XINFO_HAS_SUBXACTS      0x002
 *   nrels (4) RelFileNode[nrels] (spc,db,rel: 12)   XACT_XINFO_HAS_RELFILENODES  0x004
 *   nitems (4) xl_xact_stats_item[nitems] (12)      XACT_XINFO_HAS_DROPPED_STATS 0x100
 *   nmsgs (4) SharedInvalidationMessage[] (16)      XACT_XINFO_HAS_INVALS        0x008 (commit only)
 *   twophase xid (4)                                XACT_XINFO_HAS_TWOPHASE      0x010
 *   gid (NUL-terminated)                            XACT_XINFO_HAS_GID           0x080 (with TWOPHASE)
 *   origin_lsn (8) origin_timestamp (8), unaligned  XACT_XINFO_HAS_ORIGIN        0x020
 * </pre>
 *
 * @param xactTime     commit/abort time, microseconds since 2000-01-01 (PostgreSQL epoch)
 * @param xinfo        the {@code xinfo} flags, 0 when absent
 * @param subxacts     committed/aborted subtransaction xids (unsigned)
 * @param droppedRels  relations to drop (main fork tags; every fork is dropped)
 * @param twophaseXid  the prepared transaction's xid for the *_PREPARED variants, else 0
 * @param originTimestamp {@code xl_xact_origin.origin_timestamp} (PostgreSQL epoch microseconds) when
 *                     {@link #XINFO_HAS_ORIGIN} is set, else 0
 */
public record XactCompletionRecord(long xactTime, int xinfo, int[] subxacts, RelTag[] droppedRels,
                                   int twophaseXid, long originTimestamp) {
    /** {@code XLOG_XACT_HAS_INFO}. */
    public static final int XLOG_XACT_HAS_INFO = 0x80;
    /** {@code XLOG_XACT_OPMASK}: the bits of {@code xl_info} naming the xact record type. */
    public static final int XLOG_XACT_OPMASK = 0x70;
    /** {@code XLOG_XACT_COMMIT}. */
    public static final int XLOG_XACT_COMMIT = 0x00;
    /** {@code XLOG_XACT_PREPARE}: main data is the two-phase state file. */
    public static final int XLOG_XACT_PREPARE = 0x10;
    /** {@code XLOG_XACT_ABORT}. */
    public static final int XLOG_XACT_ABORT = 0x20;
    /** {@code XLOG_XACT_COMMIT_PREPARED}. */
    public static final int XLOG_XACT_COMMIT_PREPARED = 0x30;
    /** {@code XLOG_XACT_ABORT_PREPARED}. */
    public static final int XLOG_XACT_ABORT_PREPARED = 0x40;
    public static final int XINFO_HAS_DBINFO = 1;
    public static final int XINFO_HAS_SUBXACTS = 1 << 1;
    public static final int XINFO_HAS_RELFILENODES = 1 << 2;
    public static final int XINFO_HAS_INVALS = 1 << 3;
    public static final int XINFO_HAS_TWOPHASE = 1 << 4;
    public static final int XINFO_HAS_ORIGIN = 1 << 5;
    public static final int XINFO_HAS_AE_LOCKS = 1 << 6;
    public static final int XINFO_HAS_GID = 1 << 7;
    public static final int XINFO_HAS_DROPPED_STATS = 1 << 8;

    /** {@code sizeof(RelFileNode)}. */
    private static final int REL_FILE_NODE_SIZE = 12;
    /** Shared by every record without subtransactions (never written to). */
    private static final int[] NO_SUBXACTS = new int[0];
    /** Shared by every record that drops no relation (never written to). */
    private static final RelTag[] NO_RELS = new RelTag[0];
    /** {@code sizeof(xl_xact_stats_item)}. */
    private static final int STATS_ITEM_SIZE = 12;
    /** {@code sizeof(SharedInvalidationMessage)}. */
    private static final int INVAL_MSG_SIZE = 16;
    /** Microseconds from 1970-01-01 to 2000-01-01. */
    public static final long POSTGRES_EPOCH_UNIX_MICROS = 946_684_800_000_000L;

    /**
     * The time {@code xact_redo_commit} records as the commit timestamp
     * ({@code TransactionTreeSetCommitTsData}): the origin's timestamp when the record has a replication
     * origin ({@link #XINFO_HAS_ORIGIN}), else {@link #xactTime}; PostgreSQL epoch microseconds.
     */
    public long commitTsTime() {
        return (xinfo & XINFO_HAS_ORIGIN) != 0 ? originTimestamp : xactTime;
    }

    /** {@link #xactTime} as microseconds since the Unix epoch. */
    public long unixMicros() {
        return xactTime + POSTGRES_EPOCH_UNIX_MICROS;
    }

    /**
     * Parses a commit ({@code isCommit}) or abort record.
     *
     * @param info     the record's {@code xl_info}
     * @param data     the main data
     * @throws RecordFormatException when the data is shorter than its flags promise or a count is negative
     */
    public static XactCompletionRecord parse(int info, byte[] data, boolean isCommit) {
        int p = 0;
        long xactTime = LittleEndianReader.i64(data, p);
        p += 8;
        int xinfo = 0;
        if ((info & XLOG_XACT_HAS_INFO) != 0) {
            xinfo = LittleEndianReader.i32(data, p);
            p += 4;
        }
        if ((xinfo & XINFO_HAS_DBINFO) != 0) {
            LittleEndianReader.require(data, p, 8, "xl_xact_dbinfo");
            p += 8;
        }
        int[] subxacts = NO_SUBXACTS;
        if ((xinfo & XINFO_HAS_SUBXACTS) != 0) {
            int n = count(data, p, 4, "nsubxacts");
            p += 4;
            subxacts = new int[n];
            for (int i = 0; i < n; i++) {
                subxacts[i] = LittleEndianReader.i32(data, p);
                p += 4;
            }
        }
        RelTag[] rels = NO_RELS;
        if ((xinfo & XINFO_HAS_RELFILENODES) != 0) {
            int n = count(data, p, REL_FILE_NODE_SIZE, "nrels");
            p += 4;
            rels = new RelTag[n];
            for (int i = 0; i < n; i++) {
                rels[i] = new RelTag(LittleEndianReader.i32(data, p), LittleEndianReader.i32(data, p + 4),
                        LittleEndianReader.i32(data, p + 8), RelTag.MAIN_FORK);
                p += REL_FILE_NODE_SIZE;
            }
        }
        if ((xinfo & XINFO_HAS_DROPPED_STATS) != 0) {
            int n = count(data, p, STATS_ITEM_SIZE, "dropped stats nitems");
            p += 4 + n * STATS_ITEM_SIZE;
        }
        if (isCommit && (xinfo & XINFO_HAS_INVALS) != 0) {
            int n = count(data, p, INVAL_MSG_SIZE, "nmsgs");
            p += 4 + n * INVAL_MSG_SIZE;
        }
        int twophaseXid = 0;
        if ((xinfo & XINFO_HAS_TWOPHASE) != 0) {
            twophaseXid = LittleEndianReader.i32(data, p);
            p += 4;
            if ((xinfo & XINFO_HAS_GID) != 0) {
                int end = p;
                while (end < data.length && data[end] != 0) {
                    end++;
                }
                if (end >= data.length) {
                    throw new RecordFormatException("two-phase gid at offset " + p + " is not NUL-terminated");
                }
                p = end + 1;
            }
        }
        long originTimestamp = 0;
        if ((xinfo & XINFO_HAS_ORIGIN) != 0) {
            LittleEndianReader.require(data, p, 16, "xl_xact_origin");
            originTimestamp = LittleEndianReader.i64(data, p + 8); // after origin_lsn
        }
        return new XactCompletionRecord(xactTime, xinfo, subxacts, rels, twophaseXid, originTimestamp);
    }

    private static int count(byte[] data, int p, int elementSize, String what) {
        int n = LittleEndianReader.i32(data, p);
        if (n < 0) {
            throw new RecordFormatException(what + " is negative: " + n);
        }
        LittleEndianReader.require(data, p + 4, (long) n * elementSize, what + " (" + n + ")");
        return n;
    }
}
