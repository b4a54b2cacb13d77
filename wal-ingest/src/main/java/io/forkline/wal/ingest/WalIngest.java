package io.forkline.wal.ingest;

import io.forkline.storage.key.Key;
import io.forkline.storage.key.RelSizeValue;
import io.forkline.storage.key.RelTag;
import io.forkline.storage.store.TimelineWriter;
import io.forkline.wal.ingest.control.ControlState;
import io.forkline.wal.ingest.page.PageChecksum;
import io.forkline.wal.ingest.page.PageHeaderDescriptor;
import io.forkline.wal.ingest.rmgr.DatabaseRecordDescriptor;
import io.forkline.wal.ingest.rmgr.HeapRecordDescriptor;
import io.forkline.wal.ingest.rmgr.LittleEndianReader;
import io.forkline.wal.ingest.rmgr.RecordFormatException;
import io.forkline.wal.ingest.rmgr.RelmapRecordDescriptor;
import io.forkline.wal.ingest.rmgr.SlruRecordDescriptor;
import io.forkline.wal.ingest.rmgr.StorageRecordDescriptor;
import io.forkline.wal.ingest.slru.ClogDescriptor;
import io.forkline.wal.ingest.slru.CommitTsDescriptor;
import io.forkline.wal.ingest.slru.MultiXactDescriptor;
import io.forkline.wal.ingest.vm.FreeSpaceMapDescriptor;
import io.forkline.wal.ingest.vm.VisibilityMapDescriptor;
import io.forkline.wal.ingest.xact.TwoPhaseStateFile;
import io.forkline.wal.ingest.xact.XactCompletionRecord;
import io.forkline.wal.record.BlockReference;
import io.forkline.wal.record.WalRecord;
import io.forkline.wal.record.XLogRecordDescriptor;
import io.forkline.wal.redo.NativeRedo;
import io.forkline.wal.redo.RedoBuffers;
import io.forkline.wal.redo.RedoException;
import io.forkline.wal.redo.RedoFixture;
import io.forkline.wal.redo.RedoMismatchException;
import io.forkline.wal.redo.RedoVerifier;
import io.forkline.wal.xlog.CheckPoint;
import io.forkline.wal.xlog.ParameterChange;

import java.util.HashMap;
import java.util.Map;
import java.util.NavigableMap;

/**
 * Post-image WAL ingest: turns decoded PostgreSQL 15 WAL records (from a compute running with
 * {@code wal_consistency_checking = all}) into versions of {@link Key}s staged in a
 * {@link TimelineWriter}. Every version of a record is written at the record's
 * {@link WalRecord#endLsn()}. The caller commits the writer at chunk boundaries; this class never
 * commits. See ARCHITECTURE.md, "post-image ingest".
 *
 * <h2>Keys written and their value formats</h2>
 * <ul>
 *   <li>{@code Key.relBlock(rel, blk)} — the 8192-byte page: every block image of every record
 *       ({@code XLOG_FPI} / {@code FPI_FOR_HINT} included) with {@code pd_lsn} set to the record's end
 *       LSN (as redo does; except the heap page, block id 1, of {@code Heap2/VISIBLE} when data
 *       checksums are off, and new all-zero pages) and, with data checksums, {@code pd_checksum}
 *       recomputed. Visibility map pages are also rewritten when heap INSERT / MULTI_INSERT / UPDATE /
 *       HOT_UPDATE / DELETE / LOCK / LOCK_UPDATED clear VM bits, and when SMGR TRUNCATE clears the
 *       tail bits of the last remaining VM page (FSM: the last remaining page's tail leaves).
 *   <li>{@code Key.relSize(rel)} — {@link RelSizeValue} (nblocks, createdLsn), 12 bytes big-endian:
 *       {@code (0, endLsn)} on {@code SMGR CREATE} of an absent fork; extended to {@code blk + 1} when
 *       an image lands at or past the end (created with {@code createdLsn = endLsn} when absent);
 *       shrunk by {@code SMGR TRUNCATE}; tombstoned (empty value) for all forks of the relations an
 *       xact COMMIT / ABORT (or _PREPARED) drops and of every relation of a dropped database; copied
 *       (with the pages) to the new database by {@code DBASE CREATE_FILE_COPY}.
 *   <li>{@code Key.slruPage(SLRU_CLOG, pageno)} — 8192-byte {@code pg_xact} page: zero page on
 *       {@code CLOG ZEROPAGE}, 2-bit status committed (01) / aborted (10) of the xid and subxids on
 *       xact COMMIT / ABORT / COMMIT_PREPARED / ABORT_PREPARED.
 *   <li>{@code Key.slruPage(SLRU_COMMIT_TS, pageno)} — 8192-byte {@code pg_commit_ts} page
 *       ({@link CommitTsDescriptor}), maintained only while commit timestamps are active for the
 *       timeline (the {@code PARAMETERS} key's {@code track_commit_timestamp}, as a standby decides from
 *       its {@code pg_control} and {@code XLOG_PARAMETER_CHANGE}): xact COMMIT / COMMIT_PREPARED set the
 *       10-byte entry (commit time, or the origin's timestamp with {@code XACT_XINFO_HAS_ORIGIN}; the
 *       record's replication origin) of the xid and every subxid ({@code TransactionTreeSetCommitTsData});
 *       zero page on {@code COMMIT_TS_ZEROPAGE} (whether active or not, as {@code commit_ts_redo});
 *       {@code COMMIT_TS_TRUNCATE} tombstones the pages of the segments {@code SimpleLruTruncate}
 *       removes; activation stores a zero page for nextXid's page when none is stored
 *       ({@code ActivateCommitTs}), deactivation tombstones every page ({@code DeactivateCommitTs}).
 *   <li>{@code Key.parameters()} — {@link ParameterChange#encode()} (28 bytes) of each
 *       {@code XLOG_PARAMETER_CHANGE}; importers store {@code pg_control}'s values.
 *   <li>{@code Key.slruPage(SLRU_MULTIXACT_OFFSETS / _MEMBERS, pageno)} — 8192-byte
 *       {@code pg_multixact/offsets} and {@code members} pages: zero pages on ZERO_OFF_PAGE /
 *       ZERO_MEM_PAGE; {@code CREATE_ID} writes the multi's offset, the next multi's offset (as
 *       {@code RecordNewMultiXact} of 15.15+ does) and the member xids and status bytes.
 *   <li>{@code Key.relmap(tsid, dbid)} — the 512-byte {@code pg_filenode.map} from {@code RELMAP UPDATE};
 *       copied by CREATE_FILE_COPY, tombstoned by DBASE DROP.
 *   <li>{@code Key.dbDir(spc, db)} — 1 byte {@code 0x01}: database directory exists (CREATE_FILE_COPY,
 *       CREATE_WAL_LOG); tombstoned by DBASE DROP.
 *   <li>{@code Key.twoPhase(xid)} — the exact {@code pg_twophase/XXXXXXXX} file: PREPARE record main
 *       data followed by its CRC-32C (little-endian); tombstoned by COMMIT_PREPARED / ABORT_PREPARED.
 *   <li>{@code Key.control()} — {@link CheckPoint#encode()} (88 bytes, little-endian
 *       {@code CheckPoint} struct): the last checkpoint record's fields with nextXid / nextOid /
 *       nextMulti / nextMultiOffset / oldestXid / oldestMulti kept current the way redo does
 *       ({@link ControlState}). Written at most once per record. Until the first stored control value
 *       or checkpoint record is seen, counter updates are not tracked.
 *   <li>commit timestamp index — {@code putCommitTimestamp(xact_time as Unix microseconds, endLsn)}
 *       for COMMIT and COMMIT_PREPARED.
 * </ul>
 *
 * <h2>Deliberately not done</h2>
 * CLOG TRUNCATE and multixact TRUNCATE_ID advance oldestXid / oldestMulti but leave the old SLRU pages
 * in place (extra old segments are harmless to Postgres and are rewritten by ZEROPAGE records on
 * wraparound). Tablespace, standby, {@code NEW_CID}, {@code XLOG_NOOP / SWITCH / BACKUP_END} and
 * similar records have no effect besides their block images. CREATE_FILE_COPY copies the newest
 * version of each source page; a version older than the source fork's {@code createdLsn} (from an
 * earlier relation with the same relfilenode on this timeline) would be copied too.
 *
 * <h2>Images and native redo</h2>
 * A block reference with an image stores the image (the post-image with
 * {@code wal_consistency_checking}, or a full-page write). A block reference without one is redone
 * in Java ({@link io.forkline.wal.redo.NativeRedo}: Heap, Heap2, Btree, Hash, Sequence, BRIN, Generic, Gist, SPGist) on the
 * stored version of the page at this LSN; a block the record does not find (beyond the fork's end,
 * never written) is left alone, as PostgreSQL's {@code BLK_NOTFOUND}. Any other resource manager's
 * block without an image throws. In verify mode every natively redone record is redone even when its
 * blocks carry images, each redone block is compared with its image
 * ({@link io.forkline.wal.redo.RedoVerifier}), and the image is stored. A Gist record's images are
 * stored as PostgreSQL's redo leaves them: the left child whose {@code F_FOLLOW_RIGHT} a downlink
 * insertion clears is changed after its image was taken, so redo runs for Gist records even when every
 * block carries an image ({@link io.forkline.wal.redo.RedoBuffers#imageToStore}). This class takes ownership
 * of the image arrays of the records it is given (it patches them in place and stores them).
 *
 * <p>Not thread-safe: one ingest thread per timeline, like its {@link TimelineWriter}.
 */
public final class WalIngest {
    private static final byte[] DB_DIR_PRESENT = {1};
    private static final int SIZE_CACHE_LIMIT = 100_000;
    /** Pages kept in {@link #recentPages}: 2048 x 8 KiB = 16 MiB per timeline being ingested. */
    static final int PAGE_CACHE_ENTRIES = 2048;
    /** A cache entry meaning "no size key". */
    private static final RelSizeValue ABSENT = new RelSizeValue(-1, -1);

    private final TimelineWriter writer;
    private final boolean dataChecksums;
    private final boolean verifyRedo;
    private final Map<RelTag, RelSizeValue> sizeCache = new HashMap<>();
    /**
     * The newest version this ingest stored of recently written relation blocks (LRU, at most
     * {@link #PAGE_CACHE_ENTRIES}): redo reads its base page here before asking the store, when the
     * writer does not cache its reads itself ({@link TimelineWriter#cachesReads()}). Every
     * relation-block write of this class goes through {@link #putPage}, which refreshes it; this
     * ingest is its timeline's only writer.
     */
    private final java.util.LinkedHashMap<Key, byte[]> recentPages = new java.util.LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, byte[]> eldest) {
            return size() > PAGE_CACHE_ENTRIES;
        }
    };
    /** Whether {@link #recentPages} is used: only when the writer does not cache its reads itself. */
    private final boolean pageCache;
    private ControlState control;
    private boolean controlLoaded;
    /** Whether commit timestamps are tracked ({@code commitTsShared->commitTsActive}); null until read. */
    private Boolean commitTsActive;
    private WalRecord rec;
    private long lsn;
    /** End LSN of the record ingested before the current one (0 before the first). */
    private long previousEndLsn;

    /** Ingest for a cluster without data checksums (initdb's default). */
    public WalIngest(TimelineWriter writer) {
        this(writer, false);
    }

    /**
     * @param writer        the timeline's writer; versions are staged, never committed here
     * @param dataChecksums whether the cluster has data checksums ({@code pg_control}'s
     *                      {@code data_checksum_version != 0}): then {@code pd_checksum} is recomputed on
     *                      every page written and the {@code Heap2/VISIBLE} heap page gets its LSN set
     */
    public WalIngest(TimelineWriter writer, boolean dataChecksums) {
        this(writer, dataChecksums, RedoVerifier.verifyByDefault());
    }

    /**
     * @param verifyRedo verify mode: every record Java redoes ({@link NativeRedo#handles}) is redone
     *                   even when its blocks carry images, and each redone block is compared with
     *                   its image ({@link RedoVerifier}); a mismatch throws {@link WalIngestException}
     *                   caused by {@link RedoMismatchException}. The stored page is the image.
     */
    public WalIngest(TimelineWriter writer, boolean dataChecksums, boolean verifyRedo) {
        this.writer = writer;
        this.dataChecksums = dataChecksums;
        this.verifyRedo = verifyRedo;
        this.pageCache = !writer.cachesReads();
    }

    /**
     * Stages every version {@code record} produces, at {@code record.endLsn()}. Records must come in
     * WAL order.
     *
     * @throws WalIngestException naming the record's LSN, rmgr and the reason, when a block reference
     *                            has no image or the rmgr data is malformed; the writer's batch then
     *                            holds part of the record and must not be committed
     * @throws io.forkline.storage.store.StorageException when reading a stored version fails
     */
    public void ingest(WalRecord record) {
        rec = record;
        previousEndLsn = lsn;
        lsn = record.endLsn();
        try {
            blocks();
            if (record.xid() != 0 || record.topXid() != 0) {
                ControlState c = control();
                if (c != null) {
                    c.advanceNextXidPast(record.xid());
                    c.advanceNextXidPast(record.topXid());
                }
            }
            switch (record.rmid()) {
                case ResourceManagers.XLOG -> xlog();
                case ResourceManagers.XACT -> xact();
                case ResourceManagers.SMGR -> smgr();
                case ResourceManagers.CLOG -> clog();
                case ResourceManagers.DBASE -> dbase();
                case ResourceManagers.MULTIXACT -> multixact();
                case ResourceManagers.RELMAP -> relmap();
                case ResourceManagers.COMMIT_TS -> commitTs();
                case ResourceManagers.HEAP -> heap();
                case ResourceManagers.HEAP2 -> heap2();
                default -> {
                    // images only
                }
            }
            if (control != null && control.dirty()) {
                writer.put(Key.control(), lsn, control.snapshot().encode());
            }
        } catch (RecordFormatException | IllegalArgumentException | RedoException e) {
            throw fail(e.getMessage(), e);
        }
    }

    /**
     * The pages of the record's block references: the image when the block has one (except in verify
     * mode, which redoes and compares first), else Java redo from the stored page at this LSN.
     */
    private void blocks() {
        if (rec.blocks().isEmpty()) {
            return;
        }
        boolean redo = NativeRedo.handles(rec.rmid());
        if (redo && !verifyRedo && !NativeRedo.changesImages(rec.rmid())) {
            redo = false;
            for (BlockReference b : rec.blocks()) {
                if (!b.hasImage()) {
                    redo = true;
                    break;
                }
            }
        }
        if (!redo) {
            for (BlockReference b : rec.blocks()) {
                storeImage(b);
            }
            return;
        }
        Map<Integer, byte[]> bases = verifyRedo ? new HashMap<>() : null;
        RedoBuffers bufs = new RedoBuffers(rec, b -> {
            byte[] base = readBase(b);
            if (bases != null && base != null) {
                bases.put(b.blockId(), base.clone());
            }
            return base;
        });
        try {
            NativeRedo.redo(bufs);
        } catch (RedoException e) {
            if (verifyRedo) {
                throw fail("redo failed: " + e.getMessage(), new RedoMismatchException(e.getMessage(),
                        RedoVerifier.writeMismatchFixture(new RedoFixture("redo failed: " + e.getMessage(), rec, bases))));
            }
            throw e;
        }
        if (verifyRedo) {
            RedoVerifier.Check check = RedoVerifier.compare(bufs, true);
            RedoVerifier.Mismatch m = check.mismatch();
            if (m != null) {
                String msg = RedoVerifier.describe(rec, m);
                RedoMismatchException e = new RedoMismatchException(msg,
                        RedoVerifier.writeMismatchFixture(new RedoFixture(msg, rec, bases)));
                throw fail(e.getMessage(), e);
            }
            if (check.compared() > 0) {
                RedoVerifier.sample(new RedoFixture("sample", rec, bases));
            }
        }
        for (BlockReference b : rec.blocks()) {
            byte[] page = bufs.page(b.blockId());
            if (b.hasImage()) {
                storeImage(b, bufs.imageToStore(b.blockId()));
            } else if (page != null) {
                storePage(b, page, true);
            }
            // else: restored without image cannot happen; not found: PostgreSQL leaves it alone too
        }
    }

    /**
     * The page a block reference's redo starts from: the stored version at this LSN, or {@code null}
     * ({@code BLK_NOTFOUND}) beyond the fork's end or when the block was never written (PostgreSQL's
     * redo never starts from a page no record wrote: new pages come with {@code BKPBLOCK_WILL_INIT} or
     * an image).
     */
    private byte[] readBase(BlockReference b) {
        RelSizeValue size = size(b.relTag());
        if (size == null || Integer.compareUnsigned(b.blockNo(), size.nblocks()) >= 0) {
            return null;
        }
        Key key = Key.relBlock(b.relTag(), b.blockNo());
        if (!pageCache) {
            return writer.getForUpdate(key, lsn); // the page itself when redo's last version of it is staged
        }
        byte[] raw = recentPages.get(key);
        if (raw == null) {
            raw = writer.get(key, lsn);
        }
        return raw == null ? null : raw.clone();
    }

    private WalIngestException fail(String reason, Throwable cause) {
        return new WalIngestException(rec.startLsn(), rec.endLsn(), rec.rmid(), rec.info(), reason, cause);
    }

    // ------------------------------------------------------------------ images and relation sizes

    private void storeImage(BlockReference b) {
        storeImage(b, b.image());
    }

    /** Stores {@code page}, block {@code b}'s image (possibly as redo changed it), or fails when it has none. */
    private void storeImage(BlockReference b, byte[] page) {
        if (page == null) {
            throw fail(NativeRedo.recordName(rec.rmid(), rec.info()) + " record at LSN "
                    + io.forkline.storage.lsn.Lsn.format(rec.startLsn()) + " has block reference " + b.blockId() + " ("
                    + b.relTag() + " blk " + Integer.toUnsignedString(b.blockNo()) + ") without a page image, and Forkline"
                    + " has no native redo for " + NativeRedo.rmgrName(rec.rmid()) + " records (only Heap, Heap2, Btree,"
                    + " Hash, Gin, Gist, SPGist, Sequence, BRIN and Generic are redone natively; a compute's wal_consistency_checking must include its"
                    + " resource manager); ingest stops before this record", null);
        }
        if (page.length != PageHeaderDescriptor.PAGE_SIZE) {
            throw fail("block " + b.blockId() + " image is " + page.length + " bytes, expected "
                    + PageHeaderDescriptor.PAGE_SIZE, null);
        }
        storePage(b, page, false);
    }

    /**
     * Stores {@code page} as block {@code b}'s version at this LSN (pd_lsn set as redo sets it,
     * checksum); {@code redone}: the page is redo's own array ({@link #readBase}'s, or a new one), which
     * the writer may lend to the next record's redo of the block ({@link TimelineWriter#putOwned}).
     */
    private void storePage(BlockReference b, byte[] page, boolean redone) {
        boolean keepLsn = !dataChecksums && rec.rmid() == ResourceManagers.HEAP2
                && (rec.info() & HeapRecordDescriptor.OPMASK) == HeapRecordDescriptor.XLOG_HEAP2_VISIBLE
                && b.blockId() == HeapRecordDescriptor.VISIBLE_HEAP_BLOCK_ID;
        if (!keepLsn && !PageHeaderDescriptor.isNew(page)) {
            PageHeaderDescriptor.setLsn(page, lsn);
        }
        RelTag rel = b.relTag();
        putPage(rel, b.blockNo(), page, redone);
        extendTo(rel, b.blockNo());
    }

    private void putPage(RelTag rel, int blkno, byte[] page) {
        putPage(rel, blkno, page, false);
    }

    private void putPage(RelTag rel, int blkno, byte[] page, boolean owned) {
        if (dataChecksums) {
            PageChecksum.setInPlace(page, blkno);
        }
        Key key = Key.relBlock(rel, blkno);
        if (owned && !pageCache) {
            writer.putOwned(key, lsn, page);
        } else {
            writer.put(key, lsn, page);
        }
        if (pageCache) {
            recentPages.put(key, page);
        }
    }

    /** Current size of a fork, or {@code null} when it does not exist. */
    private RelSizeValue size(RelTag rel) {
        RelSizeValue v = sizeCache.get(rel);
        if (v == null) {
            byte[] raw = writer.get(Key.relSize(rel), lsn);
            v = raw == null ? ABSENT : RelSizeValue.decode(raw);
            if (sizeCache.size() >= SIZE_CACHE_LIMIT) {
                sizeCache.clear();
            }
            sizeCache.put(rel, v);
        }
        return v == ABSENT ? null : v;
    }

    private void putSize(RelTag rel, RelSizeValue v) {
        writer.put(Key.relSize(rel), lsn, v.encode());
        sizeCache.put(rel, v);
    }

    private void dropSize(RelTag rel) {
        writer.delete(Key.relSize(rel), lsn);
        sizeCache.put(rel, ABSENT);
    }

    private void extendTo(RelTag rel, int blkno) {
        RelSizeValue cur = size(rel);
        if (cur == null) {
            putSize(rel, new RelSizeValue(blkno + 1, lsn));
        } else if (Integer.compareUnsigned(blkno, cur.nblocks()) >= 0) {
            putSize(rel, new RelSizeValue(blkno + 1, cur.createdLsn()));
        }
    }

    // ------------------------------------------------------------------ XLOG

    private void xlog() {
        int type = rec.type();
        byte[] d = rec.mainData();
        switch (type) {
            case XLogRecordDescriptor.XLOG_CHECKPOINT_SHUTDOWN, XLogRecordDescriptor.XLOG_CHECKPOINT_ONLINE -> {
                if (d.length < CheckPoint.SIZE) {
                    throw fail("checkpoint record has " + d.length + " bytes of main data, expected " + CheckPoint.SIZE,
                            null);
                }
                CheckPoint cp = CheckPoint.decode(d, 0);
                ControlState c = control();
                if (c == null) {
                    control = new ControlState(cp);
                    control.applyShutdownCheckpoint(cp);
                } else if (type == XLogRecordDescriptor.XLOG_CHECKPOINT_SHUTDOWN) {
                    c.applyShutdownCheckpoint(cp);
                } else {
                    c.applyOnlineCheckpoint(cp);
                }
            }
            case XLogRecordDescriptor.XLOG_NEXTOID -> {
                ControlState c = control();
                if (c != null) {
                    c.setNextOid(LittleEndianReader.i32(d, 0));
                }
            }
            case XLogRecordDescriptor.XLOG_PARAMETER_CHANGE -> parameterChange(d);
            default -> {
                // FPI / FPI_FOR_HINT: images only; NOOP, SWITCH, BACKUP_END, ...: nothing
            }
        }
    }

    private ControlState control() {
        if (!controlLoaded) {
            controlLoaded = true;
            byte[] raw = writer.get(Key.control(), lsn);
            if (raw != null) {
                control = new ControlState(CheckPoint.decode(raw, 0));
            }
        }
        return control;
    }

    // ------------------------------------------------------------------ transactions

    private void xact() {
        int op = rec.info() & XactCompletionRecord.XLOG_XACT_OPMASK;
        switch (op) {
            case XactCompletionRecord.XLOG_XACT_COMMIT -> completion(true, false);
            case XactCompletionRecord.XLOG_XACT_ABORT -> completion(false, false);
            case XactCompletionRecord.XLOG_XACT_COMMIT_PREPARED -> completion(true, true);
            case XactCompletionRecord.XLOG_XACT_ABORT_PREPARED -> completion(false, true);
            case XactCompletionRecord.XLOG_XACT_PREPARE -> {
                byte[] d = rec.mainData();
                writer.put(Key.twoPhase(TwoPhaseStateFile.xid(d)), lsn, TwoPhaseStateFile.fileContent(d));
            }
            default -> {
                // ASSIGNMENT, INVALIDATIONS: nothing to store
            }
        }
    }

    private void completion(boolean commit, boolean prepared) {
        XactCompletionRecord x = XactCompletionRecord.parse(rec.info(), rec.mainData(), commit);
        int xid = prepared ? x.twophaseXid() : rec.xid();
        if (xid == 0) {
            throw fail((commit ? "commit" : "abort") + " record names no transaction id", null);
        }
        int status = commit ? ClogDescriptor.STATUS_COMMITTED : ClogDescriptor.STATUS_ABORTED;
        setClogStatus(xid, x.subxacts(), status);
        for (RelTag rel : x.droppedRels()) {
            for (int fork = RelTag.MAIN_FORK; fork <= RelTag.INIT_FORK; fork++) {
                RelTag f = rel.withFork(fork);
                if (size(f) != null) {
                    dropSize(f);
                }
            }
        }
        if (prepared) {
            writer.delete(Key.twoPhase(xid), lsn);
        }
        if (commit) {
            writer.putCommitTimestamp(x.unixMicros(), lsn, xid);
            setCommitTsData(xid, x.subxacts(), x.commitTsTime(), rec.origin());
        }
        ControlState c = control();
        if (c != null) {
            c.advanceNextXidPast(xid);
            for (int s : x.subxacts()) {
                c.advanceNextXidPast(s);
            }
        }
    }

    private void setClogStatus(int xid, int[] subxids, int status) {
        int pageNo = ClogDescriptor.page(xid);
        byte[] page = slruPageCopy(Key.SLRU_CLOG, pageNo);
        ClogDescriptor.setStatus(page, xid, status);
        for (int s : subxids) {
            int p = ClogDescriptor.page(s);
            if (p != pageNo) {
                writer.put(Key.slruPage(Key.SLRU_CLOG, pageNo), lsn, page);
                pageNo = p;
                page = slruPageCopy(Key.SLRU_CLOG, pageNo);
            }
            ClogDescriptor.setStatus(page, s, status);
        }
        writer.put(Key.slruPage(Key.SLRU_CLOG, pageNo), lsn, page);
    }

    /** A private copy of an SLRU page, a zero page when absent. */
    private byte[] slruPageCopy(int slru, int pageNo) {
        byte[] cur = writer.get(Key.slruPage(slru, pageNo), lsn);
        return cur == null ? new byte[ClogDescriptor.PAGE_SIZE] : cur.clone();
    }

    private void clog() {
        byte[] d = rec.mainData();
        switch (rec.type()) {
            case SlruRecordDescriptor.CLOG_ZEROPAGE ->
                    writer.put(Key.slruPage(Key.SLRU_CLOG, SlruRecordDescriptor.pageNo(d)), lsn,
                            new byte[ClogDescriptor.PAGE_SIZE]);
            case SlruRecordDescriptor.CLOG_TRUNCATE -> {
                SlruRecordDescriptor.pageNo(d);
                ControlState c = control();
                if (c != null) {
                    c.advanceOldestXid(SlruRecordDescriptor.clogTruncateOldestXact(d),
                            SlruRecordDescriptor.clogTruncateOldestXactDb(d));
                }
            }
            default -> throw fail("unknown CLOG record type 0x" + Integer.toHexString(rec.type()), null);
        }
    }

    // ------------------------------------------------------------------ commit timestamps

    /** Whether commit timestamps are active at this LSN: the stored parameters' track_commit_timestamp. */
    private boolean commitTsActive() {
        if (commitTsActive == null) {
            byte[] raw = writer.get(Key.parameters(), lsn);
            commitTsActive = raw != null && ParameterChange.decode(raw, 0).trackCommitTimestamp();
        }
        return commitTsActive;
    }

    /**
     * {@code xlog_redo} {@code XLOG_PARAMETER_CHANGE}: stores the new parameters and, when
     * track_commit_timestamp changes, {@code CommitTsParameterChange}.
     */
    private void parameterChange(byte[] d) {
        ParameterChange p = ParameterChange.decode(d, 0);
        boolean was = commitTsActive();
        writer.put(Key.parameters(), lsn, p.encode());
        if (p.trackCommitTimestamp() && !was) {
            activateCommitTs();
        } else if (!p.trackCommitTimestamp() && was) {
            deactivateCommitTs();
        }
        commitTsActive = p.trackCommitTimestamp();
    }

    /**
     * {@code ActivateCommitTs} as redo runs it: an invalid commit-ts range becomes [nextXid, nextXid],
     * and nextXid's page is created (zeroed) when none is stored.
     */
    private void activateCommitTs() {
        ControlState c = control();
        if (c == null) {
            return; // no checkpoint state yet: nothing to anchor the range at (importers always store one)
        }
        c.activateCommitTs();
        int pageNo = CommitTsDescriptor.page((int) c.nextFullXid());
        Key key = Key.slruPage(Key.SLRU_COMMIT_TS, pageNo);
        if (writer.get(key, lsn) == null) {
            writer.put(key, lsn, new byte[CommitTsDescriptor.PAGE_SIZE]);
        }
    }

    /**
     * {@code DeactivateCommitTs}: every page of the valid range [oldestCommitTsXid, nextXid] goes
     * ({@code SlruScanDirCbDeleteAll}; pages outside it are never read, nor written by basebackups),
     * then the range becomes invalid.
     */
    private void deactivateCommitTs() {
        ControlState c = control();
        if (c == null) {
            return;
        }
        if (c.oldestCommitTsXid() != 0) {
            int[] segs = CommitTsDescriptor.segmentsBetween(CommitTsDescriptor.page(c.oldestCommitTsXid()),
                    CommitTsDescriptor.page((int) c.nextFullXid()));
            for (int seg : segs) {
                deleteCommitTsSegment(seg);
            }
        }
        c.deactivateCommitTs();
    }

    /** Tombstones the stored pages of commit-ts segment {@code seg}. */
    private void deleteCommitTsSegment(int seg) {
        int first = seg * CommitTsDescriptor.PAGES_PER_SEGMENT;
        Key to = seg == CommitTsDescriptor.LAST_SEGMENT ? Key.slruPage(Key.SLRU_COMMIT_TS + 1, 0)
                : Key.slruPage(Key.SLRU_COMMIT_TS, first + CommitTsDescriptor.PAGES_PER_SEGMENT);
        for (Key k : writer.scan(Key.slruPage(Key.SLRU_COMMIT_TS, first), to, lsn).keySet()) {
            writer.delete(k, lsn);
        }
    }

    /**
     * {@code TransactionTreeSetCommitTsData} (with {@code SetXidCommitTsInPage} /
     * {@code TransactionIdSetCommitTs}): when active, the entry of {@code xid} and of each subxid,
     * one page version per page touched, and newestCommitTsXid moved to the last subxid (or xid).
     */
    private void setCommitTsData(int xid, int[] subxids, long time, int origin) {
        if (!commitTsActive()) {
            return;
        }
        int pageNo = CommitTsDescriptor.page(xid);
        byte[] page = slruPageCopy(Key.SLRU_COMMIT_TS, pageNo);
        CommitTsDescriptor.setEntry(page, xid, time, origin);
        for (int s : subxids) {
            int p = CommitTsDescriptor.page(s);
            if (p != pageNo) {
                writer.put(Key.slruPage(Key.SLRU_COMMIT_TS, pageNo), lsn, page);
                pageNo = p;
                page = slruPageCopy(Key.SLRU_COMMIT_TS, pageNo);
            }
            CommitTsDescriptor.setEntry(page, s, time, origin);
        }
        writer.put(Key.slruPage(Key.SLRU_COMMIT_TS, pageNo), lsn, page);
        ControlState c = control();
        if (c != null) {
            c.advanceNewestCommitTsXid(subxids.length > 0 ? subxids[subxids.length - 1] : xid);
        }
    }

    /** {@code commit_ts_redo}: ZEROPAGE and TRUNCATE. */
    private void commitTs() {
        byte[] d = rec.mainData();
        switch (rec.type()) {
            case SlruRecordDescriptor.COMMIT_TS_ZEROPAGE ->
                    writer.put(Key.slruPage(Key.SLRU_COMMIT_TS, SlruRecordDescriptor.pageNo(d)), lsn,
                            new byte[CommitTsDescriptor.PAGE_SIZE]);
            case SlruRecordDescriptor.COMMIT_TS_TRUNCATE -> {
                int oldestXid = SlruRecordDescriptor.commitTsTruncateOldestXid(d);
                int cutoff = SlruRecordDescriptor.pageNo(d);
                ControlState c = control();
                if (c != null) {
                    truncateCommitTs(c.oldestCommitTsXid(), oldestXid, cutoff);
                    c.advanceOldestCommitTsXid(oldestXid);
                }
            }
            default -> throw fail("unknown commit_ts record type 0x" + Integer.toHexString(rec.type()), null);
        }
    }

    /**
     * {@code SimpleLruTruncate(CommitTsCtl, cutoffPage)}: tombstones the stored pages of every segment
     * from the one holding the previous oldestCommitTsXid up to the one holding {@code cutoffPage}
     * that lies wholly before it ({@code SlruMayDeleteSegment}); older pages were removed by earlier
     * truncations (or are outside every range a basebackup writes).
     */
    private void truncateCommitTs(int previousOldestXid, int oldestXid, int cutoffPage) {
        if (previousOldestXid == 0 || !ControlState.xidPrecedes(previousOldestXid, oldestXid)) {
            return; // nothing tracked, or nothing older than what earlier truncations left
        }
        int cutoff = cutoffPage - cutoffPage % CommitTsDescriptor.PAGES_PER_SEGMENT;
        for (int seg : CommitTsDescriptor.segmentsBetween(CommitTsDescriptor.page(previousOldestXid), cutoffPage)) {
            if (CommitTsDescriptor.mayDeleteSegment(seg * CommitTsDescriptor.PAGES_PER_SEGMENT, cutoff)) {
                deleteCommitTsSegment(seg);
            }
        }
    }

    // ------------------------------------------------------------------ multixacts

    private void multixact() {
        byte[] d = rec.mainData();
        switch (rec.type()) {
            case SlruRecordDescriptor.XLOG_MULTIXACT_ZERO_OFF_PAGE ->
                    writer.put(Key.slruPage(Key.SLRU_MULTIXACT_OFFSETS, SlruRecordDescriptor.pageNo(d)), lsn,
                            new byte[MultiXactDescriptor.PAGE_SIZE]);
            case SlruRecordDescriptor.XLOG_MULTIXACT_ZERO_MEM_PAGE ->
                    writer.put(Key.slruPage(Key.SLRU_MULTIXACT_MEMBERS, SlruRecordDescriptor.pageNo(d)), lsn,
                            new byte[MultiXactDescriptor.PAGE_SIZE]);
            case SlruRecordDescriptor.XLOG_MULTIXACT_CREATE_ID -> createMulti(d);
            case SlruRecordDescriptor.XLOG_MULTIXACT_TRUNCATE_ID -> {
                LittleEndianReader.require(d, 0, 20, "xl_multixact_truncate");
                ControlState c = control();
                if (c != null) {
                    c.advanceOldestMulti(LittleEndianReader.i32(d, 8), LittleEndianReader.i32(d, 0));
                }
            }
            default -> throw fail("unknown multixact record type 0x" + Integer.toHexString(rec.type()), null);
        }
    }

    /** {@code multixact_redo} CREATE_ID: {@code RecordNewMultiXact} plus the counter advances. */
    private void createMulti(byte[] d) {
        int n = SlruRecordDescriptor.createMembers(d);
        int multi = LittleEndianReader.i32(d, 0);
        int offset = LittleEndianReader.i32(d, 4);

        int pageNo = MultiXactDescriptor.offsetPage(multi);
        byte[] page = slruPageCopy(Key.SLRU_MULTIXACT_OFFSETS, pageNo);
        LittleEndianReader.putI32(page, MultiXactDescriptor.offsetEntryByte(multi), offset);
        int next = MultiXactDescriptor.nextMulti(multi);
        int nextOffset = offset + n;
        if (nextOffset == 0) {
            nextOffset = 1;
        }
        int nextPageNo = MultiXactDescriptor.offsetPage(next);
        if (nextPageNo != pageNo) {
            writer.put(Key.slruPage(Key.SLRU_MULTIXACT_OFFSETS, pageNo), lsn, page);
            pageNo = nextPageNo;
            page = slruPageCopy(Key.SLRU_MULTIXACT_OFFSETS, pageNo);
        }
        LittleEndianReader.putI32(page, MultiXactDescriptor.offsetEntryByte(next), nextOffset);
        writer.put(Key.slruPage(Key.SLRU_MULTIXACT_OFFSETS, pageNo), lsn, page);

        int memberPageNo = -1;
        byte[] mpage = null;
        ControlState c = control();
        for (int i = 0; i < n; i++) {
            int off = offset + i;
            int p = MultiXactDescriptor.memberPage(off);
            if (p != memberPageNo) {
                if (mpage != null) {
                    writer.put(Key.slruPage(Key.SLRU_MULTIXACT_MEMBERS, memberPageNo), lsn, mpage);
                }
                memberPageNo = p;
                mpage = slruPageCopy(Key.SLRU_MULTIXACT_MEMBERS, p);
            }
            int xid = SlruRecordDescriptor.memberXid(d, i);
            int status = SlruRecordDescriptor.memberStatus(d, i);
            LittleEndianReader.putI32(mpage, MultiXactDescriptor.memberOffset(off), xid);
            int flagsOff = MultiXactDescriptor.flagsOffset(off);
            int shift = MultiXactDescriptor.flagsBitShift(off);
            int flags = LittleEndianReader.i32(mpage, flagsOff);
            flags = (flags & ~(0xFF << shift)) | (status << shift);
            LittleEndianReader.putI32(mpage, flagsOff, flags);
            if (c != null) {
                c.advanceNextXidPast(xid);
            }
        }
        writer.put(Key.slruPage(Key.SLRU_MULTIXACT_MEMBERS, memberPageNo), lsn, mpage);
        if (c != null) {
            c.advanceNextMulti(multi + 1, offset + n);
        }
    }

    // ------------------------------------------------------------------ relmap, databases

    private void relmap() {
        if (rec.type() != RelmapRecordDescriptor.XLOG_RELMAP_UPDATE) {
            throw fail("unknown relmap record type 0x" + Integer.toHexString(rec.type()), null);
        }
        byte[] d = rec.mainData();
        byte[] map = RelmapRecordDescriptor.mapFile(d);
        writer.put(Key.relmap(RelmapRecordDescriptor.tsId(d), RelmapRecordDescriptor.dbId(d)), lsn, map);
    }

    private void dbase() {
        byte[] d = rec.mainData();
        switch (rec.type()) {
            case DatabaseRecordDescriptor.XLOG_DBASE_CREATE_FILE_COPY -> {
                LittleEndianReader.require(d, 0, 16, "xl_dbase_create_file_copy_rec");
                copyDatabase(DatabaseRecordDescriptor.srcTablespaceId(d), DatabaseRecordDescriptor.srcDbId(d),
                        DatabaseRecordDescriptor.tablespaceId(d), DatabaseRecordDescriptor.dbId(d));
            }
            case DatabaseRecordDescriptor.XLOG_DBASE_CREATE_WAL_LOG -> {
                LittleEndianReader.require(d, 0, 8, "xl_dbase_create_wal_log_rec");
                writer.put(Key.dbDir(DatabaseRecordDescriptor.tablespaceId(d), DatabaseRecordDescriptor.dbId(d)), lsn,
                        DB_DIR_PRESENT);
            }
            case DatabaseRecordDescriptor.XLOG_DBASE_DROP -> {
                int db = DatabaseRecordDescriptor.dbId(d);
                for (int spc : DatabaseRecordDescriptor.dropTablespaces(d)) {
                    dropDatabase(spc, db);
                }
            }
            default -> throw fail("unknown database record type 0x" + Integer.toHexString(rec.type()), null);
        }
    }

    /**
     * Blocks of a source relation read per scan while copying a database (default 4096: 32 MiB of
     * pages; system property {@code forkline.ingest.copyChunkBlocks}, read at construction, for tests).
     */
    private final int copyChunkBlocks = Math.max(1, Integer.getInteger("forkline.ingest.copyChunkBlocks", 4096));
    /**
     * Staged bytes above which a database copy makes its pages durable before going on (default 64
     * MiB; system property {@code forkline.ingest.copyStagedLimitBytes}).
     */
    private final int copyStagedLimitBytes = Integer.getInteger("forkline.ingest.copyStagedLimitBytes", 64 << 20);

    /**
     * {@code dbase_redo} CREATE_FILE_COPY: the source directory's forks, pages and relmap as of now.
     * A database can be far larger than memory, so the source is read {@link #copyChunkBlocks}
     * blocks at a time, and whenever more than {@link #copyStagedLimitBytes} are staged they are
     * made durable without moving the timeline's last record LSN past the records before this one
     * ({@link #commitStagedBeforeThisRecord}): readers see the new database only once this record
     * is committed, and after a crash the record is ingested again and writes the same versions.
     */
    private void copyDatabase(int srcSpc, int srcDb, int spc, int db) {
        NavigableMap<Key, byte[]> sizes = writer.scan(Key.dbStart(Key.REL_SIZE, srcSpc, srcDb),
                Key.dbEnd(Key.REL_SIZE, srcSpc, srcDb), lsn);
        for (Map.Entry<Key, byte[]> e : sizes.entrySet()) {
            RelTag src = e.getKey().relTag();
            RelSizeValue size = RelSizeValue.decode(e.getValue());
            RelTag dst = new RelTag(spc, db, src.relNumber(), src.forkNum());
            long nblocks = Integer.toUnsignedLong(size.nblocks());
            for (long from = 0; from < nblocks; from += copyChunkBlocks) {
                long to = Math.min(nblocks, from + copyChunkBlocks);
                // block numbers sort as unsigned: (int) to is the exclusive end even past 2^31
                NavigableMap<Key, byte[]> pages = writer.scan(Key.relBlock(src, (int) from), Key.relBlock(src, (int) to), lsn);
                for (Map.Entry<Key, byte[]> p : pages.entrySet()) {
                    int blk = p.getKey().blockNo();
                    // the stored page already carries its pd_lsn / checksum; checksums include the block
                    // number, not the relation, so the page is valid in the new database unchanged
                    writer.put(Key.relBlock(dst, blk), lsn, p.getValue());
                    recentPages.remove(Key.relBlock(dst, blk));
                }
                if (writer.stagedBytes() > copyStagedLimitBytes) {
                    commitStagedBeforeThisRecord();
                }
            }
            putSize(dst, new RelSizeValue(size.nblocks(), lsn));
        }
        byte[] map = writer.get(Key.relmap(srcSpc, srcDb), lsn);
        if (map != null) {
            writer.put(Key.relmap(spc, db), lsn, map);
        }
        writer.put(Key.dbDir(spc, db), lsn, DB_DIR_PRESENT);
    }

    /**
     * Makes everything staged durable with the end LSN of the record before this one (or the
     * timeline's durable last record LSN, whichever is later) as the last record LSN: the versions of
     * earlier records are then exactly as a normal commit would store them, and this record's
     * versions (at its end LSN, above that) stay invisible until the record itself is committed.
     */
    private void commitStagedBeforeThisRecord() {
        long durable = writer.durableLastRecordLsn();
        writer.commit(Long.compareUnsigned(previousEndLsn, durable) > 0 ? previousEndLsn : durable);
    }

    private void dropDatabase(int spc, int db) {
        NavigableMap<Key, byte[]> sizes = writer.scan(Key.dbStart(Key.REL_SIZE, spc, db),
                Key.dbEnd(Key.REL_SIZE, spc, db), lsn);
        for (Key k : sizes.keySet()) {
            dropSize(k.relTag());
        }
        if (writer.get(Key.relmap(spc, db), lsn) != null) {
            writer.delete(Key.relmap(spc, db), lsn);
        }
        writer.delete(Key.dbDir(spc, db), lsn);
    }

    // ------------------------------------------------------------------ storage manager

    private void smgr() {
        byte[] d = rec.mainData();
        switch (rec.type()) {
            case StorageRecordDescriptor.XLOG_SMGR_CREATE -> {
                RelTag rel = StorageRecordDescriptor.createdFork(d);
                if (size(rel) == null) {
                    putSize(rel, new RelSizeValue(0, lsn));
                }
            }
            case StorageRecordDescriptor.XLOG_SMGR_TRUNCATE -> truncate(StorageRecordDescriptor.truncateRel(d),
                    StorageRecordDescriptor.truncateBlkno(d), StorageRecordDescriptor.truncateFlags(d));
            default -> throw fail("unknown storage record type 0x" + Integer.toHexString(rec.type()), null);
        }
    }

    /** {@code smgr_redo} TRUNCATE with {@code FreeSpaceMapPrepareTruncateRel} / {@code visibilitymap_prepare_truncate}. */
    private void truncate(RelTag main, int blkno, int flags) {
        if ((flags & StorageRecordDescriptor.SMGR_TRUNCATE_HEAP) != 0) {
            shrink(main, Integer.toUnsignedLong(blkno));
        }
        if ((flags & StorageRecordDescriptor.SMGR_TRUNCATE_FSM) != 0) {
            RelTag fsm = main.withFork(RelTag.FSM_FORK);
            RelSizeValue cur = size(fsm);
            if (cur != null) {
                long heapBlocks = Integer.toUnsignedLong(blkno);
                int slot = FreeSpaceMapDescriptor.slot(heapBlocks);
                boolean proceed = true;
                if (slot > 0) {
                    long blk = FreeSpaceMapDescriptor.physicalBlock(FreeSpaceMapDescriptor.logicalPage(heapBlocks));
                    if (blk >= Integer.toUnsignedLong(cur.nblocks())) {
                        proceed = false; // the FSM was already smaller
                    } else {
                        byte[] page = writer.get(Key.relBlock(fsm, (int) blk), lsn);
                        if (page != null) {
                            byte[] copy = page.clone();
                            if (FreeSpaceMapDescriptor.truncateAvail(copy, slot)) {
                                putPage(fsm, (int) blk, copy);
                            }
                        }
                    }
                }
                if (proceed) {
                    shrink(fsm, FreeSpaceMapDescriptor.truncatedBlocks(heapBlocks));
                }
            }
        }
        if ((flags & StorageRecordDescriptor.SMGR_TRUNCATE_VM) != 0) {
            RelTag vm = main.withFork(RelTag.VM_FORK);
            RelSizeValue cur = size(vm);
            if (cur != null) {
                int newBlocks = VisibilityMapDescriptor.truncatedMapBlocks(blkno);
                boolean partial = newBlocks != VisibilityMapDescriptor.mapBlock(blkno);
                boolean proceed = true;
                if (partial) {
                    int blk = VisibilityMapDescriptor.mapBlock(blkno);
                    if (Integer.compareUnsigned(blk, cur.nblocks()) >= 0) {
                        proceed = false;
                    } else {
                        byte[] page = writer.get(Key.relBlock(vm, blk), lsn);
                        if (page != null) {
                            byte[] copy = page.clone();
                            if (VisibilityMapDescriptor.clearTail(copy, blkno)) {
                                putPage(vm, blk, copy);
                            }
                        }
                    }
                }
                if (proceed) {
                    shrink(vm, Integer.toUnsignedLong(newBlocks));
                }
            }
        }
    }

    private void shrink(RelTag rel, long nblocks) {
        RelSizeValue cur = size(rel);
        if (cur != null && Integer.toUnsignedLong(cur.nblocks()) > nblocks) {
            putSize(rel, new RelSizeValue((int) nblocks, cur.createdLsn()));
        }
    }

    // ------------------------------------------------------------------ heap visibility map clears

    private void heap() {
        int op = rec.info() & HeapRecordDescriptor.OPMASK;
        byte[] d = rec.mainData();
        switch (op) {
            case HeapRecordDescriptor.XLOG_HEAP_INSERT -> {
                if ((HeapRecordDescriptor.flags(d, HeapRecordDescriptor.INSERT_FLAGS_OFFSET)
                        & HeapRecordDescriptor.XLH_INSERT_ALL_VISIBLE_CLEARED) != 0) {
                    clearVm(block(0), VisibilityMapDescriptor.VALID_BITS);
                }
            }
            case HeapRecordDescriptor.XLOG_HEAP_DELETE -> {
                if ((HeapRecordDescriptor.flags(d, HeapRecordDescriptor.DELETE_FLAGS_OFFSET)
                        & HeapRecordDescriptor.XLH_DELETE_ALL_VISIBLE_CLEARED) != 0) {
                    clearVm(block(0), VisibilityMapDescriptor.VALID_BITS);
                }
            }
            case HeapRecordDescriptor.XLOG_HEAP_UPDATE, HeapRecordDescriptor.XLOG_HEAP_HOT_UPDATE -> {
                int flags = HeapRecordDescriptor.flags(d, HeapRecordDescriptor.UPDATE_FLAGS_OFFSET);
                BlockReference newBlock = block(0);
                BlockReference oldBlock = rec.block(1) != null ? rec.block(1) : newBlock;
                if ((flags & HeapRecordDescriptor.XLH_UPDATE_OLD_ALL_VISIBLE_CLEARED) != 0) {
                    clearVm(oldBlock, VisibilityMapDescriptor.VALID_BITS);
                }
                if ((flags & HeapRecordDescriptor.XLH_UPDATE_NEW_ALL_VISIBLE_CLEARED) != 0) {
                    clearVm(newBlock, VisibilityMapDescriptor.VALID_BITS);
                }
            }
            case HeapRecordDescriptor.XLOG_HEAP_LOCK -> {
                if ((HeapRecordDescriptor.flags(d, HeapRecordDescriptor.LOCK_FLAGS_OFFSET)
                        & HeapRecordDescriptor.XLH_LOCK_ALL_FROZEN_CLEARED) != 0) {
                    clearVm(block(0), VisibilityMapDescriptor.ALL_FROZEN);
                }
            }
            default -> {
                // TRUNCATE, CONFIRM, INPLACE: images only
            }
        }
    }

    private void heap2() {
        int op = rec.info() & HeapRecordDescriptor.OPMASK;
        byte[] d = rec.mainData();
        if (op == HeapRecordDescriptor.XLOG_HEAP2_MULTI_INSERT) {
            if ((HeapRecordDescriptor.flags(d, HeapRecordDescriptor.MULTI_INSERT_FLAGS_OFFSET)
                    & HeapRecordDescriptor.XLH_INSERT_ALL_VISIBLE_CLEARED) != 0) {
                clearVm(block(0), VisibilityMapDescriptor.VALID_BITS);
            }
        } else if (op == HeapRecordDescriptor.XLOG_HEAP2_LOCK_UPDATED) {
            if ((HeapRecordDescriptor.flags(d, HeapRecordDescriptor.LOCK_FLAGS_OFFSET)
                    & HeapRecordDescriptor.XLH_LOCK_ALL_FROZEN_CLEARED) != 0) {
                clearVm(block(0), VisibilityMapDescriptor.ALL_FROZEN);
            }
        }
    }

    private BlockReference block(int id) {
        BlockReference b = rec.block(id);
        if (b == null) {
            throw fail("heap record has no block reference " + id, null);
        }
        return b;
    }

    /** {@code visibilitymap_clear} of the heap block's bits; nothing when the VM fork or page is absent. */
    private void clearVm(BlockReference heapBlock, int bits) {
        RelTag vm = heapBlock.relTag().withFork(RelTag.VM_FORK);
        RelSizeValue vmSize = size(vm);
        if (vmSize == null) {
            return;
        }
        int mapBlock = VisibilityMapDescriptor.mapBlock(heapBlock.blockNo());
        if (Integer.compareUnsigned(mapBlock, vmSize.nblocks()) >= 0) {
            return;
        }
        byte[] page = writer.get(Key.relBlock(vm, mapBlock), lsn);
        if (page == null) {
            return;
        }
        byte[] copy = page.clone();
        if (VisibilityMapDescriptor.clear(copy, heapBlock.blockNo(), bits)) {
            putPage(vm, mapBlock, copy);
        }
    }
}
