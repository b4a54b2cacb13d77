package io.forkline.wal.ingest.control;

import io.forkline.wal.xlog.CheckPoint;

/**
 * The mutable checkpoint state that ingest keeps current for {@code pg_control}: a
 * {@link CheckPoint} plus the counter rules the startup process applies during redo
 * ({@code xlog_redo} in {@code src/backend/access/transam/xlog.c},
 * {@code AdvanceNextFullTransactionIdPastXid} in {@code varsup.c},
 * {@code MultiXactAdvanceNextMXact} / {@code MultiXactAdvanceOldest} in {@code multixact.c}, the
 * commit timestamp range as {@code commit_ts.c} moves {@code oldestCommitTsXid} / {@code newestCommitTsXid}).
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
    private int oldestCommitTsXid;
    private int newestCommitTsXid;
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
        oldestCommitTsXid = cp.oldestCommitTsXid();
        newestCommitTsXid = cp.newestCommitTsXid();
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
     * kept (tracked through {@code XLOG_NEXTOID}), oldest xid / multi only advance, the commit
     * timestamp range is kept (redo never takes it from a checkpoint record: the record's values
     * were read when the checkpoint began, and commits since have moved {@code newestCommitTsXid});
     * the other fields (redo pointer, timelines, time, oldestActiveXid) are taken from the record.
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
        int keepOldestCommitTs = oldestCommitTsXid;
        int keepNewestCommitTs = newestCommitTsXid;
        load(cp);
        oldestCommitTsXid = keepOldestCommitTs;
        newestCommitTsXid = keepNewestCommitTs;
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

    /**
     * {@code TransactionIdPrecedes}: modulo-2^32 order for normal xids, plain unsigned order when
     * either is a special xid (0..2).
     */
    public static boolean xidPrecedes(int a, int b) {
        if (Integer.compareUnsigned(a, FIRST_NORMAL_XID) < 0 || Integer.compareUnsigned(b, FIRST_NORMAL_XID) < 0) {
            return Integer.compareUnsigned(a, b) < 0;
        }
        return precedes(a, b);
    }

    /**
     * The range part of {@code ActivateCommitTs}: when the range is invalid (commit timestamps were
     * not tracked before), both ends become nextXid, so nothing older is read.
     */
    public void activateCommitTs() {
        if (oldestCommitTsXid == 0) {
            oldestCommitTsXid = (int) nextFullXid;
            newestCommitTsXid = (int) nextFullXid;
            dirty = true;
        }
    }

    /** The range part of {@code DeactivateCommitTs}: both ends invalid (0). */
    public void deactivateCommitTs() {
        if (oldestCommitTsXid != 0 || newestCommitTsXid != 0) {
            oldestCommitTsXid = 0;
            newestCommitTsXid = 0;
            dirty = true;
        }
    }

    /** {@code TransactionTreeSetCommitTsData}'s end: newestCommitTsXid moves forward to {@code xid}. */
    public void advanceNewestCommitTsXid(int xid) {
        if (xidPrecedes(newestCommitTsXid, xid)) {
            newestCommitTsXid = xid;
            dirty = true;
        }
    }

    /** {@code AdvanceOldestCommitTsXid}: a valid oldestCommitTsXid moves forward to {@code xid}. */
    public void advanceOldestCommitTsXid(int xid) {
        if (oldestCommitTsXid != 0 && xidPrecedes(oldestCommitTsXid, xid)) {
            oldestCommitTsXid = xid;
            dirty = true;
        }
    }

    /** {@code oldestCommitTsXid}: the oldest xid whose commit timestamp can be read, 0 when none. */
    public int oldestCommitTsXid() {
        return oldestCommitTsXid;
    }

    /** {@code newestCommitTsXid}: the newest xid whose commit timestamp can be read, 0 when none. */
    public int newestCommitTsXid() {
        return newestCommitTsXid;
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
                base.time(), oldestCommitTsXid, newestCommitTsXid, base.oldestActiveXid());
    }
}
