package io.forkline.wal.ingest.rmgr;

import io.forkline.storage.key.RelTag;

/**
 * Storage manager records ({@code src/include/catalog/storage_xlog.h}, {@code smgr_redo} in
 * {@code src/backend/catalog/storage.c}), little-endian:
 *
 * <pre>
 *   XLOG_SMGR_CREATE   0x10  xl_smgr_create:   spcNode(4) dbNode(4) relNode(4) forkNum(4)           16 bytes
 *   XLOG_SMGR_TRUNCATE 0x20  xl_smgr_truncate: blkno(4) spcNode(4) dbNode(4) relNode(4) flags(4)    20 bytes
 * </pre>
 */
public final class StorageRecordDescriptor {
    public static final int XLOG_SMGR_CREATE = 0x10;
    public static final int XLOG_SMGR_TRUNCATE = 0x20;
    public static final int SMGR_TRUNCATE_HEAP = 0x0001;
    public static final int SMGR_TRUNCATE_VM = 0x0002;
    public static final int SMGR_TRUNCATE_FSM = 0x0004;

    private StorageRecordDescriptor() {
    }

    /** The relation fork of an {@code xl_smgr_create}. */
    public static RelTag createdFork(byte[] d) {
        LittleEndianReader.require(d, 0, 16, "xl_smgr_create");
        int fork = LittleEndianReader.i32(d, 12);
        if (fork < 0 || fork > RelTag.INIT_FORK) {
            throw new RecordFormatException("xl_smgr_create fork number " + fork + " is not 0..3");
        }
        return new RelTag(LittleEndianReader.i32(d, 0), LittleEndianReader.i32(d, 4), LittleEndianReader.i32(d, 8), fork);
    }

    /** {@code xl_smgr_truncate.blkno}: the new main fork length in blocks (unsigned). */
    public static int truncateBlkno(byte[] d) {
        LittleEndianReader.require(d, 0, 20, "xl_smgr_truncate");
        return LittleEndianReader.i32(d, 0);
    }

    /** The main fork of the truncated relation. */
    public static RelTag truncateRel(byte[] d) {
        LittleEndianReader.require(d, 0, 20, "xl_smgr_truncate");
        return new RelTag(LittleEndianReader.i32(d, 4), LittleEndianReader.i32(d, 8), LittleEndianReader.i32(d, 12),
                RelTag.MAIN_FORK);
    }

    /** {@code xl_smgr_truncate.flags}. */
    public static int truncateFlags(byte[] d) {
        LittleEndianReader.require(d, 0, 20, "xl_smgr_truncate");
        return LittleEndianReader.i32(d, 16);
    }
}
