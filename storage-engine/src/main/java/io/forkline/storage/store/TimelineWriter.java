package io.forkline.storage.store;

import io.forkline.storage.id.TimelineId;
import io.forkline.storage.key.Key;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.timeline.TimelineMetadata;
import org.rocksdb.WriteBatch;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * Stages versions for one timeline and commits them atomically with the timeline's new last record
 * LSN. Reads through the writer see staged versions first ({@link #get}), so read-modify-write
 * ingest (CLOG bits, visibility-map clears) works within one batch.
 *
 * <p><b>Delta encoding.</b> At {@link #commit}, each 8192-byte version of a relation block or SLRU
 * page ({@link PageDelta#isCandidate}) is stored as a {@link PageDelta} against its <em>base</em>:
 * the newest full image of the same key on this timeline, which is older than the version; when
 * the key has no version on this timeline yet (a branch's first write of a page), the full image a
 * read at the branch point is rebuilt from, on the ancestor that holds it, provided every
 * ancestor on the way has ingested past the LSN it is read at (its answer there is then final, and
 * its GC keeps that image as long as the branch exists). The full image is stored instead when
 * <ul>
 *   <li>there is no base: no version on this timeline or the ancestors, or the newest one is a
 *       tombstone or not 8192 bytes long, or an ancestor has not yet ingested up to the branch
 *       point;</li>
 *   <li>the delta would be longer than {@link #MAX_DELTA_BYTES} (half a page);</li>
 *   <li>the deltas stored against the base would then add up to more than
 *       {@link #DELTA_BUDGET_BYTES}: deltas against a fixed base grow as the page drifts away from
 *       it, so a new full image now and then keeps the bytes per version low (with linear drift
 *       the uncompressed optimum is a budget of one page; on disk, where RocksDB's LZ4 compresses
 *       consecutive deltas of a key against each other, four pages measured best:
 *       {@code benchmarks/run.sh cost}, clustered 1 % update: 3.54 % of the logical size with one
 *       page, 2.38 % with four, 2.61 % with sixteen).</li>
 * </ul>
 * A stored version therefore is a full image or a delta whose base is a full image: a read needs at
 * most one extra point read, never a chain. Every write of a key that is not a delta-encoded full
 * page (tombstone, other length) ends its base, so a delta's base is always the newest full image
 * of its key on the timeline with no other kind of version between them; the GC rule that keeps a
 * delta's base ({@code io.forkline.storage.gc}) relies on it.
 *
 * <p>Bases live in a per-writer LRU cache of at most {@link #BASE_CACHE_ENTRIES} keys (8 KiB
 * each). On a miss the writer reads the key's newest version on this timeline and, when that is a
 * delta, its base (two point reads at most).
 *
 * <p><b>Read cache.</b> {@link #get} answers from the staged batch, then from a per-writer LRU of
 * the newest committed value of at most {@link #RECENT_ENTRIES} keys (the values this writer
 * committed, and the values it read from the store), then from the store. The writer is its
 * timeline's only writer, so an entry stays the key's newest version until this writer commits a
 * new one, which replaces it. A store read of a key the timeline itself holds also keeps what the
 * next version's delta encoding needs (the stored version's base), so a read-modify-write of a
 * page costs one store read, not three. {@code -Dforkline.writer.readCache=false} (read when a
 * writer is created) turns both off, for measurements.
 *
 * <p><b>Pages redone in place.</b> Redo changes the newest version of a page into the next one. A
 * page staged with {@link #putOwned} (an array nobody else holds) and not handed out since is lent
 * to the caller by {@link #getForUpdate}: its stored form (delta or image) is encoded first, so the
 * array itself may then become the next version, and a run of records on one page in one batch
 * copies the page once instead of once per record (the quickstart's DELETE: ~30 records per heap
 * page). Every other case gets a copy. A staged version is encoded at the latest when a newer
 * version of its key is staged, so a key's versions are always encoded in LSN order and every
 * staged version but the newest holds only its stored form.
 *
 * <p>Versions must be staged in non-decreasing LSN order per key ({@link #put} refuses a version
 * below the key's newest staged one), and every commit's last record LSN is at least the durable
 * one. Arrays passed to {@link #put} belong to the writer from then on and must not be modified;
 * arrays {@link #get} and {@link #scan} return from the staged batch must not be modified either.
 * Not thread-safe: one ingest thread owns a writer, and only one writer may be active per timeline.
 */
public final class TimelineWriter implements AutoCloseable {
    /** A delta longer than this many bytes is stored as the full image instead. */
    public static final int MAX_DELTA_BYTES = PageDelta.PAGE_SIZE / 2;
    /** Sum of the delta bytes stored against one base beyond which a new full image is stored. */
    public static final int DELTA_BUDGET_BYTES = 4 * PageDelta.PAGE_SIZE;
    /** Keys whose delta base a writer caches (each holds one 8 KiB image: 32 MiB at most). */
    public static final int BASE_CACHE_ENTRIES = 4096;
    /** Keys whose delta base a writer remembers without its image (~200 bytes each: ~13 MiB at most). */
    public static final int BASE_REF_ENTRIES = 65536;
    /** Keys whose newest committed value a writer caches for {@link #get} (8 KiB pages: 32 MiB at most). */
    public static final int RECENT_ENTRIES = 4096;
    /** System property: {@code false} turns the read cache off (see the class comment). */
    public static final String READ_CACHE_PROPERTY = "forkline.writer.readCache";

    private final PageStore store;
    private final TimelineId timeline;
    /** Staged commit-timestamp entries: time, LSN, time, LSN, ... */
    private long[] commitTimestamps = new long[18];
    private int commitTimestampCount;
    /** Each key's newest staged version (also an element of {@link #entries}). */
    private final TreeMap<Key, Staged> newest = new TreeMap<>();
    /** Staged versions in put order; a re-put of the same (key, LSN) replaces its entry's value. */
    private final ArrayList<Staged> entries = new ArrayList<>();
    private int stagedBytes;
    /** {@link PageDelta#encode}'s work buffer. */
    private final byte[] encodeScratch = new byte[MAX_DELTA_BYTES];
    /** Committed delta bases by key, least recently used first. */
    private final LinkedHashMap<Key, Base> bases = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, Base> eldest) {
            if (size() <= BASE_CACHE_ENTRIES) {
                return false;
            }
            if (readCache) {
                Base b = eldest.getValue();
                baseRefs.put(eldest.getKey(), b.image() == null ? b : new Base(b.timeline(), b.lsn(), null,
                        b.deltaBytes(), b.deltaCount()));
            }
            return true;
        }
    };
    /**
     * Bases evicted from {@link #bases}, without their image (least recently used first, at most
     * {@link #BASE_REF_ENTRIES}): the image is then one point read of its exact version key (bloom
     * filters) instead of finding the key's newest version ({@code seekForPrev} through every
     * sorted run). Only with the read cache on. An entry is the key's base as long as {@link #bases}
     * has none, since every newer base passes through {@link #bases} and, evicted, replaces it here.
     */
    private final LinkedHashMap<Key, Base> baseRefs = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, Base> eldest) {
            return size() > BASE_REF_ENTRIES;
        }
    };
    /** Newest committed value by key (never a tombstone), least recently used first; see the class comment. */
    private final LinkedHashMap<Key, byte[]> recent = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, byte[]> eldest) {
            return size() > RECENT_ENTRIES;
        }
    };
    private final boolean readCache = !"false".equals(System.getProperty(READ_CACHE_PROPERTY));
    private long fullImages;
    private long deltas;

    /**
     * One staged version. {@code value} is the full value while the version is its key's newest (or
     * stored as a full image), else {@code null}; {@code stored} is what {@link #commit} writes, once
     * encoded ({@code null} before).
     */
    private static final class Staged {
        final Key key;
        final long lsn;
        byte[] value;
        byte[] stored;
        /** {@code value} was staged by {@link #putOwned} and not handed out since: it may be lent. */
        boolean lendable;
        /** {@code value} was lent by {@link #getForUpdate}: it may have been changed since. */
        boolean lent;

        Staged(Key key, long lsn, byte[] value, boolean lendable) {
            this.key = key;
            this.lsn = lsn;
            this.value = value;
            this.lendable = lendable;
        }
    }

    /** The delta bases that the versions encoded in this batch leave, by key (made the writer's at commit). */
    private final HashMap<Key, Base> batchBases = new HashMap<>();
    /** Full images and deltas encoded in this batch (counted at commit). */
    private long batchFull;
    private long batchDeltas;
    /** System property: {@code false} makes {@link #getForUpdate} always copy (measurements). */
    public static final String LEND_PROPERTY = "forkline.writer.lendPages";
    private final boolean lendPages = !"false".equals(System.getProperty(LEND_PROPERTY));

    /**
     * A delta base: the full image at {@code lsn}, and the count and byte sum of the deltas stored
     * against it. {@link #NONE}: the key has no base (write the next page in full).
     */
    private record Base(TimelineId timeline, long lsn, byte[] image, int deltaBytes, int deltaCount) {
        static final Base NONE = new Base(null, PageStore.NO_BASE, null, 0, 0);
    }

    TimelineWriter(PageStore store, TimelineId timeline) {
        this.store = store;
        this.timeline = timeline;
    }

    /** The timeline this writer stages and commits versions of (fixed at creation). */
    public TimelineId timeline() {
        return timeline;
    }

    /**
     * Stages {@code value} as the version of {@code key} at {@code lsn} (a record's end LSN).
     * Staging the same key at the same LSN again replaces the earlier value.
     *
     * <p>The array is owned by the writer after {@code put}: callers must not modify it (it is
     * not copied; an 8192-byte page of a relation block or SLRU page key may become a long-lived
     * delta base in the writer's cache). Handing the same unmodified array to several keys is fine.
     *
     * @param lsn version LSN (WAL byte position); at least the key's newest staged LSN
     * @throws IllegalArgumentException when {@code key} is a relation block or SLRU page and the
     *                                  value, not 8192 bytes long, starts like a {@link PageDelta}
     *                                  (it would be read back as one); or when {@code lsn} is below
     *                                  the LSN of the key's newest staged version (the message names
     *                                  the key and both LSNs). Nothing is staged then.
     */
    public void put(Key key, long lsn, byte[] value) {
        stage(key, lsn, value, false);
    }

    /**
     * As {@link #put}, for an array that no one but the writer holds from now on (for instance the
     * page {@link #getForUpdate} returned, changed): the writer may lend it back to a later
     * {@link #getForUpdate} of the key, which changes it in place.
     *
     * @throws IllegalArgumentException as {@link #put}
     */
    public void putOwned(Key key, long lsn, byte[] value) {
        stage(key, lsn, value, true);
    }

    private void stage(Key key, long lsn, byte[] value, boolean owned) {
        if (PageDelta.isCandidate(key) && PageDelta.isDelta(value)) {
            throw new IllegalArgumentException("a " + value.length + "-byte value of " + key + " at "
                    + Lsn.format(lsn) + " starts with the page-delta magic; only 8192-byte pages and other "
                    + "values are stored for this key kind");
        }
        Staged last = newest.get(key);
        int order = last == null ? 1 : Long.compareUnsigned(lsn, last.lsn);
        if (order < 0) {
            throw new IllegalArgumentException("version of " + key + " at " + Lsn.format(lsn)
                    + " is below its newest staged version at " + Lsn.format(last.lsn)
                    + "; versions of a key must be staged in non-decreasing LSN order");
        }
        if (order == 0) {
            if (last.stored != null) {
                throw new IllegalStateException("version of " + key + " at " + Lsn.format(lsn)
                        + " is already encoded (lent for an update at a later LSN); it cannot be staged again");
            }
            last.value = value;
            last.lendable = owned;
            last.lent = false;
        } else {
            if (last != null) {
                // the key's versions are encoded in LSN order: this one before the new one
                encoded(last);
                if (last.stored != last.value) {
                    last.value = null;
                }
            }
            Staged e = new Staged(key, lsn, value, owned);
            entries.add(e);
            newest.put(key, e);
        }
        stagedBytes += value.length + PageStore.VERSION_KEY_BYTES;
    }

    /** Stages a tombstone: {@code key} does not exist from {@code lsn} on. */
    public void delete(Key key, long lsn) {
        put(key, lsn, new byte[0]);
    }

    /** Indexes a commit: commit time in microseconds since the Unix epoch, the commit record's end LSN. */
    public void putCommitTimestamp(long timestampMicros, long lsn) {
        putCommitTimestamp(timestampMicros, lsn, 0);
    }

    /**
     * Indexes a commit with its transaction id (listed by {@link PageStore#commits}).
     *
     * @param timestampMicros commit time, microseconds since the Unix epoch
     * @param lsn             the commit record's end LSN
     * @param xid             the committed transaction's id (unsigned 32 bits); 0 when unknown
     */
    public void putCommitTimestamp(long timestampMicros, long lsn, int xid) {
        if (commitTimestampCount + 3 > commitTimestamps.length) {
            commitTimestamps = java.util.Arrays.copyOf(commitTimestamps, commitTimestamps.length * 2);
        }
        commitTimestamps[commitTimestampCount++] = timestampMicros;
        commitTimestamps[commitTimestampCount++] = lsn;
        commitTimestamps[commitTimestampCount++] = Integer.toUnsignedLong(xid);
    }

    /**
     * The newest value of {@code key} at {@code lsn} (which must be at least every LSN this writer
     * staged or committed: the read cache answers with the newest value regardless of {@code lsn}),
     * staged versions first; {@code null} when absent or tombstoned. Always a full value (deltas are
     * rebuilt). A staged or cached value is returned as is, not copied: callers must not modify it
     * (copy it to change it, then {@link #put} the copy).
     */
    public byte[] get(Key key, long lsn) {
        Staged e = newest.get(key);
        if (e != null) {
            e.lendable = false;
            return e.value.length == 0 ? null : e.value;
        }
        if (!readCache) {
            return store.getUnobserved(timeline, key, lsn);
        }
        byte[] cached = recent.get(key);
        if (cached != null) {
            return cached;
        }
        byte[] value;
        PageStore.OwnVersion own = store.ownVersionWithBase(timeline, key, lsn);
        if (own == null) {
            value = store.getUnobserved(timeline, key, lsn); // from the ancestors
        } else {
            value = own.value();
            if (PageDelta.isCandidate(key) && !bases.containsKey(key)) {
                bases.put(key, baseOf(own));
            }
        }
        if (value == null || value.length == 0) {
            return null;
        }
        recent.put(key, value);
        return value;
    }

    /**
     * The newest value of {@code key} at {@code lsn} (as {@link #get}) as an array the caller may
     * change and then stage ({@link #putOwned}) as the key's version at {@code lsn}: the staged array
     * itself when it may be lent (see the class comment), else a copy. {@code null} when absent or
     * tombstoned. Until the caller stages its version, the key's newest staged version reads as the
     * lent array (changed or not); what the writer commits for it was encoded before the loan.
     *
     * @param lsn the version LSN the caller will stage (above every LSN staged for the key so far, for
     *            a loan)
     * @return an 8192-byte page or other value the caller owns until it stages it, or {@code null}
     * @throws StorageException when a store read fails (as {@link #get})
     */
    public byte[] getForUpdate(Key key, long lsn) {
        Staged e = newest.get(key);
        if (e != null && e.value.length == PageDelta.PAGE_SIZE && PageDelta.isCandidate(key)) {
            if (e.lent) {
                // lent before and not staged again since: the version as it was, from its stored form (a
                // delta against the key's base in this batch: full images are never lent)
                return PageDelta.decode(batchBases.get(key).image(), e.stored);
            }
            if (lendPages && e.lendable && Long.compareUnsigned(e.lsn, lsn) < 0) {
                encoded(e);
                if (e.stored != e.value) { // a full image stays the key's delta base: never lent
                    e.lent = true;
                    e.lendable = false;
                    return e.value;
                }
            }
        }
        byte[] v = get(key, lsn);
        return v == null ? null : v.clone();
    }

    /** The delta base the next version of a key gets when {@code own} is its newest version (as {@link #loadBase}). */
    private static Base baseOf(PageStore.OwnVersion own) {
        if (own.baseImage() != null) {
            return new Base(own.baseTimeline(), own.baseLsn(), own.baseImage(), own.storedLength(), 1);
        }
        byte[] v = own.value();
        return v.length == PageDelta.PAGE_SIZE ? new Base(null, own.lsn(), v, 0, 0) : Base.NONE;
    }

    /** Whether {@link #get} caches (see the class comment), so callers need no page cache of their own. */
    public boolean cachesReads() {
        return readCache;
    }

    /**
     * Like {@link PageStore#scan}, with staged versions merged on top. Staged values are returned
     * as staged (see {@link #get}): callers must not modify them.
     */
    public NavigableMap<Key, byte[]> scan(Key from, Key to, long lsn) {
        NavigableMap<Key, byte[]> out = new TreeMap<>();
        out.putAll(store.scan(timeline, from, to, lsn));
        for (Staged e : newest.subMap(from, true, to, false).values()) {
            e.lendable = false;
            if (e.value.length == 0) {
                out.remove(e.key);
            } else {
                out.put(e.key, e.value);
            }
        }
        return out;
    }

    /** The timeline's durable last record LSN ({@link PageStore#lastRecordLsn}). */
    public long durableLastRecordLsn() {
        return store.lastRecordLsn(timeline);
    }

    /** Approximate bytes staged since the last commit (full values, before delta encoding). */
    public int stagedBytes() {
        return stagedBytes;
    }

    /** Page versions this writer committed as full images (8192-byte candidates only). */
    public long fullImagesWritten() {
        return fullImages;
    }

    /** Page versions this writer committed as deltas. */
    public long deltasWritten() {
        return deltas;
    }

    /**
     * Encodes the staged versions (deltas where possible) and makes them durable (fsync) together
     * with {@code lastRecordLsn}, then starts a new batch.
     *
     * @param lastRecordLsn the timeline's new last record LSN (WAL byte position): at least the
     *                      durable one (equal is fine: an import commits at its start LSN)
     * @throws IllegalArgumentException when {@code lastRecordLsn} is below the timeline's durable
     *                                  last record LSN (names both), or the timeline was deleted;
     *                                  nothing is written and the staged versions stay staged
     * @throws StorageException         when the write fails; nothing of the batch is then visible, and
     *                                  the staged versions stay staged
     */
    public void commit(long lastRecordLsn) {
        long addedBytes = 0;
        try (WriteBatch batch = new WriteBatch()) {
            for (Staged e : entries) {
                byte[] stored = encoded(e);
                store.putVersion(batch, timeline, e.key, e.lsn, stored);
                addedBytes += stored.length + PageStore.VERSION_KEY_BYTES;
            }
            for (int i = 0; i < commitTimestampCount; i += 3) {
                store.putCommitTimestamp(batch, timeline, commitTimestamps[i], commitTimestamps[i + 1],
                        (int) commitTimestamps[i + 2]);
            }
            store.commit(timeline, batch, lastRecordLsn, addedBytes);
        }
        bases.putAll(batchBases);
        batchBases.clear();
        if (readCache) {
            for (Staged e : newest.values()) {
                if (e.value.length == 0 || e.lent) { // a lent array may have been changed since
                    recent.remove(e.key);
                } else {
                    recent.put(e.key, e.value);
                }
            }
        }
        fullImages += batchFull;
        deltas += batchDeltas;
        batchFull = 0;
        batchDeltas = 0;
        newest.clear();
        entries.clear();
        commitTimestampCount = 0;
        stagedBytes = 0;
    }

    /** {@code e}'s stored form, encoded now ({@link #encode}) when it was not yet. */
    private byte[] encoded(Staged e) {
        if (e.stored == null) {
            byte[] stored = encode(e, batchBases);
            if (stored != e.value) {
                batchDeltas++;
            } else if (e.value.length == PageDelta.PAGE_SIZE && PageDelta.isCandidate(e.key)) {
                batchFull++;
            }
            e.stored = stored;
        }
        return e.stored;
    }

    /** The stored form of {@code e}: the value itself or a delta; records the key's new base in {@code pending}. */
    private byte[] encode(Staged e, HashMap<Key, Base> pending) {
        if (!PageDelta.isCandidate(e.key)) {
            return e.value;
        }
        if (e.value.length != PageDelta.PAGE_SIZE) {
            pending.put(e.key, Base.NONE);
            return e.value;
        }
        Base base = pending.get(e.key);
        if (base == null) {
            base = bases.get(e.key);
        }
        if (base == null && readCache) {
            base = rememberedBase(e.key);
        }
        if (base == null) {
            base = loadBase(e.key, e.lsn);
        }
        if (base != Base.NONE && Long.compareUnsigned(base.lsn(), e.lsn) < 0) {
            int max = Math.min(MAX_DELTA_BYTES, DELTA_BUDGET_BYTES - base.deltaBytes());
            if (max >= PageDelta.HEADER_LENGTH) {
                byte[] d = PageDelta.encode(base.image(), base.lsn(), base.timeline(), e.value, max, encodeScratch);
                if (d != null) {
                    pending.put(e.key, new Base(base.timeline(), base.lsn(), base.image(),
                            base.deltaBytes() + d.length, base.deltaCount() + 1));
                    return d;
                }
            }
        }
        pending.put(e.key, new Base(null, e.lsn, e.value, 0, 0));
        return e.value;
    }

    /**
     * The base {@link #baseRefs} remembers for {@code key} with its image read back (one point
     * read), or {@code null} when it remembers none or the image is gone (then {@link #loadBase}).
     */
    private Base rememberedBase(Key key) {
        Base ref = baseRefs.get(key);
        if (ref == null || ref == Base.NONE || ref.image() != null) {
            return ref;
        }
        byte[] image = store.ownStoredValue(ref.timeline() == null ? timeline : ref.timeline(), key, ref.lsn());
        if (image == null || image.length != PageDelta.PAGE_SIZE) {
            baseRefs.remove(key);
            return null;
        }
        return new Base(ref.timeline(), ref.lsn(), image, ref.deltaBytes(), ref.deltaCount());
    }

    /**
     * The base of {@code key} for a version at {@code lsn}, from the store (cache miss): from the
     * key's newest version on this timeline below {@code lsn}; when there is none, from the version
     * a read falls through to on the ancestors at the branch point, provided each ancestor holding
     * or passing on that read has ingested past it (so its answer there is final and its GC keeps
     * it, see {@link PageDelta}).
     */
    private Base loadBase(Key key, long lsn) {
        if (lsn == 0) {
            return Base.NONE;
        }
        PageStore.Version own = store.ownStoredVersion(timeline, key, lsn - 1);
        if (own != null) {
            return baseOf(null, key, own);
        }
        TimelineMetadata md = store.timeline(timeline);
        long at = lsn;
        while (md != null && md.ancestor() != null) {
            at = Long.compareUnsigned(at, md.ancestorLsn()) < 0 ? at : md.ancestorLsn();
            TimelineId ancestor = md.ancestor();
            if (Long.compareUnsigned(store.lastRecordLsn(ancestor), at) < 0) {
                return Base.NONE;
            }
            PageStore.Version v = store.ownStoredVersion(ancestor, key, at);
            if (v != null) {
                return baseOf(ancestor, key, v);
            }
            md = store.timeline(ancestor);
        }
        return Base.NONE;
    }

    /**
     * The base a stored version {@code v} of {@code key} on {@code holder} ({@code null}: this
     * timeline) gives: itself when it is a full image, its base when it is a delta, else none.
     */
    private Base baseOf(TimelineId holder, Key key, PageStore.Version v) {
        byte[] value = v.value();
        if (value.length == PageDelta.PAGE_SIZE) {
            return new Base(holder, v.lsn(), value, 0, 0);
        }
        if (!PageDelta.isDelta(value)) {
            return Base.NONE;
        }
        TimelineId baseTimeline = PageDelta.baseTimeline(value);
        if (baseTimeline == null) {
            baseTimeline = holder;
        }
        long baseLsn = PageDelta.baseLsn(value);
        byte[] image = store.ownStoredValue(baseTimeline == null ? timeline : baseTimeline, key, baseLsn);
        if (image == null || image.length != PageDelta.PAGE_SIZE) {
            return Base.NONE;
        }
        // a delta of this timeline: the earlier deltas' sizes are unknown, count the newest as all of them
        return new Base(baseTimeline, baseLsn, image, holder == null ? value.length : 0, holder == null ? 1 : 0);
    }

    /** Drops anything staged and not committed. */
    @Override
    public void close() {
        batchBases.clear();
        batchFull = 0;
        batchDeltas = 0;
        newest.clear();
        commitTimestampCount = 0;
        entries.clear();
        stagedBytes = 0;
        bases.clear();
        baseRefs.clear();
        recent.clear();
    }
}
