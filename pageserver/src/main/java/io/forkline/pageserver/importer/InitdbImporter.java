package io.forkline.pageserver.importer;

import io.forkline.pageserver.basebackup.ControlFileData;
import io.forkline.pageserver.basebackup.ControlFileDataDescriptor;
import io.forkline.pageserver.basebackup.SlruLayout;
import io.forkline.pageserver.basebackup.TenantBootstrapFiles;
import io.forkline.storage.id.TenantId;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.key.Key;
import io.forkline.storage.key.RelSizeValue;
import io.forkline.storage.key.RelTag;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;
import io.forkline.storage.store.TimelineWriter;
import io.forkline.storage.timeline.TimelineMetadata;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Imports a freshly {@code initdb}'d, cleanly shut down PostgreSQL 15 data directory into a
 * timeline: the tenant bootstrap (ARCHITECTURE.md, "Bootstrap").
 *
 * <p>Every value is stored at the <b>import LSN</b>: the end (next-record position, MAXALIGNed)
 * of initdb's final shutdown checkpoint record, i.e. {@code pg_control.checkPoint} + 120 for the
 * usual 114-byte record; {@link #inspect} reads it from {@code pg_wal} and checks it.
 * <ul>
 *   <li>{@code REL_BLOCK} / {@code REL_SIZE} (createdLsn = import LSN) for every fork file of
 *       {@code global/} (spc 1664, db 0) and {@code base/<db>/} (spc 1663), all segments;</li>
 *   <li>{@code DB_DIR} for {@code global} and every {@code base/<db>} with a {@code PG_VERSION};</li>
 *   <li>{@code RELMAP} for every {@code pg_filenode.map};</li>
 *   <li>{@code SLRU_PAGE} for every 8192-byte page of {@code pg_xact}, {@code pg_multixact/offsets},
 *       {@code pg_multixact/members} and {@code pg_commit_ts} (page = hex segment number &times; 32 + index);</li>
 *   <li>{@code PARAMETERS}: pg_control's {@code MaxConnections} .. {@code track_commit_timestamp}
 *       (whether ingest maintains {@code pg_commit_ts} from here on);</li>
 *   <li>{@code TWOPHASE} for any {@code pg_twophase} file; {@code CONTROL} = pg_control's
 *       {@code checkPointCopy}.</li>
 * </ul>
 * The original pg_control bytes and initdb's effective {@code postgresql.conf} lines go to
 * {@link TenantBootstrapFiles} for every later basebackup. Tablespaces other than pg_default and
 * pg_global are refused (initdb creates none).
 *
 * <p>Timeline creation: {@link #bootstrap} creates the root timeline with {@code startLsn} = the
 * import LSN (read from the directory first), imports, and commits at that LSN; callers with their
 * own timeline use {@link #inspect} then {@link #importInto}. Not thread-safe per writer.
 */
public final class InitdbImporter {
    /** Commit the writer when this many bytes are staged (bounded memory for big directories). */
    private static final int COMMIT_BYTES = 64 << 20;
    private static final int PAGE_SIZE = 8192;

    /**
     * What {@link #inspect} found.
     *
     * @param control       the parsed pg_control
     * @param controlBytes  the pg_control file as read (8192 bytes)
     * @param checkpointLsn {@code pg_control.checkPoint}: LSN of initdb's shutdown checkpoint record
     * @param importLsn     end LSN of that record: the LSN every imported version gets
     */
    public record Inspection(ControlFileData control, byte[] controlBytes, long checkpointLsn, long importLsn) {
    }

    private final PageStore store;

    /** @param store where the tenant's bootstrap files are recorded */
    public InitdbImporter(PageStore store) {
        this.store = store;
    }

    /**
     * Reads and checks {@code dataDir/global/pg_control} and the checkpoint record it points to.
     *
     * @throws ImportException when the directory is not a cleanly shut down PostgreSQL 15 cluster
     *                         (state, versions, CRCs, record type), naming the offending value
     */
    public static Inspection inspect(Path dataDir) {
        String version = readString(dataDir.resolve("PG_VERSION")).trim();
        if (!version.equals("15")) {
            throw new ImportException(dataDir + "/PG_VERSION says '" + version + "', Forkline imports PostgreSQL 15");
        }
        byte[] bytes = readBytes(dataDir.resolve("global/pg_control"));
        ControlFileData control;
        try {
            control = ControlFileData.parse(bytes);
        } catch (RuntimeException e) {
            throw new ImportException("invalid " + dataDir + "/global/pg_control: " + e.getMessage(), e);
        }
        if (control.state() != ControlFileDataDescriptor.DB_SHUTDOWNED) {
            throw new ImportException("cluster in " + dataDir + " has state " + control.state()
                    + ", expected " + ControlFileDataDescriptor.DB_SHUTDOWNED + " (shut down cleanly)");
        }
        if (control.xlogSegSize() != Lsn.WAL_SEGMENT_SIZE || control.xlogBlcksz() != Lsn.WAL_PAGE_SIZE
                || control.blcksz() != PAGE_SIZE) {
            throw new ImportException("cluster in " + dataDir + " has xlog_seg_size " + control.xlogSegSize()
                    + ", xlog_blcksz " + control.xlogBlcksz() + ", blcksz " + control.blcksz()
                    + "; Forkline supports 16 MiB / 8192 / 8192");
        }
        long cpLsn = control.checkPoint();
        var cp = control.checkPointCopy();
        if (cp.redo() != cpLsn) {
            throw new ImportException("checkpoint at " + Lsn.format(cpLsn) + " has redo " + Lsn.format(cp.redo())
                    + ": not a shutdown checkpoint");
        }
        long end = CheckpointRecordReader.recordEnd(dataDir.resolve("pg_wal"), cp.thisTimeLineId(), cpLsn, cp);
        return new Inspection(control, bytes, cpLsn, end);
    }

    /**
     * Creates the tenant's root timeline (startLsn = import LSN, PostgreSQL 15) and imports
     * {@code dataDir} into it. When the import fails the timeline is deleted again.
     *
     * @return the new timeline's metadata
     * @throws ImportException         when the directory cannot be imported
     * @throws IllegalArgumentException when the timeline already exists
     */
    public TimelineMetadata bootstrap(TenantId tenant, TimelineId timeline, Path dataDir) {
        Inspection inspection = inspect(dataDir);
        TimelineMetadata md = new TimelineMetadata(timeline, tenant, null, Lsn.INVALID, inspection.importLsn(), 15,
                Instant.now());
        store.createTimeline(md);
        try (TimelineWriter writer = store.writer(timeline)) {
            importInto(dataDir, writer);
        } catch (RuntimeException e) {
            try {
                store.deleteTimeline(timeline);
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
        return md;
    }

    /**
     * Static convenience for the tenant service: {@code new InitdbImporter(store).bootstrap(...)}.
     *
     * @return the import LSN (the new root timeline's start and last record LSN)
     * @throws ImportException         when the directory cannot be imported
     * @throws IllegalArgumentException when the timeline already exists
     */
    public static long importCluster(PageStore store, TenantId tenant, TimelineId timeline, Path dataDir) {
        return new InitdbImporter(store).bootstrap(tenant, timeline, dataDir).startLsn();
    }

    /**
     * Stages every file of {@code dataDir} as versions at the import LSN, records the tenant's
     * bootstrap files, and commits the writer at the import LSN.
     *
     * @param writer a writer of an existing timeline whose last record LSN is at most the import LSN
     * @return the import LSN
     * @throws ImportException when the directory cannot be imported or the timeline is already past it
     */
    public long importInto(Path dataDir, TimelineWriter writer) {
        Inspection in = inspect(dataDir);
        long lsn = in.importLsn();
        TimelineMetadata md = store.timeline(writer.timeline());
        if (md == null) {
            throw new ImportException("timeline " + writer.timeline() + " does not exist");
        }
        long last = store.lastRecordLsn(writer.timeline());
        if (Long.compareUnsigned(last, lsn) > 0) {
            throw new ImportException("timeline " + writer.timeline() + " is already at " + Lsn.format(last)
                    + ", past the import LSN " + Lsn.format(lsn));
        }
        Run run = new Run(dataDir, writer, lsn, in.control().relsegSize());
        run.importAll();
        writer.put(Key.control(), lsn, in.control().checkPointCopy().encode());
        writer.put(Key.parameters(), lsn, in.control().parameters().encode());
        TenantBootstrapFiles.putControlFile(store, md.tenant(), in.controlBytes());
        TenantBootstrapFiles.putConfig(store, md.tenant(), effectiveSettings(dataDir.resolve("postgresql.conf")));
        writer.commit(lsn);
        return lsn;
    }

    /** The non-comment, non-blank lines of a postgresql.conf (comments after values removed). */
    static String effectiveSettings(Path conf) {
        return effectiveSettings(conf, null);
    }

    /** As {@link #effectiveSettings(Path)}, keeping only the lines whose setting name is in {@code keep} (all when null). */
    static String effectiveSettings(Path conf, java.util.Set<String> keep) {
        if (!Files.exists(conf)) {
            return "";
        }
        StringBuilder out = new StringBuilder();
        for (String line : readString(conf).split("\n")) {
            String s = stripComment(line).strip();
            String name = s.split("[\\s=]", 2)[0].toLowerCase(java.util.Locale.ROOT);
            if (!s.isEmpty() && (keep == null || keep.contains(name))) {
                out.append(s).append('\n');
            }
        }
        return out.toString();
    }

    private static String stripComment(String line) {
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\'') {
                quoted = !quoted;
            } else if (c == '#' && !quoted) {
                return line.substring(0, i);
            }
        }
        return line;
    }

    /** One import. */
    static final class Run {
        private final Path dataDir;
        private final TimelineWriter writer;
        private final long lsn;
        private final int relsegSize;

        Run(Path dataDir, TimelineWriter writer, long lsn, int relsegSize) {
            this.dataDir = dataDir;
            this.writer = writer;
            this.lsn = lsn;
            this.relsegSize = relsegSize;
        }

        void importAll() {
            writer.put(Key.dbDir(RelTag.GLOBAL_TABLESPACE_OID, 0), lsn, new byte[] {1});
            importDatabaseDirectory(dataDir.resolve("global"), RelTag.GLOBAL_TABLESPACE_OID, 0);
            for (Path db : list(dataDir.resolve("base"))) {
                String name = db.getFileName().toString();
                if (name.equals("pgsql_tmp")) {
                    continue; // temporary files of a previous run, not data
                }
                if (!Files.isDirectory(db) || !name.matches("[0-9]{1,10}") || Long.parseLong(name) > 0xFFFFFFFFL) {
                    throw new ImportException("unexpected entry " + db + " in base/: expected database OID directories");
                }
                int dbOid = (int) Long.parseLong(name);
                if (Files.exists(db.resolve("PG_VERSION"))) {
                    writer.put(Key.dbDir(RelTag.DEFAULT_TABLESPACE_OID, dbOid), lsn, new byte[] {1});
                }
                importDatabaseDirectory(db, RelTag.DEFAULT_TABLESPACE_OID, dbOid);
            }
            List<Path> tablespaces = list(dataDir.resolve("pg_tblspc"));
            if (!tablespaces.isEmpty()) {
                throw new ImportException("cluster has tablespaces " + tablespaces
                        + ": Forkline imports only pg_default and pg_global");
            }
            importSlru(Key.SLRU_CLOG, dataDir.resolve("pg_xact"));
            importSlru(Key.SLRU_MULTIXACT_OFFSETS, dataDir.resolve("pg_multixact/offsets"));
            importSlru(Key.SLRU_MULTIXACT_MEMBERS, dataDir.resolve("pg_multixact/members"));
            importSlru(Key.SLRU_COMMIT_TS, dataDir.resolve("pg_commit_ts"));
            for (Path f : list(dataDir.resolve("pg_twophase"))) {
                String name = f.getFileName().toString();
                if (!name.matches("[0-9A-Fa-f]{8}")) {
                    throw new ImportException("unexpected file " + f + " in pg_twophase: expected 8 hex digits (an xid)");
                }
                writer.put(Key.twoPhase((int) Long.parseLong(name, 16)), lsn, readBytes(f));
            }
        }

        private void importDatabaseDirectory(Path dir, int spc, int db) {
            Path map = dir.resolve("pg_filenode.map");
            if (Files.exists(map)) {
                byte[] b = readBytes(map);
                if (b.length != 512) {
                    throw new ImportException(map + " has " + b.length + " bytes, expected 512");
                }
                writer.put(Key.relmap(spc, db), lsn, b);
            }
            Map<RelTag, TreeMap<Integer, Path>> forks = new TreeMap<>(
                    (a, b) -> a.relNumber() != b.relNumber()
                            ? Integer.compareUnsigned(a.relNumber(), b.relNumber())
                            : Integer.compare(a.forkNum(), b.forkNum()));
            for (Path f : list(dir)) {
                RelationFileName name = RelationFileName.parse(f.getFileName().toString());
                if (name == null || !Files.isRegularFile(f)) {
                    continue; // PG_VERSION, pg_filenode.map, pg_internal.init, temp files
                }
                RelTag rel = new RelTag(spc, db, name.relNumber(), name.forkNum());
                forks.computeIfAbsent(rel, r -> new TreeMap<>()).put(name.segNo(), f);
            }
            for (Map.Entry<RelTag, TreeMap<Integer, Path>> e : forks.entrySet()) {
                importFork(e.getKey(), e.getValue());
            }
        }

        private void importFork(RelTag rel, TreeMap<Integer, Path> segments) {
            long nblocks = 0;
            int expectedSeg = 0;
            for (Map.Entry<Integer, Path> seg : segments.entrySet()) {
                Path f = seg.getValue();
                if (seg.getKey() != expectedSeg) {
                    throw new ImportException("relation " + rel + " has segment " + seg.getKey() + " (" + f
                            + ") but no segment " + expectedSeg);
                }
                long size = size(f);
                if (size % PAGE_SIZE != 0) {
                    throw new ImportException(f + " has " + size + " bytes, not a multiple of " + PAGE_SIZE);
                }
                long blocks = size / PAGE_SIZE;
                if (blocks > relsegSize || (blocks < relsegSize && seg.getKey() != segments.lastKey())) {
                    throw new ImportException(f + " has " + blocks + " blocks; every segment but the last must have "
                            + relsegSize);
                }
                long first = (long) seg.getKey() * relsegSize;
                try (InputStream in = Files.newInputStream(f)) {
                    for (long i = 0; i < blocks; i++) {
                        byte[] page = in.readNBytes(PAGE_SIZE);
                        if (page.length != PAGE_SIZE) {
                            throw new ImportException(f + " shrank while being read, at block " + i);
                        }
                        writer.put(Key.relBlock(rel, (int) (first + i)), lsn, page);
                        maybeCommit();
                    }
                } catch (IOException ex) {
                    throw new ImportException("cannot read " + f + ": " + ex.getMessage(), ex);
                }
                nblocks = first + blocks;
                expectedSeg++;
            }
            writer.put(Key.relSize(rel), lsn, new RelSizeValue((int) nblocks, lsn).encode());
        }

        private void importSlru(int slru, Path dir) {
            for (Path f : list(dir)) {
                String name = f.getFileName().toString();
                if (!name.matches("[0-9A-F]{4,6}")) {
                    throw new ImportException("unexpected file " + f + " in " + dir
                            + ": expected an SLRU segment named by 4 to 6 hex digits");
                }
                long segNo = Long.parseLong(name, 16);
                byte[] b = readBytes(f);
                if (b.length % SlruLayout.PAGE_SIZE != 0 || b.length > SlruLayout.PAGE_SIZE * SlruLayout.PAGES_PER_SEGMENT) {
                    throw new ImportException(f + " has " + b.length + " bytes, expected a multiple of "
                            + SlruLayout.PAGE_SIZE + " up to " + SlruLayout.PAGE_SIZE * SlruLayout.PAGES_PER_SEGMENT);
                }
                for (int i = 0; i < b.length / SlruLayout.PAGE_SIZE; i++) {
                    byte[] page = new byte[SlruLayout.PAGE_SIZE];
                    System.arraycopy(b, i * SlruLayout.PAGE_SIZE, page, 0, SlruLayout.PAGE_SIZE);
                    writer.put(Key.slruPage(slru, (int) (segNo * SlruLayout.PAGES_PER_SEGMENT + i)), lsn, page);
                }
                maybeCommit();
            }
        }

        private void maybeCommit() {
            if (writer.stagedBytes() >= COMMIT_BYTES) {
                writer.commit(lsn);
            }
        }
    }

    // ---------------------------------------------------------------- file helpers

    private static List<Path> list(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> out = new ArrayList<>(s.toList());
            out.sort(null);
            return out;
        } catch (IOException e) {
            throw new ImportException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    private static long size(Path f) {
        try {
            return Files.size(f);
        } catch (IOException e) {
            throw new ImportException("cannot stat " + f + ": " + e.getMessage(), e);
        }
    }

    static byte[] readBytes(Path f) {
        try {
            return Files.readAllBytes(f);
        } catch (NoSuchFileException e) {
            throw new ImportException(f + " is missing: not a PostgreSQL data directory", e);
        } catch (IOException e) {
            throw new ImportException("cannot read " + f + ": " + e.getMessage(), e);
        }
    }

    static String readString(Path f) {
        return new String(readBytes(f), StandardCharsets.UTF_8);
    }
}
