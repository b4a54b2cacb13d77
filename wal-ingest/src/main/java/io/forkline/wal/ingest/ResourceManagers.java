package io.forkline.wal.ingest;

/**
 * PostgreSQL 15 resource manager ids ({@code src/include/access/rmgrlist.h}; the id is the
 * position in that list).
 */
public final class ResourceManagers {
    public static final int XLOG = 0;
    public static final int XACT = 1;
    public static final int SMGR = 2;
    public static final int CLOG = 3;
    public static final int DBASE = 4;
    public static final int TBLSPC = 5;
    public static final int MULTIXACT = 6;
    public static final int RELMAP = 7;
    public static final int STANDBY = 8;
    public static final int HEAP2 = 9;
    public static final int HEAP = 10;
    public static final int BTREE = 11;

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
