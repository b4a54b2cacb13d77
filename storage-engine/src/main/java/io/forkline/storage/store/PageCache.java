package io.forkline.storage.store;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.key.Key;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Materialized versions of one timeline's own keys, so a warm GetPage@LSN costs a hash lookup and a
 * copy instead of a RocksDB iterator, a {@code seekForPrev} and a delta decode.
 *
 * <p>An entry for {@code (timeline, key)} holds up to {@value #VERSIONS_PER_KEY} answers, each what one
 * lookup on that timeline alone found (reads at several LSNs of one page, as PITR branches and
 * replicas make, each find theirs): the
 * newest own version at or below the LSN asked ({@link Entry#versionLsn}, or {@link #NO_VERSION}
 * when the timeline holds none and reads fall through to its ancestor) and the range of read LSNs
 * for which that stays the answer:
 * <ul>
 *   <li>up to {@code validToLsn}: the LSN just below the key's next own version when one was
 *       already stored, else the timeline's durable last record LSN read before the lookup (later
 *       commits only add versions above it);</li>
 *   <li>above it only while the timeline has committed nothing since the lookup
 *       ({@code commitGeneration}; {@link PageStore} counts commits per timeline).</li>
 * </ul>
 * GC only removes versions whose whole validity lies below the applied GC cutoff, where callers
 * refuse reads; a deleted timeline's entries are dropped ({@link #invalidate}).
 *
 * <p>Bounded in bytes (each entry weighs its value plus {@value #ENTRY_OVERHEAD_BYTES}); evicts by
 * Caffeine's W-TinyLFU. Cached value arrays are never modified: {@link PageStore} hands out copies,
 * or, to a {@link PageStore#sharingReader()}, the array itself under a read-only contract.
 * Thread-safe.
 */
final class PageCache {
    /** {@link Entry#versionLsn} of an entry that says the timeline itself holds no version. */
    static final long NO_VERSION = -1L;
    /** Bytes counted per entry beyond its value (key objects, entry, map node). */
    static final int ENTRY_OVERHEAD_BYTES = 160;

    /** Answers kept per (timeline, key); the most recently added win. */
    static final int VERSIONS_PER_KEY = 4;

    /** Values are an {@link Entry} (one answer: the common case, one pointer less to follow) or an {@code Entry[]}. */
    private final Cache<CacheKey, Object> cache;
    private final long maxBytes;
    /**
     * The timelines that have had an entry since their last {@link #invalidate} (a superset of those
     * that have one now: eviction does not remove them), so deleting a timeline that was never read
     * through the cache (a branch created and deleted unused) does not scan the whole cache.
     */
    private final Set<TimelineId> cachedTimelines = ConcurrentHashMap.newKeySet();

    /**
     * The (timeline, key) an entry belongs to, flattened: the map compares five fields of this object
     * instead of following pointers to the key's and the timeline id's arrays (each a likely cache
     * miss on a lookup from a busy event loop), and the hash is computed once, here.
     */
    static final class CacheKey {
        private final TimelineId timeline;
        private final long t0;
        private final long t1;
        private final long k0;
        private final long k1;
        private final int k2;
        private final int hash;

        CacheKey(TimelineId timeline, Key key) {
            this.timeline = timeline;
            this.t0 = timeline.high();
            this.t1 = timeline.low();
            this.k0 = key.bytes0to7();
            this.k1 = key.bytes8to15();
            this.k2 = key.bytes16to17();
            long h = k0 * 0x9E3779B97F4A7C15L + k1;
            h = h * 0x9E3779B97F4A7C15L + k2;
            h = h * 0x9E3779B97F4A7C15L + (t0 ^ t1);
            h = (h ^ (h >>> 30)) * 0xBF58476D1CE4E5B9L; // splitmix64's finalizer
            h = (h ^ (h >>> 27)) * 0x94D049BB133111EBL;
            this.hash = (int) (h ^ (h >>> 31) ^ (h >>> 32));
        }

        TimelineId timeline() {
            return timeline;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof CacheKey c && k1 == c.k1 && k0 == c.k0 && k2 == c.k2 && t1 == c.t1 && t0 == c.t0;
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    /**
     * What a lookup on one timeline found.
     *
     * @param versionLsn       LSN of the newest own version at or below the lookup LSN, or {@link #NO_VERSION}
     * @param value            the full (materialized) value; empty for a tombstone or {@link #NO_VERSION}
     * @param validToLsn       the answer holds for read LSNs from {@code versionLsn} up to here (inclusive)
     * @param open             no newer own version was stored at lookup time: the answer also holds
     *                         above {@code validToLsn} while the timeline's commit generation is unchanged
     * @param commitGeneration the timeline's commit count read before the lookup
     */
    record Entry(long versionLsn, byte[] value, long validToLsn, boolean open, long commitGeneration) {
        boolean answers(long lsn, long currentGeneration) {
            if (versionLsn != NO_VERSION && Long.compareUnsigned(lsn, versionLsn) < 0) {
                return false;
            }
            return Long.compareUnsigned(lsn, validToLsn) <= 0 || (open && currentGeneration == commitGeneration);
        }
    }

    /**
     * @param maxBytes bound of the weighed size; 0 disables caching
     */
    PageCache(long maxBytes) {
        this.maxBytes = maxBytes;
        this.cache = maxBytes <= 0 ? null : Caffeine.newBuilder()
                .maximumWeight(maxBytes)
                .weigher((CacheKey k, Object v) -> {
                    if (v instanceof Entry e) {
                        return e.value().length + ENTRY_OVERHEAD_BYTES;
                    }
                    int w = 0;
                    for (Entry e : (Entry[]) v) {
                        w += e.value().length + ENTRY_OVERHEAD_BYTES;
                    }
                    return w;
                })
                .executor(Runnable::run)
                .recordStats()
                .build();
    }

    boolean enabled() {
        return cache != null;
    }

    /** The cached answer for a read of {@code key} at {@code lsn}, or {@code null}. */
    Entry find(CacheKey key, long lsn, long currentGeneration) {
        Object v = cache == null ? null : cache.getIfPresent(key);
        if (v instanceof Entry e) {
            return e.answers(lsn, currentGeneration) ? e : null;
        }
        if (v != null) {
            for (Entry e : (Entry[]) v) {
                if (e.answers(lsn, currentGeneration)) {
                    return e;
                }
            }
        }
        return null;
    }

    /** Adds an answer to the key's entries (replacing one for the same version; dropping the oldest beyond the bound). */
    void put(CacheKey key, Entry entry) {
        if (cache == null) {
            return;
        }
        cachedTimelines.add(key.timeline());
        cache.asMap().compute(key, (k, old) -> {
            if (old == null) {
                return entry;
            }
            Entry[] olds = old instanceof Entry e ? new Entry[]{e} : (Entry[]) old;
            java.util.ArrayList<Entry> list = new java.util.ArrayList<>(olds.length + 1);
            list.add(entry);
            for (Entry e : olds) {
                if (e.versionLsn() != entry.versionLsn() && list.size() < VERSIONS_PER_KEY) {
                    list.add(e);
                }
            }
            return list.size() == 1 ? list.get(0) : list.toArray(new Entry[0]);
        });
    }

    /**
     * Drops every entry of a timeline: O(entries of the whole cache) when it ever had one, O(1) when
     * not. Call it once the timeline can no longer be read (an entry put by a read that started
     * before may survive it, as with a scan).
     */
    void invalidate(TimelineId timeline) {
        if (cache != null && cachedTimelines.remove(timeline)) {
            cache.asMap().keySet().removeIf(k -> k.timeline().equals(timeline));
        }
    }

    PageCacheStats stats() {
        if (cache == null) {
            return new PageCacheStats(0, 0, 0, 0, 0);
        }
        var s = cache.stats();
        long bytes = cache.policy().eviction().map(e -> e.weightedSize().orElse(0L)).orElse(0L);
        return new PageCacheStats(maxBytes, bytes, cache.estimatedSize(), s.hitCount(), s.missCount());
    }
}
