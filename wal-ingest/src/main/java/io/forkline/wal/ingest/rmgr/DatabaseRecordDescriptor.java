package io.forkline.wal.ingest.rmgr;

/**
 * Database records ({@code src/include/commands/dbcommands_xlog.h}, {@code dbase_redo} in
 * {@code src/backend/commands/dbcommands.c}), little-endian:
 *
 * <pre>
 *   XLOG_DBASE_CREATE_FILE_COPY 0x00: db_id(4) tablespace_id(4) src_db_id(4) src_tablespace_id(4)
 *   XLOG_DBASE_CREATE_WAL_LOG   0x10: db_id(4) tablespace_id(4)
 *   XLOG_DBASE_DROP             0x20: db_id(4) ntablespaces(4) tablespace_ids[ntablespaces](4 each)
 * </pre>
 */
public final class DatabaseRecordDescriptor {
    /** {@code XLOG_DBASE_CREATE_FILE_COPY}: CREATE DATABASE ... STRATEGY file_copy. */
    public static final int XLOG_DBASE_CREATE_FILE_COPY = 0x00;
    /** {@code XLOG_DBASE_CREATE_WAL_LOG}: CREATE DATABASE ... STRATEGY wal_log (the default). */
    public static final int XLOG_DBASE_CREATE_WAL_LOG = 0x10;
    /** {@code XLOG_DBASE_DROP}: DROP DATABASE. */
    public static final int XLOG_DBASE_DROP = 0x20;

    private DatabaseRecordDescriptor() {
    }

    /** {@code db_id} (all three records). */
    public static int dbId(byte[] d) {
        return LittleEndianReader.i32(d, 0);
    }

    /** {@code tablespace_id} of the create records. */
    public static int tablespaceId(byte[] d) {
        return LittleEndianReader.i32(d, 4);
    }

    /** {@code src_db_id} of CREATE_FILE_COPY. */
    public static int srcDbId(byte[] d) {
        return LittleEndianReader.i32(d, 8);
    }

    /** {@code src_tablespace_id} of CREATE_FILE_COPY. */
    public static int srcTablespaceId(byte[] d) {
        return LittleEndianReader.i32(d, 12);
    }

    /**
     * The tablespace ids of a DROP record.
     *
     * @return {@code ntablespaces} tablespace OIDs
     * @throws RecordFormatException naming the count when {@code ntablespaces} is negative or the
     *                               data is shorter than {@code 8 + 4 * ntablespaces} bytes
     */
    public static int[] dropTablespaces(byte[] d) {
        int n = LittleEndianReader.i32(d, 4);
        if (n < 0) {
            throw new RecordFormatException("xl_dbase_drop_rec ntablespaces is negative: " + n);
        }
        LittleEndianReader.require(d, 8, (long) n * Integer.BYTES, "xl_dbase_drop_rec tablespace_ids[" + n + "]");
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = LittleEndianReader.i32(d, 8 + 4 * i);
        }
        return out;
    }
}
