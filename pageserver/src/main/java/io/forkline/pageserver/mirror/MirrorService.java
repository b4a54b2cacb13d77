package io.forkline.pageserver.mirror;

import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.pageserver.api.ApiException;
import io.forkline.pageserver.importer.BaseBackupImporter;
import io.forkline.pageserver.importer.ImportException;
import io.forkline.pageserver.metadata.MetadataRecords;
import io.forkline.pageserver.server.Directories;
import io.forkline.storage.id.TenantId;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;
import io.forkline.wal.replication.WalReceiver;
import io.forkline.wal.replication.WalReceiverConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Physical import of a running PostgreSQL 15 primary, and the mirrors that keep such tenants'
 * {@code main} in step with their primary (ARCHITECTURE.md, "Mirrors of a running primary").
 *
 * <p>Import ({@link #prepare}): check the primary (PostgreSQL 15, {@code IDENTIFY_SYSTEM}), create
 * the physical slot {@code forkline_<tenant>} with {@code RESERVE_WAL} (it holds WAL from the last
 * checkpoint's redo pointer, before the backup starts), run {@code pg_basebackup -X stream -c fast}
 * into {@code <data>/tmp}, store it at its start LSN ({@link BaseBackupImporter}), stream the WAL from
 * the slot from there, wait until the backup's end LSN is durable, and raise the timeline's applied
 * GC cutoff to it (so every branch point below the consistent point is refused, by the store itself).
 * A failure drops the slot and the timeline again. Then ({@link #activate}) the mirror keeps
 * streaming for as long as the server runs; {@link #resumeAll} starts it again after a restart, from
 * the timeline's durable LSN, which the slot still holds (it only advances with our acknowledgements).
 *
 * <p>Thread-safe. Imports of one tenant name are serialized by the caller (the tenant's lock).
 */
public final class MirrorService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MirrorService.class);
    /** How long an import waits for the WAL up to the backup's end to be ingested. */
    static final Duration CATCH_UP_TIMEOUT = Duration.ofMinutes(10);
    private static final Duration BASEBACKUP_TIMEOUT = Duration.ofHours(12);

    private final PageStore store;
    private final PostgresInstallation pg;
    private final Path dataDir;
    private final Clock clock;
    private final MetadataRecords records;
    private final Map<String, PrimaryMirror> running = new ConcurrentHashMap<>();
    private final Map<String, MirrorRecord> known = new ConcurrentHashMap<>();
    private final ScheduledExecutorService poller;

    /** Prefix of a {@link MirrorRecord#primary()} sealed with the server's secret key. */
    private static final String SEALED = "sealed:";
    private final io.forkline.pageserver.access.SecretBox box;

    /**
     * @param box the server's secret key: the primary's URI (with its password) is sealed with it in
     *            the mirror record, never stored in clear
     */
    public MirrorService(PageStore store, PostgresInstallation pg, Path dataDir, Clock clock,
                         io.forkline.pageserver.access.SecretBox box) {
        this.box = java.util.Objects.requireNonNull(box, "box");
        this.store = store;
        this.pg = pg;
        this.dataDir = dataDir;
        this.clock = clock;
        this.records = new MetadataRecords(store);
        for (MirrorRecord r : records.list("mirror/", MirrorRecord.class)) {
            known.put(r.tenant(), r);
        }
        this.poller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "forkline-mirror-lag");
            t.setDaemon(true);
            return t;
        });
        poller.scheduleWithFixedDelay(this::pollAll, 1, 1, TimeUnit.SECONDS);
    }

    /** An imported, caught-up mirror whose records are not written yet. */
    public record Prepared(MirrorRecord record, TimelineId timeline, long consistentLsn, PrimaryMirror mirror) {
    }

    /** The replication slot of a tenant's mirror: {@code forkline_} + the name in lower case, other characters {@code _}. */
    public static String slotName(String tenant) {
        String s = "forkline_" + tenant.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
        return s.length() > 63 ? s.substring(0, 63) : s;
    }

    /**
     * Imports the primary at {@code uriText} into a new root timeline of {@code tenant} and streams
     * until the base backup's end LSN is durable; see the class comment. The caller writes the
     * tenant's records (with {@link Prepared#record()}) and then calls {@link #activate}, or
     * {@link #abort} when it cannot.
     *
     * @throws ApiException 400 for a bad URI, an unreachable or refusing primary, a primary that is
     *                      not PostgreSQL 15, a failed backup or catch-up (the message says which,
     *                      with the primary's words); 409 when the slot exists already
     */
    public Prepared prepare(String tenant, TenantId id, String uriText) {
        return prepare(tenant, id, uriText, null);
    }

    /**
     * {@link #prepare(String, TenantId, String)}, reporting its phases and bytes to {@code progress}
     * ({@code null}: none): {@code base backup} (pg_basebackup's own {@code --progress} counts),
     * {@code storing}, {@code catching up} (WAL bytes from the backup's start to its end LSN).
     */
    public Prepared prepare(String tenant, TenantId id, String uriText,
                            io.forkline.pageserver.importer.ImportProgress.Tracker progress) {
        PrimaryUri uri = PrimaryUri.parse(uriText);
        String slot = slotName(tenant);
        long systemId;
        int tli;
        try (Connection c = replicationConnection(uri, "forkline_import")) {
            int versionNum = c.unwrap(org.postgresql.core.BaseConnection.class).getQueryExecutor().getServerVersionNum();
            String problem = WalReceiver.serverVersionProblem(versionNum);
            if (problem != null) {
                throw ApiException.badRequest("primary " + uri + " " + problem);
            }
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("IDENTIFY_SYSTEM")) {
                rs.next();
                systemId = Long.parseUnsignedLong(rs.getString(1));
                tli = rs.getInt(2);
            }
            try (Statement st = c.createStatement()) {
                st.execute("CREATE_REPLICATION_SLOT " + slot + " PHYSICAL RESERVE_WAL");
            } catch (SQLException e) {
                if ("42710".equals(e.getSQLState())) {
                    throw ApiException.conflict("replication slot " + slot + " already exists on " + uri
                            + ": another Forkline server mirrors this primary as '" + tenant
                            + "', or an import was interrupted; drop it on the primary with SELECT"
                            + " pg_drop_replication_slot('" + slot + "') and import again");
                }
                throw e;
            }
        } catch (SQLException e) {
            throw ApiException.badRequest("cannot import from primary " + uri + ": " + e.getMessage() + " (SQLSTATE "
                    + e.getSQLState() + "); the role needs REPLICATION and a pg_hba.conf 'replication' entry");
        }
        LOG.info("import of tenant {}: slot {} created on {} (system {}, timeline {})", tenant, slot, uri,
                Long.toUnsignedString(systemId), tli);
        TimelineId tl = TimelineId.generate();
        Path backupDir = dataDir.resolve("tmp").resolve("import-" + tenant + "-" + System.nanoTime());
        WalReceiver receiver = null;
        boolean timelineCreated = false;
        try {
            long t0 = System.nanoTime();
            if (progress != null) {
                progress.phase("base backup", -1);
            }
            baseBackup(uri, backupDir, progress);
            long t1 = System.nanoTime();
            if (progress != null) {
                progress.phase("storing", -1);
            }
            BaseBackupImporter.Inspection in;
            try {
                in = BaseBackupImporter.importBackup(store, id, tl, backupDir);
            } catch (ImportException e) {
                throw ApiException.badRequest("cannot import the base backup of " + uri + ": " + e.getMessage());
            }
            timelineCreated = true;
            long t2 = System.nanoTime();
            if (in.control().systemIdentifier() != systemId) {
                throw ApiException.badRequest("the base backup's system identifier "
                        + Long.toUnsignedString(in.control().systemIdentifier()) + " is not the primary's "
                        + Long.toUnsignedString(systemId));
            }
            deleteQuietly(backupDir);
            MirrorRecord rec = new MirrorRecord(tenant, SEALED + box.seal(uriText.strip(), MirrorRecord.key(tenant)), slot, Long.toUnsignedString(systemId), tli,
                    tl.toString(), Lsn.format(in.startLsn()), Lsn.format(in.endLsn()), in.dataChecksums(),
                    MetadataRecords.timestamp(clock.instant()));
            receiver = startReceiver(rec, uri);
            if (!awaitCatchUp(receiver, in.startLsn(), in.endLsn(), progress)) {
                String why = receiver.isFailed() ? receiver.failure().getMessage()
                        : "not reached within " + CATCH_UP_TIMEOUT.toMinutes() + " min (at " + Lsn.format(receiver.lastRecordLsn()) + ")";
                throw ApiException.badRequest("the WAL of the base backup of " + uri + " (" + Lsn.format(in.startLsn())
                        + " to " + Lsn.format(in.endLsn()) + ") could not be ingested: " + why);
            }
            store.advanceGcCutoff(tl, in.endLsn());
            long t3 = System.nanoTime();
            LOG.info("import of tenant {}: pg_basebackup {} ms, store {} ms, WAL to the consistent point {} ms; consistent"
                            + " at {} (backup start {}), checksums {}", tenant, (t1 - t0) / 1_000_000,
                    (t2 - t1) / 1_000_000, (t3 - t2) / 1_000_000, Lsn.format(in.endLsn()), Lsn.format(in.startLsn()),
                    in.dataChecksums());
            return new Prepared(rec, tl, in.endLsn(), new PrimaryMirror(rec, uri, receiver));
        } catch (RuntimeException e) {
            if (receiver != null) {
                try {
                    receiver.close();
                } catch (RuntimeException ce) {
                    e.addSuppressed(ce);
                }
            }
            if (timelineCreated) {
                try {
                    store.deleteTimeline(tl);
                } catch (RuntimeException ce) {
                    e.addSuppressed(ce);
                }
            }
            deleteQuietly(backupDir);
            dropSlot(uri, slot);
            throw e;
        }
    }

    /** Starts streaming a prepared mirror's tenant for good (after its records were written). */
    public void activate(Prepared p) {
        known.put(p.record().tenant(), p.record());
        running.put(p.record().tenant(), p.mirror());
        LOG.info("tenant {}: main mirrors {} from slot {}", p.record().tenant(), p.mirror().primary, p.record().slot());
    }

    /** Undoes {@link #prepare}: stops streaming, deletes the timeline, drops the slot. */
    public void abort(Prepared p) {
        try {
            p.mirror().close();
        } finally {
            try {
                store.deleteTimeline(p.timeline());
            } finally {
                dropSlot(p.mirror().primary, p.record().slot());
            }
        }
    }

    /**
     * Starts the mirror of every tenant that has one (server start). A primary that cannot be reached
     * is retried by its receiver; a tenant whose record is gone is skipped.
     *
     * @param tenantExists whether a tenant's record still exists
     */
    public void resumeAll(java.util.function.Predicate<String> tenantExists) {
        for (MirrorRecord r : List.copyOf(known.values())) {
            if (!tenantExists.test(r.tenant()) || store.timeline(TimelineId.parse(r.timelineId())) == null) {
                LOG.warn("mirror record of tenant {} has no tenant or timeline; not resumed", r.tenant());
                continue;
            }
            try {
                PrimaryUri uri = PrimaryUri.parse(primaryOf(r));
                running.computeIfAbsent(r.tenant(), t -> new PrimaryMirror(r, uri, startReceiver(r, uri)));
                LOG.info("tenant {}: mirror of {} resumed at {}", r.tenant(), uri,
                        Lsn.format(store.lastRecordLsn(TimelineId.parse(r.timelineId()))));
            } catch (RuntimeException e) {
                LOG.error("tenant {}: cannot resume the mirror: {}", r.tenant(), e.toString(), e);
            }
        }
    }

    private WalReceiver startReceiver(MirrorRecord r, PrimaryUri uri) {
        WalReceiverConfig cfg = WalReceiverConfig.of(uri.host(), uri.port(), uri.user()).withPassword(uri.password())
                .withSlotName(r.slot()).withStandbyName(r.slot()).withDataChecksums(r.dataChecksums())
                .forMirror(Long.parseUnsignedLong(r.systemId()), r.pgTimeline());
        return WalReceiver.start(store, TimelineId.parse(r.timelineId()), Lsn.parse(r.startLsn()), cfg);
    }

    /** The mirror of {@code tenant}, or {@code null} when its main is not a mirror. */
    public MirrorStatus status(String tenant) {
        PrimaryMirror m = running.get(tenant);
        if (m != null) {
            return m.status();
        }
        MirrorRecord r = known.get(tenant);
        if (r == null) {
            return null;
        }
        TimelineId tl = TimelineId.parse(r.timelineId());
        String last = store.timeline(tl) == null ? null : Lsn.format(store.lastRecordLsn(tl));
        return new MirrorStatus(PrimaryUri.redact(primaryOf(r)), r.slot(), "stopped", null, r.consistentLsn(), last,
                null, null, null, false);
    }

    /** Status of every mirror, by tenant. */
    public Map<String, MirrorStatus> statuses() {
        Map<String, MirrorStatus> out = new java.util.TreeMap<>();
        for (String t : known.keySet()) {
            MirrorStatus s = status(t);
            if (s != null) {
                out.put(t, s);
            }
        }
        return out;
    }

    /** The mirror record of the tenant whose mirror timeline is {@code tl}, or {@code null}. */
    public MirrorRecord mirrorOf(TimelineId tl) {
        String id = tl.toString();
        for (MirrorRecord r : known.values()) {
            if (r.timelineId().equals(id)) {
                return r;
            }
        }
        return null;
    }

    /**
     * Ends a tenant's mirror before the tenant is deleted: stops streaming and drops the slot on the
     * primary (so it keeps no WAL for us; an unreachable primary is logged, and its slot must then be
     * dropped by hand). The record itself goes with the tenant's records. No-op for other tenants.
     */
    public void remove(String tenant) {
        PrimaryMirror m = running.remove(tenant);
        MirrorRecord r = known.remove(tenant);
        if (m != null) {
            m.close();
        }
        if (r != null) {
            try {
                dropSlot(PrimaryUri.parse(primaryOf(r)), r.slot());
            } catch (RuntimeException e) {
                LOG.warn("tenant {}: cannot drop slot {}: {}", tenant, r.slot(), e.toString());
            }
        }
    }

    private void pollAll() {
        for (PrimaryMirror m : running.values()) {
            try {
                m.poll();
            } catch (RuntimeException e) {
                LOG.debug("mirror poll failed: {}", e.toString());
            }
        }
    }

    @Override
    public void close() {
        poller.shutdownNow();
        for (PrimaryMirror m : running.values()) {
            try {
                m.close();
            } catch (RuntimeException e) {
                LOG.warn("closing mirror {}: {}", m.record.tenant(), e.toString());
            }
        }
        running.clear();
    }

    // ------------------------------------------------------------------ primary

    static Connection replicationConnection(PrimaryUri uri, String applicationName) throws SQLException {
        Connection c = new org.postgresql.Driver().connect(uri.jdbcUrl(), PrimaryMirror.properties(uri, applicationName, true));
        if (c == null) {
            throw new SQLException("pgjdbc does not accept " + uri.jdbcUrl(), "08001");
        }
        return c;
    }

    private void dropSlot(PrimaryUri uri, String slot) {
        try (Connection c = replicationConnection(uri, "forkline_import"); Statement st = c.createStatement()) {
            st.execute("DROP_REPLICATION_SLOT " + slot + " WAIT");
            LOG.info("slot {} dropped on {}", slot, uri);
        } catch (SQLException e) {
            if (!"42704".equals(e.getSQLState())) {
                LOG.warn("cannot drop replication slot {} on {}: {}; drop it there with SELECT pg_drop_replication_slot('{}')",
                        slot, uri, e.getMessage(), slot);
            }
        }
    }

    /** Waits (bounded by {@link #CATCH_UP_TIMEOUT}) for {@code end} to be durable, reporting the WAL bytes from {@code start}. */
    private static boolean awaitCatchUp(WalReceiver receiver, long start, long end,
                                        io.forkline.pageserver.importer.ImportProgress.Tracker progress) {
        if (progress != null) {
            progress.phase("catching up", Math.max(0, end - start));
        }
        long deadline = System.nanoTime() + CATCH_UP_TIMEOUT.toNanos();
        while (true) {
            if (receiver.awaitLastRecordLsn(end, Duration.ofSeconds(1))) {
                return true;
            }
            if (progress != null) {
                progress.bytes(Math.max(0, receiver.lastRecordLsn() - start), -1);
            }
            if (receiver.isFailed() || System.nanoTime() > deadline) {
                return false;
            }
        }
    }

    /** pg_basebackup's {@code --progress} line: {@code 12345/67890 kB (18%), 0/1 tablespace}. */
    private static final java.util.regex.Pattern PROGRESS = java.util.regex.Pattern.compile("(\\d+)/(\\d+) kB");

    /**
     * {@code pg_basebackup -D dir -X stream -c fast --no-sync -w -P} as the PostgreSQL user (password in
     * {@code PGPASSWORD}, never on the command line); its progress lines go to {@code progress}.
     */
    private void baseBackup(PrimaryUri uri, Path dir, io.forkline.pageserver.importer.ImportProgress.Tracker progress) {
        pg.prepareDirectory(dir.getParent());
        List<String> cmd = pg.command("pg_basebackup", "-D", dir.toString(), "-h", uri.host(), "-p",
                Integer.toString(uri.port()), "-U", uri.user(), "-X", "stream", "-c", "fast", "--no-sync", "-w",
                "-F", "p", "-P");
        ProcessBuilder b = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        b.environment().remove("PGPASSWORD");
        if (uri.password() != null) {
            b.environment().put("PGPASSWORD", uri.password());
        }
        b.environment().put("PGAPPNAME", "forkline_import");
        try {
            b.redirectErrorStream(false).redirectOutput(ProcessBuilder.Redirect.DISCARD);
            Process p = b.start();
            // stderr: progress lines (one per line when it is not a terminal) and, on failure, the error
            StringBuilder messages = new StringBuilder();
            Thread reader = Thread.ofVirtual().start(() -> {
                try (java.io.BufferedReader r = new java.io.BufferedReader(
                        new java.io.InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        for (String part : line.split("\r")) {
                            java.util.regex.Matcher m = PROGRESS.matcher(part);
                            if (m.find()) {
                                if (progress != null) {
                                    progress.bytes(Long.parseLong(m.group(1)) * 1024, Long.parseLong(m.group(2)) * 1024);
                                }
                            } else if (!part.isBlank() && messages.length() < 8192) {
                                messages.append(part.strip()).append('\n');
                            }
                        }
                    }
                } catch (IOException ignored) {
                    // the process went away; its exit code says how
                }
            });
            if (!p.waitFor(BASEBACKUP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw ApiException.badRequest("pg_basebackup of " + uri + " did not finish within " + BASEBACKUP_TIMEOUT);
            }
            reader.join(10_000);
            String stderr = messages.toString().strip();
            if (p.exitValue() != 0) {
                throw ApiException.badRequest("pg_basebackup of " + uri + " failed (exit " + p.exitValue() + "): " + stderr);
            }
        } catch (IOException e) {
            throw ApiException.badRequest("cannot run pg_basebackup: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiException.unavailable("interrupted while pg_basebackup of " + uri + " ran");
        }
    }

    private static void deleteQuietly(Path dir) {
        try {
            Directories.deleteRecursively(dir);
        } catch (IOException | RuntimeException e) {
            LOG.warn("cannot remove {}: {}", dir, e.toString());
        }
    }

    /**
     * The primary's libpq URI of {@code r}, with its password: opened with the server's key (records
     * written before sealing hold it as given).
     *
     * @throws IllegalArgumentException when the record was sealed by another server's key
     */
    public String primaryOf(MirrorRecord r) {
        String p = r.primary();
        return p.startsWith(SEALED) ? box.open(p.substring(SEALED.length()), MirrorRecord.key(r.tenant())) : p;
    }
}
