package io.forkline.pageserver.backup;

import io.forkline.page.client.TarExtractor;
import io.forkline.page.client.TarFormatException;
import io.forkline.pageserver.api.ApiException;
import io.forkline.pageserver.basebackup.BasebackupBuilder;
import io.forkline.pageserver.basebackup.BasebackupSummary;
import io.forkline.pageserver.basebackup.TarSink;
import io.forkline.pageserver.branch.BranchPoints;
import io.forkline.pageserver.metadata.MetadataRecords;
import io.forkline.pageserver.server.Directories;
import io.forkline.pageserver.size.LogicalSize;
import io.forkline.pageserver.tenant.BranchInfo;
import io.forkline.pageserver.tenant.TenantInfo;
import io.forkline.pageserver.tenant.TenantService;
import io.forkline.storage.id.TenantId;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;
import io.forkline.storage.timeline.TimelineMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Backups: named, retained {@code (timeline, LSN)} pairs of a tenant. Taking one copies nothing; it
 * records the branch's timeline and last record LSN, and keeps that point readable: GC asks
 * {@link #retainedLsns}, and branch deletion keeps a pinned timeline ({@link #pins}); the server
 * registers both ({@code PageServer}: a {@code RetainedLsnSource} and
 * {@link TenantService#addTimelinePin}). When the last backup of a timeline no ref points at goes,
 * the timeline is deleted (or, while restored branches still descend from it, marked and deleted
 * by a later {@link #tick} once they are gone).
 *
 * <ul>
 *   <li>manual backups: at most {@value #MAX_MANUAL_BACKUPS} active (not failed) per tenant, kept
 *       until deleted;</li>
 *   <li>schedules: at most {@value #MAX_SCHEDULES} per tenant; {@link #tick} (every second on the
 *       scheduler thread, {@link #start}) takes a backup for each due schedule and removes backups
 *       whose {@code expires_at} (creation + the schedule's retention) has passed. Runs missed while
 *       the server was down collapse into one. A failed run leaves a {@code failed} backup (which
 *       expires like the others) and the schedule tries again at its next run. Deleting a schedule
 *       keeps its backups until they expire;</li>
 *   <li>restore: a new branch at the backup's (timeline, LSN); export: a plain PostgreSQL 15 base
 *       backup tar of it; import: such a tar as a new tenant.</li>
 * </ul>
 * Records are JSON in the page store's metadata: {@code backup/<tenant>/<id>},
 * {@code schedule/<tenant>/<id>}, {@code backup-orphan/<tenant>/<timeline>}. Times come from the
 * injected clock (UTC). Thread-safe: operations on one tenant are serialized on the tenant's lock
 * ({@link TenantService#tenantLock}), the one branch operations hold, so taking or releasing a
 * backup never interleaves with a branch delete, reset or restore.
 */
public final class BackupService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BackupService.class);
    /** Active manual backups a tenant may have. */
    public static final int MAX_MANUAL_BACKUPS = 10;
    /** Schedules a tenant may have. */
    public static final int MAX_SCHEDULES = 5;
    private static final int MAX_LABEL = 128;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final PageStore store;
    private final TenantService tenants;
    private final Path dataDir;
    private final Clock clock;
    private final MetadataRecords records;
    private ScheduledExecutorService scheduler;

    /**
     * @param dataDir the server's data directory ({@code tmp/} under it holds import scratch space)
     * @param clock   source of creation, expiry and schedule times
     */
    public BackupService(PageStore store, TenantService tenants, Path dataDir, Clock clock) {
        this.store = store;
        this.tenants = tenants;
        this.dataDir = dataDir;
        this.clock = clock;
        this.records = new MetadataRecords(store);
    }

    /** Starts the scheduler thread: {@link #tick} every {@code interval}. Idempotent. */
    public synchronized void start(Duration interval) {
        if (scheduler != null) {
            return;
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "forkline-backup-scheduler");
            t.setDaemon(true);
            return t;
        });
        scheduler.scheduleWithFixedDelay(() -> {
            try {
                tick();
            } catch (RuntimeException e) {
                // keep ticking: the next tick retries; per-schedule failures are recorded as failed backups
                log.error("backup scheduler tick failed", e);
            }
        }, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Stops the scheduler thread (waits up to 10 s for a running tick). */
    @Override
    public synchronized void close() {
        if (scheduler == null) {
            return;
        }
        scheduler.shutdownNow();
        try {
            if (!scheduler.awaitTermination(10, TimeUnit.SECONDS)) {
                log.warn("backup scheduler did not stop within 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        scheduler = null;
    }

    /** The tenant's lock, shared with branch operations. @throws ApiException 400/404 for an invalid/unknown tenant */
    private Object lock(String tenant) {
        return tenants.tenantLock(tenant);
    }

    // ------------------------------------------------------------------ backups

    /**
     * Takes a manual backup of {@code branchRef} ({@code main} when null or blank) at its last record LSN.
     *
     * @param label optional, at most 128 characters
     * @return the completed backup
     * @throws ApiException 400 for a bad label, 404 for an unknown tenant or branch, 403
     *                      {@code quota_exceeded} when the tenant has {@value #MAX_MANUAL_BACKUPS}
     *                      active manual backups, 500 {@code backup_failed} when it failed (a
     *                      {@code failed} entry is left)
     */
    public BackupInfo createBackup(String tenant, String branchRef, String label) {
        String ref = branchRef == null || branchRef.isBlank() ? "main" : branchRef;
        checkLabel(label);
        synchronized (lock(tenant)) {
            BranchInfo branch = tenants.branch(tenant, ref);
            long active = backups(tenant).stream()
                    .filter(b -> BackupInfo.MANUAL.equals(b.kind()) && !BackupInfo.FAILED.equals(b.status())).count();
            if (active >= MAX_MANUAL_BACKUPS) {
                throw new ApiException(403, "quota_exceeded", "tenant '" + tenant + "' has " + active + " of "
                        + MAX_MANUAL_BACKUPS + " active manual backups; delete one first (backup delete ID)");
            }
            BackupInfo b = take(tenant, branch, label, BackupInfo.MANUAL, null, null);
            if (BackupInfo.FAILED.equals(b.status())) {
                throw new ApiException(500, "backup_failed", "backup " + b.id() + " of branch '" + ref + "' failed: " + b.error());
            }
            return b;
        }
    }

    /** Records the backup in progress, measures it, records it completed; a failure is recorded, not thrown. */
    private BackupInfo take(String tenant, BranchInfo branch, String label, String kind, String scheduleId, Instant expires) {
        Instant now = clock.instant();
        String id = newId(tenant, "bk-", "backup/");
        TimelineId tl = TimelineId.parse(branch.timelineId());
        BackupInfo b = new BackupInfo(id, tenant, branch.ref(), branch.timelineId(), null, label, kind, scheduleId,
                BackupInfo.IN_PROGRESS, time(now), expires == null ? null : time(expires), null, null);
        try {
            // every commit the branch's running compute acknowledged is in the store first
            tenants.endpoints().catchUp(tenant, branch.ref(), tl);
            long lsn = store.lastRecordLsn(tl);
            b = new BackupInfo(id, tenant, branch.ref(), branch.timelineId(), Lsn.format(lsn), label, kind, scheduleId,
                    BackupInfo.IN_PROGRESS, b.createdAt(), b.expiresAt(), null, null);
            put(backupKey(tenant, id), b);
            long size = LogicalSize.bytes(store, tl, lsn);
            if (store.timeline(tl) == null) {
                throw new IllegalStateException("timeline " + tl + " of branch '" + branch.ref() + "' was deleted meanwhile");
            }
            b = b.completed(size);
            put(backupKey(tenant, id), b);
            log.info("backup {} of {}/{} at {} completed ({} bytes)", id, tenant, branch.ref(), b.lsn(), size);
        } catch (RuntimeException e) {
            b = b.failed(e.getMessage() == null ? e.toString() : e.getMessage());
            put(backupKey(tenant, id), b);
            log.warn("backup {} of {}/{} failed: {}", id, tenant, branch.ref(), b.error(), e);
        }
        return b;
    }

    /**
     * The tenant's backups, oldest first, optionally only those of one branch ref.
     *
     * @param branchRef null or blank for all
     * @throws ApiException 400 / 404 for an invalid / unknown tenant
     */
    public List<BackupInfo> listBackups(String tenant, String branchRef) {
        tenants.requireTenant(tenant);
        List<BackupInfo> out = new ArrayList<>();
        for (BackupInfo b : backups(tenant)) {
            if (branchRef == null || branchRef.isBlank() || branchRef.equals(b.branch())) {
                out.add(b);
            }
        }
        return out;
    }

    /**
     * One backup.
     *
     * @throws ApiException 404 when the tenant or backup is unknown
     */
    public BackupInfo backup(String tenant, String id) {
        tenants.requireTenant(tenant);
        BackupInfo b = records.get(backupKey(tenant, id), BackupInfo.class);
        if (b == null) {
            throw ApiException.notFound("backup '" + id + "' does not exist in tenant '" + tenant + "'");
        }
        return b;
    }

    /**
     * Deletes a backup (manual or scheduled) and lets go of its (timeline, LSN); a timeline no ref
     * and no other backup needs is deleted.
     *
     * @throws ApiException 404 when the tenant or backup is unknown
     */
    public void deleteBackup(String tenant, String id) {
        synchronized (lock(tenant)) {
            BackupInfo b = backup(tenant, id);
            remove(b);
        }
    }

    private void remove(BackupInfo b) {
        records.delete(backupKey(b.tenant(), b.id()));
        log.info("backup {} of {}/{} removed", b.id(), b.tenant(), b.branch());
        if (b.timelineId() != null) {
            releaseIfOrphan(b.tenant(), TimelineId.parse(b.timelineId()));
        }
    }

    /**
     * Restores a backup as a new branch {@code newRef} at the backup's (timeline, LSN). The source
     * is not modified.
     *
     * @throws ApiException 404 for an unknown tenant or backup, 409 when the backup is not completed
     *                      or {@code newRef} exists, 400 for an invalid ref
     */
    public BranchInfo restore(String tenant, String id, String newRef) {
        synchronized (lock(tenant)) {
            BackupInfo b = completedBackup(tenant, id);
            return tenants.branches().createFromTimeline(tenant, newRef, TimelineId.parse(b.timelineId()),
                    Lsn.parse(b.lsn()), b.branch());
        }
    }

    /**
     * Checks that a backup can be exported (before a response is committed).
     *
     * @throws ApiException 404 for an unknown tenant or backup, 409 when it is not completed or its
     *                      timeline is gone
     */
    public BackupInfo exportable(String tenant, String id) {
        BackupInfo b = completedBackup(tenant, id);
        if (store.timeline(TimelineId.parse(b.timelineId())) == null) {
            throw ApiException.conflict("backup '" + id + "' refers to timeline " + b.timelineId() + ", which is gone");
        }
        return b;
    }

    /**
     * Writes a completed backup as a plain PostgreSQL 15 base backup (ustar, see
     * {@link BasebackupBuilder}) that stock PostgreSQL starts from without Forkline. The
     * end-of-archive blocks are written only when everything else was: a failure leaves a
     * recognizably truncated archive.
     *
     * @param out not closed; flushed
     * @throws IOException when writing fails
     * @throws io.forkline.pageserver.basebackup.BasebackupException when the state cannot be read
     */
    public BasebackupSummary writeExport(BackupInfo b, OutputStream out) throws IOException {
        TarSink tar = new TarSink(out, clock);
        io.forkline.pageserver.basebackup.BasebackupSink sink = new io.forkline.pageserver.basebackup.BasebackupSink() {
            @Override
            public void directory(String path) throws IOException {
                tar.directory(path);
            }

            @Override
            public OutputStream file(String path, long sizeBytes) throws IOException {
                return tar.file(path, sizeBytes);
            }

            @Override
            public void file(String path, byte[] content) throws IOException {
                tar.file(path, path.equals("pg_hba.conf") ? EXPORT_PG_HBA.getBytes(java.nio.charset.StandardCharsets.UTF_8)
                        : content);
            }

            @Override
            public void close() throws IOException {
                tar.close();
            }
        };
        BasebackupSummary s = new BasebackupBuilder(store, clock).write(TimelineId.parse(b.timelineId()), Lsn.parse(b.lsn()), sink);
        sink.close();
        return s;
    }

    /**
     * The {@code pg_hba.conf} of an exported backup (a compute's trusts every local connection; an
     * export leaves Forkline's machine): the operating-system user of the same name on the Unix
     * socket ({@code peer}), a password ({@code scram-sha-256}) for everything else. Set one with
     * {@code ALTER USER postgres PASSWORD '...'} over the socket first.
     */
    public static final String EXPORT_PG_HBA = """
            # Written by Forkline's backup export.
            # Unix socket: the operating-system user of the same name (peer); TCP: a password (scram-sha-256).
            # Set one first over the socket, as user postgres: psql -c "ALTER USER postgres PASSWORD '...'"
            # TYPE  DATABASE     USER  ADDRESS        METHOD
            local   all          all                  peer
            local   replication  all                  peer
            host    all          all   127.0.0.1/32   scram-sha-256
            host    replication  all   127.0.0.1/32   scram-sha-256
            host    all          all   ::1/128        scram-sha-256
            host    replication  all   ::1/128        scram-sha-256
            """;

    private BackupInfo completedBackup(String tenant, String id) {
        BackupInfo b = backup(tenant, id);
        if (!BackupInfo.COMPLETED.equals(b.status())) {
            throw ApiException.conflict("backup '" + id + "' is " + b.status()
                    + (b.error() == null ? "" : " (" + b.error() + ")") + ", not completed");
        }
        return b;
    }

    /**
     * Creates tenant {@code name} from a plain PostgreSQL 15 base backup tar (e.g. a
     * {@code backup export}): extracts it into scratch space under the data directory and imports
     * the cluster, which must be cleanly shut down, into the new tenant's {@code main}.
     *
     * @param tar an absolute path readable by the server
     * @throws ApiException 400 for an invalid name, a missing file, a malformed tar or a directory
     *                      that is not an importable cluster; 409 when the tenant exists
     */
    public TenantInfo importTenant(String name, Path tar) {
        try {
            new TenantId(name);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage());
        }
        if (!tar.isAbsolute() || !Files.isRegularFile(tar)) {
            throw ApiException.badRequest("'" + tar + "' is not an absolute path of a readable file on the server");
        }
        if (tenantExists(name)) {
            throw ApiException.conflict("tenant '" + name + "' already exists");
        }
        Path scratch = dataDir.resolve("tmp").resolve("import-" + name + "-" + System.nanoTime());
        try {
            TarExtractor.Result r = TarExtractor.extract(tar, scratch);
            log.info("import of tenant {}: extracted {} files ({} bytes) from {}", name, r.files(), r.bytes(), tar);
            return tenants.importTenant(name, scratch);
        } catch (TarFormatException e) {
            throw ApiException.badRequest(e.getMessage());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract " + tar + " into " + scratch, e);
        } finally {
            deleteRecursively(scratch);
        }
    }

    /**
     * Creates tenant {@code name} whose {@code main} mirrors the running primary at {@code primaryUri}:
     * {@link TenantService#importFromPrimary}.
     *
     * @throws ApiException as there
     */
    public TenantInfo importFromPrimary(String name, String primaryUri) {
        return tenants.importFromPrimary(name, primaryUri);
    }

    /** Progress of the imports from a primary running now (phase, bytes, rate, ETA). */
    public java.util.List<io.forkline.pageserver.importer.ImportProgress.View> importsRunning() {
        return tenants.imports().views();
    }

    /** {@link io.forkline.pageserver.tenant.TenantService#importFromPublication}. */
    public TenantInfo importFromPublication(String name, String sourceUri, String publication) {
        return tenants.importFromPublication(name, sourceUri, publication);
    }

    // ------------------------------------------------------------------ schedules

    /**
     * Creates a schedule.
     *
     * @param branchRef {@code main} when null or blank; must exist now
     * @param frequency see {@link Frequency}
     * @param startText RFC 3339; now when null or blank
     * @param retention see {@link Retention}
     * @param name      optional, at most 128 characters
     * @throws ApiException 400 for a bad value (named), 404 for an unknown tenant or branch, 403
     *                      {@code quota_exceeded} when the tenant has {@value #MAX_SCHEDULES} schedules
     */
    public ScheduleInfo createSchedule(String tenant, String branchRef, String frequency, String startText,
                                       String retention, String name) {
        String ref = branchRef == null || branchRef.isBlank() ? "main" : branchRef;
        checkLabel(name);
        Frequency f;
        Retention r;
        try {
            f = Frequency.parse(frequency);
            r = Retention.parse(retention);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage());
        }
        Instant now = clock.instant();
        Instant start = startTime(startText, now);
        String label = name == null || name.isBlank() ? f.text() : name;
        synchronized (lock(tenant)) {
            tenants.branch(tenant, ref);
            List<ScheduleInfo> existing = schedules(tenant);
            if (existing.size() >= MAX_SCHEDULES) {
                throw new ApiException(403, "quota_exceeded", "tenant '" + tenant + "' has " + existing.size() + " of "
                        + MAX_SCHEDULES + " backup schedules; delete one first (backup schedule delete ID)");
            }
            Instant next;
            try {
                next = f.nextRun(start, now.minusNanos(1));
            } catch (IllegalStateException e) {
                throw ApiException.badRequest(e.getMessage());
            }
            String id = newId(tenant, "sch-", "schedule/");
            ScheduleInfo s = new ScheduleInfo(id, tenant, label, ref, f.text(), time(start), r.toString(), time(now),
                    time(next), null, null, null);
            put(scheduleKey(tenant, id), s);
            log.info("backup schedule {} of {}/{}: {} from {}, retention {}, next run {}", id, tenant, ref, f, s.startAt(),
                    r, s.nextRunAt());
            return s;
        }
    }

    /**
     * A schedule's start: {@code HH:MM} (a time of day, UTC, today), an RFC 3339 time, or, when not
     * given, today at 00:00 UTC, so a daily schedule runs at midnight UTC, not at the time it was made.
     *
     * @throws ApiException 400 naming the value when it is neither form
     */
    static Instant startTime(String text, Instant now) {
        java.time.LocalDate today = now.atZone(java.time.ZoneOffset.UTC).toLocalDate();
        if (text == null || text.isBlank()) {
            return today.atStartOfDay(java.time.ZoneOffset.UTC).toInstant();
        }
        String t = text.strip();
        if (t.matches("\\d{1,2}:\\d{2}")) {
            try {
                return today.atTime(java.time.LocalTime.parse(t.length() == 4 ? "0" + t : t))
                        .toInstant(java.time.ZoneOffset.UTC);
            } catch (java.time.format.DateTimeParseException e) {
                throw ApiException.badRequest("invalid start time '" + text + "': expected HH:MM (UTC) or RFC 3339");
            }
        }
        return BranchPoints.parseTime(t, "start time");
    }

    /** The tenant's schedules, oldest first. @throws ApiException 400 / 404 for an invalid / unknown tenant */
    public List<ScheduleInfo> listSchedules(String tenant) {
        tenants.requireTenant(tenant);
        return schedules(tenant);
    }

    /**
     * Deletes a schedule; the backups it took stay until their own expiry.
     *
     * @throws ApiException 404 when the tenant or schedule is unknown
     */
    public void deleteSchedule(String tenant, String id) {
        synchronized (lock(tenant)) {
            if (!records.exists(scheduleKey(tenant, id))) {
                throw ApiException.notFound("backup schedule '" + id + "' does not exist in tenant '" + tenant + "'");
            }
            records.delete(scheduleKey(tenant, id));
            log.info("backup schedule {} of {} deleted", id, tenant);
        }
    }

    /**
     * One scheduler step at the clock's current time, for every tenant: takes a backup for each
     * schedule whose {@code next_run_at} has come, removes expired backups, and deletes orphaned
     * timelines that nothing needs any more. Called by the scheduler thread; tests call it directly.
     */
    public void tick() {
        Instant now = clock.instant();
        for (TenantInfo t : tenants.listTenants()) {
            String tenant = t.name();
            synchronized (lock(tenant)) {
                for (ScheduleInfo s : schedules(tenant)) {
                    if (!now.isBefore(Instant.parse(s.nextRunAt()))) {
                        run(s, now);
                    }
                }
                for (BackupInfo b : backups(tenant)) {
                    if (b.expiresAt() != null && !now.isBefore(Instant.parse(b.expiresAt()))) {
                        remove(b);
                    }
                }
                for (String key : store.listMetadata(orphanPrefix(tenant)).keySet()) {
                    releaseIfOrphan(tenant, TimelineId.parse(key.substring(key.lastIndexOf('/') + 1)));
                }
            }
        }
    }

    private void run(ScheduleInfo s, Instant now) {
        Frequency f = Frequency.parse(s.frequency());
        Retention r = Retention.parse(s.retention());
        BackupInfo b;
        String label = s.name() == null ? s.frequency() : s.name();
        try {
            BranchInfo branch = tenants.branch(s.tenant(), s.branch());
            BackupInfo same = unchangedSince(s, branch, now);
            if (same != null) {
                // nothing was written since the last run: that backup is this run's too, kept as long
                BackupInfo extended = new BackupInfo(same.id(), same.tenant(), same.branch(), same.timelineId(), same.lsn(),
                        same.label(), same.kind(), same.scheduleId(), same.status(), same.createdAt(), time(r.expiry(now)),
                        same.sizeBytes(), same.error());
                put(backupKey(s.tenant(), same.id()), extended);
                Instant next = f.nextRun(Instant.parse(s.startAt()), now);
                put(scheduleKey(s.tenant(), s.id()), new ScheduleInfo(s.id(), s.tenant(), s.name(), s.branch(), s.frequency(),
                        s.startAt(), s.retention(), s.createdAt(), time(next), time(now), same.id(), UNCHANGED));
                log.info("scheduled backup of {}/{}: unchanged since backup {} at {}; kept until {}", s.tenant(), s.branch(),
                        same.id(), same.lsn(), extended.expiresAt());
                return;
            }
            b = take(s.tenant(), branch, label, BackupInfo.SCHEDULED, s.id(), r.expiry(now));
        } catch (RuntimeException e) {
            // e.g. the branch was deleted: a failed entry, and the schedule tries again at its next run
            String id = newId(s.tenant(), "bk-", "backup/");
            b = new BackupInfo(id, s.tenant(), s.branch(), null, null, label, BackupInfo.SCHEDULED, s.id(),
                    BackupInfo.FAILED, time(now), time(r.expiry(now)), null, e.getMessage() == null ? e.toString() : e.getMessage());
            put(backupKey(s.tenant(), id), b);
            log.warn("scheduled backup {} of {}/{} failed: {}", id, s.tenant(), s.branch(), b.error());
        }
        Instant next = f.nextRun(Instant.parse(s.startAt()), now);
        put(scheduleKey(s.tenant(), s.id()), s.ran(time(now), time(next), b));
    }

    /** {@code last_status} of a schedule run that found nothing new to back up. */
    public static final String UNCHANGED = "unchanged";

    /**
     * The schedule's last backup when the branch is still at its (timeline, LSN) and it has not
     * expired: a run then takes no second backup of the same LSN.
     */
    private BackupInfo unchangedSince(ScheduleInfo s, BranchInfo branch, Instant now) {
        if (s.lastBackupId() == null) {
            return null;
        }
        BackupInfo last = records.get(backupKey(s.tenant(), s.lastBackupId()), BackupInfo.class);
        if (last == null || !BackupInfo.COMPLETED.equals(last.status()) || !branch.timelineId().equals(last.timelineId())
                || (last.expiresAt() != null && !now.isBefore(Instant.parse(last.expiresAt())))) {
            return null;
        }
        TimelineId tl = TimelineId.parse(branch.timelineId());
        return store.timeline(tl) != null && Lsn.format(store.lastRecordLsn(tl)).equals(last.lsn()) ? last : null;
    }

    // ------------------------------------------------------------------ retention for GC and branch deletion

    /**
     * The (timeline, LSN) pairs the tenant's backups (in progress or completed) hold: GC must keep
     * every page version needed to read each timeline at each listed LSN.
     *
     * @return timeline → LSNs (WAL byte positions), ascending, without duplicates
     */
    public Map<TimelineId, List<Long>> retainedLsns(String tenant) {
        Map<TimelineId, List<Long>> out = new TreeMap<>();
        for (BackupInfo b : backups(tenant)) {
            if (b.pinning()) {
                List<Long> l = out.computeIfAbsent(TimelineId.parse(b.timelineId()), k -> new ArrayList<>());
                long lsn = Lsn.parse(b.lsn());
                if (!l.contains(lsn)) {
                    l.add(lsn);
                }
            }
        }
        out.values().forEach(l -> l.sort(Long::compareUnsigned));
        return out;
    }

    /**
     * Whether a backup (in progress or completed) of any tenant holds an LSN of {@code timeline}:
     * such a timeline must not be deleted. Reads the metadata only; takes no lock.
     */
    public boolean pins(TimelineId timeline) {
        String tl = timeline.toString();
        for (BackupInfo b : records.list("backup/", BackupInfo.class)) {
            if (b.pinning() && tl.equals(b.timelineId())) {
                return true;
            }
        }
        return false;
    }

    /**
     * Deletes a timeline that no pin holds (a backup, an active lease: {@link TenantService#isPinned}),
     * no ref points at and nothing descends from; marks it while descendants remain.
     */
    private void releaseIfOrphan(String tenant, TimelineId tl) {
        String marker = orphanPrefix(tenant) + tl;
        if (store.timeline(tl) == null) {
            store.deleteMetadata(marker);
            return;
        }
        if (tenants.isPinned(tl)) {
            return;
        }
        for (TenantService.BranchView v : tenants.listBranches(tenant)) {
            if (tl.toString().equals(v.info().timelineId())) {
                store.deleteMetadata(marker);
                return; // a ref still uses it: not an orphan
            }
        }
        for (TimelineMetadata md : store.timelines(new TenantId(tenant))) {
            if (tl.equals(md.ancestor())) {
                store.putMetadata(marker, new byte[0]);
                return; // a restored branch (or its descendants) still reads from it
            }
        }
        TimelineId ancestor = store.timeline(tl).ancestor();
        try {
            store.deleteTimeline(tl);
        } catch (IllegalArgumentException e) {
            if (store.timeline(tl) != null) {
                throw e;
            }
            // the branch service's sweep of retired timelines deleted it first: the same outcome
        }
        store.deleteMetadata(marker);
        log.info("timeline {} of tenant {} deleted: its last backup is gone and no branch uses it", tl, tenant);
        if (ancestor != null && store.getMetadata(orphanPrefix(tenant) + ancestor) != null) {
            releaseIfOrphan(tenant, ancestor);
        }
    }

    // ------------------------------------------------------------------ helpers

    private List<BackupInfo> backups(String tenant) {
        List<BackupInfo> out = records.list("backup/" + tenant + "/", BackupInfo.class);
        out.sort(Comparator.comparing((BackupInfo b) -> Instant.parse(b.createdAt())).thenComparing(BackupInfo::id));
        return out;
    }

    private List<ScheduleInfo> schedules(String tenant) {
        List<ScheduleInfo> out = records.list("schedule/" + tenant + "/", ScheduleInfo.class);
        out.sort(Comparator.comparing((ScheduleInfo s) -> Instant.parse(s.createdAt())).thenComparing(ScheduleInfo::id));
        return out;
    }

    private boolean tenantExists(String name) {
        try {
            tenants.requireTenant(name);
            return true;
        } catch (ApiException e) {
            if (e.status() == 404) {
                return false;
            }
            throw e;
        }
    }

    private static void checkLabel(String label) {
        if (label != null && (label.length() > MAX_LABEL || label.chars().anyMatch(Character::isISOControl))) {
            throw ApiException.badRequest("invalid label/name '" + label + "': at most " + MAX_LABEL
                    + " characters, no control characters");
        }
    }

    /**
     * Points the schedules of {@code tenant} that back up {@code oldRef} at {@code newRef} (a branch
     * rename; registered with {@code BranchService.addRenameListener}). Backups already taken keep
     * the name they were taken under.
     */
    public void branchRenamed(String tenant, String oldRef, String newRef) {
        for (ScheduleInfo si : records.list("schedule/" + tenant + "/", ScheduleInfo.class)) {
            if (oldRef.equals(si.branch())) {
                records.put(scheduleKey(tenant, si.id()), new ScheduleInfo(si.id(), si.tenant(), si.name(), newRef, si.frequency(),
                        si.startAt(), si.retention(), si.createdAt(), si.nextRunAt(), si.lastRunAt(), si.lastBackupId(),
                        si.lastStatus()));
            }
        }
    }

    private String newId(String tenant, String prefix, String keyPrefix) {
        while (true) {
            byte[] b = new byte[4];
            RANDOM.nextBytes(b);
            String id = prefix + HexFormat.of().formatHex(b);
            if (!records.exists(keyPrefix + tenant + "/" + id)) {
                return id;
            }
        }
    }

    private static String time(Instant t) {
        return MetadataRecords.timestamp(t);
    }

    private static String backupKey(String tenant, String id) {
        return "backup/" + tenant + "/" + id;
    }

    private static String scheduleKey(String tenant, String id) {
        return "schedule/" + tenant + "/" + id;
    }

    private static String orphanPrefix(String tenant) {
        return "backup-orphan/" + tenant + "/";
    }

    private void put(String key, Object value) {
        records.put(key, value);
    }

    private static void deleteRecursively(Path dir) {
        try {
            Directories.deleteRecursively(dir);
        } catch (IOException e) {
            log.warn("cannot remove scratch directory {}: {}", dir, e.toString());
        }
    }
}
