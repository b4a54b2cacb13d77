package io.forkline.pageserver.importer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.forkline.pageserver.basebackup.ControlFileData;
import io.forkline.pageserver.basebackup.TenantBootstrapFiles;
import io.forkline.storage.id.TenantId;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.key.Key;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;
import io.forkline.storage.store.TimelineWriter;
import io.forkline.storage.timeline.TimelineMetadata;
import io.forkline.wal.record.WalRecord;
import io.forkline.wal.record.XLogRecordDescriptor;
import io.forkline.wal.xlog.CheckPoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Imports a plain-format {@code pg_basebackup} of a <b>running</b> PostgreSQL 15 primary (a fuzzy
 * copy: files were copied while the primary wrote) as the start of a timeline that the primary's
 * WAL then completes.
 *
 * <p>Every file is stored as {@link InitdbImporter} stores a clean cluster's, but at the backup's
 * <b>start LSN</b> ({@code START WAL LOCATION} of {@code backup_label}: the redo pointer of the
 * backup's checkpoint), and the timeline's start and last record LSN are that LSN. The primary's WAL
 * from there on is then ingested as PostgreSQL's own recovery from a base backup replays it: with
 * {@code full_page_writes} (forced on during a backup) the first change of every page after the redo
 * pointer carries a full-page image, which replaces whatever state the copy caught, and later
 * records are redone on that image. The timeline is consistent only from the backup's <b>end LSN</b>
 * ({@code End-LSN} of {@code backup_manifest}'s {@code WAL-Ranges}); the caller refuses points below it.
 *
 * <p>The {@code CONTROL} value is the backup checkpoint's record ({@code CHECKPOINT LOCATION}, read
 * from the backup's {@code pg_wal}, which {@code pg_basebackup -X stream} fills), so that ingest
 * keeps nextXid, nextOid and nextMulti current from the redo pointer on, as recovery initializes
 * them from that record. The stored {@code postgresql.conf} keeps only the locale, time zone, text
 * search and memory lines initdb writes ({@link #KEPT_SETTINGS}): a primary's ports, paths, archive
 * commands or SSL files mean nothing to a compute.
 */
public final class BaseBackupImporter {
    /** Settings of the primary's postgresql.conf that computes of its branches inherit. */
    public static final Set<String> KEPT_SETTINGS = Set.of("max_connections", "shared_buffers", "datestyle",
            "intervalstyle", "timezone", "log_timezone", "lc_messages", "lc_monetary", "lc_numeric", "lc_time",
            "default_text_search_config", "dynamic_shared_memory_type", "max_wal_size", "min_wal_size");

    private static final Pattern START = Pattern.compile("^START WAL LOCATION: ([0-9A-F]+/[0-9A-F]+)", Pattern.MULTILINE);
    private static final Pattern CHECKPOINT = Pattern.compile("^CHECKPOINT LOCATION: ([0-9A-F]+/[0-9A-F]+)",
            Pattern.MULTILINE);
    private static final Pattern TIMELINE = Pattern.compile("^START TIMELINE: ([0-9]+)", Pattern.MULTILINE);

    /**
     * What a base backup directory says about itself.
     *
     * @param startLsn      {@code START WAL LOCATION}: where WAL replay must begin, bytes
     * @param checkpointLsn {@code CHECKPOINT LOCATION}: the backup checkpoint's record
     * @param endLsn        {@code End-LSN} of the manifest: the first consistent point
     * @param timeline      the primary's PostgreSQL timeline at the start
     * @param control       the backup's {@code global/pg_control} (system identifier, checksums)
     * @param controlBytes  its bytes
     * @param checkpoint    the backup checkpoint's record contents
     */
    public record Inspection(long startLsn, long checkpointLsn, long endLsn, int timeline, ControlFileData control,
                             byte[] controlBytes, CheckPoint checkpoint) {
        /** Whether the primary has data checksums. */
        public boolean dataChecksums() {
            return control.dataChecksumVersion() != 0;
        }
    }

    private BaseBackupImporter() {
    }

    /**
     * Reads {@code PG_VERSION}, {@code backup_label}, {@code backup_manifest}, {@code global/pg_control}
     * and the checkpoint record in {@code pg_wal}.
     *
     * @throws ImportException naming the file and value when the directory is not a plain PostgreSQL 15
     *                         base backup with a manifest and its WAL
     */
    public static Inspection inspect(Path dir) {
        String version = InitdbImporter.readString(dir.resolve("PG_VERSION")).trim();
        if (!version.equals("15")) {
            throw new ImportException(dir + "/PG_VERSION says '" + version + "', Forkline imports PostgreSQL 15");
        }
        String label = InitdbImporter.readString(dir.resolve("backup_label"));
        long start = Lsn.parse(group(START, label, "START WAL LOCATION", dir));
        long cpLsn = Lsn.parse(group(CHECKPOINT, label, "CHECKPOINT LOCATION", dir));
        int tli = Integer.parseInt(group(TIMELINE, label, "START TIMELINE", dir));
        long end = manifestEnd(dir.resolve("backup_manifest"), tli);
        if (Long.compareUnsigned(end, start) < 0) {
            throw new ImportException("backup_manifest's End-LSN " + Lsn.format(end) + " is below the start "
                    + Lsn.format(start));
        }
        byte[] bytes = InitdbImporter.readBytes(dir.resolve("global/pg_control"));
        ControlFileData control;
        try {
            control = ControlFileData.parse(bytes);
        } catch (RuntimeException e) {
            throw new ImportException("invalid " + dir + "/global/pg_control: " + e.getMessage(), e);
        }
        if (control.xlogSegSize() != Lsn.WAL_SEGMENT_SIZE || control.xlogBlcksz() != Lsn.WAL_PAGE_SIZE
                || control.blcksz() != 8192) {
            throw new ImportException("the primary has xlog_seg_size " + control.xlogSegSize() + ", xlog_blcksz "
                    + control.xlogBlcksz() + ", blcksz " + control.blcksz() + "; Forkline supports 16 MiB / 8192 / 8192");
        }
        WalRecord rec = CheckpointRecordReader.recordAt(dir.resolve("pg_wal"), tli, cpLsn);
        if (rec.rmid() != XLogRecordDescriptor.RM_XLOG_ID
                || (rec.type() != XLogRecordDescriptor.XLOG_CHECKPOINT_ONLINE
                && rec.type() != XLogRecordDescriptor.XLOG_CHECKPOINT_SHUTDOWN)
                || rec.mainData().length != CheckPoint.SIZE) {
            throw new ImportException("record at CHECKPOINT LOCATION " + Lsn.format(cpLsn) + " is not a checkpoint (rmid "
                    + rec.rmid() + ", info 0x" + Integer.toHexString(rec.info()) + ")");
        }
        CheckPoint cp = CheckPoint.decode(rec.mainData(), 0);
        if (cp.redo() != start) {
            throw new ImportException("the checkpoint at " + Lsn.format(cpLsn) + " has redo " + Lsn.format(cp.redo())
                    + ", backup_label says START WAL LOCATION " + Lsn.format(start));
        }
        return new Inspection(start, cpLsn, end, tli, control, bytes, cp);
    }

    private static String group(Pattern p, String text, String what, Path dir) {
        Matcher m = p.matcher(text);
        if (!m.find()) {
            throw new ImportException(dir + "/backup_label has no '" + what + "' line");
        }
        return m.group(1);
    }

    private static long manifestEnd(Path manifest, int tli) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readAllBytes(manifest));
        } catch (IOException e) {
            throw new ImportException("cannot read " + manifest + " (pg_basebackup writes it unless --no-manifest): "
                    + e.getMessage(), e);
        }
        JsonNode ranges = root.path("WAL-Ranges");
        if (!ranges.isArray() || ranges.size() != 1) {
            throw new ImportException(manifest + " has " + ranges.size() + " WAL ranges, expected 1 (no timeline switch"
                    + " during the backup)");
        }
        JsonNode r = ranges.get(0);
        if (r.path("Timeline").asInt() != tli) {
            throw new ImportException(manifest + " names timeline " + r.path("Timeline") + ", backup_label " + tli);
        }
        return Lsn.parse(r.path("End-LSN").asText());
    }

    /**
     * Creates the root timeline {@code timeline} of {@code tenant} at the backup's start LSN and stores
     * the backup there (see the class comment). When the import fails the timeline is deleted again.
     *
     * @return what the backup said about itself
     * @throws ImportException naming what is wrong with the directory
     */
    public static Inspection importBackup(PageStore store, TenantId tenant, TimelineId timeline, Path dir) {
        Inspection in = inspect(dir);
        long lsn = in.startLsn();
        store.createTimeline(new TimelineMetadata(timeline, tenant, null, Lsn.INVALID, lsn, 15, Instant.now()));
        try (TimelineWriter writer = store.writer(timeline)) {
            new InitdbImporter.Run(dir, writer, lsn, in.control().relsegSize()).importAll();
            writer.put(Key.control(), lsn, in.checkpoint().encode());
            writer.put(Key.parameters(), lsn, in.control().parameters().encode());
            TenantBootstrapFiles.putControlFile(store, tenant, in.controlBytes());
            TenantBootstrapFiles.putConfig(store, tenant,
                    InitdbImporter.effectiveSettings(dir.resolve("postgresql.conf"), KEPT_SETTINGS));
            writer.commit(lsn);
        } catch (RuntimeException e) {
            try {
                store.deleteTimeline(timeline);
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
        return in;
    }
}
