package io.forkline.pageserver.size;

import io.forkline.storage.id.TenantId;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;
import io.forkline.storage.timeline.TimelineMetadata;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

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
 * for their children, timelines only backups keep). Thread-safe.
 */
public final class SizeService {
    private final PageStore store;
    /** timeline -> {last record LSN, logical bytes} */
    private final Map<TimelineId, long[]> logicalCache = new ConcurrentHashMap<>();

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
        long[] cached = logicalCache.get(timeline);
        if (cached != null && cached[0] == lsn) {
            return cached[1];
        }
        long bytes = LogicalSize.bytes(store, timeline, lsn);
        logicalCache.put(timeline, new long[]{lsn, bytes});
        if (logicalCache.size() > 256) {
            logicalCache.keySet().removeIf(id -> store.timeline(id) == null);
        }
        return bytes;
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
        List<TimelineMetadata> all = new ArrayList<>(store.timelines(new TenantId(tenant)));
        all.sort(Comparator.comparing(TimelineMetadata::createdAt));
        List<TimelineSize> sizes = new ArrayList<>();
        long physical = 0;
        long stored = 0;
        long logical = 0;
        for (TimelineMetadata md : all) {
            TimelineSize s = find(md.id(), refsByTimeline.getOrDefault(md.id(), List.of()));
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
}
