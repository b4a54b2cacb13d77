package io.forkline.storage.store;

import io.forkline.storage.id.TimelineId;
import io.forkline.storage.key.Key;
import org.rocksdb.WriteBatch;

import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * Stages versions for one timeline and commits them atomically with the timeline's new last record
 * LSN. Reads through the writer see staged versions first ({@link #get}), so read-modify-write
 * ingest (CLOG bits, visibility-map clears) works within one batch.
 *
 * <p>Versions must be staged in non-decreasing LSN order per key. Not thread-safe: one ingest
 * thread owns a writer.
 */
public final class TimelineWriter implements AutoCloseable {
    private final PageStore store;
    private final TimelineId timeline;
    private WriteBatch batch = new WriteBatch();
    private final TreeMap<Key, byte[]> staged = new TreeMap<>();
    /** LSN of each key's version in {@link #staged}. */
    private final java.util.HashMap<Key, Long> stagedLsn = new java.util.HashMap<>();
    private int stagedBytes;
    /** Key (42 B) + value bytes the batch adds to the store; a re-staged (key, LSN) counts once. */
    private long addedBytes;

    TimelineWriter(PageStore store, TimelineId timeline) {
        this.store = store;
        this.timeline = timeline;
    }

    public TimelineId timeline() {
        return timeline;
    }

    /**
     * Stages {@code value} as the version of {@code key} at {@code lsn} (a record's end LSN).
     * The array is not copied and must not be changed afterwards.
     */
    public void put(Key key, long lsn, byte[] value) {
        store.putVersion(batch, timeline, key, lsn, value);
        byte[] previous = staged.put(key, value);
        Long previousLsn = stagedLsn.put(key, lsn);
        if (previous != null && previousLsn == lsn) {
            addedBytes -= previous.length + 42;
        }
        addedBytes += value.length + 42;
        stagedBytes += value.length + 42;
    }

    /** Stages a tombstone: {@code key} does not exist from {@code lsn} on. */
    public void delete(Key key, long lsn) {
        put(key, lsn, new byte[0]);
    }

    /** Indexes a commit: commit time in microseconds since the Unix epoch, the commit record's end LSN. */
    public void putCommitTimestamp(long timestampMicros, long lsn) {
        store.putCommitTimestamp(batch, timeline, timestampMicros, lsn);
    }

    /**
     * The newest value of {@code key} at {@code lsn} (which must be at least every staged LSN),
     * staged versions first; {@code null} when absent or tombstoned.
     */
    public byte[] get(Key key, long lsn) {
        byte[] v = staged.get(key);
        if (v != null) {
            return v.length == 0 ? null : v;
        }
        return store.getUnobserved(timeline, key, lsn);
    }

    /** Like {@link PageStore#scan}, with staged versions merged on top. */
    public NavigableMap<Key, byte[]> scan(Key from, Key to, long lsn) {
        NavigableMap<Key, byte[]> out = new TreeMap<>();
        out.putAll(store.scan(timeline, from, to, lsn));
        for (Map.Entry<Key, byte[]> e : staged.subMap(from, true, to, false).entrySet()) {
            if (e.getValue().length == 0) {
                out.remove(e.getKey());
            } else {
                out.put(e.getKey(), e.getValue());
            }
        }
        return out;
    }

    /** Approximate bytes staged since the last commit. */
    public int stagedBytes() {
        return stagedBytes;
    }

    /**
     * Makes every staged version durable (fsync) together with {@code lastRecordLsn}, then starts
     * a new batch.
     *
     * @throws StorageException when the write fails; nothing of the batch is then visible
     */
    public void commit(long lastRecordLsn) {
        store.commit(timeline, batch, lastRecordLsn, addedBytes);
        batch.close();
        batch = new WriteBatch();
        staged.clear();
        stagedLsn.clear();
        stagedBytes = 0;
        addedBytes = 0;
    }

    /** Drops anything staged and not committed. */
    @Override
    public void close() {
        batch.close();
        staged.clear();
        stagedLsn.clear();
    }
}
