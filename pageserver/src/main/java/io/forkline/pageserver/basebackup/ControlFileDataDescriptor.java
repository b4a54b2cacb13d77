package io.forkline.pageserver.basebackup;

import java.util.zip.CRC32C;

/**
 * Layout of PostgreSQL 15's {@code ControlFileData}, the contents of {@code global/pg_control}
 * ({@code src/include/catalog/pg_control.h}, {@code PG_CONTROL_VERSION} 1300), little-endian with
 * x86-64 alignment. Offsets were checked against the compiled header ({@code offsetof}) and against
 * {@code pg_controldata} output of a real cluster ({@code ControlFileDataIT}).
 *
 * <pre>
 *   0   system_identifier (uint64)
 *   8   pg_control_version (uint32)      12  catalog_version_no (uint32)
 *   16  state (DBState, int32) + 4 pad   24  time (pg_time_t, int64 seconds)
 *   32  checkPoint (XLogRecPtr)
 *   40  checkPointCopy (CheckPoint, 88 bytes, see io.forkline.wal.xlog.CheckPoint)
 *   128 unloggedLSN                      136 minRecoveryPoint
 *   144 minRecoveryPointTLI (uint32) + 4 pad
 *   152 backupStartPoint                 160 backupEndPoint
 *   168 backupEndRequired (bool) + 3 pad 172 wal_level (int32)
 *   176 wal_log_hints (bool) + 3 pad     180 MaxConnections
 *   184 max_worker_processes             188 max_wal_senders
 *   192 max_prepared_xacts               196 max_locks_per_xact
 *   200 track_commit_timestamp (bool) + 3 pad
 *   204 maxAlign (uint32)                208 floatFormat (double, 1234567.0)
 *   216 blcksz                           220 relseg_size
 *   224 xlog_blcksz                      228 xlog_seg_size
 *   232 nameDataLen                      236 indexMaxKeys
 *   240 toast_max_chunk_size             244 loblksize
 *   248 float8ByVal (bool) + 3 pad       252 data_checksum_version (uint32)
 *   256 mock_authentication_nonce (32 bytes)
 *   288 crc (pg_crc32c) + 4 pad          296 = sizeof(ControlFileData)
 *   ... zero padding up to PG_CONTROL_FILE_SIZE (8192), the physical file size
 * </pre>
 *
 * The CRC is CRC-32C ({@code INIT_CRC32C} / {@code COMP_CRC32C} / {@code FIN_CRC32C}, identical to
 * {@link CRC32C}) over bytes {@code [0, CRC_OFFSET)}. See {@code xlog.c} {@code WriteControlFile} and
 * {@code pg_resetwal.c} {@code RewriteControlFile}.
 */
public final class ControlFileDataDescriptor {
    /** {@code PG_CONTROL_VERSION} of PostgreSQL 15. */
    public static final int PG_CONTROL_VERSION = 1300;
    /** {@code CATALOG_VERSION_NO} of PostgreSQL 15 ({@code src/include/catalog/catversion.h}). */
    public static final int CATALOG_VERSION_NO = 202209061;
    /** {@code PG_CONTROL_FILE_SIZE}: physical size of {@code global/pg_control}, bytes. */
    public static final int FILE_SIZE = 8192;
    /** {@code sizeof(ControlFileData)} on x86-64, bytes. */
    public static final int SIZE = 296;
    /** {@code MOCK_AUTH_NONCE_LEN}, bytes. */
    public static final int MOCK_AUTH_NONCE_LEN = 32;
    /** {@code FLOATFORMAT_VALUE}. */
    public static final double FLOATFORMAT_VALUE = 1234567.0;

    /** {@code DBState} values. */
    public static final int DB_STARTUP = 0;
    public static final int DB_SHUTDOWNED = 1;
    public static final int DB_SHUTDOWNED_IN_RECOVERY = 2;
    public static final int DB_SHUTDOWNING = 3;
    public static final int DB_IN_CRASH_RECOVERY = 4;
    public static final int DB_IN_ARCHIVE_RECOVERY = 5;
    public static final int DB_IN_PRODUCTION = 6;

    public static final int SYSTEM_IDENTIFIER_OFFSET = 0;
    public static final int PG_CONTROL_VERSION_OFFSET = 8;
    public static final int CATALOG_VERSION_NO_OFFSET = 12;
    public static final int STATE_OFFSET = 16;
    public static final int TIME_OFFSET = 24;
    public static final int CHECKPOINT_OFFSET = 32;
    public static final int CHECKPOINT_COPY_OFFSET = 40;
    public static final int UNLOGGED_LSN_OFFSET = 128;
    public static final int MIN_RECOVERY_POINT_OFFSET = 136;
    public static final int MIN_RECOVERY_POINT_TLI_OFFSET = 144;
    public static final int BACKUP_START_POINT_OFFSET = 152;
    public static final int BACKUP_END_POINT_OFFSET = 160;
    public static final int BACKUP_END_REQUIRED_OFFSET = 168;
    public static final int WAL_LEVEL_OFFSET = 172;
    public static final int WAL_LOG_HINTS_OFFSET = 176;
    public static final int MAX_CONNECTIONS_OFFSET = 180;
    public static final int MAX_WORKER_PROCESSES_OFFSET = 184;
    public static final int MAX_WAL_SENDERS_OFFSET = 188;
    public static final int MAX_PREPARED_XACTS_OFFSET = 192;
    public static final int MAX_LOCKS_PER_XACT_OFFSET = 196;
    public static final int TRACK_COMMIT_TIMESTAMP_OFFSET = 200;
    public static final int MAX_ALIGN_OFFSET = 204;
    public static final int FLOAT_FORMAT_OFFSET = 208;
    public static final int BLCKSZ_OFFSET = 216;
    public static final int RELSEG_SIZE_OFFSET = 220;
    public static final int XLOG_BLCKSZ_OFFSET = 224;
    public static final int XLOG_SEG_SIZE_OFFSET = 228;
    public static final int NAME_DATA_LEN_OFFSET = 232;
    public static final int INDEX_MAX_KEYS_OFFSET = 236;
    public static final int TOAST_MAX_CHUNK_SIZE_OFFSET = 240;
    public static final int LOBLKSIZE_OFFSET = 244;
    public static final int FLOAT8_BY_VAL_OFFSET = 248;
    public static final int DATA_CHECKSUM_VERSION_OFFSET = 252;
    public static final int MOCK_AUTHENTICATION_NONCE_OFFSET = 256;
    public static final int CRC_OFFSET = 288;

    private ControlFileDataDescriptor() {
    }

    /**
     * The CRC-32C of {@code controlFile[0, CRC_OFFSET)}, as {@code WriteControlFile} computes it.
     *
     * @param controlFile at least {@link #CRC_OFFSET} bytes of a pg_control image
     * @return the 32-bit CRC (to be stored little-endian at {@link #CRC_OFFSET})
     * @throws IllegalArgumentException when the array is shorter than {@link #CRC_OFFSET}
     */
    public static int computeCrc(byte[] controlFile) {
        if (controlFile.length < CRC_OFFSET) {
            throw new IllegalArgumentException("pg_control image has " + controlFile.length
                    + " bytes, the CRC covers " + CRC_OFFSET);
        }
        CRC32C crc = new CRC32C();
        crc.update(controlFile, 0, CRC_OFFSET);
        return (int) crc.getValue();
    }
}
