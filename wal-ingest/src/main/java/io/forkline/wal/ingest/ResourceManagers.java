package io.forkline.wal.ingest;

/**
 * PostgreSQL 15 resource manager ids ({@code src/include/access/rmgrlist.h}; the id is the
 * position in that list).
 */
public final class ResourceManagers {
    /** {@code RM_XLOG_ID}: checkpoints, next OID, WAL switch, full-page images. */
    public static final int XLOG = 0;
    /** {@code RM_XACT_ID}: commit, abort, prepare. */
    public static final int XACT = 1;
    /** {@code RM_SMGR_ID}: relation fork create and truncate. */
    public static final int SMGR = 2;
    /** {@code RM_CLOG_ID}: CLOG zero-page and truncate. */
    public static final int CLOG = 3;
    /** {@code RM_DBASE_ID}: CREATE / DROP DATABASE. */
    public static final int DBASE = 4;
    /** {@code RM_TBLSPC_ID}: CREATE / DROP TABLESPACE. */
    public static final int TBLSPC = 5;
    /** {@code RM_MULTIXACT_ID}: multixact pages, members, truncation. */
    public static final int MULTIXACT = 6;
    /** {@code RM_RELMAP_ID}: {@code pg_filenode.map} updates. */
    public static final int RELMAP = 7;
    /** {@code RM_STANDBY_ID}: running xacts, locks (hot standby only). */
    public static final int STANDBY = 8;
    /** {@code RM_HEAP2_ID}: prune, vacuum, visible, multi-insert, lock-updated. */
    public static final int HEAP2 = 9;
    /** {@code RM_HEAP_ID}: insert, delete, update, lock. */
    public static final int HEAP = 10;
    /** {@code RM_BTREE_ID}: B-tree index pages. */
    public static final int BTREE = 11;
    /** {@code RM_COMMIT_TS_ID}: commit timestamp zero-page and truncate. */
    public static final int COMMIT_TS = 18;

    private static final String[] NAMES = {"XLOG", "Transaction", "Storage", "CLOG", "Database", "Tablespace",
            "MultiXact", "RelMap", "Standby", "Heap2", "Heap", "Btree", "Hash", "Gin", "Gist", "Sequence", "SPGist",
            "BRIN", "CommitTs", "ReplicationOrigin", "Generic", "LogicalMessage"};

    private ResourceManagers() {
    }

    /** The rmgr's name as {@code pg_waldump} prints it, or {@code "unknown"}. */
    public static String name(int rmid) {
        return rmid >= 0 && rmid < NAMES.length ? NAMES[rmid] : "unknown";
    }
}
