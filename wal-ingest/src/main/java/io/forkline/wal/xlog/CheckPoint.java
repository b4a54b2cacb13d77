package io.forkline.wal.xlog;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * PostgreSQL 15's {@code CheckPoint} struct ({@code src/include/catalog/pg_control.h}), the main
 * data of {@code XLOG_CHECKPOINT_SHUTDOWN} / {@code XLOG_CHECKPOINT_ONLINE} records and the
 * {@code checkPointCopy} inside {@code pg_control}. Little-endian, 88 bytes on x86-64:
 *
 * <pre>
 *   0  redo (8)            8  ThisTimeLineID (4)    12 PrevTimeLineID (4)
 *   16 fullPageWrites (1) + 7 pad                   24 nextXid (FullTransactionId, 8)
 *   32 nextOid (4)         36 nextMulti (4)         40 nextMultiOffset (4)
 *   44 oldestXid (4)       48 oldestXidDB (4)       52 oldestMulti (4)
 *   56 oldestMultiDB (4) + 4 pad                    64 time (pg_time_t, 8)
 *   72 oldestCommitTsXid (4) 76 newestCommitTsXid (4) 80 oldestActiveXid (4) + 4 pad
 * </pre>
 *
 * Forkline stores this layout as the value of the {@code CONTROL} key: ingest keeps its counters
 * current, the basebackup writes it into the synthesized checkpoint record and {@code pg_control}.
 */
public record CheckPoint(long redo, int thisTimeLineId, int prevTimeLineId, boolean fullPageWrites, long nextXid,
                         int nextOid, int nextMulti, int nextMultiOffset, int oldestXid, int oldestXidDb,
                         int oldestMulti, int oldestMultiDb, long time, int oldestCommitTsXid,
                         int newestCommitTsXid, int oldestActiveXid) {
    /** {@code sizeof(CheckPoint)}. */
    public static final int SIZE = 88;

    /**
     * @throws IllegalArgumentException when fewer than {@value #SIZE} bytes remain at {@code offset}
     */
    public static CheckPoint decode(byte[] b, int offset) {
        if (b.length - offset < SIZE) {
            throw new IllegalArgumentException("CheckPoint needs " + SIZE + " bytes, got " + (b.length - offset));
        }
        ByteBuffer buf = ByteBuffer.wrap(b, offset, SIZE).slice().order(ByteOrder.LITTLE_ENDIAN);
        return new CheckPoint(buf.getLong(0), buf.getInt(8), buf.getInt(12), buf.get(16) != 0, buf.getLong(24),
                buf.getInt(32), buf.getInt(36), buf.getInt(40), buf.getInt(44), buf.getInt(48), buf.getInt(52),
                buf.getInt(56), buf.getLong(64), buf.getInt(72), buf.getInt(76), buf.getInt(80));
    }

    /** The 88-byte little-endian struct. */
    public byte[] encode() {
        ByteBuffer buf = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(0, redo).putInt(8, thisTimeLineId).putInt(12, prevTimeLineId).put(16, (byte) (fullPageWrites ? 1 : 0))
                .putLong(24, nextXid).putInt(32, nextOid).putInt(36, nextMulti).putInt(40, nextMultiOffset)
                .putInt(44, oldestXid).putInt(48, oldestXidDb).putInt(52, oldestMulti).putInt(56, oldestMultiDb)
                .putLong(64, time).putInt(72, oldestCommitTsXid).putInt(76, newestCommitTsXid)
                .putInt(80, oldestActiveXid);
        return buf.array();
    }

    /** The 32-bit xid part of {@link #nextXid} ({@code XidFromFullTransactionId}). */
    public int nextXid32() {
        return (int) nextXid;
    }
}
