package io.forkline.wal.ingest.rmgr;

/**
 * {@code XLOG_RELMAP_UPDATE} (0x00) main data, {@code xl_relmap_update}
 * ({@code src/include/utils/relmapper.h}, {@code relmap_redo} in {@code relmapper.c}):
 *
 * <pre>
 *   dbid(4) tsid(4) nbytes(4) data[nbytes]      data = the 512-byte RelMapFile (pg_filenode.map)
 * </pre>
 * {@code dbid} 0 with {@code tsid} 1664 is the shared map in {@code global/}.
 */
public final class RelmapRecordDescriptor {
    /** {@code XLOG_RELMAP_UPDATE}: the only relmap record type. */
    public static final int XLOG_RELMAP_UPDATE = 0x00;
    /** {@code sizeof(RelMapFile)}. */
    public static final int RELMAP_FILE_SIZE = 512;

    private RelmapRecordDescriptor() {
    }

    /**
     * {@code xl_relmap_update.dbid}: the database OID, 0 for the shared map.
     *
     * @throws RecordFormatException when the data is shorter than 4 bytes
     */
    public static int dbId(byte[] d) {
        return LittleEndianReader.i32(d, 0);
    }

    /**
     * {@code xl_relmap_update.tsid}: the tablespace OID (1664 {@code pg_global} for the shared map).
     *
     * @throws RecordFormatException when the data is shorter than 8 bytes
     */
    public static int tsId(byte[] d) {
        return LittleEndianReader.i32(d, 4);
    }

    /**
     * The map file content.
     *
     * @throws RecordFormatException when nbytes is not 512 or exceeds the data
     */
    public static byte[] mapFile(byte[] d) {
        int n = LittleEndianReader.i32(d, 8);
        if (n != RELMAP_FILE_SIZE) {
            throw new RecordFormatException("xl_relmap_update nbytes is " + n + ", expected " + RELMAP_FILE_SIZE);
        }
        LittleEndianReader.require(d, 12, n, "xl_relmap_update data");
        byte[] out = new byte[n];
        System.arraycopy(d, 12, out, 0, n);
        return out;
    }
}
