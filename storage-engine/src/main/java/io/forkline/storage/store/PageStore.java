package io.forkline.storage.store;

import io.forkline.storage.id.TenantId;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.key.Key;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.timeline.TimelineMetadata;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.Range;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.SizeApproximationFlag;
import org.rocksdb.Slice;
import org.rocksdb.Snapshot;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The versioned page store: every version of every {@link Key} of every timeline, in RocksDB
 * (which supplies the log structure, compression, block cache, checksums and crash recovery).
 *
 * <p>Column families and their record layouts (all big-endian):
 * <pre>
 *   versions   timelineId(16) | key(18) | lsn(8)        -> value (empty = tombstone; relation
 *                                                          blocks and SLRU pages: 8192-byte full
 *                                                          image or a {@link PageDelta})
 *   timelines  timelineId(16) | 0x01                    -> {@link TimelineMetadata#encode()}
 *              timelineId(16) | 0x02                    -> lastRecordLsn(8)
 *              timelineId(16) | 0x03                    -> applied GC cutoff LSN(8) (absent = 0)
 *              timelineId(16) | 0x04                    -> stored bytes(8) (absent = not counted yet)
 *   committs   timelineId(16) | commitTime+2^63(8) | lsn(8) -> empty   (commit timestamp index)
 *   meta       UTF-8 name                               -> bytes       (pageserver's own records)
 * </pre>
 *
 * <p>Reads: {@code get(timeline, key, lsn)} returns the newest version with version LSN
 * {@code <= lsn} on the timeline, else the ancestor's at {@code min(lsn, ancestorLsn)}, recursively.
 *
 * <p><b>Page deltas.</b> Most versions of relation blocks and SLRU pages are stored as a
 * {@link PageDelta}: the bytes that differ from a <em>base</em>, a full 8192-byte image of the same
 * key at an older LSN, on the same timeline or (for a branch's first writes of a page) on the
 * ancestor the branch point reads it from. {@link TimelineWriter} decides (full image when there
 * is no base, the delta would exceed half a page, or the deltas on one base would exceed four
 * pages in sum). Values of exactly 8192 bytes are full images, as in stores written before deltas existed,
 * which therefore read unchanged. Every read ({@link #get}, {@link #getVersion}, {@link #scan})
 * returns full pages: a delta costs one extra point read of its base, never a chain.
 * {@link #storedBytes} counts the stored (encoded) sizes. GC keeps every base a kept delta of the
 * same timeline needs (package {@code io.forkline.storage.gc}); a base on an ancestor is the full
 * image behind the ancestor's answer at the branch point, which the ancestor's GC keeps.
 * Writes go through a {@link TimelineWriter}, one per timeline at a time, whose {@code commit}
 * makes a batch of versions and the new last record LSN durable atomically (fsync'd RocksDB WAL):
 * a last record LSN is only ever reported for versions that survive a crash.
 *
 * <p>Garbage collection ({@code io.forkline.storage.gc}) uses the maintenance methods
 * {@link #advanceGcCutoff}, {@link #children}, {@link #forEachStoredVersion} and
 * {@link #deleteVersionsBelowGcCutoff}. Once a timeline's applied GC cutoff is above 0,
 * {@link #createTimeline} refuses branch points below it; the check and the cutoff update are
 * serialized, so a GC that advances the cutoff and then lists the children never misses a branch.
 * Branch points below the parent's start LSN are refused too (nothing of the parent is readable
 * there, and GC's retained LSNs assume every branch point lies in the parent's own history), and
 * {@link #deleteTimeline} refuses a timeline that still has children.
 *
 * <p>Sizes: {@link #storedBytes} is an exact counter of the timeline's own versions (key
 * {@link #VERSION_KEY_BYTES} = 42 B + value, before compression), kept in the same atomic batch as every commit and GC delete;
 * {@link #physicalSize} is RocksDB's approximation of the bytes the timeline's own key range takes
 * (compressed files plus memtables).
 *
 * <p>Reads: a {@link ReadListener} set with {@link #setReadListener} sees every {@link #get} and
 * {@link #getVersion} (page reads: basebackups, GC's ancestor checks; not a {@link TimelineWriter}'s
 * own read-modify-write reads).
 *
 * <p>Thread-safe. Directory layout: {@code dir/} is a RocksDB database.
 */
public final class PageStore implements AutoCloseable {
    static {
        RocksDB.loadLibrary();
    }

    /**
     * Bytes of one stored version key, {@code timelineId(16) | key(18) | lsn(8)} = 42: what
     * {@link #storedBytes} counts per version on top of its value.
     */
    public static final int VERSION_KEY_BYTES = TimelineId.LENGTH + Key.LENGTH + 8;
    /**
     * Length of a version key's (timeline, key) part: the {@code versions} column family's prefix
     * (RocksDB prefix extractor and prefix Bloom filters). An iterator that crosses keys must use
     * {@link #totalOrder}; one that reads versions of one key at a time uses {@link #keyLookup}.
     */
    static final int VERSION_PREFIX_BYTES = TimelineId.LENGTH + Key.LENGTH;

    private static final Logger log = LoggerFactory.getLogger(PageStore.class);

    private final RocksDB db;
    private final List<AutoCloseable> resources = new ArrayList<>();
    /**
     * Compacts the key ranges of deleted timelines off the deleting thread, once deletes pause
     * ({@link DeletedRangeCompactor}: a manual compaction flushes the memtable and can rewrite
     * hundreds of MB, which neither a branch delete nor the next branch start should wait for).
     */
    private final DeletedRangeCompactor rangeCompactions = new DeletedRangeCompactor(this::compactDeletedRange);
    private final ColumnFamilyHandle versions;
    private final ColumnFamilyHandle timelinesCf;
    private final ColumnFamilyHandle commitTs;
    private final ColumnFamilyHandle meta;
    /** The meta column family in memory; its monitor orders metadata writes (see {@link MetadataMirror}). */
    private final MetadataMirror metaMirror;
    private final WriteOptions syncWrite;
    /**
     * Reads of the versions of one (timeline, key) per seek ({@code prefix_same_as_start}): a seek
     * or {@code seekForPrev} never leaves the target's prefix (the iterator is invalid instead), so
     * the prefix Bloom filters apply. Shared, never changed after construction.
     */
    private final ReadOptions keyLookup = new ReadOptions().setPrefixSameAsStart(true);
    /** Reads that cross keys ({@code total_order_seek}: prefix filters ignored). Shared, never changed. */
    private final ReadOptions totalOrder = new ReadOptions().setTotalOrderSeek(true);
    private final Map<TimelineId, TimelineState> timelines = new ConcurrentHashMap<>();
    /** Serializes branch creation against GC cutoff advances (see {@link #advanceGcCutoff}). */
    private final Object branchLock = new Object();
    private volatile ReadListener readListener;
    private final List<CommitListener> commitListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final PageCache pageCache;

    /**
     * Default bound of the cache of materialized versions, bytes (system property
     * {@code forkline.pageCache.bytes} or environment variable {@code FORKLINE_PAGE_CACHE_BYTES}
     * override it; 0 turns the cache off).
     */
    public static final long DEFAULT_PAGE_CACHE_BYTES = 128L << 20;

    /**
     * Cached timeline: immutable metadata plus the durable last record LSN, applied GC cutoff and
     * stored bytes ({@code -1}: not counted yet, a timeline written before the counter existed;
     * updates hold the state's monitor).
     */
    private record TimelineState(TimelineMetadata metadata, AtomicLong lastRecordLsn, AtomicLong gcCutoff,
                                 AtomicLong storedBytes, AtomicLong commits, AtomicLong lastCommitStamp) {
        TimelineState(TimelineMetadata metadata, AtomicLong lastRecordLsn, AtomicLong gcCutoff, AtomicLong storedBytes) {
            this(metadata, lastRecordLsn, gcCutoff, storedBytes, new AtomicLong(), new AtomicLong());
        }
    }

    /**
     * Store-wide count of commits, taken after each commit's write: a reader's shared iterator
     * (a RocksDB snapshot as of its creation) sees every commit whose stamp is at most the count
     * read just before the iterator was created ({@link ReadContext#iterator(TimelineState)}).
     */
    private final AtomicLong commitStamps = new AtomicLong();

    /** Observes commits ({@link #addCommitListener}): what waits for ingest uses it. */
    @FunctionalInterface
    public interface CommitListener {
        /**
         * Called on the committing thread after a commit is durable and visible to reads. Must be
         * fast and must not throw.
         *
         * @param timeline      the timeline committed
         * @param lastRecordLsn its new durable last record LSN
         */
        void committed(TimelineId timeline, long lastRecordLsn);
    }

    /** Observes page reads ({@link #get}, {@link #getVersion}); see {@link #setReadListener}. */
    @FunctionalInterface
    public interface ReadListener {
        /**
         * Called on the reading thread after each read, also when it found nothing. Must be fast and
         * must not throw.
         *
         * @param timeline the timeline asked for (not the ancestor that held the version)
         * @param nanos    wall time of the read, nanoseconds
         */
        void pageRead(TimelineId timeline, long nanos);
    }

    private PageStore(RocksDB db, List<ColumnFamilyHandle> handles, List<AutoCloseable> owned, long pageCacheBytes) {
        this.db = db;
        this.pageCache = new PageCache(pageCacheBytes);
        this.versions = handles.get(1);
        this.timelinesCf = handles.get(2);
        this.commitTs = handles.get(3);
        this.meta = handles.get(4);
        this.metaMirror = new MetadataMirror(db, meta);
        this.resources.addAll(handles);
        this.resources.addAll(owned);
        this.syncWrite = new WriteOptions().setSync(true);
        resources.add(syncWrite);
        resources.add(keyLookup);
        resources.add(totalOrder);
        loadTimelines();
    }

    /**
     * Opens (creating if missing) the store in {@code dir}.
     *
     * @throws StorageException when RocksDB cannot open it (locked by another process, corrupt)
     */
    public static PageStore open(Path dir) {
        return open(dir, configuredPageCacheBytes());
    }

    /**
     * The page cache bound from system property {@code forkline.pageCache.bytes}, else environment
     * variable {@code FORKLINE_PAGE_CACHE_BYTES}, else {@link #DEFAULT_PAGE_CACHE_BYTES}.
     *
     * @throws IllegalArgumentException when the value set is not a non-negative integer (names it)
     */
    public static long configuredPageCacheBytes() {
        String v = System.getProperty("forkline.pageCache.bytes", System.getenv("FORKLINE_PAGE_CACHE_BYTES"));
        if (v == null || v.isBlank()) {
            return DEFAULT_PAGE_CACHE_BYTES;
        }
        try {
            long bytes = Long.parseLong(v.strip());
            if (bytes >= 0) {
                return bytes;
            }
        } catch (NumberFormatException e) {
            // fall through to the error below
        }
        throw new IllegalArgumentException("invalid page cache size '" + v
                + "' (forkline.pageCache.bytes / FORKLINE_PAGE_CACHE_BYTES): expected a number of bytes >= 0");
    }

    /** System property: {@code false} leaves RocksDB's WAL files unrecycled (for measurements; see {@link #open}). */
    public static final String RECYCLE_WAL_PROPERTY = "forkline.store.recycleWal";
    /** Obsolete RocksDB WAL files kept for reuse. */
    static final int RECYCLED_WAL_FILES = 4;
    /** RocksDB's {@code max_total_wal_size}: live WAL beyond it flushes the column families holding it. */
    static final long MAX_TOTAL_WAL_BYTES = 256L * 1024 * 1024;

    /**
     * Opens (creating if missing) the store in {@code dir} with a cache of materialized versions of
     * at most {@code pageCacheBytes} bytes (0: no cache).
     *
     * @throws StorageException when RocksDB cannot open it (locked by another process, corrupt)
     */
    public static PageStore open(Path dir, long pageCacheBytes) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new StorageException("cannot create store directory " + dir, e);
        }
        List<AutoCloseable> owned = new ArrayList<>();
        LRUCache cache = new LRUCache(256L * 1024 * 1024);
        owned.add(cache);
        BloomFilter bloom = new BloomFilter(10);
        owned.add(bloom);
        // Bloom filters of whole version keys (point reads of an exact version: a delta's base, a
        // remembered base) and of their (timeline, key) prefix (the seekForPrev that finds a key's
        // newest version skips every sorted run that holds no version of the key: on a branch, most
        // of them). Files written before filters existed have none and are simply read.
        BlockBasedTableConfig table = new BlockBasedTableConfig().setBlockCache(cache).setBlockSize(16 * 1024)
                .setFilterPolicy(bloom).setWholeKeyFiltering(true);
        ColumnFamilyOptions versionOpts = new ColumnFamilyOptions()
                .useFixedLengthPrefixExtractor(VERSION_PREFIX_BYTES)
                .setTableFormatConfig(table)
                .setCompressionType(CompressionType.LZ4_COMPRESSION)
                .setWriteBufferSize(64L * 1024 * 1024);
        ColumnFamilyOptions smallOpts = new ColumnFamilyOptions();
        owned.add(versionOpts);
        owned.add(smallOpts);
        DBOptions dbOpts = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true)
                .setMaxBackgroundJobs(2);
        if (!"false".equals(System.getProperty(RECYCLE_WAL_PROPERTY))) {
            // Every ingest commit is a synced write. Appending to a new RocksDB WAL file changes its size,
            // so each fdatasync also writes the inode (ext4: one more I/O per commit, benchmarks README
            // 9f); a recycled WAL file is overwritten in place. WAL files are recycled once obsolete, i.e.
            // when every column family's memtable holding data in them is flushed: the WAL total bound
            // makes the small column families flush that soon (the default, 4x all write buffers, is GBs).
            dbOpts.setRecycleLogFileNum(RECYCLED_WAL_FILES).setMaxTotalWalSize(MAX_TOTAL_WAL_BYTES);
        }
        owned.add(dbOpts);
        List<ColumnFamilyDescriptor> cfs = List.of(
                new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, smallOpts),
                new ColumnFamilyDescriptor("versions".getBytes(StandardCharsets.UTF_8), versionOpts),
                new ColumnFamilyDescriptor("timelines".getBytes(StandardCharsets.UTF_8), smallOpts),
                new ColumnFamilyDescriptor("committs".getBytes(StandardCharsets.UTF_8), smallOpts),
                new ColumnFamilyDescriptor("meta".getBytes(StandardCharsets.UTF_8), smallOpts));
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        try {
            RocksDB db = RocksDB.open(dbOpts, dir.toString(), cfs, handles);
            PageStore store = new PageStore(db, handles, owned, pageCacheBytes);
            store.resources.add(0, db);
            return store;
        } catch (RocksDBException e) {
            owned.forEach(PageStore::closeQuietly);
            throw new StorageException("cannot open page store at " + dir + ": " + e.getMessage(), e);
        }
    }

    private void loadTimelines() {
        try (RocksIterator it = db.newIterator(timelinesCf)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                byte[] k = it.key();
                if (k.length == TimelineId.LENGTH + 1 && k[TimelineId.LENGTH] == 1) {
                    TimelineMetadata md = TimelineMetadata.decode(it.value());
                    byte[] last = getRaw(timelinesCf, timelineKey(md.id(), (byte) 2));
                    long lastLsn = last == null ? md.startLsn() : bytesToLong(last, 0);
                    byte[] cutoff = getRaw(timelinesCf, timelineKey(md.id(), (byte) 3));
                    long gcCutoff = cutoff == null ? 0L : bytesToLong(cutoff, 0);
                    byte[] stored = getRaw(timelinesCf, timelineKey(md.id(), (byte) 4));
                    long storedBytes = stored == null ? -1L : bytesToLong(stored, 0);
                    timelines.put(md.id(), new TimelineState(md, new AtomicLong(lastLsn), new AtomicLong(gcCutoff),
                            new AtomicLong(storedBytes)));
                }
            }
        }
    }

    // ---------------------------------------------------------------- timelines

    /**
     * Creates a timeline whose last record LSN starts at {@code metadata.startLsn()}.
     *
     * @throws IllegalArgumentException when the id exists, the ancestor does not, or the branch
     *                                  point ({@code metadata.ancestorLsn()}) is below the ancestor's
     *                                  start LSN or its applied GC cutoff (versions needed there may
     *                                  be gone); the message names both LSNs and the ancestor
     */
    public void createTimeline(TimelineMetadata metadata) {
        createTimeline(metadata, Map.of());
    }

    /**
     * Creates a timeline as {@link #createTimeline(TimelineMetadata)} does and applies
     * {@code withMetadata} (see {@link #writeMetadata}) in the same atomic, fsync'd RocksDB batch:
     * after a crash either the timeline and every change are there, or none of them (e.g. a branch
     * record never points at a timeline that is missing, and one sync instead of two).
     *
     * @param withMetadata record name -> new value, or {@code null} to delete the record; applied in
     *                     iteration order
     * @throws IllegalArgumentException as {@link #createTimeline(TimelineMetadata)}; nothing is written then
     */
    public void createTimeline(TimelineMetadata metadata, Map<String, byte[]> withMetadata) {
        synchronized (branchLock) {
            if (timelines.containsKey(metadata.id())) {
                throw new IllegalArgumentException("timeline " + metadata.id() + " already exists");
            }
            if (metadata.ancestor() != null) {
                TimelineState parent = timelines.get(metadata.ancestor());
                if (parent == null) {
                    throw new IllegalArgumentException("ancestor timeline " + metadata.ancestor() + " does not exist");
                }
                long parentStart = parent.metadata().startLsn();
                if (Long.compareUnsigned(metadata.ancestorLsn(), parentStart) < 0) {
                    throw new IllegalArgumentException("branch point " + Lsn.format(metadata.ancestorLsn())
                            + " is below the start LSN " + Lsn.format(parentStart) + " of ancestor timeline "
                            + metadata.ancestor());
                }
                long cutoff = parent.gcCutoff().get();
                if (Long.compareUnsigned(metadata.ancestorLsn(), cutoff) < 0) {
                    throw new IllegalArgumentException("branch point " + Lsn.format(metadata.ancestorLsn())
                            + " is below the applied GC cutoff " + Lsn.format(cutoff) + " of ancestor timeline "
                            + metadata.ancestor());
                }
            }
            try (WriteBatch batch = new WriteBatch()) {
                batch.put(timelinesCf, timelineKey(metadata.id(), (byte) 1), metadata.encode());
                batch.put(timelinesCf, timelineKey(metadata.id(), (byte) 2), longToBytes(metadata.startLsn()));
                batch.put(timelinesCf, timelineKey(metadata.id(), (byte) 4), longToBytes(0L));
                stageMetadata(batch, withMetadata);
                writeWithMetadata(batch, withMetadata);
            } catch (RocksDBException e) {
                throw new StorageException("cannot create timeline " + metadata.id(), e);
            }
            timelines.put(metadata.id(), new TimelineState(metadata, new AtomicLong(metadata.startLsn()),
                    new AtomicLong(0L), new AtomicLong(0L)));
        }
    }

    /**
     * The timelines whose ancestor is {@code id} (its direct children), in no particular order.
     * Every child created before the last {@link #advanceGcCutoff} of {@code id} returned is listed.
     *
     * @throws IllegalArgumentException when the timeline does not exist
     */
    public List<TimelineMetadata> children(TimelineId id) {
        state(id);
        List<TimelineMetadata> out = new ArrayList<>();
        for (TimelineState s : timelines.values()) {
            if (id.equals(s.metadata().ancestor())) {
                out.add(s.metadata());
            }
        }
        return out;
    }

    /**
     * The applied GC cutoff of a timeline (WAL byte position): versions below it may have been
     * removed, so reads below it (other than at retained LSNs) and branch points below it are not
     * served faithfully. 0 when GC never ran.
     *
     * @throws IllegalArgumentException when the timeline does not exist
     */
    public long gcCutoff(TimelineId id) {
        return state(id).gcCutoff().get();
    }

    /**
     * Raises the applied GC cutoff of {@code id} to {@code cutoffLsn} (no-op when it is already at
     * least that), durably (fsync) before returning. It never decreases. Serialized with
     * {@link #createTimeline}: a branch created after this returns has its branch point at or above
     * the returned cutoff.
     *
     * @param cutoffLsn WAL byte position; must not exceed the timeline's last record LSN
     * @return the applied cutoff after the call (the maximum of the old one and {@code cutoffLsn})
     * @throws IllegalArgumentException when the timeline does not exist or {@code cutoffLsn} is
     *                                  above its last record LSN
     * @throws StorageException         when the write fails
     */
    public long advanceGcCutoff(TimelineId id, long cutoffLsn) {
        synchronized (branchLock) {
            TimelineState s = state(id);
            long last = s.lastRecordLsn().get();
            if (Long.compareUnsigned(cutoffLsn, last) > 0) {
                throw new IllegalArgumentException("GC cutoff " + Lsn.format(cutoffLsn)
                        + " is above the last record LSN " + Lsn.format(last) + " of timeline " + id);
            }
            long old = s.gcCutoff().get();
            if (Long.compareUnsigned(cutoffLsn, old) <= 0) {
                return old;
            }
            try {
                db.put(timelinesCf, syncWrite, timelineKey(id, (byte) 3), longToBytes(cutoffLsn));
            } catch (RocksDBException e) {
                throw new StorageException("cannot store GC cutoff " + Lsn.format(cutoffLsn) + " of timeline " + id
                        + ": " + e.getMessage(), e);
            }
            s.gcCutoff().set(cutoffLsn);
            return cutoffLsn;
        }
    }

    /** The timeline's metadata, or {@code null} when it does not exist. */
    public TimelineMetadata timeline(TimelineId id) {
        TimelineState s = timelines.get(id);
        return s == null ? null : s.metadata();
    }

    /** All timelines of a tenant, in no particular order. */
    public List<TimelineMetadata> timelines(TenantId tenant) {
        List<TimelineMetadata> out = new ArrayList<>();
        for (TimelineState s : timelines.values()) {
            if (s.metadata().tenant().equals(tenant)) {
                out.add(s.metadata());
            }
        }
        return out;
    }

    /**
     * Durable last record LSN of the timeline: end LSN of the last WAL record whose effects are
     * stored (or the start LSN when none was ingested).
     *
     * @throws IllegalArgumentException when the timeline does not exist
     */
    public long lastRecordLsn(TimelineId id) {
        return state(id).lastRecordLsn().get();
    }

    /**
     * Deletes a timeline and every version it wrote, durably (fsync). The timeline is gone for every
     * other call from the moment this starts removing it: a concurrent GC or writer of it then fails
     * with "does not exist" instead of writing its GC cutoff, byte counter or versions back. Its key
     * range is compacted afterwards in the background (the call does not wait for that); a timeline
     * that never wrote a version or commit timestamp gets neither range tombstones nor a compaction.
     *
     * @throws IllegalArgumentException when the timeline does not exist or still has child
     *                                  timelines (the message names them)
     * @throws StorageException         when the write fails; the timeline then stays
     */
    public void deleteTimeline(TimelineId id) {
        deleteTimeline(id, Map.of());
    }

    /**
     * Deletes a timeline as {@link #deleteTimeline(TimelineId)} does and applies {@code withMetadata}
     * (see {@link #writeMetadata}) in the same atomic, fsync'd RocksDB batch (e.g. the branch record
     * that pointed at it goes with it: one sync instead of two, and no crash leaves one without the other).
     *
     * @param withMetadata record name -> new value, or {@code null} to delete the record
     * @throws IllegalArgumentException as {@link #deleteTimeline(TimelineId)}; nothing is written then
     * @throws StorageException         when the write fails; the timeline and the records then stay as they were
     */
    public void deleteTimeline(TimelineId id, Map<String, byte[]> withMetadata) {
        TimelineState s;
        synchronized (branchLock) { // no branch of it can appear meanwhile (createTimeline holds it too)
            s = state(id);
            List<TimelineId> kids = new ArrayList<>();
            for (TimelineMetadata md : children(id)) {
                kids.add(md.id());
            }
            if (!kids.isEmpty()) {
                throw new IllegalArgumentException("timeline " + id + " still has child timelines " + kids
                        + "; delete them first");
            }
            timelines.remove(id);
        }
        byte[] from = new byte[TimelineId.LENGTH];
        id.writeTo(from, 0);
        byte[] to = increment(from);
        // Writers of the timeline's records (commit, GC deletes, the byte counter) hold s's monitor
        // and re-check the map entry under it, so none of them writes after this batch.
        RocksDBException failed = null;
        boolean wroteVersions = true;
        synchronized (s) {
            try (WriteBatch batch = new WriteBatch()) {
                // a timeline that never wrote (a branch created and deleted unused) needs no range
                // tombstones, and then no compaction, whose memtable flush is real I/O
                wroteVersions = !rangeEmpty(versions, from, to) || !rangeEmpty(commitTs, from, to);
                if (wroteVersions) {
                    batch.deleteRange(versions, from, to);
                    batch.deleteRange(commitTs, from, to);
                }
                batch.delete(timelinesCf, timelineKey(id, (byte) 1));
                batch.delete(timelinesCf, timelineKey(id, (byte) 2));
                batch.delete(timelinesCf, timelineKey(id, (byte) 3));
                batch.delete(timelinesCf, timelineKey(id, (byte) 4));
                stageMetadata(batch, withMetadata);
                writeWithMetadata(batch, withMetadata);
            } catch (RocksDBException e) {
                failed = e;
            }
        }
        if (failed != null) {
            synchronized (branchLock) {
                timelines.putIfAbsent(id, s); // nothing was deleted: the timeline is back
            }
            throw new StorageException("cannot delete timeline " + id + ": " + failed.getMessage(), failed);
        }
        pageCache.invalidate(id);
        if (!wroteVersions) {
            return;
        }
        // Range tombstones stay in memtables and are processed by every new iterator until compacted
        // away; compacting the deleted range (in the background) keeps reads fast after many deletes.
        rangeCompactions.submit(from, to);
    }

    /** Whether column family {@code cf} holds no key in [{@code from}, {@code to}). */
    private boolean rangeEmpty(ColumnFamilyHandle cf, byte[] from, byte[] to) throws RocksDBException {
        try (Slice upper = new Slice(to);
             ReadOptions ro = new ReadOptions().setIterateUpperBound(upper).setFillCache(false).setTotalOrderSeek(true);
             RocksIterator it = db.newIterator(cf, ro)) {
            it.seek(from);
            boolean empty = !it.isValid();
            it.status();
            return empty;
        }
    }

    private void compactDeletedRange(byte[] from, byte[] to) {
        try {
            db.compactRange(versions, from, to);
            db.compactRange(commitTs, from, to);
        } catch (RocksDBException e) {
            log.warn("timeline {} was deleted, but compacting its key range failed (RocksDB will compact it later): {}",
                    new TimelineId(from), e.getMessage());
        }
    }

    /**
     * Throws when {@code s} is no longer the map entry of {@code id} (deleted meanwhile); the
     * caller holds {@code s}'s monitor and is about to write records of the timeline.
     */
    private void requireLive(TimelineId id, TimelineState s) {
        if (timelines.get(id) != s) {
            throw new IllegalArgumentException("timeline " + id + " does not exist (deleted)");
        }
    }

    // ---------------------------------------------------------------- sizes

    /**
     * The bytes of the timeline's own stored versions (not its ancestors'): for every version, its
     * {@link #VERSION_KEY_BYTES}-byte key plus its value, before compression. Exact: every {@link TimelineWriter#commit}
     * adds what it wrote (a version staged twice at the same key and LSN in one batch counts once),
     * every {@link #deleteVersionsBelowGcCutoff} subtracts what it removed, in the same atomic
     * RocksDB batch as the change itself. A timeline written before this counter existed is counted
     * once by a scan of its versions (O(its versions)) on first use, then kept.
     *
     * @return bytes, at least 0
     * @throws IllegalArgumentException when the timeline does not exist
     */
    public long storedBytes(TimelineId id) {
        TimelineState s = state(id);
        long v = s.storedBytes().get();
        if (v >= 0) {
            return v;
        }
        synchronized (s) {
            return countedStoredBytes(id, s);
        }
    }

    /** The counter of {@code s}, counting it by a scan first when absent; caller holds {@code s}'s monitor. */
    private long countedStoredBytes(TimelineId id, TimelineState s) {
        long v = s.storedBytes().get();
        if (v >= 0) {
            return v;
        }
        long[] sum = new long[1];
        forEachVersion(id, null, (key, lsn, valueLength) -> {
            sum[0] += VERSION_KEY_BYTES + valueLength;
            return true;
        });
        requireLive(id, s);
        try {
            db.put(timelinesCf, syncWrite, timelineKey(id, (byte) 4), longToBytes(sum[0]));
        } catch (RocksDBException e) {
            throw new StorageException("cannot store the byte count of timeline " + id + ": " + e.getMessage(), e);
        }
        s.storedBytes().set(sum[0]);
        return sum[0];
    }

    /**
     * Whether RocksDB has background work in progress or due: a flush or compaction running, or a
     * compaction its levels call for ({@code rocksdb.compaction-pending},
     * {@code rocksdb.num-running-compactions}, {@code rocksdb.num-running-flushes}). For measurements
     * that charge deferred compaction to the writes that caused it.
     *
     * @throws StorageException when RocksDB cannot answer (closed store)
     */
    public boolean backgroundWorkPending() {
        try {
            return db.getLongProperty(versions, "rocksdb.compaction-pending") > 0
                    || db.getLongProperty("rocksdb.num-running-compactions") > 0
                    || db.getLongProperty("rocksdb.num-running-flushes") > 0;
        } catch (RocksDBException e) {
            throw new StorageException("cannot read RocksDB's background work: " + e.getMessage(), e);
        }
    }

    /**
     * The bytes the timeline's own versions and commit-timestamp entries take (its key prefix range
     * in the {@code versions} and {@code committs} column families): RocksDB's estimate of the SST
     * file bytes on disk (LZ4-compressed, estimated from the files' index blocks, so at block
     * granularity: 16 KiB) plus the key and value bytes of the range's entries still in memtables
     * (uncompressed), summed by a memtable-only iterator. (RocksDB's own memtable estimate
     * multiplies the range's entry count by the average entry size of the whole memtable, which
     * with page deltas of a few hundred bytes next to 8 KiB images moves a timeline's size whenever
     * another timeline writes.) Deleted versions (GC, tombstones) keep counting until compaction
     * drops them. Reads no SST data; the memtable part costs O(the range's memtable entries).
     *
     * @return bytes, at least 0; approximate
     * @throws IllegalArgumentException when the timeline does not exist
     */
    public long physicalSize(TimelineId id) {
        state(id);
        byte[] from = new byte[TimelineId.LENGTH];
        id.writeTo(from, 0);
        byte[] to = increment(from);
        long total = 0;
        byte[] noCopy = new byte[0];
        for (ColumnFamilyHandle cf : List.of(versions, commitTs)) {
            try (Slice a = new Slice(from); Slice b = new Slice(to)) {
                long[] sizes = db.getApproximateSizes(cf, List.of(new Range(a, b)), SizeApproximationFlag.INCLUDE_FILES);
                total += Math.max(0, sizes[0]);
            }
            try (Slice upper = new Slice(to);
                 ReadOptions ro = new ReadOptions().setReadTier(org.rocksdb.ReadTier.MEMTABLE_TIER).setTotalOrderSeek(true)
                         .setIterateUpperBound(upper).setFillCache(false);
                 RocksIterator it = db.newIterator(cf, ro)) {
                for (it.seek(from); it.isValid(); it.next()) {
                    total += it.key(noCopy) + it.value(noCopy);
                }
                it.status();
            } catch (RocksDBException e) {
                throw new StorageException("cannot size the memtable entries of timeline " + id + ": "
                        + e.getMessage(), e);
            }
        }
        return total;
    }

    /**
     * Compacts the timeline's own key range (versions and commit-timestamp entries), so that the
     * disk space of versions GC deleted is given back now rather than at RocksDB's next background
     * compaction of those files; {@link #physicalSize} then reflects the deletes. Blocks until done;
     * costs a rewrite of the range's SST files (O(its size)). Reads and writes go on meanwhile.
     *
     * @throws IllegalArgumentException when the timeline does not exist
     * @throws StorageException         when RocksDB fails
     */
    public void compactTimeline(TimelineId id) {
        state(id);
        byte[] from = new byte[TimelineId.LENGTH];
        id.writeTo(from, 0);
        byte[] to = increment(from);
        try {
            db.compactRange(versions, from, to);
            db.compactRange(commitTs, from, to);
        } catch (RocksDBException e) {
            throw new StorageException("cannot compact timeline " + id + ": " + e.getMessage(), e);
        }
    }

    /**
     * Sets (or with {@code null} removes) the listener of page reads. One listener per store; the
     * last call wins.
     */
    public void setReadListener(ReadListener listener) {
        this.readListener = listener;
    }

    private TimelineState state(TimelineId id) {
        TimelineState s = timelines.get(id);
        if (s == null) {
            throw new IllegalArgumentException("timeline " + id + " does not exist");
        }
        return s;
    }

    // ---------------------------------------------------------------- reads

    /**
     * The value of {@code key} as of {@code lsn} on {@code timeline}: the newest version with
     * version LSN {@code <= lsn}, falling through to ancestors at {@code min(lsn, ancestorLsn)}.
     *
     * @return the value, or {@code null} when there is none or the newest is a tombstone
     * @throws IllegalArgumentException when the timeline does not exist
     */
    public byte[] get(TimelineId timeline, Key key, long lsn) {
        Version v = getVersion(timeline, key, lsn);
        return v == null || v.value().length == 0 ? null : v.value();
    }

    /** {@link #get} without telling the {@link ReadListener} nor using the page cache: a writer's own reads. */
    byte[] getUnobserved(TimelineId timeline, Key key, long lsn) {
        try (ReadContext ctx = new ReadContext(false, false)) {
            Version v = lookup(ctx, timeline, key, lsn);
            return v == null || v.value().length == 0 ? null : v.value();
        }
    }

    /** A stored version: its LSN and value (empty for a tombstone). */
    public record Version(long lsn, byte[] value) {
    }

    /**
     * Like {@link #get} but returns the version LSN too, and tombstones as empty values.
     *
     * @return {@code null} when no version exists at or below {@code lsn} on the timeline or its ancestors
     */
    public Version getVersion(TimelineId timeline, Key key, long lsn) {
        ReadListener l = readListener;
        long t0 = l == null ? 0L : System.nanoTime();
        Version v;
        try (ReadContext ctx = new ReadContext(true, false)) {
            v = lookup(ctx, timeline, key, lsn);
        }
        if (l != null) {
            l.pageRead(timeline, System.nanoTime() - t0);
        }
        return v;
    }

    /**
     * {@link #getVersion} of several keys at one LSN, as one batch: cache hits first, then one
     * RocksDB iterator for all misses. The {@link ReadListener} sees one read per key, each with
     * the batch's average time.
     *
     * @param keys the keys, in any order
     * @return one element per key, in order; {@code null} where no version exists
     * @throws IllegalArgumentException when the timeline does not exist
     */
    public Version[] getVersions(TimelineId timeline, Key[] keys, long lsn) {
        try (Reader r = reader()) {
            return r.getVersions(timeline, keys, lsn);
        }
    }

    /**
     * A reader for a batch of reads (e.g. the GetPage requests that arrived together on one
     * connection): its cache misses share one RocksDB iterator. Close it after the batch. Not
     * thread-safe. The values it returns are copies the caller may modify.
     */
    public Reader reader() {
        return new ReadContext(true, false);
    }

    /**
     * System property: {@code false} makes {@link Reader#getVersions} look up every key on its own
     * (one {@code seekForPrev}, a seek of the delta's base and of the next version per key and
     * timeline level), as before key-ordered reads existed; anything else (the default) reads the
     * keys of a call in key order with one forward walk per timeline level. For measurements.
     */
    public static final String KEY_ORDER_READS_PROPERTY = "forkline.pageStore.keyOrderReads";

    private static boolean keyOrderReads() {
        return !"false".equalsIgnoreCase(System.getProperty(KEY_ORDER_READS_PROPERTY, "true").strip());
    }

    /** A {@link #reader()} (or with {@code share} a {@link #sharingReader()}) that reads key by key or in key order; for tests. */
    Reader reader(boolean share, boolean keyOrder) {
        return new ReadContext(true, share, keyOrder);
    }

    /**
     * A {@link #reader()} whose values are not copied: a page cache hit returns the cache's own
     * array. Callers must treat every value as read-only (e.g. wrap it in a read-only
     * {@code ByteBuffer} or protobuf {@code ByteString}); a write to it would change what later
     * reads of that version return. Saves an 8 KiB allocation and copy per page read.
     */
    public Reader sharingReader() {
        return new ReadContext(true, true);
    }

    /** Batched reads; see {@link #reader()} and {@link #sharingReader()}. */
    public sealed interface Reader extends AutoCloseable permits ReadContext {
        /**
         * {@link PageStore#getVersion} of several keys at one LSN. The {@link ReadListener} sees one
         * read per key, each with the call's average time.
         *
         * @return one element per key, in order; {@code null} where no version exists
         * @throws IllegalArgumentException when the timeline does not exist
         */
        Version[] getVersions(TimelineId timeline, Key[] keys, long lsn);

        /**
         * {@link #getVersions} answered from the page cache alone, or {@code null} when some key's
         * answer (on the timeline or an ancestor on the way) is not cached. Never touches RocksDB
         * nor blocks, so it may run on an event loop; the {@link ReadListener} sees the reads only
         * when they are answered.
         *
         * @return one element per key, in order ({@code null} where no version exists), or
         *         {@code null} on a cache miss (nothing of the call is answered then)
         * @throws IllegalArgumentException when the timeline does not exist
         */
        Version[] getCachedVersions(TimelineId timeline, Key[] keys, long lsn);

        @Override
        void close();
    }

    /**
     * One read or batch of reads: whether it uses the page cache, and the RocksDB iterator its cache
     * misses share (created on the first miss, so a batch of hits opens none).
     */
    private final class ReadContext implements Reader {
        final boolean cached;
        /** Page cache hits return the cached array itself (see {@link #sharingReader()}). */
        final boolean share;
        /** {@link #getVersions} of several keys walks them in key order ({@link #lookupInKeyOrder}). */
        final boolean keyOrder;
        /** While set, a page cache miss makes {@link #ownLookup} return {@link #CACHE_MISS}. */
        boolean cacheOnly;
        private RocksIterator it;
        /** {@link #commitStamps} read just before {@link #it} was created. */
        private long itStamp;
        final byte[] seek = new byte[VERSION_KEY_BYTES];
        /** Key-order walks: the key sought and the iterator's current key. */
        final byte[] walkStart = new byte[VERSION_KEY_BYTES];
        final byte[] walkKey = new byte[VERSION_KEY_BYTES];

        ReadContext(boolean cached, boolean share) {
            this(cached, share, keyOrderReads());
        }

        ReadContext(boolean cached, boolean share, boolean keyOrder) {
            this.cached = cached && pageCache.enabled();
            this.share = share;
            this.keyOrder = keyOrder;
        }

        @Override
        public Version[] getVersions(TimelineId timeline, Key[] keys, long lsn) {
            ReadListener l = readListener;
            long t0 = l == null ? 0L : System.nanoTime();
            Version[] out = new Version[keys.length];
            if (keyOrder && cached && keys.length > 1) { // uncached, key order would seek once more per key found
                lookupInKeyOrder(this, timeline, keys, lsn, out);
            } else {
                for (int i = 0; i < keys.length; i++) {
                    out[i] = lookup(this, timeline, keys[i], lsn);
                }
            }
            tell(l, timeline, keys.length, t0);
            return out;
        }

        @Override
        public Version[] getCachedVersions(TimelineId timeline, Key[] keys, long lsn) {
            if (!cached) {
                return null;
            }
            ReadListener l = readListener;
            long t0 = l == null ? 0L : System.nanoTime();
            Version[] out = new Version[keys.length];
            cacheOnly = true;
            try {
                for (int i = 0; i < keys.length; i++) {
                    Version v = lookup(this, timeline, keys[i], lsn);
                    if (v == CACHE_MISS) {
                        return null;
                    }
                    out[i] = v;
                }
            } finally {
                cacheOnly = false;
            }
            tell(l, timeline, keys.length, t0);
            return out;
        }

        private static void tell(ReadListener l, TimelineId timeline, int reads, long t0) {
            if (l != null && reads > 0) {
                long each = (System.nanoTime() - t0) / reads;
                for (int i = 0; i < reads; i++) {
                    l.pageRead(timeline, each);
                }
            }
        }

        RocksIterator iterator() {
            if (it == null) {
                itStamp = commitStamps.get();
                it = db.newIterator(versions, keyLookup);
            }
            return it;
        }

        /**
         * The shared iterator, new when {@code s}'s timeline committed after the current one was
         * created: the caller has read the timeline's durable LSN and commit count, and an older
         * snapshot would miss versions up to that LSN (wrong answers, and page cache entries whose
         * validity claims a commit the lookup never saw).
         */
        RocksIterator iterator(TimelineState s) {
            if (it != null && s.lastCommitStamp().get() > itStamp) {
                it.close();
                it = null;
            }
            return iterator();
        }

        @Override
        public void close() {
            if (it != null) {
                it.close();
            }
        }
    }

    /** The lookup behind {@link #getVersion}: per timeline on the way, the page cache, else RocksDB. */
    private Version lookup(ReadContext ctx, TimelineId timeline, Key key, long lsn) {
        TimelineId tl = timeline;
        long at = lsn;
        while (tl != null) {
            TimelineState s = state(tl);
            Version own = ownLookup(ctx, tl, s, key, at);
            if (own != null) {
                return own; // or CACHE_MISS
            }
            TimelineMetadata md = s.metadata();
            if (md.ancestor() == null) {
                return null;
            }
            at = Long.compareUnsigned(at, md.ancestorLsn()) < 0 ? at : md.ancestorLsn();
            tl = md.ancestor();
        }
        return null;
    }

    /**
     * The newest version of {@code key} at or below {@code at} on {@code tl} itself (materialized;
     * a tombstone as an empty value), or {@code null} when the timeline holds none there. Through
     * the page cache when {@code ctx} uses it (see {@link PageCache} for when an entry answers).
     */
    private Version ownLookup(ReadContext ctx, TimelineId tl, TimelineState s, Key key, long at) {
        PageCache.CacheKey ck = null;
        if (ctx.cached) {
            ck = new PageCache.CacheKey(tl, key);
            PageCache.Entry e = pageCache.find(ck, at, s.commits().get());
            if (e != null) {
                if (e.versionLsn() == PageCache.NO_VERSION) {
                    return null;
                }
                return new Version(e.versionLsn(), e.value().length == 0 || ctx.share ? e.value() : e.value().clone());
            }
            if (ctx.cacheOnly) {
                return CACHE_MISS;
            }
        }
        // read before the lookup: whatever is committed later lies above them (see PageCache)
        long generation = s.commits().get();
        long durable = s.lastRecordLsn().get();
        return ownStored(ctx, ctx.iterator(s), tl, key, at, ck, generation, durable);
    }

    /**
     * The RocksDB part of {@link #ownLookup}: a {@code seekForPrev} to the newest own version of
     * {@code key} at or below {@code at} through {@code it}, its delta's base when it is one
     * ({@link #materialize}), and, when caching ({@code ck} set), a seek to the key's next own
     * version above {@code at}, which bounds the page cache entry it puts (and leaves {@code it} on
     * the first entry after the key's versions at or below {@code at}).
     *
     * @param generation the timeline's commit count and {@code durable} its durable last record
     *                   LSN, both read before the lookup (see {@link PageCache})
     */
    private Version ownStored(ReadContext ctx, RocksIterator it, TimelineId tl, Key key, long at, PageCache.CacheKey ck,
                              long generation, long durable) {
        byte[] seek = ctx.seek;
        key.writeTo(seek, TimelineId.LENGTH);
        tl.writeTo(seek, 0);
        putLong(seek, TimelineId.LENGTH + Key.LENGTH, at);
        it.seekForPrev(seek);
        Version found = null;
        if (it.isValid()) {
            byte[] k = it.key();
            if (Arrays.equals(k, 0, TimelineId.LENGTH + Key.LENGTH, seek, 0, TimelineId.LENGTH + Key.LENGTH)) {
                long vLsn = bytesToLong(k, TimelineId.LENGTH + Key.LENGTH);
                found = new Version(vLsn, materialize(it, tl, key, vLsn, at, it.value()));
            }
        }
        if (ck != null) {
            long next = -1L;
            if (at != -1L) { // the key's next own version above the LSN read, if one is stored
                putLong(seek, TimelineId.LENGTH + Key.LENGTH, at + 1);
                it.seek(seek);
                if (it.isValid()) {
                    byte[] k = it.key();
                    if (Arrays.equals(k, 0, TimelineId.LENGTH + Key.LENGTH, seek, 0, TimelineId.LENGTH + Key.LENGTH)) {
                        next = bytesToLong(k, TimelineId.LENGTH + Key.LENGTH);
                    }
                }
            }
            boolean open = next == -1L;
            long validTo = open ? durable : next - 1;
            byte[] value = found == null ? EMPTY : found.value();
            pageCache.put(ck, new PageCache.Entry(found == null ? PageCache.NO_VERSION : found.lsn(), value,
                    validTo, open, generation));
            if (found != null && value.length > 0 && !ctx.share) {
                found = new Version(found.lsn(), value.clone());
            }
        }
        return found;
    }

    /**
     * {@link #lookup} of several keys at once, with the same answers and page cache entries: per
     * timeline level (the timeline, then its ancestors at {@code min(lsn, ancestorLsn)}), the keys
     * still unanswered are looked up in the page cache, and the misses, in key order, by one forward
     * RocksDB iterator walk ({@link #walkOwn}): a key the level holds no version of costs no seek
     * (key by key, it costs a {@code seekForPrev} and a seek of the next version), so a branch read
     * through to its ancestor (a past point's temporary branch and the branch it was made from)
     * costs one seek per level and request instead of two per block and level.
     */
    private void lookupInKeyOrder(ReadContext ctx, TimelineId timeline, Key[] keys, long lsn, Version[] out) {
        Integer[] boxed = new Integer[keys.length];
        for (int i = 0; i < boxed.length; i++) {
            boxed[i] = i;
        }
        Arrays.sort(boxed, (a, b) -> keys[a].compareTo(keys[b]));
        int[] pending = new int[keys.length];
        for (int i = 0; i < pending.length; i++) {
            pending[i] = boxed[i];
        }
        int pendingCount = pending.length; // the keys not answered yet, in key order
        int[] misses = new int[keys.length];
        boolean[] answered = new boolean[keys.length];
        TimelineId tl = timeline;
        long at = lsn;
        while (pendingCount > 0) {
            TimelineState s = state(tl);
            int missCount = 0;
            for (int j = 0; j < pendingCount; j++) {
                int i = pending[j];
                if (ctx.cached) {
                    PageCache.Entry e = pageCache.find(new PageCache.CacheKey(tl, keys[i]), at, s.commits().get());
                    if (e != null) {
                        if (e.versionLsn() != PageCache.NO_VERSION) { // else it falls through to the ancestor
                            out[i] = new Version(e.versionLsn(), e.value().length == 0 || ctx.share ? e.value() : e.value().clone());
                            answered[i] = true;
                        }
                        continue;
                    }
                }
                misses[missCount++] = i;
            }
            if (missCount > 0) {
                walkOwn(ctx, tl, s, keys, misses, missCount, at, out, answered);
            }
            int still = 0;
            for (int j = 0; j < pendingCount; j++) {
                if (!answered[pending[j]]) {
                    pending[still++] = pending[j];
                }
            }
            pendingCount = still;
            TimelineMetadata md = s.metadata();
            if (md.ancestor() == null) {
                return;
            }
            at = Long.compareUnsigned(at, md.ancestorLsn()) < 0 ? at : md.ancestorLsn();
            tl = md.ancestor();
        }
    }

    /** {@code next()} steps a key-order walk takes towards the next key before it seeks instead. */
    private static final int WALK_STEPS_BEFORE_SEEK = 8;

    /**
     * The newest own version at or below {@code at} on {@code tl} of each key {@code keys[misses[j]]}
     * (in key order), as {@link #ownLookup} finds it and with the same page cache entries, through
     * one new RocksDB iterator walking forward over the keys: a key the timeline holds no version of
     * (the iterator already stands on a later key: a branch's empty level) is answered with no seek;
     * a key it holds versions of is read as {@link #ownLookup} does ({@link #ownStored}:
     * {@code seekForPrev}, the delta's base, the next version), whose last seek leaves the iterator
     * after the key for the next one. The iterator is created after the timeline's commit
     * generation and durable LSN are read, so the entries' validity never claims a commit the walk
     * did not see. Keys with an own version are answered in {@code out} and marked in {@code answered}.
     */
    private void walkOwn(ReadContext ctx, TimelineId tl, TimelineState s, Key[] keys, int[] misses, int missCount,
                         long at, Version[] out, boolean[] answered) {
        long generation = s.commits().get();
        long durable = s.lastRecordLsn().get();
        final int keyEnd = TimelineId.LENGTH + Key.LENGTH;
        byte[] start = ctx.walkStart;
        byte[] cur = ctx.walkKey;
        tl.writeTo(start, 0);
        try (RocksIterator it = db.newIterator(versions, totalOrder)) {
            boolean positioned = false;
            for (int j = 0; j < missCount; j++) {
                int i = misses[j];
                Key key = keys[i];
                if (j > 0 && key.equals(keys[misses[j - 1]])) { // the same key twice: the same answer
                    int first = misses[j - 1];
                    if (answered[first]) {
                        byte[] v = out[first].value();
                        out[i] = new Version(out[first].lsn(), ctx.share || v.length == 0 ? v : v.clone());
                        answered[i] = true;
                    }
                    continue;
                }
                key.writeTo(start, TimelineId.LENGTH);
                putLong(start, keyEnd, 0L);
                if (positioned) { // step over what lies between the last key and this one, or seek
                    for (int steps = 0; it.isValid(); steps++) {
                        it.key(cur);
                        if (Arrays.compareUnsigned(cur, 0, keyEnd, start, 0, keyEnd) >= 0) {
                            break;
                        }
                        if (steps == WALK_STEPS_BEFORE_SEEK) {
                            it.seek(start);
                            break;
                        }
                        it.next();
                    }
                } else {
                    it.seek(start);
                }
                boolean present = false;
                if (it.isValid()) {
                    int kl = it.key(cur);
                    present = kl == VERSION_KEY_BYTES && Arrays.equals(cur, 0, keyEnd, start, 0, keyEnd);
                } else {
                    try {
                        it.status();
                    } catch (RocksDBException e) {
                        throw new StorageException("cannot read the versions of " + key + " on timeline " + tl + ": "
                                + e.getMessage(), e);
                    }
                }
                PageCache.CacheKey ck = ctx.cached ? new PageCache.CacheKey(tl, key) : null;
                Version version;
                if (present) {
                    version = ownStored(ctx, it, tl, key, at, ck, generation, durable);
                    // after the next-version seek the iterator stands after the key; else seek for the next one
                    positioned = ck != null && at != -1L;
                } else { // no own version: the iterator stays on the next key the timeline holds
                    version = null;
                    positioned = true;
                    if (ck != null) {
                        pageCache.put(ck, new PageCache.Entry(PageCache.NO_VERSION, EMPTY, durable, true, generation));
                    }
                }
                if (version != null) {
                    out[i] = version;
                    answered[i] = true;
                }
            }
        }
    }

    private static final byte[] EMPTY = new byte[0];
    /** What {@link #ownLookup} returns in a cache-only read when the page cache cannot answer (by identity). */
    private static final Version CACHE_MISS = new Version(-2L, EMPTY);

    /** The page cache's bound, size and hit counts now. */
    public PageCacheStats pageCacheStats() {
        return pageCache.stats();
    }

    /**
     * The full value of a stored version: the stored bytes, or for a delta the page rebuilt from
     * its base, read through {@code it} ({@code it.seek} to {@code timeline | key | baseLsn}, so from
     * the same RocksDB snapshot as the delta: a GC that removes both meanwhile cannot make the
     * base disappear under the reader). Moves {@code it}.
     *
     * @param lsn     the version LSN of {@code stored}
     * @param readLsn the LSN the read asked {@code timeline} for (names the GC cutoff in the error
     *                when below it)
     * @throws StorageException when the delta's base is missing or not a full image, or the delta
     *                          is malformed (the message names the key and both LSNs)
     */
    private byte[] materialize(RocksIterator it, TimelineId timeline, Key key, long lsn, long readLsn, byte[] stored) {
        if (!PageDelta.isCandidate(key) || !PageDelta.isDelta(stored)) {
            return stored;
        }
        return decodeDelta(timeline, key, lsn, deltaBase(it, timeline, key, lsn, readLsn, stored), stored);
    }

    /**
     * The full image the delta {@code stored} (of {@code key} at {@code lsn} on {@code timeline})
     * was encoded against, read through {@code it} (see {@link #materialize}); a new array.
     *
     * @throws StorageException when it is missing or not a full image (see {@link #materialize})
     */
    private byte[] deltaBase(RocksIterator it, TimelineId timeline, Key key, long lsn, long readLsn, byte[] stored) {
        long baseLsn = PageDelta.baseLsn(stored);
        TimelineId baseTimeline = PageDelta.baseTimeline(stored);
        byte[] baseKey = versionKey(baseTimeline == null ? timeline : baseTimeline, key, baseLsn);
        it.seek(baseKey);
        byte[] base = it.isValid() && Arrays.equals(it.key(), baseKey) ? it.value() : null;
        if (base == null) {
            try {
                it.status();
            } catch (RocksDBException e) {
                throw new StorageException("cannot read the base at " + Lsn.format(baseLsn) + " of the delta of "
                        + key + " at " + Lsn.format(lsn) + " on timeline " + timeline + ": " + e.getMessage(), e);
            }
        }
        if (base == null || base.length != PageDelta.PAGE_SIZE) {
            TimelineState s = timelines.get(timeline);
            long cutoff = s == null ? 0L : s.gcCutoff().get();
            throw new StorageException("delta of " + key + " at " + Lsn.format(lsn) + " on timeline " + timeline
                    + " needs the full image at " + Lsn.format(baseLsn)
                    + (baseTimeline == null ? "" : " on ancestor timeline " + baseTimeline) + ", which is "
                    + (base == null ? "missing" : base.length + " bytes long")
                    + (Long.compareUnsigned(readLsn, cutoff) < 0 ? "; the read at " + Lsn.format(readLsn)
                    + " is below the applied GC cutoff " + Lsn.format(cutoff) + " of timeline " + timeline
                    + ", whose versions GC may have removed" : ""));
        }
        return base;
    }

    /** Decodes {@code delta} in place of {@code base} (which the caller owns and gives up). */
    private static byte[] decodeDelta(TimelineId timeline, Key key, long lsn, byte[] base, byte[] delta) {
        try {
            return PageDelta.decodeInto(base, delta);
        } catch (IllegalArgumentException e) {
            throw new StorageException("cannot decode the version of " + key + " at " + Lsn.format(lsn)
                    + " on timeline " + timeline + ": " + e.getMessage(), e);
        }
    }

    /**
     * The newest version of {@code key} at or below {@code lsn} stored on {@code timeline} itself
     * (not its ancestors), as stored (a delta stays a delta), or {@code null}. For the writer's
     * delta bases.
     */
    Version ownStoredVersion(TimelineId timeline, Key key, long lsn) {
        byte[] seek = versionKey(timeline, key, lsn);
        try (RocksIterator it = db.newIterator(versions, keyLookup)) {
            it.seekForPrev(seek);
            if (it.isValid()) {
                byte[] k = it.key();
                if (Arrays.equals(k, 0, TimelineId.LENGTH + Key.LENGTH, seek, 0, TimelineId.LENGTH + Key.LENGTH)) {
                    return new Version(bytesToLong(k, TimelineId.LENGTH + Key.LENGTH), it.value());
                }
            }
            return null;
        }
    }

    /**
     * What {@link #ownVersionWithBase} found: the newest own version of a key (materialized: a
     * delta is rebuilt; a tombstone is an empty value) at {@code lsn}, and, when the stored version
     * is a delta, its stored length and its base: the full image (a private copy) at
     * {@code baseLsn} on {@code baseTimeline} ({@code null}: the timeline read). {@code baseImage}
     * is {@code null} when the stored version is not a delta.
     */
    record OwnVersion(long lsn, byte[] value, int storedLength, TimelineId baseTimeline, long baseLsn,
                      byte[] baseImage) {
    }

    /**
     * The newest version of {@code key} at or below {@code lsn} stored on {@code timeline} itself,
     * materialized, with what a writer needs to encode the key's next version as a delta without
     * reading it again ({@link OwnVersion}); {@code null} when the timeline itself holds no version
     * there (a read then falls through to the ancestors). One {@code seekForPrev}, plus one seek
     * for a delta's base, through one iterator (one snapshot). No page cache, no read listener.
     *
     * @throws StorageException when a delta's base is missing or malformed
     */
    OwnVersion ownVersionWithBase(TimelineId timeline, Key key, long lsn) {
        byte[] seek = versionKey(timeline, key, lsn);
        try (RocksIterator it = db.newIterator(versions, keyLookup)) {
            it.seekForPrev(seek);
            if (!it.isValid()) {
                try {
                    it.status();
                } catch (RocksDBException e) {
                    throw new StorageException("cannot read " + key + " on timeline " + timeline + ": " + e.getMessage(), e);
                }
                return null;
            }
            byte[] k = it.key();
            if (!Arrays.equals(k, 0, TimelineId.LENGTH + Key.LENGTH, seek, 0, TimelineId.LENGTH + Key.LENGTH)) {
                return null;
            }
            long vLsn = bytesToLong(k, TimelineId.LENGTH + Key.LENGTH);
            byte[] stored = it.value();
            if (!PageDelta.isCandidate(key) || !PageDelta.isDelta(stored)) {
                return new OwnVersion(vLsn, stored, stored.length, null, NO_BASE, null);
            }
            byte[] base = deltaBase(it, timeline, key, vLsn, lsn, stored);
            byte[] baseCopy = base.clone();
            return new OwnVersion(vLsn, decodeDelta(timeline, key, vLsn, base, stored), stored.length,
                    PageDelta.baseTimeline(stored), PageDelta.baseLsn(stored), baseCopy);
        }
    }

    /** The stored value of exactly {@code timeline | key | lsn}, or {@code null}. */
    byte[] ownStoredValue(TimelineId timeline, Key key, long lsn) {
        return getRaw(versions, versionKey(timeline, key, lsn));
    }

    private static byte[] versionKey(TimelineId timeline, Key key, long lsn) {
        byte[] k = new byte[VERSION_KEY_BYTES];
        timeline.writeTo(k, 0);
        key.writeTo(k, TimelineId.LENGTH);
        putLong(k, TimelineId.LENGTH + Key.LENGTH, lsn);
        return k;
    }

    /**
     * Every live key in {@code [from, to)} as of {@code lsn}, with its newest value, ancestors
     * merged (a child's version or tombstone hides the ancestor's).
     *
     * @return keys in order; tombstoned keys are absent
     */
    public NavigableMap<Key, byte[]> scan(TimelineId timeline, Key from, Key to, long lsn) {
        NavigableMap<Key, byte[]> out = new TreeMap<>();
        scanInto(timeline, from, to, lsn, out);
        out.values().removeIf(v -> v.length == 0);
        return out;
    }

    /**
     * Puts the newest version at or below {@code lsn} of every key in {@code [from, to)} of
     * {@code timeline} and its ancestors into {@code out} (ancestors first, so the timeline's own
     * versions and tombstones replace theirs). Per key it keeps only the stored bytes of the newest
     * version seen and of the newest full image (a same-timeline delta's base, normally) and
     * rebuilds the page once, when the key ends: CLOG pages have thousands of versions.
     */
    private void scanInto(TimelineId timeline, Key from, Key to, long lsn, NavigableMap<Key, byte[]> out) {
        TimelineMetadata md = state(timeline).metadata();
        if (md.ancestor() != null) {
            long at = Long.compareUnsigned(lsn, md.ancestorLsn()) < 0 ? lsn : md.ancestorLsn();
            scanInto(md.ancestor(), from, to, at, out);
        }
        byte[] start = new byte[VERSION_KEY_BYTES];
        timeline.writeTo(start, 0);
        from.writeTo(start, TimelineId.LENGTH);
        byte[] end = new byte[VERSION_KEY_BYTES];
        timeline.writeTo(end, 0);
        to.writeTo(end, TimelineId.LENGTH);
        int keyEnd = TimelineId.LENGTH + Key.LENGTH;
        Snapshot snapshot = db.getSnapshot();
        try (ReadOptions ro = new ReadOptions().setSnapshot(snapshot).setTotalOrderSeek(true);
             RocksIterator it = db.newIterator(versions, ro);
             RocksIterator baseIt = db.newIterator(versions, ro)) {
            KeyScan scan = new KeyScan(timeline, lsn, baseIt);
            byte[] scratch = new byte[PageDelta.PAGE_SIZE]; // the next full image is read into this
            byte[] probe = new byte[VERSION_KEY_BYTES];
            it.seek(start);
            while (it.isValid()) {
                byte[] k = it.key();
                if (Arrays.compareUnsigned(k, end) >= 0) {
                    break;
                }
                if (scan.keyBytes == null || !Arrays.equals(k, TimelineId.LENGTH, keyEnd, scan.keyBytes, TimelineId.LENGTH, keyEnd)) {
                    scan.emit(out);
                    scan.start(k);
                    if (!scan.candidate) {
                        // Not a page: only the newest version at or below lsn counts, and such keys
                        // (REL_SIZE above all: one version per relation extension) can have millions
                        // of versions. Two seeks per key instead of a step per version.
                        System.arraycopy(k, 0, probe, 0, keyEnd);
                        putLong(probe, keyEnd, lsn);
                        it.seekForPrev(probe);
                        if (it.isValid()) {
                            byte[] at = it.key();
                            if (at.length == VERSION_KEY_BYTES && Arrays.equals(at, 0, keyEnd, k, 0, keyEnd)) {
                                scan.bestLsn = bytesToLong(at, keyEnd);
                                scan.best = it.value();
                            }
                        }
                        putLong(probe, keyEnd, -1L); // the greatest possible version of the key
                        it.seek(probe);
                        if (it.isValid() && Arrays.equals(it.key(), probe)) {
                            it.next();
                        }
                        continue;
                    }
                }
                long vLsn = bytesToLong(k, keyEnd);
                if (Long.compareUnsigned(vLsn, lsn) > 0) {
                    it.next();
                    continue;
                }
                scan.bestLsn = vLsn; // a page key (non-page keys took the seeks above)
                int length = it.value(scratch);
                if (length == PageDelta.PAGE_SIZE) { // a full image: the base of the deltas after it
                    byte[] spare = scan.full;
                    scan.full = scratch;
                    scan.fullLsn = vLsn;
                    scan.best = scratch;
                    scratch = spare != null ? spare : new byte[PageDelta.PAGE_SIZE];
                } else {
                    scan.best = length < scratch.length ? Arrays.copyOf(scratch, length) : it.value();
                }
                it.next();
            }
            try {
                it.status();
            } catch (RocksDBException e) {
                throw new StorageException("cannot scan versions of timeline " + timeline + ": " + e.getMessage(), e);
            }
            scan.emit(out);
        } finally {
            db.releaseSnapshot(snapshot);
        }
    }

    /** The state of {@link #scanInto} within one key. */
    private final class KeyScan {
        final TimelineId timeline;
        final long lsn;
        final RocksIterator baseIt;
        /** Version key bytes of the first version of the current key; {@code null} before the first. */
        byte[] keyBytes;
        Key key;
        boolean candidate;
        /** Stored bytes of the newest version at or below {@code lsn} seen, or {@code null}. */
        byte[] best;
        long bestLsn;
        /** Newest full image at or below {@code lsn} seen (may be {@code best}), or {@code null}. */
        byte[] full;
        long fullLsn;

        KeyScan(TimelineId timeline, long lsn, RocksIterator baseIt) {
            this.timeline = timeline;
            this.lsn = lsn;
            this.baseIt = baseIt;
        }

        void start(byte[] k) {
            keyBytes = k;
            key = Key.fromBytes(k, TimelineId.LENGTH);
            candidate = PageDelta.isCandidate(key);
            best = null;
            full = null;
        }

        /** Rebuilds the current key's newest version (once) into {@code out}; gives up {@code full}. */
        void emit(NavigableMap<Key, byte[]> out) {
            if (best == null) {
                return;
            }
            byte[] v = best;
            if (candidate && PageDelta.isDelta(v)) {
                v = full != null && !PageDelta.hasAncestorBase(v) && PageDelta.baseLsn(v) == fullLsn
                        ? decodeDelta(timeline, key, bestLsn, full, v)
                        : materialize(baseIt, timeline, key, bestLsn, lsn, v);
            }
            out.put(key, v);
            best = null;
            full = null;
        }
    }

    /**
     * The blocks of relation fork {@code rel} that may differ between {@code (fromTimeline, fromLsn)}
     * and {@code (toTimeline, toLsn)} (see {@link ChangedBlocks}), found from version keys only (no
     * page is read or rebuilt).
     *
     * <p>Each point reads a chain of timeline levels: its timeline up to its LSN, then each ancestor up
     * to {@code min(LSN, branch point)} ({@link #get}'s fall-through). A level only one chain holds
     * (a branch's own writes) contributes every version of the fork up to that LSN; a level both hold
     * at LSNs {@code l1 <= l2} contributes the versions in {@code (l1, l2]} (nothing when equal). A block
     * with no version in any of these resolves, level by level, to the same stored version on both
     * sides (or to none on both). Blocks beyond the smaller fork length count as changed; when the
     * fork's {@code createdLsn} differs (dropped and created again under the same relfilenode) every
     * block does.
     *
     * <p>Cost: one forward walk of the fork's version keys on each contributing level (the keys of a
     * shared level below its window are passed over without their values being copied), so a past
     * point of a timeline walks that timeline's versions of the fork once; a branch and its parent walk
     * only what each wrote after the branch point.
     *
     * @param rel a fork of a relation (block numbers as unsigned ints below 2^31)
     * @return the changed blocks, both lengths ({@code -1}: the fork does not exist on that side), the
     *         shared levels' LSN windows and the own levels
     * @throws IllegalArgumentException when a timeline does not exist
     * @throws StorageException         when RocksDB fails
     */
    public ChangedBlocks changedBlocks(io.forkline.storage.key.RelTag rel, TimelineId fromTimeline, long fromLsn,
                                       TimelineId toTimeline, long toLsn) {
        Map<TimelineId, Long> a = chain(fromTimeline, fromLsn);
        Map<TimelineId, Long> b = chain(toTimeline, toLsn);
        List<ChangedBlocks.Window> windows = new ArrayList<>();
        List<ChangedBlocks.Window> own = new ArrayList<>();
        ChangedBlocks.Window common = null;
        for (Map.Entry<TimelineId, Long> e : a.entrySet()) {
            Long other = b.get(e.getKey());
            if (other != null && common == null) {
                common = new ChangedBlocks.Window(e.getKey(), 0L,
                        Long.compareUnsigned(e.getValue(), other) < 0 ? e.getValue() : other);
            }
            if (other == null) {
                own.add(new ChangedBlocks.Window(e.getKey(), 0L, e.getValue()));
            } else if (e.getValue().longValue() != other.longValue()) {
                boolean aLower = Long.compareUnsigned(e.getValue(), other) < 0;
                windows.add(new ChangedBlocks.Window(e.getKey(), aLower ? e.getValue() : other, aLower ? other : e.getValue()));
            }
        }
        for (Map.Entry<TimelineId, Long> e : b.entrySet()) {
            if (!a.containsKey(e.getKey())) {
                own.add(new ChangedBlocks.Window(e.getKey(), 0L, e.getValue()));
            }
        }
        long fromBlocks = relBlocks(fromTimeline, rel, fromLsn);
        long toBlocks = relBlocks(toTimeline, rel, toLsn);
        BitSet changed = new BitSet();
        long read = 0;
        byte[] sizeFrom = getUnobserved(fromTimeline, Key.relSize(rel), fromLsn);
        byte[] sizeTo = getUnobserved(toTimeline, Key.relSize(rel), toLsn);
        long max = Math.max(0, Math.max(fromBlocks, toBlocks));
        if (sizeFrom != null && sizeTo != null
                && io.forkline.storage.key.RelSizeValue.decode(sizeFrom).createdLsn()
                != io.forkline.storage.key.RelSizeValue.decode(sizeTo).createdLsn()) {
            changed.set(0, (int) Math.min(max, Integer.MAX_VALUE));
        } else {
            List<ChangedBlocks.Window> walk = new ArrayList<>(own);
            walk.addAll(windows);
            for (ChangedBlocks.Window w : walk) {
                read += markVersions(rel, w, changed);
            }
            long min = Math.max(0, Math.min(fromBlocks, toBlocks));
            if (min < max) {
                changed.set((int) min, (int) Math.min(max, Integer.MAX_VALUE));
            }
            if (max < Integer.MAX_VALUE && changed.length() > max) {
                changed.clear((int) max, changed.length()); // versions of blocks neither side has now
            }
        }
        return new ChangedBlocks(fromBlocks, toBlocks, changed, List.copyOf(windows), List.copyOf(own), common, read);
    }

    /** The levels {@link #lookup} reads for {@code (timeline, lsn)}: each timeline and the LSN read there, newest first. */
    private Map<TimelineId, Long> chain(TimelineId timeline, long lsn) {
        Map<TimelineId, Long> out = new java.util.LinkedHashMap<>();
        TimelineId tl = timeline;
        long at = lsn;
        while (tl != null) {
            out.put(tl, at);
            TimelineMetadata md = state(tl).metadata();
            if (md.ancestor() == null) {
                break;
            }
            at = Long.compareUnsigned(at, md.ancestorLsn()) < 0 ? at : md.ancestorLsn();
            tl = md.ancestor();
        }
        return out;
    }

    /** The fork's length in blocks at {@code (timeline, lsn)}, {@code -1} when it does not exist there. */
    private long relBlocks(TimelineId timeline, io.forkline.storage.key.RelTag rel, long lsn) {
        byte[] v = getUnobserved(timeline, Key.relSize(rel), lsn);
        return v == null ? -1 : Integer.toUnsignedLong(io.forkline.storage.key.RelSizeValue.decode(v).nblocks());
    }

    /**
     * Sets the block of every version of {@code rel} on {@code w}'s timeline with LSN in its window;
     * returns the version keys read. One forward step per version key (values are not copied): a
     * seek per block to its first version above the window's start was measured slower (README 10e:
     * 4.4 vs 1.9 s for the 125,000 blocks of a 1 GB heap with ~9 versions each, warm).
     */
    private long markVersions(io.forkline.storage.key.RelTag rel, ChangedBlocks.Window w, BitSet changed) {
        byte[] start = versionKey(w.timeline(), Key.relBlocksStart(rel), 0);
        byte[] end = versionKey(w.timeline(), Key.relBlocksEnd(rel), 0);
        int keyEnd = TimelineId.LENGTH + Key.LENGTH;
        long read = 0;
        try (Slice upper = new Slice(end);
             ReadOptions ro = new ReadOptions().setFillCache(false).setIterateUpperBound(upper).setReadaheadSize(2 << 20)
                     .setTotalOrderSeek(true);
             RocksIterator it = db.newIterator(versions, ro)) {
            for (it.seek(start); it.isValid(); it.next()) {
                byte[] k = it.key();
                read++;
                long vLsn = bytesToLong(k, keyEnd);
                if (Long.compareUnsigned(vLsn, w.afterLsn()) > 0 && Long.compareUnsigned(vLsn, w.upToLsn()) <= 0) {
                    long block = Integer.toUnsignedLong(Key.getIntAt(k, keyEnd - 4));
                    if (block < Integer.MAX_VALUE) {
                        changed.set((int) block);
                    }
                }
            }
            it.status();
        } catch (RocksDBException e) {
            throw new StorageException("cannot walk the versions of " + rel + " on timeline " + w.timeline() + ": "
                    + e.getMessage(), e);
        }
        return read;
    }

    /**
     * The commits of {@code timeline}'s own index (not its ancestors') whose end LSN is in
     * {@code (afterLsn, upToLsn]}, newest first. The index is ordered by commit time: it is read
     * backwards from the newest commit and stops {@value #COMMIT_TIME_SLACK_SECONDS} s of commit time
     * below the first commit found at or below {@code afterLsn} (commit times of one cluster grow with
     * LSN up to the few microseconds between taking the time and inserting the record), so the cost is
     * what committed since about then.
     *
     * @throws IllegalArgumentException when the timeline does not exist
     */
    public List<Commit> commitsBetween(TimelineId timeline, long afterLsn, long upToLsn) {
        state(timeline);
        List<Commit> out = new ArrayList<>();
        long[] stopBelow = {Long.MIN_VALUE};
        forEachCommitNewestFirst(timeline, c -> {
            if (c.timestampMicros() < stopBelow[0]) {
                return false;
            }
            if (Long.compareUnsigned(c.lsn(), afterLsn) <= 0) {
                if (stopBelow[0] == Long.MIN_VALUE) {
                    stopBelow[0] = c.timestampMicros() - COMMIT_TIME_SLACK_SECONDS * 1_000_000L;
                }
            } else if (Long.compareUnsigned(c.lsn(), upToLsn) <= 0) {
                out.add(c);
            }
            return true;
        });
        return out;
    }

    /** How far below the first commit at or below the window {@link #commitsBetween} keeps reading, seconds of commit time. */
    public static final long COMMIT_TIME_SLACK_SECONDS = 60;

    /**
     * The end LSN of the last commit record with commit time {@code <= timestampMicros} visible on
     * {@code timeline} (its own commits, else its ancestors' up to the branch point).
     *
     * @param timestampMicros microseconds since the Unix epoch
     * @return the LSN, or {@link io.forkline.storage.lsn.Lsn#INVALID} when no commit is that old
     */
    public long lsnForTimestamp(TimelineId timeline, long timestampMicros) {
        TimelineState s = state(timeline);
        byte[] seek = new byte[TimelineId.LENGTH + 16];
        timeline.writeTo(seek, 0);
        putLong(seek, TimelineId.LENGTH, timestampMicros ^ Long.MIN_VALUE);
        putLong(seek, TimelineId.LENGTH + 8, -1L);
        try (RocksIterator it = db.newIterator(commitTs)) {
            it.seekForPrev(seek);
            if (it.isValid() && Arrays.equals(it.key(), 0, TimelineId.LENGTH, seek, 0, TimelineId.LENGTH)) {
                return bytesToLong(it.key(), TimelineId.LENGTH + 8);
            }
        }
        TimelineMetadata md = s.metadata();
        if (md.ancestor() == null) {
            return 0L;
        }
        long a = lsnForTimestamp(md.ancestor(), timestampMicros);
        return Long.compareUnsigned(a, md.ancestorLsn()) < 0 ? a : md.ancestorLsn();
    }

    /**
     * The earliest commit time on {@code timeline}'s own commit-timestamp index (not its ancestors')
     * of a commit whose end LSN is at or above {@code lsn}: the earliest time {@code t} for which a
     * branch "at {@code t}" lands at or above {@code lsn} (when commit times grow with LSN, as they do
     * on one cluster). Used to report the earliest restorable time above a GC cutoff. Scans the
     * timeline's index in time order: linear in its number of commits, meant for error messages and
     * status, not hot paths.
     *
     * @param lsn WAL byte position
     * @return microseconds since the Unix epoch, or empty when no commit of this timeline ends at or
     *         above {@code lsn}
     * @throws IllegalArgumentException when the timeline does not exist
     */
    public java.util.OptionalLong commitTimestampAtOrAfter(TimelineId timeline, long lsn) {
        state(timeline);
        byte[] prefix = new byte[TimelineId.LENGTH];
        timeline.writeTo(prefix, 0);
        try (ReadOptions ro = new ReadOptions().setFillCache(false); RocksIterator it = db.newIterator(commitTs, ro)) {
            for (it.seek(prefix); it.isValid(); it.next()) {
                byte[] k = it.key();
                if (k.length != TimelineId.LENGTH + 16 || !Arrays.equals(k, 0, TimelineId.LENGTH, prefix, 0, TimelineId.LENGTH)) {
                    break;
                }
                if (Long.compareUnsigned(bytesToLong(k, TimelineId.LENGTH + 8), lsn) >= 0) {
                    return java.util.OptionalLong.of(bytesToLong(k, TimelineId.LENGTH) ^ Long.MIN_VALUE);
                }
            }
        }
        return java.util.OptionalLong.empty();
    }

    /**
     * One entry of the commit-timestamp index.
     *
     * @param timestampMicros commit time, microseconds since the Unix epoch
     * @param lsn             end LSN of the commit record (a branch there includes the commit)
     * @param xid             the transaction id (unsigned 32 bits), 0 when the entry was indexed without it
     */
    public record Commit(long timestampMicros, long lsn, long xid) {
    }

    /**
     * The commits of {@code timeline}'s own index (not its ancestors'), newest first, with commit time
     * at or after {@code sinceMicros} and end LSN at or below {@code maxLsn}, at most {@code limit}.
     * Reads backwards from the newest: cost proportional to what it returns (plus skipped entries
     * above {@code maxLsn}).
     *
     * @param sinceMicros microseconds since the Unix epoch ({@link Long#MIN_VALUE}: no bound)
     * @param maxLsn      highest end LSN listed (unsigned; {@code -1L}: no bound)
     * @param limit       at most this many, positive
     * @throws IllegalArgumentException when the timeline does not exist
     */
    public List<Commit> commits(TimelineId timeline, long sinceMicros, long maxLsn, int limit) {
        state(timeline);
        List<Commit> out = new ArrayList<>();
        forEachCommitNewestFirst(timeline, c -> {
            if (c.timestampMicros() < sinceMicros) {
                return false;
            }
            if (Long.compareUnsigned(c.lsn(), maxLsn) <= 0) {
                out.add(c);
            }
            return out.size() < limit;
        });
        return out;
    }

    /**
     * Walks {@code timeline}'s own commit index ({@code committs}: key = timeline, commit time in
     * microseconds with its sign bit flipped, end LSN; value = the xid as 4 big-endian bytes, or none)
     * backwards from the newest commit time, until {@code visit} returns {@code false}. Reads past the
     * block cache (a one-off scan).
     */
    private void forEachCommitNewestFirst(TimelineId timeline, java.util.function.Predicate<Commit> visit) {
        byte[] seek = new byte[TimelineId.LENGTH + 16];
        timeline.writeTo(seek, 0);
        java.util.Arrays.fill(seek, TimelineId.LENGTH, seek.length, (byte) 0xFF);
        try (ReadOptions ro = new ReadOptions().setFillCache(false); RocksIterator it = db.newIterator(commitTs, ro)) {
            for (it.seekForPrev(seek); it.isValid(); it.prev()) {
                byte[] k = it.key();
                if (k.length != TimelineId.LENGTH + 16 || !Arrays.equals(k, 0, TimelineId.LENGTH, seek, 0, TimelineId.LENGTH)) {
                    return;
                }
                byte[] v = it.value();
                Commit c = new Commit(bytesToLong(k, TimelineId.LENGTH) ^ Long.MIN_VALUE, bytesToLong(k, TimelineId.LENGTH + 8),
                        v.length == 4 ? Integer.toUnsignedLong(Key.getIntAt(v, 0)) : 0);
                if (!visit.test(c)) {
                    return;
                }
            }
        }
    }

    // ---------------------------------------------------------------- maintenance (GC)

    /** Receives stored versions from {@link #forEachVersion}. */
    @FunctionalInterface
    public interface VersionVisitor {
        /**
         * @param key         the version's key
         * @param lsn         the version LSN (WAL byte position)
         * @param valueLength value size in bytes; 0 for a tombstone
         * @return {@code true} to continue, {@code false} to stop the scan
         */
        boolean visit(Key key, long lsn, int valueLength);
    }

    /**
     * The coordinates of one stored version of a timeline.
     *
     * @param valueLength its value's length in bytes (0 for a tombstone), or {@code -1} when the
     *                    caller does not know it (the store then reads it, for {@link #storedBytes})
     */
    public record VersionRef(Key key, long lsn, int valueLength) {
        /** A version whose value length the store looks up itself. */
        public VersionRef(Key key, long lsn) {
            this(key, lsn, -1);
        }
    }

    /** Receives stored versions with their delta base from {@link #forEachStoredVersion}. */
    @FunctionalInterface
    public interface StoredVersionVisitor {
        /**
         * @param key         the version's key
         * @param lsn         the version LSN (WAL byte position)
         * @param valueLength stored value size in bytes (a delta's encoded size); 0 for a tombstone
         * @param baseLsn     for a delta ({@link PageDelta}) whose base is on the same timeline, the
         *                    LSN of the full image of the same key it is rebuilt from;
         *                    {@link #NO_BASE} otherwise (also for a delta whose base is on an
         *                    ancestor: the ancestor's GC keeps that one)
         * @return {@code true} to continue, {@code false} to stop the scan
         */
        boolean visit(Key key, long lsn, int valueLength, long baseLsn);
    }

    /** {@link StoredVersionVisitor}'s base LSN of a version that is not a delta. */
    public static final long NO_BASE = -1L;

    /**
     * Visits the timeline's own stored versions (not its ancestors'), in key order and ascending LSN
     * within a key, starting at the first version of {@code fromKey} (inclusive), until the visitor
     * returns {@code false} or the timeline's versions end. The scan reads one RocksDB snapshot
     * taken at the call and does not fill the block cache.
     *
     * @param fromKey first key to visit, or {@code null} for the timeline's first key
     * @throws IllegalArgumentException when the timeline does not exist
     */
    public void forEachVersion(TimelineId timeline, Key fromKey, VersionVisitor visitor) {
        forEachStoredVersion(timeline, fromKey, (key, lsn, valueLength, baseLsn) -> visitor.visit(key, lsn, valueLength));
    }

    /**
     * Like {@link #forEachVersion}, also telling which versions are deltas and their base: reads
     * the length and the first 12 bytes (a delta's header) of every value, never a whole value.
     *
     * @param fromKey first key to visit, or {@code null} for the timeline's first key
     * @throws IllegalArgumentException when the timeline does not exist
     */
    public void forEachStoredVersion(TimelineId timeline, Key fromKey, StoredVersionVisitor visitor) {
        state(timeline);
        byte[] start = new byte[VERSION_KEY_BYTES];
        timeline.writeTo(start, 0);
        if (fromKey != null) {
            fromKey.writeTo(start, TimelineId.LENGTH);
        }
        byte[] header = new byte[PageDelta.HEADER_LENGTH]; // a value's first bytes; it.value tells the full length
        try (ReadOptions ro = new ReadOptions().setFillCache(false).setTotalOrderSeek(true);
             RocksIterator it = db.newIterator(versions, ro)) {
            for (it.seek(start); it.isValid(); it.next()) {
                byte[] k = it.key();
                if (k.length != VERSION_KEY_BYTES || !Arrays.equals(k, 0, TimelineId.LENGTH, start, 0, TimelineId.LENGTH)) {
                    break;
                }
                int valueLength = it.value(header);
                Key key = Key.fromBytes(k, TimelineId.LENGTH);
                long baseLsn = NO_BASE;
                if (valueLength >= PageDelta.HEADER_LENGTH && PageDelta.isCandidate(key)
                        && PageDelta.isDelta(header, valueLength) && !PageDelta.hasAncestorBase(header)) {
                    baseLsn = PageDelta.baseLsn(header);
                }
                if (!visitor.visit(key, bytesToLong(k, TimelineId.LENGTH + Key.LENGTH), valueLength, baseLsn)) {
                    return;
                }
            }
            try {
                it.status();
            } catch (RocksDBException e) {
                throw new StorageException("cannot scan versions of timeline " + timeline + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * Deletes the given versions of {@code timeline} in one atomic RocksDB write batch, applied in
     * list order (RocksDB WAL, not fsync'd: a crash may keep versions GC meant to remove, never the
     * reverse of the list order). Every LSN must be strictly below the timeline's applied GC cutoff
     * ({@link #advanceGcCutoff} first), so this never touches what the timeline's writer may write
     * concurrently (writes are above the last record LSN, which is at least the cutoff).
     *
     * @throws IllegalArgumentException when the timeline does not exist or a version LSN is at or
     *                                  above the applied GC cutoff (names the key and both LSNs)
     * @throws StorageException         when the write fails; then none of the batch is applied
     */
    public void deleteVersionsBelowGcCutoff(TimelineId timeline, List<VersionRef> refs) {
        TimelineState s = state(timeline);
        long cutoff = s.gcCutoff().get();
        try (WriteBatch batch = new WriteBatch(); WriteOptions wo = new WriteOptions()) {
            byte[] k = new byte[VERSION_KEY_BYTES];
            timeline.writeTo(k, 0);
            long removedBytes = 0;
            byte[] noCopy = new byte[0];
            for (VersionRef r : refs) {
                if (Long.compareUnsigned(r.lsn(), cutoff) >= 0) {
                    throw new IllegalArgumentException("cannot delete version of " + r.key() + " at "
                            + Lsn.format(r.lsn()) + ": not below the applied GC cutoff " + Lsn.format(cutoff)
                            + " of timeline " + timeline);
                }
                r.key().writeTo(k, TimelineId.LENGTH);
                putLong(k, TimelineId.LENGTH + Key.LENGTH, r.lsn());
                int length = r.valueLength();
                if (length < 0) {
                    length = db.get(versions, k, noCopy);
                }
                if (length >= 0) {
                    removedBytes += VERSION_KEY_BYTES + length;
                }
                batch.delete(versions, k);
            }
            synchronized (s) {
                requireLive(timeline, s);
                long stored = countedStoredBytes(timeline, s);
                long after = Math.max(0, stored - removedBytes);
                batch.put(timelinesCf, timelineKey(timeline, (byte) 4), longToBytes(after));
                db.write(wo, batch);
                s.storedBytes().set(after);
            }
        } catch (RocksDBException e) {
            throw new StorageException("cannot delete " + refs.size() + " versions of timeline " + timeline + ": "
                    + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- writes

    /**
     * A writer for one timeline. Only one writer may be active per timeline (the ingest loop).
     *
     * @throws IllegalArgumentException when the timeline does not exist
     */
    public TimelineWriter writer(TimelineId timeline) {
        state(timeline);
        return new TimelineWriter(this, timeline);
    }

    /**
     * Writes a writer's batch with the new last record LSN and stored-bytes counter.
     *
     * @param lastRecordLsn the new durable last record LSN; at least the current one
     * @param addedBytes    key + value bytes of the versions the batch adds
     * @throws IllegalArgumentException when the timeline does not exist (also: was deleted) or
     *                                  {@code lastRecordLsn} is below the durable one (names both)
     */
    void commit(TimelineId timeline, WriteBatch batch, long lastRecordLsn, long addedBytes) {
        TimelineState s = state(timeline);
        synchronized (s) {
            requireLive(timeline, s);
            long durable = s.lastRecordLsn().get();
            if (Long.compareUnsigned(lastRecordLsn, durable) < 0) {
                throw new IllegalArgumentException("cannot commit timeline " + timeline + " at "
                        + Lsn.format(lastRecordLsn) + ": below its durable last record LSN " + Lsn.format(durable));
            }
            long stored = countedStoredBytes(timeline, s) + addedBytes;
            try {
                batch.put(timelinesCf, timelineKey(timeline, (byte) 2), longToBytes(lastRecordLsn));
                batch.put(timelinesCf, timelineKey(timeline, (byte) 4), longToBytes(stored));
                db.write(syncWrite, batch);
            } catch (RocksDBException e) {
                throw new StorageException("cannot commit versions of timeline " + timeline + ": " + e.getMessage(), e);
            }
            s.lastCommitStamp().set(commitStamps.incrementAndGet()); // before the LSN: see ReadContext.iterator
            s.storedBytes().set(stored);
            s.lastRecordLsn().set(lastRecordLsn);
            s.commits().incrementAndGet();
        }
        for (CommitListener l : commitListeners) {
            l.committed(timeline, lastRecordLsn);
        }
    }

    /** Adds a listener told of every commit of every timeline (see {@link CommitListener}). */
    public void addCommitListener(CommitListener listener) {
        commitListeners.add(listener);
    }

    /** Removes a listener added with {@link #addCommitListener}. */
    public void removeCommitListener(CommitListener listener) {
        commitListeners.remove(listener);
    }

    void putVersion(WriteBatch batch, TimelineId timeline, Key key, long lsn, byte[] value) {
        try {
            batch.put(versions, versionKey(timeline, key, lsn), value);
        } catch (RocksDBException e) {
            throw new StorageException("cannot stage version of " + key, e);
        }
    }

    void putCommitTimestamp(WriteBatch batch, TimelineId timeline, long timestampMicros, long lsn, int xid) {
        byte[] k = new byte[TimelineId.LENGTH + 16];
        timeline.writeTo(k, 0);
        putLong(k, TimelineId.LENGTH, timestampMicros ^ Long.MIN_VALUE);
        putLong(k, TimelineId.LENGTH + 8, lsn);
        byte[] v = xid == 0 ? new byte[0]
                : new byte[]{(byte) (xid >>> 24), (byte) (xid >>> 16), (byte) (xid >>> 8), (byte) xid};
        try {
            batch.put(commitTs, k, v);
        } catch (RocksDBException e) {
            throw new StorageException("cannot stage commit timestamp", e);
        }
    }

    // ---------------------------------------------------------------- metadata records

    /** Stores a named record of the pageserver (tenants, branches), durably. */
    public void putMetadata(String name, byte[] value) {
        try {
            synchronized (metaMirror) {
                db.put(meta, syncWrite, name.getBytes(StandardCharsets.UTF_8), value);
                metaMirror.apply(java.util.Collections.singletonMap(name, value));
            }
        } catch (RocksDBException e) {
            throw new StorageException("cannot write metadata " + name, e);
        }
    }

    /**
     * Applies several record changes in one atomic, fsync'd RocksDB batch (all or none after a crash).
     *
     * @param changes record name -> new value, or {@code null} to delete the record; applied in
     *                iteration order (a name given twice: the last change wins)
     * @throws StorageException when the write fails; no record changed then
     */
    public void writeMetadata(Map<String, byte[]> changes) {
        if (changes.isEmpty()) {
            return;
        }
        try (WriteBatch batch = new WriteBatch()) {
            stageMetadata(batch, changes);
            writeWithMetadata(batch, changes);
        } catch (RocksDBException e) {
            throw new StorageException("cannot write metadata " + changes.keySet(), e);
        }
    }

    /** Writes {@code batch} durably and then applies its metadata {@code changes} to the mirror, in RocksDB's order. */
    private void writeWithMetadata(WriteBatch batch, Map<String, byte[]> changes) throws RocksDBException {
        if (changes.isEmpty()) {
            db.write(syncWrite, batch);
            return;
        }
        synchronized (metaMirror) {
            db.write(syncWrite, batch);
            metaMirror.apply(changes);
        }
    }

    private void stageMetadata(WriteBatch batch, Map<String, byte[]> changes) throws RocksDBException {
        for (Map.Entry<String, byte[]> e : changes.entrySet()) {
            byte[] name = e.getKey().getBytes(StandardCharsets.UTF_8);
            if (e.getValue() == null) {
                batch.delete(meta, name);
            } else {
                batch.put(meta, name, e.getValue());
            }
        }
    }

    /** Removes a named record, durably. */
    public void deleteMetadata(String name) {
        try {
            synchronized (metaMirror) {
                db.delete(meta, syncWrite, name.getBytes(StandardCharsets.UTF_8));
                metaMirror.apply(java.util.Collections.singletonMap(name, null));
            }
        } catch (RocksDBException e) {
            throw new StorageException("cannot delete metadata " + name, e);
        }
    }

    /** A named record (a copy), or {@code null}. Served from memory ({@link MetadataMirror}). */
    public byte[] getMetadata(String name) {
        return metaMirror.get(name);
    }

    /** All records whose name starts with {@code prefix}, in name (UTF-8 byte) order; copies, served from memory. */
    public NavigableMap<String, byte[]> listMetadata(String prefix) {
        return metaMirror.list(prefix);
    }

    // ---------------------------------------------------------------- helpers

    private byte[] getRaw(ColumnFamilyHandle cf, byte[] key) {
        try {
            return db.get(cf, key);
        } catch (RocksDBException e) {
            throw new StorageException("read failed: " + e.getMessage(), e);
        }
    }

    private static byte[] timelineKey(TimelineId id, byte suffix) {
        byte[] k = new byte[TimelineId.LENGTH + 1];
        id.writeTo(k, 0);
        k[TimelineId.LENGTH] = suffix;
        return k;
    }

    private static byte[] increment(byte[] prefix) {
        byte[] out = prefix.clone();
        for (int i = out.length - 1; i >= 0; i--) {
            if (++out[i] != 0) {
                return out;
            }
        }
        throw new IllegalArgumentException("prefix has no successor");
    }

    static void putLong(byte[] b, int off, long v) {
        for (int i = 0; i < 8; i++) {
            b[off + i] = (byte) (v >>> (56 - 8 * i));
        }
    }

    static long bytesToLong(byte[] b, int off) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (b[off + i] & 0xFF);
        }
        return v;
    }

    private static byte[] longToBytes(long v) {
        byte[] b = new byte[8];
        putLong(b, 0, v);
        return b;
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // closing on a failed open: the open's own error is the one reported
        }
    }

    /**
     * Closes RocksDB and every native resource, even when one close fails. A background compaction
     * of a deleted timeline's range in progress finishes first; queued ones are dropped.
     */
    @Override
    public void close() {
        rangeCompactions.close(); // waits for a running compaction: it uses the database
        StorageException first = null;
        // handles before the db, options after it
        List<AutoCloseable> order = new ArrayList<>(resources);
        order.remove(db);
        List<AutoCloseable> handles = new ArrayList<>();
        List<AutoCloseable> rest = new ArrayList<>();
        for (AutoCloseable c : order) {
            (c instanceof ColumnFamilyHandle ? handles : rest).add(c);
        }
        List<AutoCloseable> seq = new ArrayList<>(handles);
        seq.add(db);
        seq.addAll(rest);
        for (AutoCloseable c : seq) {
            try {
                c.close();
            } catch (Exception e) {
                if (first == null) {
                    first = new StorageException("close failed", e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
