package io.forkline.wal.redo;

/**
 * Which records Forkline redoes in Java, and the per-rmgr entry points: {@code rm_redo} and
 * {@code rm_mask} of PostgreSQL's resource manager table ({@code src/include/access/rmgrlist.h}).
 * Redone: Heap (10), Heap2 (9), Btree (11), Hash (12), Gin (13), Gist (14), Sequence (15), SPGist (16), BRIN (17), Generic (20). XLOG FPI / FPI_FOR_HINT are images
 * only ({@code BKPIMAGE_APPLY}), restored by the ingest as before.
 */
public final class NativeRedo {
    public static final int RM_HEAP2 = 9;
    public static final int RM_HEAP = 10;
    public static final int RM_BTREE = 11;
    public static final int RM_HASH = 12;
    public static final int RM_GIN = 13;
    public static final int RM_GIST = 14;
    public static final int RM_SPGIST = 16;
    public static final int RM_SEQ = 15;
    public static final int RM_BRIN = 17;
    public static final int RM_GENERIC = 20;

    /**
     * {@code wal_consistency_checking} value for computes whose WAL is redone natively: the resource
     * managers with page images that Java does not redo: none.
     */
    public static final String CONSISTENCY_CHECKING_NOT_REDONE = "";

    private NativeRedo() {
    }

    /** Whether records of resource manager {@code rmid} are redone in Java. */
    public static boolean handles(int rmid) {
        return rmid == RM_HEAP || rmid == RM_HEAP2 || rmid == RM_BTREE || rmid == RM_SEQ || rmid == RM_GENERIC
                || rmid == RM_BRIN || rmid == RM_HASH || rmid == RM_GIN
                || rmid == RM_GIST || rmid == RM_SPGIST;
    }

    /**
     * Whether redo changes a block's image before it is stored ({@link RedoBuffers#forRedoOrRestored}),
     * so records of {@code rmid} are redone even when every block carries an image: GiST.
     */
    public static boolean changesImages(int rmid) {
        return rmid == RM_GIST;
    }

    /**
     * Redoes {@code bufs.record()} on the pages {@code bufs} hands out.
     *
     * @throws RedoException when the record is malformed or does not fit its page
     * @throws IllegalArgumentException when {@link #handles} is false for the record's rmgr
     */
    public static void redo(RedoBuffers bufs) {
        switch (bufs.record().rmid()) {
            case RM_HEAP -> HeapRedo.redo(bufs);
            case RM_HEAP2 -> Heap2Redo.redo(bufs);
            case RM_BTREE -> BtreeRedo.redo(bufs);
            case RM_SEQ -> SequenceRedo.redo(bufs);
            case RM_GENERIC -> GenericRedo.redo(bufs);
            case RM_BRIN -> BrinRedo.redo(bufs);
            case RM_HASH -> HashRedo.redo(bufs);
            case RM_GIN -> GinRedo.redo(bufs);
            case RM_GIST -> GistRedo.redo(bufs);
            case RM_SPGIST -> SpGistRedo.redo(bufs);
            default -> throw new IllegalArgumentException("no native redo for rmgr " + bufs.record().rmid());
        }
    }

    /** {@code rm_mask} of the rmgr, in place. */
    public static void mask(int rmid, byte[] page, int blkno) {
        switch (rmid) {
            case RM_HEAP, RM_HEAP2 -> PageMasks.heapMask(page, blkno);
            case RM_BTREE -> PageMasks.btreeMask(page);
            case RM_SEQ -> PageMasks.seqMask(page);
            case RM_GENERIC -> PageMasks.genericMask(page);
            case RM_BRIN -> BrinRedo.mask(page);
            case RM_HASH -> HashPage.mask(page);
            case RM_GIN -> GinPage.mask(page);
            case RM_GIST -> GistPage.mask(page);
            case RM_SPGIST -> SpGistPage.mask(page);
            default -> throw new IllegalArgumentException("no mask for rmgr " + rmid);
        }
    }

    /**
     * The strict check beyond the mask: first differing offset, or -1.
     *
     * @param blockNo   the compared page's block number
     * @param heapBlock the heap block a {@code Heap2/VISIBLE} record sets in the visibility map, else -1
     */
    public static int strictDifference(int rmid, byte[] actual, byte[] expected, int fork, long blockNo,
                                       long heapBlock) {
        return switch (rmid) {
            case RM_HEAP, RM_HEAP2 -> PageMasks.strictHeapDifference(actual, expected, fork, blockNo, heapBlock);
            default -> -1;
        };
    }

    /** {@code Heap/INSERT+INIT}-style name of a record type, as pg_waldump prints them. */
    public static String recordName(int rmid, int info) {
        return switch (rmid) {
            case RM_HEAP -> "Heap/" + name(info & 0x70, "INSERT", "DELETE", "UPDATE", "TRUNCATE", "HOT_UPDATE",
                    "CONFIRM", "LOCK", "INPLACE") + ((info & 0x80) != 0 ? "+INIT" : "");
            case RM_HEAP2 -> "Heap2/" + name(info & 0x70, "REWRITE", "PRUNE", "VACUUM", "FREEZE_PAGE", "VISIBLE",
                    "MULTI_INSERT", "LOCK_UPDATED", "NEW_CID") + ((info & 0x80) != 0 ? "+INIT" : "");
            case RM_SEQ -> "Sequence/LOG";
            case RM_GENERIC -> "Generic/GENERIC";
            case RM_BTREE -> "Btree/" + name(info & 0xF0, "INSERT_LEAF", "INSERT_UPPER", "INSERT_META", "SPLIT_L",
                    "SPLIT_R", "INSERT_POST", "DEDUP", "DELETE", "UNLINK_PAGE", "UNLINK_PAGE_META", "NEWROOT",
                    "MARK_PAGE_HALFDEAD", "VACUUM", "REUSE_PAGE", "META_CLEANUP", "0xF0");
            case RM_HASH -> "Hash/" + name(info & 0xF0, "INIT_META_PAGE", "INIT_BITMAP_PAGE", "INSERT", "ADD_OVFL_PAGE",
                    "SPLIT_ALLOCATE_PAGE", "SPLIT_PAGE", "SPLIT_COMPLETE", "MOVE_PAGE_CONTENTS", "SQUEEZE_PAGE", "DELETE",
                    "SPLIT_CLEANUP", "UPDATE_META_PAGE", "VACUUM_ONE_PAGE", "0xD0", "0xE0", "0xF0");
            case RM_GIN -> "Gin/" + name(info & 0xF0, "0x00", "CREATE_PTREE", "INSERT", "SPLIT", "VACUUM_PAGE",
                    "DELETE_PAGE", "UPDATE_META_PAGE", "INSERT_LISTPAGE", "DELETE_LISTPAGE", "VACUUM_DATA_LEAF_PAGE",
                    "0xA0", "0xB0", "0xC0", "0xD0", "0xE0", "0xF0");
            case RM_GIST -> "Gist/" + name(info & 0xF0, "PAGE_UPDATE", "DELETE", "PAGE_REUSE", "PAGE_SPLIT", "0x40",
                    "0x50", "PAGE_DELETE", "ASSIGN_LSN", "0x80", "0x90", "0xA0", "0xB0", "0xC0", "0xD0", "0xE0", "0xF0");
            case RM_SPGIST -> "SPGist/" + name(info & 0xF0, "0x00", "ADD_LEAF", "MOVE_LEAFS", "ADD_NODE", "SPLIT_TUPLE",
                    "PICKSPLIT", "VACUUM_LEAF", "VACUUM_ROOT", "VACUUM_REDIRECT", "0x90", "0xA0", "0xB0", "0xC0", "0xD0",
                    "0xE0", "0xF0");
            case 17 -> "BRIN/" + name(info & 0x70, "CREATE_INDEX", "INSERT", "UPDATE", "SAMEPAGE_UPDATE",
                    "REVMAP_EXTEND", "DESUMMARIZE", "0x60", "0x70") + ((info & 0x80) != 0 ? "+INIT" : "");
            default -> rmgrName(rmid) + "/0x" + Integer.toHexString(info & 0xF0);
        };
    }

    private static final String[] RMGR_NAMES = {"XLOG", "Transaction", "Storage", "CLOG", "Database", "Tablespace",
            "MultiXact", "RelMap", "Standby", "Heap2", "Heap", "Btree", "Hash", "Gin", "Gist", "Sequence", "SPGist",
            "BRIN", "CommitTs", "ReplicationOrigin", "Generic", "LogicalMessage"};

    /** PostgreSQL 15's name of resource manager {@code rmid} ({@code rmgrlist.h}), as pg_waldump prints it. */
    public static String rmgrName(int rmid) {
        return rmid >= 0 && rmid < RMGR_NAMES.length ? RMGR_NAMES[rmid] : "rmgr" + rmid;
    }

    private static String name(int op, String... names) {
        return names[op >> 4];
    }
}
