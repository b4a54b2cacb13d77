package io.forkline.wal.xlog;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * PostgreSQL 15's {@code xl_parameter_change} ({@code src/include/access/xlog_internal.h}): the
 * parameters {@code pg_control} records for hot standby, written by {@code XLogReportParameters}
 * as the main data of an {@code XLOG_PARAMETER_CHANGE} record whenever a server starts with values
 * other than its {@code pg_control}'s, and replayed by {@code xlog_redo} into the standby's
 * {@code pg_control}. Little-endian, 28 bytes ({@code sizeof}, 2 bytes of tail padding):
 *
 * <pre>
 *   0  MaxConnections (4)        4  max_worker_processes (4)   8  max_wal_senders (4)
 *   12 max_prepared_xacts (4)    16 max_locks_per_xact (4)     20 wal_level (4)
 *   24 wal_log_hints (bool, 1)   25 track_commit_timestamp (bool, 1)   + 2 pad
 * </pre>
 *
 * Forkline stores it as the value of the {@code PARAMETERS} key: importers from {@code pg_control},
 * ingest from each {@code XLOG_PARAMETER_CHANGE}; {@link #trackCommitTimestamp} decides whether
 * ingest maintains {@code pg_commit_ts} and whether a basebackup turns commit timestamps on.
 */
public record ParameterChange(int maxConnections, int maxWorkerProcesses, int maxWalSenders, int maxPreparedXacts,
                              int maxLocksPerXact, int walLevel, boolean walLogHints, boolean trackCommitTimestamp) {
    /** {@code sizeof(xl_parameter_change)}. */
    public static final int SIZE = 28;
    /** Bytes that carry fields: the record's data may omit the tail padding. */
    private static final int FIELDS_SIZE = 26;

    /**
     * @throws IllegalArgumentException when fewer than 26 bytes (the fields without tail padding) remain
     *                                  at {@code offset}
     */
    public static ParameterChange decode(byte[] b, int offset) {
        if (b.length - offset < FIELDS_SIZE) {
            throw new IllegalArgumentException("xl_parameter_change needs " + FIELDS_SIZE + " bytes, got "
                    + (b.length - offset));
        }
        ByteBuffer buf = ByteBuffer.wrap(b, offset, FIELDS_SIZE).slice().order(ByteOrder.LITTLE_ENDIAN);
        return new ParameterChange(buf.getInt(0), buf.getInt(4), buf.getInt(8), buf.getInt(12), buf.getInt(16),
                buf.getInt(20), buf.get(24) != 0, buf.get(25) != 0);
    }

    /** The 28-byte little-endian struct. */
    public byte[] encode() {
        ByteBuffer buf = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        buf.putInt(0, maxConnections).putInt(4, maxWorkerProcesses).putInt(8, maxWalSenders)
                .putInt(12, maxPreparedXacts).putInt(16, maxLocksPerXact).putInt(20, walLevel)
                .put(24, (byte) (walLogHints ? 1 : 0)).put(25, (byte) (trackCommitTimestamp ? 1 : 0));
        return buf.array();
    }
}
