package io.forkline.pageserver.diff;

import io.forkline.pageserver.endpoint.EndpointManager;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.key.Key;
import io.forkline.storage.key.RelTag;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.ChangedBlocks;
import io.forkline.storage.store.PageStore;
import io.forkline.wal.ingest.control.ControlState;
import io.forkline.wal.replication.WalReceiver;
import io.forkline.wal.xlog.CheckPoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.SQLException;
import java.time.Duration;

/**
 * The store's side of a data diff: for the two computes' points, which heap blocks of a relation may
 * differ ({@link PageStore#changedBlocks}), so that {@link DataDiff} reads only those.
 *
 * <p><b>The points.</b> Each side's compute reads its timeline at its present state. Before the list
 * is asked, the diff makes one synchronous commit of its own on each side ({@code SELECT
 * txid_current()} with {@code synchronous_commit = on}): it returns only once the side's WAL
 * receiver, the compute's synchronous standby, acknowledged it durable, so every commit the compute
 * showed before it is in the store, and the point is then the timeline's last record LSN (a write
 * made later races with the diff, as with any read of a running database). Waiting for a WAL
 * position instead does not work: the flush position can end inside a record whose rest sits
 * unflushed in a partial WAL page for as long as the compute is idle (the suite saw a 10 s wait
 * time out on it). The cost: one transaction id and one commit record on each side. Caveat: a
 * commit made with {@code synchronous_commit = off} by another session may be visible before it is
 * flushed (within {@code wal_writer_delay}); a diff in that window may miss it.
 *
 * <p><b>When a page list is not enough.</b> A row's visibility also depends on the commit status of
 * the transactions in its tuple header, which lives in {@code pg_xact}, not in the heap page. A
 * transaction that began before the two sides' common point (wrote its tuples there) and committed
 * after it on one side only changes no heap page after that point. So the list is refused
 * ({@link #unsafe()}) when such a transaction exists: a commit in a shared timeline's LSN window whose
 * xid is below that timeline's {@code nextXid} at the window's start (the store keeps
 * {@code nextXid} per record in its control key), or a prepared transaction at the common point (its
 * {@code COMMIT PREPARED} may come on a branch). A transaction started after the common point wrote
 * every tuple after it, so its pages are in the list.
 *
 * <p>System property {@value #PROPERTY} = {@code false} turns the page lists off (a side-by-side peer
 * for the benchmark).
 */
final class ChangedPages {
    private static final Logger log = LoggerFactory.getLogger(ChangedPages.class);
    /** Turns the changed-pages path off when {@code false}. */
    static final String PROPERTY = "forkline.diff.changedPages";
    /** Longest wait for a side's synchronous commit (the socket timeout of that connection). */
    static final Duration INGEST_WAIT = Duration.ofSeconds(10);

    private final PageStore store;
    private final TimelineId fromTimeline;
    private final long fromLsn;
    private final TimelineId toTimeline;
    private final long toLsn;
    private final String unavailable;
    private String unsafe;
    private boolean checked;

    private ChangedPages(PageStore store, TimelineId fromTimeline, long fromLsn, TimelineId toTimeline, long toLsn,
                         String unavailable) {
        this.store = store;
        this.fromTimeline = fromTimeline;
        this.fromLsn = fromLsn;
        this.toTimeline = toTimeline;
        this.toLsn = toLsn;
        this.unavailable = unavailable;
    }

    /** Whether the system property leaves the changed-pages path on (the default). */
    static boolean enabled() {
        return !"false".equalsIgnoreCase(System.getProperty(PROPERTY, "true"));
    }

    /** Page lists that are never available, for {@code reason}. */
    static ChangedPages none(String reason) {
        return new ChangedPages(null, null, 0, null, 0, reason);
    }

    private static ChangedPages unavailableBecause(String reason) {
        log.info("diff: no changed-page lists: {}", reason);
        return none(reason);
    }

    /**
     * Waits for both sides' WAL to be in the store (at the same time) and fixes the two points.
     * Never throws for a side that cannot be settled: the answer is then {@link #none}.
     */
    static ChangedPages settle(PageStore store, PointCompute from, PointCompute to) {
        if (!enabled()) {
            return none(PROPERTY + "=false");
        }
        try {
            BothSides.Pair<Object> p = BothSides.run(() -> point(store, from), () -> point(store, to), null);
            if (p.from() instanceof String reason) {
                return unavailableBecause("FROM: " + reason);
            }
            if (p.to() instanceof String reason) {
                return unavailableBecause("TO: " + reason);
            }
            Object[] a = (Object[]) p.from();
            Object[] b = (Object[]) p.to();
            return new ChangedPages(store, (TimelineId) a[0], (long) a[1], (TimelineId) b[0], (long) b[1], null);
        } catch (SQLException | RuntimeException e) {
            return unavailableBecause("the points could not be fixed: " + e.getMessage());
        }
    }

    /** {timeline, lsn} of a side once its WAL is in the store, or a String saying why not. */
    private static Object point(PageStore store, PointCompute side) {
        EndpointManager.Endpoint e = side.endpoint();
        WalReceiver r = e == null ? null : e.receiver();
        TimelineId tl = e == null ? null : e.timeline();
        if (r == null || tl == null) {
            return "no WAL receiver for a side";
        }
        // Every commit the compute showed ends at or below its WAL flush LSN: wait until the store holds that.
        // (A commit of our own with synchronous_commit = on would not do: SELECT txid_current() writes no WAL
        // before its commit record, and such a commit does not wait for the standby.)
        long flushed;
        try {
            flushed = EndpointManager.flushLsn(side.address());
        } catch (SQLException ex) {
            return "cannot read how far a side's compute has flushed its WAL: " + ex.getMessage();
        }
        if (!r.awaitLsn(flushed, INGEST_WAIT)) {
            return r.isFailed() ? "the WAL receiver of a side failed"
                    : "the store did not catch up with a side's compute (flushed to " + Lsn.format(flushed)
                    + ") within " + INGEST_WAIT.toSeconds() + " s";
        }
        return new Object[]{tl, store.lastRecordLsn(tl)};
    }

    /** Why no page list can be given, or {@code null} when one can. */
    String unavailable() {
        return unavailable != null ? unavailable : unsafe();
    }

    /**
     * The changed blocks of {@code rel} between the two points, or {@code null} when {@link #unavailable()}.
     */
    ChangedBlocks changed(RelTag rel) {
        if (unavailable() != null) {
            return null;
        }
        return store.changedBlocks(rel, fromTimeline, fromLsn, toTimeline, toLsn);
    }

    /** Why a transaction may make rows differ without a page change (see the class), or {@code null}; computed once. */
    private synchronized String unsafe() {
        if (unavailable != null) {
            return unavailable;
        }
        if (!checked) {
            checked = true;
            unsafe = findUnsafe();
            if (unsafe != null) {
                log.info("diff: no changed-page lists: {}", unsafe);
            }
        }
        return unsafe;
    }

    private String findUnsafe() {
        // the windows and the common point do not depend on the relation
        ChangedBlocks probe = store.changedBlocks(new RelTag(0, 0, 0, 0), fromTimeline, fromLsn, toTimeline, toLsn);
        for (ChangedBlocks.Window w : probe.windows()) {
            byte[] control = store.get(w.timeline(), Key.control(), w.afterLsn());
            if (control == null) {
                return "no control state at " + Lsn.format(w.afterLsn());
            }
            int next = CheckPoint.decode(control, 0).nextXid32();
            for (PageStore.Commit c : store.commitsBetween(w.timeline(), w.afterLsn(), w.upToLsn())) {
                if (c.xid() == 0) {
                    return "a commit at " + Lsn.format(c.lsn()) + " was indexed without its xid";
                }
                if (ControlState.xidPrecedes((int) c.xid(), next)) {
                    return "transaction " + c.xid() + " began before " + Lsn.format(w.afterLsn()) + " and committed at "
                            + Lsn.format(c.lsn());
                }
            }
        }
        if (probe.common() != null) {
            ChangedBlocks.Window common = probe.common();
            if (!store.scan(common.timeline(), Key.kindStart(Key.TWOPHASE), Key.kindEnd(Key.TWOPHASE), common.upToLsn()).isEmpty()) {
                return "prepared transactions at the common point " + Lsn.format(common.upToLsn());
            }
        }
        return null;
    }
}
