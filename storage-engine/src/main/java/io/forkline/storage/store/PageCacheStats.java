package io.forkline.storage.store;

/**
 * A snapshot of the page store's cache of materialized versions ({@link PageStore#pageCacheStats}).
 *
 * @param maxBytes bound of the cache, bytes (0: caching is off)
 * @param bytes    weighed size now, bytes (values plus a fixed overhead per entry)
 * @param entries  entries now (approximate)
 * @param hits     lookups answered from the cache since the store opened
 * @param misses   lookups that read RocksDB since the store opened
 */
public record PageCacheStats(long maxBytes, long bytes, long entries, long hits, long misses) {
}
