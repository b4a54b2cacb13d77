package io.forkline.storage.key;

/**
 * Names one fork of one relation: PostgreSQL's {@code RelFileNode} plus a fork number
 * (see {@code src/include/storage/relfilenode.h} and {@code src/include/common/relpath.h}).
 *
 * @param spcOid    tablespace OID ({@code 1663} pg_default, {@code 1664} pg_global)
 * @param dbOid     database OID, {@code 0} for shared relations
 * @param relNumber relfilenode number (the file name under {@code base/<db>/})
 * @param forkNum   {@link #MAIN_FORK}, {@link #FSM_FORK}, {@link #VM_FORK} or {@link #INIT_FORK}
 */
public record RelTag(int spcOid, int dbOid, int relNumber, int forkNum) {
    public static final int MAIN_FORK = 0;
    public static final int FSM_FORK = 1;
    public static final int VM_FORK = 2;
    public static final int INIT_FORK = 3;
    /** {@code DEFAULTTABLESPACE_OID}. */
    public static final int DEFAULT_TABLESPACE_OID = 1663;
    /** {@code GLOBALTABLESPACE_OID}. */
    public static final int GLOBAL_TABLESPACE_OID = 1664;

    /**
     * @throws IllegalArgumentException when {@code forkNum} is not 0..3
     */
    public RelTag {
        if (forkNum < 0 || forkNum > INIT_FORK) {
            throw new IllegalArgumentException("invalid fork number " + forkNum + ": expected 0..3");
        }
    }

    /** The same relation, another fork. */
    public RelTag withFork(int fork) {
        return new RelTag(spcOid, dbOid, relNumber, fork);
    }

    /** File name suffix of the fork as in {@code forkNames[]}: "", "_fsm", "_vm", "_init". */
    public String forkSuffix() {
        return switch (forkNum) {
            case MAIN_FORK -> "";
            case FSM_FORK -> "_fsm";
            case VM_FORK -> "_vm";
            default -> "_init";
        };
    }

    /** Path of the fork's first segment file relative to the data directory ({@code relpath()}). */
    public String path() {
        if (spcOid == GLOBAL_TABLESPACE_OID) {
            return "global/" + Integer.toUnsignedString(relNumber) + forkSuffix();
        }
        if (spcOid == DEFAULT_TABLESPACE_OID) {
            return "base/" + Integer.toUnsignedString(dbOid) + "/" + Integer.toUnsignedString(relNumber) + forkSuffix();
        }
        return "pg_tblspc/" + Integer.toUnsignedString(spcOid) + "/PG_15_202209061/" + Integer.toUnsignedString(dbOid)
                + "/" + Integer.toUnsignedString(relNumber) + forkSuffix();
    }

    @Override
    public String toString() {
        return Integer.toUnsignedString(spcOid) + "/" + Integer.toUnsignedString(dbOid) + "/"
                + Integer.toUnsignedString(relNumber) + forkSuffix();
    }
}
