package io.forkline.pageserver.size;

import io.forkline.storage.id.TenantId;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;
import io.forkline.storage.timeline.TimelineMetadata;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Sizes of branches (timelines) and tenants:
 *
 * <ul>
 *   <li><b>logical</b>: {@link LogicalSize} at the timeline's last record LSN, cached per
 *       {@code (timeline, last record LSN)} (a scan of the {@code REL_SIZE} keys, ancestors
 *       included, runs only when the timeline moved);</li>
 *   <li><b>physical</b>: {@link PageStore#physicalSize}: RocksDB's estimate of the bytes of the
 *       timeline's own key range (compressed SST files plus memtables), so what the branch costs
 *       beyond what it shares with its ancestors; approximate, cheap;</li>
 *   <li><b>stored</b>: {@link PageStore#storedBytes}: the exact, uncompressed key + value bytes of the
 *       timeline's own versions (reflects GC at once; physical only after compaction).</li>
 * </ul>
 * A tenant's totals sum over every timeline the store holds for it (refs, retired timelines kept
 * for their children, timelines only backups keep).
 *
 * <p>Two ways to ask: {@link #timeline}, {@link #find} and {@link #tenant} compute exact values now
 * ({@code GET .../size}, metrics); {@link #listed} and {@link #tenantListed} answer listings from a
 * cache and never wait for a scan: a cached entry whose timeline moved, or whose physical estimate
 * is older than {@link #MAX_AGE_NANOS}, is answered as it is and refreshed by one background thread
 * ({@code forkline-sizes}); {@link TimelineSize#lastRecordLsn} says which LSN the answer is of. A
 * timeline not yet in the cache (a new branch) is answered from its ancestors' recent logical sizes
 * ({@link LogicalHistory}): the ancestor's newest size at an LSN at or below the branch point is
 * exact for the branch at that LSN (their histories are the same up to the branch point), so a
 * branch create answers without a scan even while its parent's compute moves the parent's LSN on,
 * and the branch's own size follows in the background. Only a timeline none of whose ancestors has
 * such a size (a store just opened) is computed in the call, once.
 * Thread-safe; {@link #close} stops the refresher (before the store closes).
 */
public final class SizeService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SizeService.class);
    /** A listed physical size older than this (5 s) is refreshed in the background. */
    static final long MAX_AGE_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final PageStore store;
    /** Per timeline: sizes as of an LSN (exact for that LSN when computed, physical as of computedAtNanos). */
    private final Map<TimelineId, Cached> cache = new ConcurrentHashMap<>();
    /** Per timeline: its recent logical sizes by LSN, for seeding its descendants. */
    private final Map<TimelineId, LogicalHistory> history = new ConcurrentHashMap<>();
    private final Set<TimelineId> refreshing = ConcurrentHashMap.newKeySet();
    private final ExecutorService refresher = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "forkline-sizes");
        t.setDaemon(true);
        return t;
    });

    /** Sizes of a timeline as of {@code lsn} (its last record LSN then). */
    private record Cached(long lsn, long logical, long physical, long computedAtNanos) {
    }

    public SizeService(PageStore store) {
        this.store = store;
    }

    /**
     * The logical size of {@code timeline} at its last record LSN, bytes (a multiple of 8192).
     *
     * @throws IllegalArgumentException when the timeline does not exist
     */
    public long logicalSize(TimelineId timeline) {
        long lsn = store.lastRecordLsn(timeline);
        Cached cached = cache.get(timeline);
        if (cached != null && cached.lsn() == lsn) {
            return cached.logical();
        }
        return compute(timeline, lsn, cached).logical();
    }

    /** Computes logical (unless {@code previous} has it for {@code lsn}) and physical sizes, and caches them. */
    private Cached compute(TimelineId timeline, long lsn, Cached previous) {
        long logical = previous != null && previous.lsn() == lsn ? previous.logical()
                : LogicalSize.bytes(store, timeline, lsn);
        Cached c = new Cached(lsn, logical, store.physicalSize(timeline), System.nanoTime());
        cache.merge(timeline, c, (old, neu) -> Long.compareUnsigned(old.lsn(), neu.lsn()) > 0 ? old : neu);
        history.computeIfAbsent(timeline, id -> new LogicalHistory()).add(lsn, logical);
        if (cache.size() > 256) {
            cache.keySet().removeIf(id -> store.timeline(id) == null);
            history.keySet().removeIf(id -> store.timeline(id) == null);
        }
        return c;
    }

    /**
     * The sizes of a timeline for a listing, without waiting for a scan (see the class comment):
     * {@link TimelineSize#lastRecordLsn} is the LSN the logical size is of, which lags the
     * timeline's while a refresh is pending; {@code storedBytes} is always current.
     *
     * @param refs the refs pointing at it (for the report only)
     * @return {@code null} when the timeline does not exist (deleted meanwhile)
     */
    public TimelineSize listed(TimelineId timeline, List<String> refs) {
        TimelineMetadata md = store.timeline(timeline);
        if (md == null) {
            return null;
        }
        try {
            long lsn = store.lastRecordLsn(timeline);
            Cached c = cache.get(timeline);
            if (c == null) {
                c = seed(md);
            }
            if (c == null) {
                c = compute(timeline, lsn, null);
            } else if (c.lsn() != lsn || System.nanoTime() - c.computedAtNanos() > MAX_AGE_NANOS) {
                refreshLater(timeline);
            }
            return new TimelineSize(timeline.toString(), List.copyOf(refs), Lsn.format(c.lsn()), c.logical(), c.physical(),
                    storedBytes(timeline));
        } catch (IllegalArgumentException e) {
            if (store.timeline(timeline) == null) {
                return null;
            }
            throw e;
        }
    }

    /**
     * A first answer for a timeline not in the cache, without a scan: up its ancestry, the newest
     * logical size an ancestor had at an LSN at or below the point where the timeline (or the
     * ancestor below it) branched off. The timeline's history up to its branch point is its
     * ancestor's, so that size is exact for the timeline at that LSN (the answer's
     * {@code size_lsn}, possibly below the timeline's ancestor LSN); its physical size is its own
     * key range's. The caller refreshes it in the background when the LSN is not the timeline's.
     *
     * @return {@code null} when no ancestor has such a size (or the timeline has no ancestor)
     */
    private Cached seed(TimelineMetadata md) {
        TimelineId ancestor = md.ancestor();
        long at = md.ancestorLsn();
        for (int depth = 0; ancestor != null && depth < 64; depth++) {
            LogicalHistory h = history.get(ancestor);
            long[] found = h == null ? null : h.atOrBelow(at);
            if (found != null) {
                Cached c = new Cached(found[0], found[1], store.physicalSize(md.id()), System.nanoTime());
                cache.putIfAbsent(md.id(), c);
                history.computeIfAbsent(md.id(), id -> new LogicalHistory()).add(found[0], found[1]);
                return c;
            }
            TimelineMetadata up = store.timeline(ancestor);
            if (up == null || up.ancestor() == null) {
                return null;
            }
            at = Long.compareUnsigned(at, up.ancestorLsn()) < 0 ? at : up.ancestorLsn();
            ancestor = up.ancestor();
        }
        return null;
    }

    /** Recomputes the timeline's entry on the refresher thread (once, however often asked meanwhile). */
    private void refreshLater(TimelineId timeline) {
        if (!refreshing.add(timeline)) {
            return;
        }
        try {
            refresher.execute(() -> {
                refreshing.remove(timeline);
                try {
                    if (store.timeline(timeline) != null) {
                        compute(timeline, store.lastRecordLsn(timeline), cache.get(timeline));
                    }
                } catch (IllegalArgumentException e) {
                    // deleted meanwhile
                } catch (RuntimeException e) {
                    log.warn("cannot refresh the sizes of timeline {}", timeline, e);
                }
            });
        } catch (RejectedExecutionException e) {
            refreshing.remove(timeline); // closing
        }
    }

    /**
     * Approximate on-disk bytes of the timeline's own versions ({@link PageStore#physicalSize}).
     *
     * @throws IllegalArgumentException when the timeline does not exist
     */
    public long physicalSize(TimelineId timeline) {
        return store.physicalSize(timeline);
    }

    /**
     * Exact uncompressed bytes of the timeline's own versions ({@link PageStore#storedBytes}).
     *
     * @throws IllegalArgumentException when the timeline does not exist
     */
    public long storedBytes(TimelineId timeline) {
        return store.storedBytes(timeline);
    }

    /**
     * All sizes of one timeline.
     *
     * @param refs the refs pointing at it (for the report only)
     * @throws IllegalArgumentException when the timeline does not exist
     */
    public TimelineSize timeline(TimelineId timeline, List<String> refs) {
        long lsn = store.lastRecordLsn(timeline);
        return new TimelineSize(timeline.toString(), List.copyOf(refs), Lsn.format(lsn), logicalSize(timeline),
                physicalSize(timeline), storedBytes(timeline));
    }

    /**
     * Like {@link #timeline}, but {@code null} when the timeline does not exist (deleted meanwhile).
     *
     * @throws IllegalArgumentException when a stored size value is malformed
     */
    public TimelineSize find(TimelineId timeline, List<String> refs) {
        if (store.timeline(timeline) == null) {
            return null;
        }
        try {
            return timeline(timeline, refs);
        } catch (IllegalArgumentException e) {
            if (store.timeline(timeline) == null) {
                return null;
            }
            throw e;
        }
    }

    /**
     * The tenant's sizes: {@code main}'s logical size, and physical and stored bytes summed over
     * every timeline of the tenant. Timelines deleted while this runs are left out.
     *
     * @param tenant       tenant name
     * @param mainTimeline the timeline {@code main} points at
     * @param refsByTimeline the refs of each timeline (absent: none)
     */
    public TenantSize tenant(String tenant, TimelineId mainTimeline, Map<TimelineId, List<String>> refsByTimeline) {
        return tenant(tenant, mainTimeline, refsByTimeline, false);
    }

    /** Like {@link #tenant}, from the listing cache ({@link #listed}): never waits for a scan once warm. */
    public TenantSize tenantListed(String tenant, TimelineId mainTimeline, Map<TimelineId, List<String>> refsByTimeline) {
        return tenant(tenant, mainTimeline, refsByTimeline, true);
    }

    private TenantSize tenant(String tenant, TimelineId mainTimeline, Map<TimelineId, List<String>> refsByTimeline,
                              boolean listed) {
        List<TimelineMetadata> all = new ArrayList<>(store.timelines(new TenantId(tenant)));
        all.sort(Comparator.comparing(TimelineMetadata::createdAt));
        List<TimelineSize> sizes = new ArrayList<>();
        long physical = 0;
        long stored = 0;
        long logical = 0;
        for (TimelineMetadata md : all) {
            List<String> refs = refsByTimeline.getOrDefault(md.id(), List.of());
            TimelineSize s = listed ? listed(md.id(), refs) : find(md.id(), refs);
            if (s == null) {
                continue; // deleted meanwhile
            }
            sizes.add(s);
            physical += s.physicalSizeBytes();
            stored += s.storedBytes();
            if (md.id().equals(mainTimeline)) {
                logical = s.logicalSizeBytes();
            }
        }
        return new TenantSize(tenant, logical, physical, stored, sizes);
    }

    /** Stops the refresher; a refresh in progress finishes first (it reads the store). */
    @Override
    public void close() {
        refresher.shutdownNow();
        try {
            if (!refresher.awaitTermination(1, TimeUnit.MINUTES)) {
                log.warn("a size refresh is still running after a minute");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
