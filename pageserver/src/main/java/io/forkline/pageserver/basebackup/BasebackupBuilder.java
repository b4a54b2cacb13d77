package io.forkline.pageserver.basebackup;

import io.forkline.storage.id.TimelineId;
import io.forkline.storage.key.Key;
import io.forkline.storage.key.RelSizeValue;
import io.forkline.storage.key.RelTag;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;
import io.forkline.storage.store.StorageException;
import io.forkline.storage.timeline.TimelineMetadata;
import io.forkline.wal.ingest.slru.CommitTsDescriptor;
import io.forkline.wal.xlog.CheckPoint;
import io.forkline.wal.xlog.ParameterChange;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;

/**
 * Builds a PostgreSQL 15 data directory for {@code (timeline, lsn)} that <em>stock</em> PostgreSQL
 * starts from without WAL replay, the way {@code pg_resetwal} leaves a cluster
 * ({@code src/bin/pg_resetwal/pg_resetwal.c} {@code RewriteControlFile}, {@code WriteEmptyXLOG}).
 *
 * <p>Contents, all read from the {@link PageStore} as of {@code lsn}:
 * <ul>
 *   <li>{@code PG_VERSION} ("15\n") in the root and in every database directory ({@code DB_DIR}
 *       keys; {@code global/} has none, as after initdb);</li>
 *   <li>every relation fork with a {@code REL_SIZE} key: {@code nblocks} pages, each the newest
 *       version at or below {@code lsn}, or a zero page when there is none or it is older than the
 *       fork's {@code createdLsn} (an earlier incarnation); split into {@code relseg_size}
 *       (1 GiB) segment files {@code N}, {@code N.1}, ...; FSM forks are omitted (a hint that
 *       Postgres rebuilds); for an unlogged relation (one with an init fork) only the init fork is
 *       stored and the main fork is written as a copy of it, which is what Postgres's own
 *       {@code ResetUnloggedRelations} would do after a crash;</li>
 *   <li>{@code pg_filenode.map} files, {@code pg_xact} / {@code pg_multixact} segment files
 *       (missing pages in a written segment are zero pages; the pages holding {@code nextXid},
 *       {@code nextMulti} and {@code nextMultiOffset} always exist, as {@code TrimCLOG} /
 *       {@code TrimMultiXact} read them), {@code pg_twophase} state files;</li>
 *   <li>when the stored {@code PARAMETERS} say {@code track_commit_timestamp} is on at {@code lsn}:
 *       {@code pg_commit_ts} segments covering the checkpoint's commit timestamp range up to
 *       {@code nextXid} (the pages {@code TransactionIdGetCommitTsData} and the next commits touch;
 *       missing pages as zero pages), {@code track_commit_timestamp = on} in {@code postgresql.conf},
 *       and the flag in {@code pg_control} (its other {@code xl_parameter_change} fields from the same
 *       key); without the key, commit timestamps are off;</li>
 *   <li>the empty directories Postgres expects, and {@code postgresql.conf} (initdb's effective
 *       settings; the endpoint manager appends its own), {@code pg_hba.conf} (trust for local,
 *       127.0.0.1/32 and ::1/128, all databases and {@code replication}), {@code pg_ident.conf},
 *       {@code postgresql.auto.conf};</li>
 *   <li>one 16 MiB WAL segment, the one after the segment holding {@code lsn}, with a single
 *       {@code XLOG_CHECKPOINT_SHUTDOWN} record right after its long page header (redo = the
 *       record itself, timeline 1, counters from the stored {@code CONTROL} key, time = now);</li>
 *   <li>{@code global/pg_control}: the tenant's original file ({@link TenantBootstrapFiles}) with
 *       state {@code DB_SHUTDOWNED}, the new checkpoint, no minimum recovery point and no backup
 *       markers; everything else (system identifier, checksums, limits, GUC snapshot) preserved.</li>
 * </ul>
 *
 * <p>Work and memory are linear: one point read per page, pages streamed through the sink; the
 * relation-size, SLRU and small-file key ranges are read into memory (SLRUs are at most a few
 * hundred MB even for very old clusters). Thread-safe if the sink is not shared.
 */
public final class BasebackupBuilder {
    /** Content of every {@code PG_VERSION} file. */
    public static final String PG_VERSION_CONTENT = "15\n";
    /** {@code TABLESPACE_VERSION_DIRECTORY} of PostgreSQL 15. */
    public static final String TABLESPACE_VERSION_DIRECTORY = "PG_15_202209061";
    /** Size of a {@code pg_filenode.map} file ({@code RELMAPPER_FILESIZE}), bytes. */
    public static final int RELMAP_FILE_SIZE = 512;
    /** Directories every data directory has (created empty when nothing is stored in them). */
    public static final List<String> DIRECTORIES = List.of("global", "base", "pg_wal", "pg_wal/archive_status",
            "pg_commit_ts", "pg_dynshmem", "pg_logical", "pg_logical/mappings", "pg_logical/snapshots",
            "pg_multixact", "pg_multixact/members", "pg_multixact/offsets", "pg_notify", "pg_replslot",
            "pg_serial", "pg_snapshots", "pg_stat", "pg_stat_tmp", "pg_subtrans", "pg_tblspc", "pg_twophase",
            "pg_xact");
    /** The PostgreSQL timeline id of every synthesized WAL segment and checkpoint. */
    public static final int PG_TIMELINE = 1;

    private static final int PAGE_SIZE = 8192;
    private static final byte[] ZERO_PAGE = new byte[PAGE_SIZE];

    private final PageStore store;
    private final Clock clock;

    /** A builder using the system clock. */
    public BasebackupBuilder(PageStore store) {
        this(store, Clock.systemUTC());
    }

    /**
     * @param store the page store to read
     * @param clock source of the checkpoint / pg_control time and tar entry times
     */
    public BasebackupBuilder(PageStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    /**
     * Writes the data directory for {@code (timeline, lsn)} into {@code targetDir}, with this
     * builder's clock.
     *
     * @param targetDir must not exist or be empty; created with mode 0700 (owner is this process's user)
     * @throws BasebackupException when the timeline/LSN is not servable, state is missing or
     *                             malformed, or writing fails (the directory is then incomplete)
     */
    public BasebackupSummary writeDirectory(TimelineId timeline, long lsn, Path targetDir) {
        try (DirectorySink sink = new DirectorySink(targetDir)) {
            return write(timeline, lsn, sink);
        } catch (IOException e) {
            throw new BasebackupException("cannot write basebackup of timeline " + timeline + " at "
                    + Lsn.format(lsn) + " to " + targetDir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Writes the data directory for {@code (timeline, lsn)} as a ustar stream to {@code out}
     * (not closed; flushed at the end). Same contents as {@link #writeDirectory}.
     *
     * @throws BasebackupException as {@link #writeDirectory}
     */
    public BasebackupSummary writeTar(TimelineId timeline, long lsn, OutputStream out) {
        return writeTar(timeline, lsn, out, false);
    }

    /**
     * {@link #writeTar(TimelineId, long, OutputStream)}, optionally without relation files: with
     * {@code omitRelationPages} the stream holds everything but the relation forks' segment files
     * (database directories, relmaps, SLRUs, two-phase files, config, WAL, pg_control), which is what
     * a lazy data directory writes eagerly; it lists relations with the page service's
     * {@code ListRelations} and reads their pages on demand.
     *
     * @throws BasebackupException as {@link #writeDirectory}
     */
    public BasebackupSummary writeTar(TimelineId timeline, long lsn, OutputStream out, boolean omitRelationPages) {
        return writeTar(timeline, lsn, out, omitRelationPages, false);
    }

    /**
     * {@link #writeTar(TimelineId, long, OutputStream, boolean)}; with {@code walFirstPageOnly} the WAL
     * segment's entry holds only its first page (the synthesized shutdown checkpoint; the other
     * 16 MiB - 8 KiB are zeros), and the reader must extend the file to {@code Lsn.WAL_SEGMENT_SIZE}
     * before PostgreSQL starts on it.
     *
     * @throws BasebackupException as {@link #writeDirectory}
     */
    public BasebackupSummary writeTar(TimelineId timeline, long lsn, OutputStream out, boolean omitRelationPages,
                                      boolean walFirstPageOnly) {
        try (TarSink sink = new TarSink(out, clock)) {
            return write(timeline, lsn, sink, omitRelationPages, walFirstPageOnly);
        } catch (IOException e) {
            throw new BasebackupException("cannot stream basebackup of timeline " + timeline + " at "
                    + Lsn.format(lsn) + ": " + e.getMessage(), e);
        }
    }

    /**
     * Writes the data directory for {@code (timeline, lsn)} to any sink (not closed).
     *
     * @throws BasebackupException as {@link #writeDirectory}
     * @throws IOException         when the sink fails
     */
    public BasebackupSummary write(TimelineId timeline, long lsn, BasebackupSink sink) throws IOException {
        return write(timeline, lsn, sink, false);
    }

    /**
     * {@link #write(TimelineId, long, BasebackupSink)}, optionally without relation files (see
     * {@link #writeTar(TimelineId, long, OutputStream, boolean)}).
     *
     * @throws BasebackupException as {@link #writeDirectory}
     * @throws IOException         when the sink fails
     */
    public BasebackupSummary write(TimelineId timeline, long lsn, BasebackupSink sink, boolean omitRelationPages)
            throws IOException {
        return write(timeline, lsn, sink, omitRelationPages, false);
    }

    private BasebackupSummary write(TimelineId timeline, long lsn, BasebackupSink sink, boolean omitRelationPages,
                                    boolean walFirstPageOnly) throws IOException {
        TimelineMetadata md = store.timeline(timeline);
        if (md == null) {
            throw new BasebackupException("timeline " + timeline + " does not exist");
        }
        long last = store.lastRecordLsn(timeline);
        if (Long.compareUnsigned(lsn, md.startLsn()) < 0 || Long.compareUnsigned(lsn, last) > 0) {
            throw new BasebackupException("LSN " + Lsn.format(lsn) + " is outside timeline " + timeline
                    + "'s servable range [" + Lsn.format(md.startLsn()) + ", " + Lsn.format(last) + "]");
        }
        return new Run(timeline, lsn, sink, TenantBootstrapFiles.controlFile(store, md.tenant()),
                TenantBootstrapFiles.config(store, md.tenant()), omitRelationPages, walFirstPageOnly).execute();
    }

    /** The state of one build. */
    private final class Run {
        private final TimelineId timeline;
        private final long lsn;
        private final BasebackupSink sink;
        private final ControlFileData control;
        private final String initdbConfig;
        private final boolean omitRelationPages;
        private final boolean walFirstPageOnly;
        private final Set<String> directories = new HashSet<>();
        private int relationForks;
        private long relationPages;
        private int skippedForks;
        /** Whether commit timestamps are tracked at this LSN (the stored parameters). */
        private boolean commitTs;

        Run(TimelineId timeline, long lsn, BasebackupSink sink, ControlFileData control, String initdbConfig,
            boolean omitRelationPages, boolean walFirstPageOnly) {
            this.omitRelationPages = omitRelationPages;
            this.walFirstPageOnly = walFirstPageOnly;
            this.timeline = timeline;
            this.lsn = lsn;
            this.sink = sink;
            this.control = control.copy();
            this.initdbConfig = initdbConfig;
        }

        BasebackupSummary execute() throws IOException {
            checkGeometry();
            byte[] cpBytes = read(Key.control());
            if (cpBytes == null) {
                throw new BasebackupException("timeline " + timeline + " has no checkpoint state (CONTROL key) at "
                        + Lsn.format(lsn));
            }
            if (cpBytes.length != CheckPoint.SIZE) {
                throw new BasebackupException("CONTROL value of timeline " + timeline + " at " + Lsn.format(lsn)
                        + " has " + cpBytes.length + " bytes, expected " + CheckPoint.SIZE);
            }
            CheckPoint stored = CheckPoint.decode(cpBytes, 0);
            applyParameters();

            sink.file("PG_VERSION", PG_VERSION_CONTENT.getBytes(StandardCharsets.US_ASCII));
            for (String d : DIRECTORIES) {
                mkdir(d);
            }
            Set<Long> databases = writeDatabaseDirectories();
            writeRelmaps(databases);
            if (!omitRelationPages) {
                writeRelations(databases);
            }
            writeSlrus(stored);
            writeTwoPhaseFiles();
            writeConfigFiles();
            return writeWalAndControl(stored);
        }

        /**
         * The stored {@code xl_parameter_change} values into {@code pg_control}; without them (a store
         * older than the key) commit timestamps were never maintained, so they are off.
         */
        private void applyParameters() {
            byte[] raw = read(Key.parameters());
            ParameterChange p;
            try {
                p = raw == null ? null : ParameterChange.decode(raw, 0);
            } catch (IllegalArgumentException e) {
                throw new BasebackupException("PARAMETERS value of timeline " + timeline + " at " + Lsn.format(lsn)
                        + " is malformed: " + e.getMessage(), e);
            }
            if (p == null) {
                ParameterChange original = control.parameters();
                p = new ParameterChange(original.maxConnections(), original.maxWorkerProcesses(),
                        original.maxWalSenders(), original.maxPreparedXacts(), original.maxLocksPerXact(),
                        original.walLevel(), original.walLogHints(), false);
            }
            control.parameters(p);
            commitTs = p.trackCommitTimestamp();
        }

        private void checkGeometry() {
            if (control.blcksz() != PAGE_SIZE || control.xlogBlcksz() != Lsn.WAL_PAGE_SIZE
                    || control.xlogSegSize() != Lsn.WAL_SEGMENT_SIZE || control.relsegSize() <= 0) {
                throw new BasebackupException("unsupported cluster geometry in pg_control: blcksz " + control.blcksz()
                        + ", xlog_blcksz " + control.xlogBlcksz() + ", xlog_seg_size " + control.xlogSegSize()
                        + ", relseg_size " + control.relsegSize() + " (Forkline supports 8192 / 8192 / 16 MiB)");
            }
        }

        private byte[] read(Key key) {
            try {
                return store.get(timeline, key, lsn);
            } catch (StorageException e) {
                throw new BasebackupException("cannot read " + key + " of timeline " + timeline + " at "
                        + Lsn.format(lsn) + ": " + e.getMessage(), e);
            }
        }

        private NavigableMap<Key, byte[]> scan(Key from, Key to) {
            try {
                return store.scan(timeline, from, to, lsn);
            } catch (StorageException e) {
                throw new BasebackupException("cannot scan " + from + " .. " + to + " of timeline " + timeline
                        + " at " + Lsn.format(lsn) + ": " + e.getMessage(), e);
            }
        }

        private void mkdir(String path) throws IOException {
            int slash = path.lastIndexOf('/');
            if (slash > 0) {
                mkdir(path.substring(0, slash));
            }
            if (directories.add(path)) {
                sink.directory(path);
            }
        }

        // ------------------------------------------------------------ databases, relmaps

        private static long dbId(int spc, int db) {
            return (Integer.toUnsignedLong(spc) << 32) | Integer.toUnsignedLong(db);
        }

        private static String databasePath(int spc, int db) {
            if (spc == RelTag.GLOBAL_TABLESPACE_OID) {
                return "global";
            }
            if (spc == RelTag.DEFAULT_TABLESPACE_OID) {
                return "base/" + Integer.toUnsignedString(db);
            }
            return "pg_tblspc/" + Integer.toUnsignedString(spc) + "/" + TABLESPACE_VERSION_DIRECTORY + "/"
                    + Integer.toUnsignedString(db);
        }

        /** Writes database directories; returns their ids (global is always present). */
        private Set<Long> writeDatabaseDirectories() throws IOException {
            Set<Long> dbs = new HashSet<>();
            dbs.add(dbId(RelTag.GLOBAL_TABLESPACE_OID, 0));
            for (Key k : scan(Key.kindStart(Key.DB_DIR), Key.kindEnd(Key.DB_DIR)).keySet()) {
                int spc = k.spcOid();
                int db = k.dbOid();
                dbs.add(dbId(spc, db));
                if (spc == RelTag.GLOBAL_TABLESPACE_OID) {
                    continue;
                }
                String path = databasePath(spc, db);
                mkdir(path);
                sink.file(path + "/PG_VERSION", PG_VERSION_CONTENT.getBytes(StandardCharsets.US_ASCII));
            }
            return dbs;
        }

        private void writeRelmaps(Set<Long> databases) throws IOException {
            for (Map.Entry<Key, byte[]> e : scan(Key.kindStart(Key.RELMAP), Key.kindEnd(Key.RELMAP)).entrySet()) {
                Key k = e.getKey();
                if (e.getValue().length != RELMAP_FILE_SIZE) {
                    throw new BasebackupException(k + " of timeline " + timeline + " at " + Lsn.format(lsn) + " has "
                            + e.getValue().length + " bytes, expected " + RELMAP_FILE_SIZE);
                }
                if (!databases.contains(dbId(k.spcOid(), k.dbOid()))) {
                    continue; // the database was dropped; its relmap is garbage
                }
                sink.file(databasePath(k.spcOid(), k.dbOid()) + "/pg_filenode.map", e.getValue());
            }
        }

        // ------------------------------------------------------------ relations

        private void writeRelations(Set<Long> databases) throws IOException {
            NavigableMap<Key, byte[]> sizes = scan(Key.kindStart(Key.REL_SIZE), Key.kindEnd(Key.REL_SIZE));
            Set<RelTag> unlogged = new HashSet<>();
            for (Key k : sizes.keySet()) {
                RelTag rel = k.relTag();
                if (rel.forkNum() == RelTag.INIT_FORK) {
                    unlogged.add(rel.withFork(RelTag.MAIN_FORK));
                }
            }
            for (Map.Entry<Key, byte[]> e : sizes.entrySet()) {
                RelTag rel = e.getKey().relTag();
                RelSizeValue size;
                try {
                    size = RelSizeValue.decode(e.getValue());
                } catch (IllegalArgumentException ex) {
                    throw new BasebackupException("relation size of " + rel + " on timeline " + timeline + " at "
                            + Lsn.format(lsn) + " is malformed: " + ex.getMessage(), ex);
                }
                boolean isUnlogged = unlogged.contains(rel.withFork(RelTag.MAIN_FORK));
                if (!databases.contains(dbId(rel.spcOid(), rel.dbOid())) || rel.forkNum() == RelTag.FSM_FORK
                        || (isUnlogged && rel.forkNum() != RelTag.INIT_FORK)) {
                    skippedForks++;
                    continue;
                }
                mkdir(databasePath(rel.spcOid(), rel.dbOid()));
                writeFork(rel, size, rel.path());
                if (rel.forkNum() == RelTag.INIT_FORK) {
                    writeFork(rel, size, rel.withFork(RelTag.MAIN_FORK).path());
                }
            }
        }

        /** Writes the pages of {@code source} into segment files {@code basePath}, {@code basePath.1}, ... */
        private void writeFork(RelTag source, RelSizeValue size, String basePath) throws IOException {
            long nblocks = Integer.toUnsignedLong(size.nblocks());
            long segBlocks = control.relsegSize();
            long segments = Math.max(1, (nblocks + segBlocks - 1) / segBlocks);
            for (long seg = 0; seg < segments; seg++) {
                long first = seg * segBlocks;
                long count = Math.min(segBlocks, nblocks - first);
                String path = seg == 0 ? basePath : basePath + "." + seg;
                try (OutputStream out = sink.file(path, count * PAGE_SIZE)) {
                    for (long blk = first; blk < first + count; blk++) {
                        out.write(page(source, (int) blk, size.createdLsn()));
                    }
                }
                relationPages += count;
            }
            relationForks++;
        }

        private byte[] page(RelTag rel, int blockNo, long createdLsn) {
            Key key = Key.relBlock(rel, blockNo);
            PageStore.Version v;
            try {
                v = store.getVersion(timeline, key, lsn);
            } catch (StorageException e) {
                throw new BasebackupException("cannot read " + key + " of timeline " + timeline + " at "
                        + Lsn.format(lsn) + ": " + e.getMessage(), e);
            }
            if (v == null || v.value().length == 0 || Long.compareUnsigned(v.lsn(), createdLsn) < 0) {
                return ZERO_PAGE;
            }
            if (v.value().length != PAGE_SIZE) {
                throw new BasebackupException(key + " of timeline " + timeline + " at version LSN "
                        + Lsn.format(v.lsn()) + " has " + v.value().length + " bytes, expected " + PAGE_SIZE);
            }
            return v.value();
        }

        // ------------------------------------------------------------ SLRUs, two-phase

        private void writeSlrus(CheckPoint cp) throws IOException {
            writeSlru(Key.SLRU_CLOG, SlruLayout.clogPage(cp.nextXid32()));
            writeSlru(Key.SLRU_MULTIXACT_OFFSETS, SlruLayout.multiXactOffsetPage(cp.nextMulti()));
            writeSlru(Key.SLRU_MULTIXACT_MEMBERS, SlruLayout.multiXactMemberPage(cp.nextMultiOffset()));
            if (commitTs) {
                writeCommitTs(cp);
            }
        }

        /**
         * {@code pg_commit_ts} for the range PostgreSQL reads and writes next: the segments from the one
         * holding {@code oldestCommitTsXid} to the one holding {@code nextXid}, each from its page 0 to
         * its last page in that range (or its last stored page, in the last segment), one segment's
         * pages in memory at a time. With an invalid range PostgreSQL's {@code ActivateCommitTs} starts
         * one at nextXid and creates its page, so nothing is written.
         */
        private void writeCommitTs(CheckPoint cp) throws IOException {
            if (cp.oldestCommitTsXid() == 0) {
                return;
            }
            int lastPage = CommitTsDescriptor.page(cp.nextXid32());
            int lastSeg = CommitTsDescriptor.segment(lastPage);
            for (int seg : CommitTsDescriptor.segmentsBetween(CommitTsDescriptor.page(cp.oldestCommitTsXid()), lastPage)) {
                int first = seg * CommitTsDescriptor.PAGES_PER_SEGMENT;
                Key to = seg == CommitTsDescriptor.LAST_SEGMENT ? Key.slruPage(Key.SLRU_COMMIT_TS + 1, 0)
                        : Key.slruPage(Key.SLRU_COMMIT_TS, first + CommitTsDescriptor.PAGES_PER_SEGMENT);
                NavigableMap<Key, byte[]> pages = scan(Key.slruPage(Key.SLRU_COMMIT_TS, first), to);
                int last = seg == CommitTsDescriptor.LAST_SEGMENT ? CommitTsDescriptor.LAST_PAGE
                        : first + CommitTsDescriptor.PAGES_PER_SEGMENT - 1;
                if (seg == lastSeg) {
                    last = pages.isEmpty() ? lastPage : Math.max(lastPage, pages.lastKey().slruPageNo());
                }
                try (OutputStream out = sink.file("pg_commit_ts/" + SlruLayout.segmentFileName(seg),
                        (long) (last - first + 1) * SlruLayout.PAGE_SIZE)) {
                    for (int p = first; p <= last; p++) {
                        byte[] page = pages.get(Key.slruPage(Key.SLRU_COMMIT_TS, p));
                        if (page != null && page.length != SlruLayout.PAGE_SIZE) {
                            throw new BasebackupException("commit timestamp page " + p + " of timeline " + timeline
                                    + " at " + Lsn.format(lsn) + " has " + page.length + " bytes, expected "
                                    + SlruLayout.PAGE_SIZE);
                        }
                        out.write(page == null ? ZERO_PAGE : page);
                    }
                }
            }
        }

        /**
         * Writes the segments of one SLRU that hold stored pages or {@code requiredPage}; each
         * segment file runs from its page 0 to its highest needed page, gaps as zero pages.
         */
        private void writeSlru(int slru, int requiredPage) throws IOException {
            NavigableMap<Key, byte[]> pages = scan(Key.slruPage(slru, 0), Key.slruPage(slru + 1, 0));
            TreeMap<Long, byte[]> byPage = new TreeMap<>();
            for (Map.Entry<Key, byte[]> e : pages.entrySet()) {
                if (e.getValue().length != SlruLayout.PAGE_SIZE) {
                    throw new BasebackupException(e.getKey() + " of timeline " + timeline + " at " + Lsn.format(lsn)
                            + " has " + e.getValue().length + " bytes, expected " + SlruLayout.PAGE_SIZE);
                }
                byPage.put(Integer.toUnsignedLong(e.getKey().slruPageNo()), e.getValue());
            }
            TreeMap<Long, Long> lastPageOfSegment = new TreeMap<>();
            for (long p : byPage.keySet()) {
                lastPageOfSegment.merge(p / SlruLayout.PAGES_PER_SEGMENT, p, Math::max);
            }
            long req = Integer.toUnsignedLong(requiredPage);
            lastPageOfSegment.merge(req / SlruLayout.PAGES_PER_SEGMENT, req, Math::max);
            String dir = SlruLayout.directory(slru);
            for (Map.Entry<Long, Long> seg : lastPageOfSegment.entrySet()) {
                long firstPage = seg.getKey() * SlruLayout.PAGES_PER_SEGMENT;
                long count = seg.getValue() - firstPage + 1;
                try (OutputStream out = sink.file(dir + "/" + SlruLayout.segmentFileName(seg.getKey()),
                        count * SlruLayout.PAGE_SIZE)) {
                    for (long p = firstPage; p < firstPage + count; p++) {
                        out.write(byPage.getOrDefault(p, ZERO_PAGE));
                    }
                }
            }
        }

        private void writeTwoPhaseFiles() throws IOException {
            for (Map.Entry<Key, byte[]> e : scan(Key.kindStart(Key.TWOPHASE), Key.kindEnd(Key.TWOPHASE)).entrySet()) {
                sink.file(String.format("pg_twophase/%08X", e.getKey().xid()), e.getValue());
            }
        }

        // ------------------------------------------------------------ config, WAL, pg_control

        private void writeConfigFiles() throws IOException {
            StringBuilder conf = new StringBuilder()
                    .append("# Written by Forkline's basebackup: initdb's settings of this tenant.\n")
                    .append("# The endpoint manager appends its own settings; later lines win.\n");
            conf.append(initdbConfig);
            if (!initdbConfig.isEmpty() && !initdbConfig.endsWith("\n")) {
                conf.append('\n');
            }
            if (commitTs) {
                // the cluster tracks commit timestamps at this LSN: so does its compute (ComputeSettings
                // appended after this line does not set it)
                conf.append("track_commit_timestamp = on\n");
            }
            sink.file("postgresql.conf", conf.toString().getBytes(StandardCharsets.UTF_8));
            String hba = """
                    # Written by Forkline's basebackup.
                    # TYPE  DATABASE     USER  ADDRESS        METHOD
                    local   all          all                  trust
                    local   replication  all                  trust
                    host    all          all   127.0.0.1/32   trust
                    host    replication  all   127.0.0.1/32   trust
                    host    all          all   ::1/128        trust
                    host    replication  all   ::1/128        trust
                    """;
            sink.file("pg_hba.conf", hba.getBytes(StandardCharsets.UTF_8));
            sink.file("pg_ident.conf", "# MAPNAME  SYSTEM-USERNAME  PG-USERNAME\n".getBytes(StandardCharsets.UTF_8));
            sink.file("postgresql.auto.conf", ("# Do not edit this file manually!\n"
                    + "# It will be overwritten by the ALTER SYSTEM command.\n").getBytes(StandardCharsets.UTF_8));
        }

        private BasebackupSummary writeWalAndControl(CheckPoint stored) throws IOException {
            long cpLsn = ShutdownCheckpointWal.checkpointLsn(lsn);
            long now = clock.instant().getEpochSecond();
            CheckPoint cp = new CheckPoint(cpLsn, PG_TIMELINE, PG_TIMELINE, true, stored.nextXid(), stored.nextOid(),
                    stored.nextMulti(), stored.nextMultiOffset(), stored.oldestXid(), stored.oldestXidDb(),
                    stored.oldestMulti(), stored.oldestMultiDb(), now, stored.oldestCommitTsXid(),
                    stored.newestCommitTsXid(), 0);
            String walName = Lsn.walFileName(PG_TIMELINE, Lsn.segmentNo(cpLsn));
            long walBytes = walFirstPageOnly ? Lsn.WAL_PAGE_SIZE : Lsn.WAL_SEGMENT_SIZE;
            try (OutputStream out = sink.file("pg_wal/" + walName, walBytes)) {
                out.write(ShutdownCheckpointWal.firstPage(cpLsn, PG_TIMELINE, control.systemIdentifier(), cp));
                for (long off = Lsn.WAL_PAGE_SIZE; off < walBytes; off += ZERO_PAGE.length) {
                    out.write(ZERO_PAGE);
                }
            }
            control.state(ControlFileDataDescriptor.DB_SHUTDOWNED)
                    .time(now)
                    .checkPoint(cpLsn)
                    .checkPointCopy(cp)
                    .minRecoveryPoint(0, 0)
                    .backup(0, 0, false);
            sink.file("global/pg_control", control.toBytes());
            return new BasebackupSummary(timeline, lsn, cpLsn, ShutdownCheckpointWal.checkpointEndLsn(cpLsn), walName,
                    relationForks, relationPages, skippedForks);
        }
    }
}
