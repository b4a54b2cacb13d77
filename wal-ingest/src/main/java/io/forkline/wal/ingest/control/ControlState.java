package io.forkline.wal.ingest.control;

import io.forkline.wal.xlog.CheckPoint;

/**
 * The mutable checkpoint state that ingest keeps current for {@code pg_control}: a
 * {@link CheckPoint} plus the counter rules the startup process applies during redo
 * ({@code xlog_redo} in {@code src/backend/access/transam/xlog.c},
 * {@code AdvanceNextFullTransactionIdPastXid} in {@code varsup.c},
 * {@code MultiXactAdvanceNextMXact} / {@code MultiXactAdvanceOldest} in {@code multixact.c}).
 * Xids, MultiXactIds and offsets are unsigned 32-bit values compared modulo 2^32 as
 * {@code TransactionIdPrecedes} does. Not thread-safe.
 */
public final class ControlState {
    /** {@code FirstNormalTransactionId}. */
    public static final int FIRST_NORMAL_XID = 3;

    private CheckPoint base;
    private long nextFullXid;
    private int nextOid;
    private int nextMulti;
    private int nextMultiOffset;
    private int oldestXid;
    private int oldestXidDb;
    private int oldestMulti;
    private int oldestMultiDb;
    private boolean dirty;

    /** Starts from a stored or decoded checkpoint. */
    public ControlState(CheckPoint cp) {
        load(cp);
        dirty = false;
    }

    private void load(CheckPoint cp) {
        base = cp;
        nextFullXid = cp.nextXid();
        nextOid = cp.nextOid();
        nextMulti = cp.nextMulti();
        nextMultiOffset = cp.nextMultiOffset();
        oldestXid = cp.oldestXid();
        oldestXidDb = cp.oldestXidDb();
        oldestMulti = cp.oldestMulti();
        oldestMultiDb = cp.oldestMultiDb();
    }

    /** {@code TransactionIdPrecedes} for normal xids: {@code (int)(a - b) < 0}. */
    public static boolean precedes(int a, int b) {
        return a - b < 0;
    }

    /** Whether something changed since the last {@link #snapshot()}. */
    public boolean dirty() {
        return dirty;
    }

    /**
     * {@code XLOG_CHECKPOINT_SHUTDOWN}: the checkpoint's counters are authoritative (redo sets
     * nextXid, nextOid, nextMulti/offset from it).
     */
    public void applyShutdownCheckpoint(CheckPoint cp) {
        load(cp);
        dirty = true;
    }

    /**
     * {@code XLOG_CHECKPOINT_ONLINE}: nextXid and nextMulti/offset only move forward, nextOid is
     * kept (tracked through {@code XLOG_NEXTOID}), oldest xid / multi only advance; the other fields
     * (redo pointer, timelines, time, commit-ts range, oldestActiveXid) are taken from the record.
     */
    public void applyOnlineCheckpoint(CheckPoint cp) {
        long keepXid = nextFullXid;
        int keepOid = nextOid;
        int keepMulti = nextMulti;
        int keepOff = nextMultiOffset;
        int keepOldestXid = oldestXid;
        int keepOldestXidDb = oldestXidDb;
        int keepOldestMulti = oldestMulti;
        int keepOldestMultiDb = oldestMultiDb;
        load(cp);
        if (Long.compareUnsigned(keepXid, nextFullXid) > 0) {
            nextFullXid = keepXid;
        }
        nextOid = keepOid;
        if (precedes(nextMulti, keepMulti)) {
            nextMulti = keepMulti;
        }
        if (precedes(nextMultiOffset, keepOff)) {
            nextMultiOffset = keepOff;
        }
        if (precedes(oldestXid, keepOldestXid)) {
            oldestXid = keepOldestXid;
            oldestXidDb = keepOldestXidDb;
        }
        if (precedes(oldestMulti, keepOldestMulti)) {
            oldestMulti = keepOldestMulti;
            oldestMultiDb = keepOldestMultiDb;
        }
        dirty = true;
    }

    /** {@code XLOG_NEXTOID}: redo sets nextOid unconditionally. */
    public void setNextOid(int oid) {
        if (nextOid != oid) {
            nextOid = oid;
            dirty = true;
        }
    }

    /**
     * {@code AdvanceNextFullTransactionIdPastXid}: when {@code xid} is a normal xid at or after
     * nextXid, nextXid becomes {@code xid + 1} (skipping the special xids 0..2), in the next epoch when
     * that wraps below the current 32-bit value.
     */
    public void advanceNextXidPast(int xid) {
        if (Integer.compareUnsigned(xid, FIRST_NORMAL_XID) < 0) {
            return;
        }
        int next32 = (int) nextFullXid;
        if (precedes(xid, next32)) {
            return;
        }
        int newXid = xid + 1;
        if (Integer.compareUnsigned(newXid, FIRST_NORMAL_XID) < 0) {
            newXid = FIRST_NORMAL_XID;
        }
        long epoch = nextFullXid >>> 32;
        if (Integer.compareUnsigned(newXid, next32) < 0) {
            epoch++;
        }
        nextFullXid = epoch << 32 | Integer.toUnsignedLong(newXid);
        dirty = true;
    }

    /** {@code MultiXactAdvanceNextMXact(minMulti, minMultiOffset)}. */
    public void advanceNextMulti(int minMulti, int minMultiOffset) {
        if (precedes(nextMulti, minMulti)) {
            nextMulti = minMulti;
            dirty = true;
        }
        if (precedes(nextMultiOffset, minMultiOffset)) {
            nextMultiOffset = minMultiOffset;
            dirty = true;
        }
    }

    /** {@code MultiXactAdvanceOldest}, as multixact truncation sets it. */
    public void advanceOldestMulti(int multi, int db) {
        if (precedes(oldestMulti, multi)) {
            oldestMulti = multi;
            oldestMultiDb = db;
            dirty = true;
        }
    }

    /** Advances oldestXid (CLOG truncation after {@code vac_truncate_clog}'s {@code SetTransactionIdLimit}). */
    public void advanceOldestXid(int xid, int db) {
        if (precedes(oldestXid, xid)) {
            oldestXid = xid;
            oldestXidDb = db;
            dirty = true;
        }
    }

    /** nextXid as a FullTransactionId (epoch in the high 32 bits). */
    public long nextFullXid() {
        return nextFullXid;
    }

    /** {@code nextOid}: the next OID to assign (unsigned 32-bit), as {@code XLOG_NEXTOID} and checkpoints set it. */
    public int nextOid() {
        return nextOid;
    }

    /** {@code nextMulti}: the next MultiXactId to assign (unsigned 32-bit). */
    public int nextMulti() {
        return nextMulti;
    }

    /** {@code nextMultiOffset}: the next member offset in {@code pg_multixact/members} (unsigned 32-bit). */
    public int nextMultiOffset() {
        return nextMultiOffset;
    }

    /** {@code oldestXid}: the oldest xid not yet frozen in any database (unsigned 32-bit). */
    public int oldestXid() {
        return oldestXid;
    }

    /** {@code oldestMulti}: the oldest MultiXactId still referenced in any database (unsigned 32-bit). */
    public int oldestMulti() {
        return oldestMulti;
    }

    /** The current state as a {@link CheckPoint}, and clears {@link #dirty()}. */
    public CheckPoint snapshot() {
        dirty = false;
        return new CheckPoint(base.redo(), base.thisTimeLineId(), base.prevTimeLineId(), base.fullPageWrites(),
                nextFullXid, nextOid, nextMulti, nextMultiOffset, oldestXid, oldestXidDb, oldestMulti, oldestMultiDb,
                base.time(), base.oldestCommitTsXid(), base.newestCommitTsXid(), base.oldestActiveXid());
    }
}
