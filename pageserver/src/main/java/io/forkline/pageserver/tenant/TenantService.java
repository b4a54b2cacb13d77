package io.forkline.pageserver.tenant;

import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.pageserver.api.ApiException;
import io.forkline.pageserver.branch.BranchOptions;
import io.forkline.pageserver.branch.BranchReaper;
import io.forkline.pageserver.branch.BranchService;
import io.forkline.pageserver.branch.Quotas;
import io.forkline.pageserver.endpoint.EndpointManager;
import io.forkline.pageserver.importer.InitdbImporter;
import io.forkline.pageserver.metadata.MetadataRecords;
import io.forkline.pageserver.server.Directories;
import io.forkline.storage.id.TenantId;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Tenants and their branches: the operations behind the admin API and the CLI.
 *
 * <p>A tenant is created from {@code initdb} (imported into its {@code main} timeline at the LSN of
 * initdb's shutdown checkpoint). A branch is a timeline with an ancestor and an ancestor LSN:
 * creating one writes metadata only. Tenants and branches are kept as JSON records in the page
 * store's metadata ({@code tenant/<name>}, {@code branch/<tenant>/<ref>}).
 *
 * <p>Thread-safe: operations on one tenant are serialized on the tenant's lock
 * ({@link #tenantLock}), which {@link BranchService} and the backup service share.
 */
public final class TenantService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TenantService.class);

    private final PageStore store;
    private final PostgresInstallation pg;
    private final Path dataDir;
    private final EndpointManager endpoints;
    private final Clock clock;
    private final MetadataRecords records;
    private final Map<String, Object> locks = new ConcurrentHashMap<>();
    private final List<java.util.function.Predicate<TimelineId>> timelinePins = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final BranchService branches;
    private final BranchReaper reaper;
    private final io.forkline.pageserver.size.SizeService sizes;
    private final io.forkline.pageserver.mirror.MirrorService mirrors;
    private final io.forkline.pageserver.logical.LogicalImports logicalImports;
    private final io.forkline.pageserver.importer.ImportProgress imports = new io.forkline.pageserver.importer.ImportProgress();

    /** Progress of the imports running now ({@code GET /v1/imports}). */
    public io.forkline.pageserver.importer.ImportProgress imports() {
        return imports;
    }

    /** A service with the default quotas ({@link Quotas#DEFAULT}) and a reaper pass every 5 s. */
    public TenantService(PageStore store, PostgresInstallation pg, Path dataDir, Clock clock) {
        this(store, pg, dataDir, clock, Quotas.DEFAULT, BranchReaper.DEFAULT_INTERVAL);
    }

    /**
     * @param quotas         server-wide per-tenant limits (tenants override them with their config)
     * @param reaperInterval how often expired branches are looked for
     */
    public TenantService(PageStore store, PostgresInstallation pg, Path dataDir, Clock clock, Quotas quotas,
                         Duration reaperInterval) {
        this.store = store;
        this.pg = pg;
        this.dataDir = dataDir;
        this.clock = clock;
        this.records = new MetadataRecords(store);
        this.endpoints = new EndpointManager(store, pg, dataDir);
        io.forkline.pageserver.access.SecretBox box = io.forkline.pageserver.access.SecretBox.open(dataDir);
        this.branches = new BranchService(store, endpoints, clock, this::lock, this::requireTenant, this::isPinned, quotas,
                new io.forkline.pageserver.access.Credentials(records, box));
        this.reaper = new BranchReaper(branches, reaperInterval);
        this.sizes = new io.forkline.pageserver.size.SizeService(store);
        this.mirrors = new io.forkline.pageserver.mirror.MirrorService(store, pg, dataDir, clock, box);
        this.branches.addTimelineGuard(this::refuseWritesToMirror);
        this.logicalImports = new io.forkline.pageserver.logical.LogicalImports(records, box, pg, dataDir, t -> {
            EndpointManager.Endpoint e = endpoints.get(t, "main");
            return e == null ? null : e.address();
        });
        this.endpoints.extraSettings(logicalImports::computeSettings);
    }

    /** The logical imports ({@link #importFromPublication}). */
    public io.forkline.pageserver.logical.LogicalImports logicalImports() {
        return logicalImports;
    }

    /**
     * Creates tenant {@code name} whose {@code main} follows publication {@code publication} of the
     * database at {@code sourceUri} (a managed service, or any PostgreSQL 10+ with
     * {@code wal_level = logical}): an {@code initdb} tenant, {@code main}'s compute started and never
     * suspended, the source's schema copied, then a subscription on it (see
     * {@link io.forkline.pageserver.logical.LogicalImports}). Returns once the subscription exists;
     * the initial table copies go on in the background ({@code tenant list} shows them).
     *
     * @throws ApiException 400 for an invalid name, URI or publication, a source that cannot be
     *                      imported or a step that failed (the message says which, with the tool's
     *                      words); 409 when the tenant or the source's slot exists. A failed import
     *                      leaves no tenant.
     */
    public TenantInfo importFromPublication(String name, String sourceUri, String publication) {
        tenantId(name);
        io.forkline.pageserver.logical.LogicalImports.Source source = logicalImports.check(name, sourceUri, publication);
        TenantInfo info = createTenant(name);
        try {
            synchronized (lock(name)) {
                branches.configureEndpoint(name, "main", "0");
                startEndpoint(name, "main");
                EndpointManager.Endpoint e = endpoints.get(name, "main");
                io.forkline.compute.proxy.ComputeAddress main = e == null ? null : e.address();
                if (main == null) {
                    throw ApiException.unavailable("main's compute of tenant '" + name + "' stopped during the import");
                }
                logicalImports.copySchemaAndSubscribe(name, source, main);
                io.forkline.pageserver.logical.LogicalImportRecord r = logicalImports.record(name, source, clock.instant());
                records.put(io.forkline.pageserver.logical.LogicalImportRecord.key(name), r);
                logicalImports.register(r);
                log.info("tenant {} follows publication {} of {} (subscription {})", name, publication, r.display(),
                        r.subscription());
                return info;
            }
        } catch (RuntimeException ex) {
            try {
                EndpointManager.Endpoint e = endpoints.get(name, "main");
                io.forkline.compute.proxy.ComputeAddress main = e == null ? null : e.address();
                if (main != null) {
                    dropSubscriptionQuietly(name, main, source);
                }
                deleteTenant(name, true);
            } catch (RuntimeException cleanup) {
                ex.addSuppressed(cleanup);
            }
            throw ex;
        }
    }

    /** After a failed import: drops the subscription if it was made (its slot on the source goes with it). */
    private void dropSubscriptionQuietly(String tenant, io.forkline.compute.proxy.ComputeAddress main,
                                         io.forkline.pageserver.logical.LogicalImports.Source source) {
        try {
            io.forkline.pageserver.logical.LogicalImports.dropSubscription(tenant, source.uri().dbname(), main);
        } catch (java.sql.SQLException e) {
            log.debug("no subscription to drop after a failed import: {}", e.getMessage());
        }
    }

    /** The mirrors of running primaries ({@link #importFromPrimary}). */
    public io.forkline.pageserver.mirror.MirrorService mirrors() {
        return mirrors;
    }

    /** Starts the mirror of every tenant imported from a running primary (server start). */
    public void resumeMirrors() {
        mirrors.resumeAll(t -> records.exists(tenantKey(t)));
    }

    /** A mirror's timeline takes no writes of its own: no compute, no restore or reset of its ref. */
    private void refuseWritesToMirror(String tenant, String ref, TimelineId tl, String action) {
        io.forkline.pageserver.mirror.MirrorRecord m = mirrors.mirrorOf(tl);
        if (m != null) {
            throw ApiException.conflict("cannot " + action + " branch '" + ref + "' of tenant '" + tenant
                    + "': it mirrors the primary " + io.forkline.pageserver.mirror.PrimaryUri.parse(mirrors.primaryOf(m))
                    + " and takes no writes of its own; create a branch of it (at any LSN from " + m.consistentLsn()
                    + " on) and use that");
        }
    }

    /**
     * Creates tenant {@code name} whose {@code main} mirrors the running PostgreSQL 15 primary at
     * {@code primaryUri} (physical import, then streaming from a replication slot; see
     * {@link io.forkline.pageserver.mirror.MirrorService}). Returns once {@code main} is consistent
     * (the base backup's end LSN is durable); {@code init_lsn} is that LSN.
     *
     * @throws ApiException 400 for an invalid name or URI and for a primary that cannot be imported
     *                      (the message says why), 409 when the tenant or the slot exists
     */
    public TenantInfo importFromPrimary(String name, String primaryUri) {
        TenantId id = tenantId(name);
        synchronized (lock(name)) {
            if (records.exists(tenantKey(name))) {
                throw ApiException.conflict("tenant '" + name + "' already exists");
            }
            io.forkline.pageserver.mirror.MirrorService.Prepared p;
            try (io.forkline.pageserver.importer.ImportProgress.Tracker progress =
                         imports.start(name, io.forkline.pageserver.mirror.PrimaryUri.parse(primaryUri).display())) {
                p = mirrors.prepare(name, id, primaryUri, progress);
            }
            Instant now = clock.instant();
            TenantInfo info = new TenantInfo(name, MetadataRecords.timestamp(now), Lsn.format(p.consistentLsn()));
            try {
                records.write(new MetadataRecords.Changes()
                        .put(tenantKey(name), info)
                        .put(branchKey(name, "main"), branches.access().assignNew(name, new BranchInfo("main",
                                p.timeline().toString(), null, null, MetadataRecords.timestamp(now))))
                        .put(io.forkline.pageserver.mirror.MirrorRecord.key(name), p.record()));
            } catch (RuntimeException e) {
                mirrors.abort(p);
                throw e;
            }
            mirrors.activate(p);
            log.info("tenant {} imported from a primary (slot {}): main timeline {} consistent at {}", name,
                    p.record().slot(), p.timeline(), Lsn.format(p.consistentLsn()));
            return info;
        }
    }

    /** Logical, physical and stored sizes of timelines (cached logical sizes). */
    public io.forkline.pageserver.size.SizeService sizes() {
        return sizes;
    }

    /**
     * The tenant's sizes: {@code main}'s logical size, the physical ({@code total_physical_size_bytes})
     * and stored ({@code history_size_bytes}) bytes of every timeline it holds, per timeline with
     * the refs pointing at it.
     *
     * @throws ApiException 400 for an invalid name, 404 for an unknown tenant
     */
    public io.forkline.pageserver.size.TenantSize tenantSize(String name) {
        return tenantSize(name, listBranches(name));
    }

    /**
     * Like {@link #tenantSize(String)}, with the tenant's branches already listed
     * ({@link #listBranches}), so a caller that needs both lists them once.
     *
     * @throws ApiException 400 for an invalid name, 404 for an unknown tenant
     */
    public io.forkline.pageserver.size.TenantSize tenantSize(String name, List<BranchView> branches) {
        return tenantSize(name, branches, false);
    }

    /**
     * The tenant's sizes for a listing ({@code GET /v1/tenants}): from the size cache, never waiting
     * for a scan ({@link io.forkline.pageserver.size.SizeService#tenantListed}).
     *
     * @throws ApiException 400 for an invalid name, 404 for an unknown tenant
     */
    public io.forkline.pageserver.size.TenantSize listedTenantSize(String name) {
        return tenantSize(name, listBranches(name), true);
    }

    private io.forkline.pageserver.size.TenantSize tenantSize(String name, List<BranchView> branches, boolean listed) {
        requireTenant(name);
        Map<TimelineId, List<String>> refs = new java.util.HashMap<>();
        TimelineId main = null;
        for (BranchView v : branches) {
            TimelineId tl = TimelineId.parse(v.info().timelineId());
            refs.computeIfAbsent(tl, k -> new ArrayList<>()).add(v.info().ref());
            if (v.info().parent() == null && v.info().ref().equals("main")) {
                main = tl;
            }
        }
        return listed ? sizes.tenantListed(name, main, refs) : sizes.tenant(name, main, refs);
    }

    /** Branch operations beyond create/list/delete: put, reset, restore, protect, quotas, sizes, TTL. */
    public BranchService branches() {
        return branches;
    }

    /** The background reaper of expired branches ({@link BranchReaper#runOnce} for tests). */
    public BranchReaper reaper() {
        return reaper;
    }

    /**
     * The computes of every branch (one per {@code tenant/ref}): their state, ports and WAL
     * receivers. Start, stop and delete them through {@link #branches()}, which applies quotas and
     * the tenant's lock; use this for reading.
     */
    public EndpointManager endpoints() {
        return endpoints;
    }

    /** The page store of every tenant (read-only uses, e.g. the data diff's changed-block lists). */
    public PageStore store() {
        return store;
    }

    private Object lock(String tenant) {
        return locks.computeIfAbsent(tenant, t -> new Object());
    }

    /**
     * The monitor that serializes every operation that reads and writes {@code tenant}'s records
     * (branches, endpoints, backups): hold it with {@code synchronized} for such a sequence. The
     * tenant is checked first, so unknown names create no lock.
     *
     * @throws ApiException 400 for an invalid name, 404 for an unknown tenant
     */
    public Object tenantLock(String tenant) {
        requireTenant(tenant);
        return lock(tenant);
    }

    // ------------------------------------------------------------------ tenants

    /**
     * Creates a tenant: runs {@code initdb}, imports the cluster into a new root timeline and
     * creates its {@code main} branch.
     *
     * @throws ApiException 400 for an invalid name, 409 when it exists
     */
    public TenantInfo createTenant(String name) {
        TenantId id = tenantId(name);
        synchronized (lock(name)) {
            if (records.exists(tenantKey(name))) {
                throw ApiException.conflict("tenant '" + name + "' already exists");
            }
            Path initdbDir = dataDir.resolve("tmp").resolve("initdb-" + name + "-" + System.nanoTime());
            try {
                pg.prepareDirectory(initdbDir.getParent());
                pg.prepareDirectory(initdbDir);
                pg.run(Duration.ofMinutes(5), "initdb", "-D", initdbDir.toString(), "-U", "postgres", "-A", "trust",
                        "-E", "UTF8", "--locale=C", "--no-sync");
                return registerTenant(name, id, initdbDir);
            } finally {
                try {
                    Directories.deleteRecursively(initdbDir);
                } catch (IOException e) {
                    log.warn("cannot remove {}: {}", initdbDir, e.toString());
                }
            }
        }
    }

    /** Imports a cleanly shut down cluster into a new root timeline and records the tenant and its {@code main}. */
    private TenantInfo registerTenant(String name, TenantId id, Path clusterDir) {
        TimelineId tl = TimelineId.generate();
        long initLsn = InitdbImporter.importCluster(store, id, tl, clusterDir);
        Instant now = clock.instant();
        TenantInfo info = new TenantInfo(name, MetadataRecords.timestamp(now), Lsn.format(initLsn));
        records.put(tenantKey(name), info);
        records.put(branchKey(name, "main"), branches.access().assignNew(name, new BranchInfo("main", tl.toString(), null, null,
                MetadataRecords.timestamp(now))));
        log.info("tenant {} created: main timeline {} at {}", name, tl, Lsn.format(initLsn));
        return info;
    }

    /**
     * Creates a tenant from an existing cleanly shut down PostgreSQL 15 data directory (e.g. an
     * extracted {@code backup export}) instead of {@code initdb}: the same import as
     * {@link #createTenant}; its {@code main} branch holds the directory's data. The directory is
     * only read.
     *
     * @throws ApiException 400 for an invalid name or a directory that cannot be imported (the
     *                      message says why), 409 when the tenant exists
     */
    public TenantInfo importTenant(String name, Path clusterDir) {
        TenantId id = tenantId(name);
        synchronized (lock(name)) {
            if (records.exists(tenantKey(name))) {
                throw ApiException.conflict("tenant '" + name + "' already exists");
            }
            try {
                return registerTenant(name, id, clusterDir);
            } catch (io.forkline.pageserver.importer.ImportException e) {
                throw ApiException.badRequest("cannot import " + clusterDir + " as tenant '" + name + "': " + e.getMessage());
            }
        }
    }

    /**
     * What a tenant delete freed.
     *
     * @param name        the tenant
     * @param branches    branches deleted, main included
     * @param timelines   timelines deleted (refs, retired ones, backups' and leases')
     * @param storedBytes exact bytes of the page versions deleted ({@code history_size_bytes} before)
     */
    public record TenantDeletion(String name, int branches, int timelines, long storedBytes) {
    }

    /** Record prefixes {@code <prefix><tenant>/...} that belong to one tenant. */
    private static final List<String> TENANT_RECORD_PREFIXES = List.of("branch/", "retired-timeline/", "lease/", "backup/",
            "schedule/", "backup-orphan/", "endpoint/");
    /** Records {@code <prefix><tenant>} of one tenant. */
    private static final List<String> TENANT_RECORDS = List.of("retention/", "tenant-config/", "mirror/",
            io.forkline.pageserver.logical.LogicalImportRecord.PREFIX);

    /**
     * Deletes a tenant and frees its storage: stops and removes its endpoints (their directories and
     * logs), deletes every timeline it has (branches, retired timelines, backups' and leases'), then
     * its records (branches, backups, schedules, leases, settings), the tenant record last, so a
     * delete that fails midway can be repeated. Refuses while computes run unless {@code force}.
     *
     * @throws ApiException 400/404 for an invalid or unknown tenant, 409 naming the running endpoints
     *                      without {@code force}
     */
    public TenantDeletion deleteTenant(String name, boolean force) {
        requireTenant(name);
        synchronized (lock(name)) {
            requireTenant(name);
            Map<String, EndpointManager.Endpoint> running = endpoints.active(name);
            if (!running.isEmpty() && !force) {
                throw ApiException.conflict("tenant '" + name + "' has " + running.size() + " compute(s) running "
                        + running.keySet() + "; stop them first, or delete with --force");
            }
            mirrors.remove(name);
            logicalImports.forget(name);
            List<BranchInfo> refs = records.list(branchKey(name, ""), BranchInfo.class);
            for (BranchInfo b : refs) {
                endpoints.remove(name, b.ref());
                if (b.endpointId() != null) {
                    store.deleteMetadata(io.forkline.pageserver.access.Credentials.key(b.endpointId()));
                }
            }
            for (String ref : endpoints.active(name).keySet()) {
                endpoints.remove(name, ref);
            }
            try {
                Directories.deleteRecursively(dataDir.resolve("endpoints").resolve(name));
            } catch (IOException e) {
                log.warn("cannot delete the endpoint directories of tenant {}: {}", name, e.toString());
            }
            List<io.forkline.storage.timeline.TimelineMetadata> left = new ArrayList<>(store.timelines(new TenantId(name)));
            int timelines = 0;
            long stored = 0;
            while (!left.isEmpty()) {
                boolean progress = false;
                for (java.util.Iterator<io.forkline.storage.timeline.TimelineMetadata> it = left.iterator(); it.hasNext(); ) {
                    io.forkline.storage.timeline.TimelineMetadata md = it.next();
                    boolean hasChild = left.stream().anyMatch(o -> md.id().equals(o.ancestor()));
                    if (!hasChild) {
                        stored += store.storedBytes(md.id());
                        store.deleteTimeline(md.id());
                        timelines++;
                        it.remove();
                        progress = true;
                    }
                }
                if (!progress) {
                    throw new IllegalStateException("timelines of tenant " + name + " form a cycle: " + left);
                }
            }
            for (String prefix : TENANT_RECORD_PREFIXES) {
                for (String key : store.listMetadata(prefix + name + "/").keySet()) {
                    store.deleteMetadata(key);
                }
            }
            for (String prefix : TENANT_RECORDS) {
                store.deleteMetadata(prefix + name);
            }
            store.deleteMetadata(tenantKey(name));
            log.info("tenant {} deleted: {} branches, {} timelines, {} bytes of history freed", name, refs.size(), timelines,
                    stored);
            return new TenantDeletion(name, refs.size(), timelines, stored);
        }
    }

    /** All tenants, by name. */
    public List<TenantInfo> listTenants() {
        return records.list("tenant/", TenantInfo.class);
    }

    /**
     * The tenant's record: the one check that a tenant exists, for every service.
     *
     * @throws ApiException 400 naming an invalid name, 404 for an unknown tenant
     */
    public TenantInfo requireTenant(String name) {
        tenantId(name);
        TenantInfo t = records.get(tenantKey(name), TenantInfo.class);
        if (t == null) {
            throw ApiException.notFound("tenant '" + name + "' does not exist");
        }
        return t;
    }

    // ------------------------------------------------------------------ branches

    /** A branch with its live state, as {@code branch list} shows it. */
    public record BranchView(BranchInfo info, long lastRecordLsn, String endpointState, String uri, String endpointSize) {
        /** A view whose endpoint size is the branch's default. */
        public BranchView(BranchInfo info, long lastRecordLsn, String endpointState, String uri) {
            this(info, lastRecordLsn, endpointState, uri, info.size() == null ? "s" : info.size());
        }
    }

    /**
     * Creates branch {@code ref} of {@code tenant} from {@code parentRef} at an LSN ({@code X/Y}), a
     * timestamp (RFC 3339: the LSN just after the last commit at or before it), or the parent's last
     * record LSN when both are null. When the parent's endpoint is running, an LSN beyond its
     * compute's WAL insert position is refused at once; one at or below it waits up to 30 s for ingest.
     *
     * @throws ApiException 400 for bad values or an LSN outside the parent's range (the message gives
     *                      the range), 404 for an unknown tenant or parent, 409 when the ref exists
     */
    public BranchInfo createBranch(String tenant, String ref, String parentRef, String lsnText, String atText) {
        return branches.create(tenant, ref, parentRef, lsnText, atText, BranchOptions.NONE);
    }

    /**
     * Adds a pin: a predicate that says a timeline must be kept (a backup or an active LSN lease
     * holds an LSN of it). {@link #deleteBranch} and resets then remove only the ref of a pinned
     * timeline and keep it as a retired timeline, deleted by a later delete, reset or reaper pass
     * once no pin holds it. The predicate is called under a tenant's lock: it must not block or call
     * back into this service.
     */
    public void addTimelinePin(java.util.function.Predicate<TimelineId> pinned) {
        timelinePins.add(pinned);
    }

    /** Whether any pin ({@link #addTimelinePin}) holds {@code tl} now. */
    public boolean isPinned(TimelineId tl) {
        for (java.util.function.Predicate<TimelineId> p : timelinePins) {
            if (p.test(tl)) {
                return true;
            }
        }
        return false;
    }

    /** Branches of a tenant with live state, sorted by creation time. */
    public List<BranchView> listBranches(String tenant) {
        return branches.list(tenant);
    }

    /** One branch's record. @throws ApiException 400 for an invalid tenant name, 404 when the tenant or branch is unknown */
    public BranchInfo branch(String tenant, String ref) {
        return branches.get(tenant, ref);
    }

    /**
     * Deletes a branch: stops its endpoint, removes its timeline and every version it wrote; a timeline
     * pinned by a backup ({@link #addTimelinePin}) keeps its data, only the ref goes.
     *
     * A timeline that other timelines descend from is retired instead and deleted with its last
     * descendant ({@link BranchService#delete}, which also deletes recursively).
     *
     * @throws ApiException 409 for {@code main}, a protected branch or a branch with children, 404 when unknown
     */
    public void deleteBranch(String tenant, String ref) {
        branches.delete(tenant, ref, false);
    }

    // ------------------------------------------------------------------ endpoints

    /** Starts (or returns) the branch's endpoint; returns its libpq URI. */
    public String startEndpoint(String tenant, String ref) {
        return branches.startEndpoint(tenant, ref, null);
    }

    /** Stops the branch's endpoint; no-op when stopped. */
    public void stopEndpoint(String tenant, String ref) {
        branches.stopEndpoint(tenant, ref);
    }

    @Override
    public void close() {
        try {
            reaper.close();
        } finally {
            try {
                mirrors.close();
                logicalImports.close();
            } finally {
                try {
                    endpoints.close();
                } finally {
                    sizes.close();
                }
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    private static TenantId tenantId(String name) {
        try {
            return new TenantId(name);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage());
        }
    }

    private static String tenantKey(String name) {
        return "tenant/" + name;
    }

    private static String branchKey(String tenant, String ref) {
        return "branch/" + tenant + "/" + ref;
    }
}
