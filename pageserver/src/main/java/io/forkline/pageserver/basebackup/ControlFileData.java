package io.forkline.pageserver.basebackup;

import io.forkline.wal.xlog.CheckPoint;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import static io.forkline.pageserver.basebackup.ControlFileDataDescriptor.*;

/**
 * A PostgreSQL 15 {@code pg_control} file held as its {@value ControlFileDataDescriptor#FILE_SIZE}
 * byte image, with typed accessors for the fields of {@link ControlFileDataDescriptor}.
 *
 * <p>Fields not touched by a setter keep their original bytes (including struct padding and the
 * zero tail), so {@link #toBytes()} of an unchanged, valid file is byte-identical to the input. The
 * setters are the fields {@code pg_resetwal.c RewriteControlFile} changes. Not thread-safe.
 */
public final class ControlFileData {
    private final byte[] image;
    private final ByteBuffer buf;

    private ControlFileData(byte[] image) {
        this.image = image;
        this.buf = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Parses and validates a pg_control image, as {@code xlog.c ReadControlFile} does.
     *
     * @param bytes at least {@link ControlFileDataDescriptor#SIZE} bytes (normally the whole 8192-byte file);
     *              bytes past {@link ControlFileDataDescriptor#FILE_SIZE} are ignored; the array is copied
     * @throws InvalidControlFileException when too short, the CRC does not match, or the control /
     *                                     catalog version is not PostgreSQL 15's
     */
    public static ControlFileData parse(byte[] bytes) {
        if (bytes.length < SIZE) {
            throw new InvalidControlFileException("pg_control has " + bytes.length + " bytes, expected at least "
                    + SIZE + " (sizeof(ControlFileData))");
        }
        ControlFileData c = new ControlFileData(Arrays.copyOf(bytes, FILE_SIZE));
        if (c.pgControlVersion() != PG_CONTROL_VERSION) {
            throw new InvalidControlFileException("pg_control_version is " + c.pgControlVersion()
                    + ", PostgreSQL 15 uses " + PG_CONTROL_VERSION);
        }
        int expected = computeCrc(c.image);
        if (c.crc() != expected) {
            throw new InvalidControlFileException(String.format(
                    "pg_control CRC is 0x%08X, computed 0x%08X: the file is corrupt", c.crc(), expected));
        }
        if (c.catalogVersionNo() != CATALOG_VERSION_NO) {
            throw new InvalidControlFileException("catalog_version_no is " + c.catalogVersionNo()
                    + ", PostgreSQL 15 uses " + CATALOG_VERSION_NO);
        }
        return c;
    }

    /**
     * The 8192-byte file image with a freshly computed CRC.
     *
     * @return a new array of {@link ControlFileDataDescriptor#FILE_SIZE} bytes
     */
    public byte[] toBytes() {
        buf.putInt(CRC_OFFSET, computeCrc(image));
        return image.clone();
    }

    /** A copy of this control file (independent image). */
    public ControlFileData copy() {
        return new ControlFileData(image.clone());
    }

    // ---------------------------------------------------------------- getters

    /** {@code system_identifier}: unique id of the cluster, also in every WAL segment's long page header. */
    public long systemIdentifier() {
        return buf.getLong(SYSTEM_IDENTIFIER_OFFSET);
    }

    /** {@code pg_control_version}. */
    public int pgControlVersion() {
        return buf.getInt(PG_CONTROL_VERSION_OFFSET);
    }

    /** {@code catalog_version_no}. */
    public int catalogVersionNo() {
        return buf.getInt(CATALOG_VERSION_NO_OFFSET);
    }

    /** {@code state}: one of the {@code DB_*} values of {@link ControlFileDataDescriptor}. */
    public int state() {
        return buf.getInt(STATE_OFFSET);
    }

    /** {@code time}: last update, seconds since the Unix epoch. */
    public long time() {
        return buf.getLong(TIME_OFFSET);
    }

    /** {@code checkPoint}: LSN of the latest checkpoint record. */
    public long checkPoint() {
        return buf.getLong(CHECKPOINT_OFFSET);
    }

    /** {@code checkPointCopy}: the latest checkpoint record's main data. */
    public CheckPoint checkPointCopy() {
        return CheckPoint.decode(image, CHECKPOINT_COPY_OFFSET);
    }

    /** {@code unloggedLSN}: the fake LSN counter for unlogged relations. */
    public long unloggedLsn() {
        return buf.getLong(UNLOGGED_LSN_OFFSET);
    }

    /** {@code minRecoveryPoint} (LSN). */
    public long minRecoveryPoint() {
        return buf.getLong(MIN_RECOVERY_POINT_OFFSET);
    }

    /** {@code minRecoveryPointTLI}. */
    public int minRecoveryPointTli() {
        return buf.getInt(MIN_RECOVERY_POINT_TLI_OFFSET);
    }

    /** {@code backupStartPoint} (LSN). */
    public long backupStartPoint() {
        return buf.getLong(BACKUP_START_POINT_OFFSET);
    }

    /** {@code backupEndPoint} (LSN). */
    public long backupEndPoint() {
        return buf.getLong(BACKUP_END_POINT_OFFSET);
    }

    /** {@code backupEndRequired}. */
    public boolean backupEndRequired() {
        return image[BACKUP_END_REQUIRED_OFFSET] != 0;
    }

    /** {@code wal_level}: 0 minimal, 1 replica, 2 logical ({@code WalLevel} in {@code xlog.h}). */
    public int walLevel() {
        return buf.getInt(WAL_LEVEL_OFFSET);
    }

    /** {@code wal_log_hints}. */
    public boolean walLogHints() {
        return image[WAL_LOG_HINTS_OFFSET] != 0;
    }

    /** {@code MaxConnections}. */
    public int maxConnections() {
        return buf.getInt(MAX_CONNECTIONS_OFFSET);
    }

    /** {@code max_worker_processes}. */
    public int maxWorkerProcesses() {
        return buf.getInt(MAX_WORKER_PROCESSES_OFFSET);
    }

    /** {@code max_wal_senders}. */
    public int maxWalSenders() {
        return buf.getInt(MAX_WAL_SENDERS_OFFSET);
    }

    /** {@code max_prepared_xacts}. */
    public int maxPreparedXacts() {
        return buf.getInt(MAX_PREPARED_XACTS_OFFSET);
    }

    /** {@code max_locks_per_xact}. */
    public int maxLocksPerXact() {
        return buf.getInt(MAX_LOCKS_PER_XACT_OFFSET);
    }

    /** {@code track_commit_timestamp}. */
    public boolean trackCommitTimestamp() {
        return image[TRACK_COMMIT_TIMESTAMP_OFFSET] != 0;
    }

    /** The parameters {@code XLOG_PARAMETER_CHANGE} replaces ({@code MaxConnections} .. {@code track_commit_timestamp}). */
    public io.forkline.wal.xlog.ParameterChange parameters() {
        return new io.forkline.wal.xlog.ParameterChange(maxConnections(), maxWorkerProcesses(), maxWalSenders(),
                maxPreparedXacts(), maxLocksPerXact(), walLevel(), walLogHints(), trackCommitTimestamp());
    }

    /** {@code maxAlign} (bytes). */
    public int maxAlign() {
        return buf.getInt(MAX_ALIGN_OFFSET);
    }

    /** {@code floatFormat} (1234567.0). */
    public double floatFormat() {
        return buf.getDouble(FLOAT_FORMAT_OFFSET);
    }

    /** {@code blcksz}: relation page size, bytes. */
    public int blcksz() {
        return buf.getInt(BLCKSZ_OFFSET);
    }

    /** {@code relseg_size}: blocks per relation segment file. */
    public int relsegSize() {
        return buf.getInt(RELSEG_SIZE_OFFSET);
    }

    /** {@code xlog_blcksz}: WAL page size, bytes. */
    public int xlogBlcksz() {
        return buf.getInt(XLOG_BLCKSZ_OFFSET);
    }

    /** {@code xlog_seg_size}: WAL segment size, bytes. */
    public int xlogSegSize() {
        return buf.getInt(XLOG_SEG_SIZE_OFFSET);
    }

    /** {@code nameDataLen} (bytes). */
    public int nameDataLen() {
        return buf.getInt(NAME_DATA_LEN_OFFSET);
    }

    /** {@code indexMaxKeys}. */
    public int indexMaxKeys() {
        return buf.getInt(INDEX_MAX_KEYS_OFFSET);
    }

    /** {@code toast_max_chunk_size} (bytes). */
    public int toastMaxChunkSize() {
        return buf.getInt(TOAST_MAX_CHUNK_SIZE_OFFSET);
    }

    /** {@code loblksize} (bytes). */
    public int loblksize() {
        return buf.getInt(LOBLKSIZE_OFFSET);
    }

    /** {@code float8ByVal}. */
    public boolean float8ByVal() {
        return image[FLOAT8_BY_VAL_OFFSET] != 0;
    }

    /** {@code data_checksum_version}: 0 when data checksums are off. */
    public int dataChecksumVersion() {
        return buf.getInt(DATA_CHECKSUM_VERSION_OFFSET);
    }

    /** {@code mock_authentication_nonce}: a copy of the 32 bytes. */
    public byte[] mockAuthenticationNonce() {
        return Arrays.copyOfRange(image, MOCK_AUTHENTICATION_NONCE_OFFSET,
                MOCK_AUTHENTICATION_NONCE_OFFSET + MOCK_AUTH_NONCE_LEN);
    }

    /** The stored CRC (as read, or as written by the last {@link #toBytes()}). */
    public int crc() {
        return buf.getInt(CRC_OFFSET);
    }

    // ---------------------------------------------------------------- setters (RewriteControlFile's fields)

    /** Sets {@code state} ({@code DB_*}). */
    public ControlFileData state(int state) {
        buf.putInt(STATE_OFFSET, state);
        return this;
    }

    /** Sets {@code time}, seconds since the Unix epoch. */
    public ControlFileData time(long epochSeconds) {
        buf.putLong(TIME_OFFSET, epochSeconds);
        return this;
    }

    /** Sets {@code checkPoint}, the LSN of the latest checkpoint record. */
    public ControlFileData checkPoint(long lsn) {
        buf.putLong(CHECKPOINT_OFFSET, lsn);
        return this;
    }

    /** Sets {@code checkPointCopy} (the 88-byte struct, padding zeroed). */
    public ControlFileData checkPointCopy(CheckPoint checkPoint) {
        System.arraycopy(checkPoint.encode(), 0, image, CHECKPOINT_COPY_OFFSET, CheckPoint.SIZE);
        return this;
    }

    /**
     * Sets the parameters {@code xlog_redo} copies from an {@code XLOG_PARAMETER_CHANGE}
     * ({@code MaxConnections} .. {@code track_commit_timestamp}).
     */
    public ControlFileData parameters(io.forkline.wal.xlog.ParameterChange p) {
        buf.putInt(MAX_CONNECTIONS_OFFSET, p.maxConnections());
        buf.putInt(MAX_WORKER_PROCESSES_OFFSET, p.maxWorkerProcesses());
        buf.putInt(MAX_WAL_SENDERS_OFFSET, p.maxWalSenders());
        buf.putInt(MAX_PREPARED_XACTS_OFFSET, p.maxPreparedXacts());
        buf.putInt(MAX_LOCKS_PER_XACT_OFFSET, p.maxLocksPerXact());
        buf.putInt(WAL_LEVEL_OFFSET, p.walLevel());
        image[WAL_LOG_HINTS_OFFSET] = (byte) (p.walLogHints() ? 1 : 0);
        image[TRACK_COMMIT_TIMESTAMP_OFFSET] = (byte) (p.trackCommitTimestamp() ? 1 : 0);
        return this;
    }

    /** Sets {@code unloggedLSN}. */
    public ControlFileData unloggedLsn(long lsn) {
        buf.putLong(UNLOGGED_LSN_OFFSET, lsn);
        return this;
    }

    /** Sets {@code minRecoveryPoint} and {@code minRecoveryPointTLI}. */
    public ControlFileData minRecoveryPoint(long lsn, int tli) {
        buf.putLong(MIN_RECOVERY_POINT_OFFSET, lsn);
        buf.putInt(MIN_RECOVERY_POINT_TLI_OFFSET, tli);
        return this;
    }

    /** Sets {@code backupStartPoint}, {@code backupEndPoint} and {@code backupEndRequired}. */
    public ControlFileData backup(long startPoint, long endPoint, boolean endRequired) {
        buf.putLong(BACKUP_START_POINT_OFFSET, startPoint);
        buf.putLong(BACKUP_END_POINT_OFFSET, endPoint);
        image[BACKUP_END_REQUIRED_OFFSET] = (byte) (endRequired ? 1 : 0);
        return this;
    }
}
