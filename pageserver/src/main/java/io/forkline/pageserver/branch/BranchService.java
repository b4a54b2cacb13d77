package io.forkline.pageserver.branch;

import com.fasterxml.jackson.databind.JsonNode;
import io.forkline.compute.endpoint.ComputeSize;
import io.forkline.pageserver.api.ApiException;
import io.forkline.pageserver.endpoint.EndpointManager;
import io.forkline.pageserver.metadata.MetadataRecords;
import io.forkline.pageserver.retention.EarliestRestorable;
import io.forkline.format.interval.IntervalText;
import io.forkline.pageserver.tenant.BranchInfo;
import io.forkline.pageserver.tenant.TenantService;
import io.forkline.storage.id.TenantId;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;
import io.forkline.storage.timeline.TimelineMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Branches by ref: create, put (create or reset), reset, restore, protect, delete (optionally
 * recursive), TTL expiry, quotas, and the branch's endpoint (start with a size, resize, stop).
 *
 * <h2>Refs and timelines</h2>
 * A ref ({@code branch/<tenant>/<ref>}, {@link BranchInfo}) points at one timeline. A <b>reset</b>
 * creates a new timeline at the parent's last record LSN and points the ref at it; a <b>restore</b>
 * creates a new timeline branched from the ref's own timeline at a past LSN, and hands the old
 * timeline to a new ref ({@code <ref>-before-restore-<time>} or the caller's name), so nothing is
 * lost. A timeline that loses its ref is deleted at once, unless other timelines descend from it
 * (children of a reset branch, the restored branch after its keep-as ref is deleted) or a pin
 * ({@code TenantService.addTimelinePin}, e.g. a backup) holds it: then it is <i>retired</i>
 * ({@code retired-timeline/<tenant>/<id>}) and deleted by the first later delete, reset or reap
 * after its last descendant and pin are gone.
 *
 * <h2>Rules</h2>
 * <ul>
 *   <li>{@code main} (the root) cannot be deleted or reset; a {@code protected} branch cannot be
 *       deleted, reset (put of an existing one included) or expire: 409 with the reason.</li>
 *   <li>A branch with children (branches whose {@code parent} is its ref) is deleted only with
 *       {@code recursive}: children first; a protected branch anywhere in the tree refuses it all.</li>
 *   <li>Quotas ({@link Quotas}, per tenant {@link TenantConfig}): branches (main included) and
 *       endpoints running or provisioning at once; beyond them, 403 {@code quota_exceeded} with the
 *       usage.</li>
 *   <li>TTL: {@code expires_at = now + ttl}, renewed by every put; {@link #reapExpired} deletes
 *       expired branches (and their endpoints) that are not protected and have no children.</li>
 *   <li>Schema-only: after the branch's timeline is created (and after every reset), its compute is
 *       started and every user table of every database is truncated ({@link SchemaOnly}); then the
 *       compute is stopped unless the caller wants it running.</li>
 * </ul>
 *
 * <p>Thread-safe: every operation that reads and writes a tenant's records runs under the tenant's
 * lock (the one {@link TenantService} uses), endpoint starts included, so a reset and a start never
 * interleave. Two concurrent puts of one ref therefore converge: the first creates, the second resets
 * (or, when nothing changed since, leaves the branch as it is).
 */
public final class BranchService {
    private static final Logger log = LoggerFactory.getLogger(BranchService.class);
    private static final Pattern REF = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/-]{0,63}");
    private static final DateTimeFormatter KEEP_AS_TIME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC);

    private final PageStore store;
    private final EndpointManager endpoints;
    private final Clock clock;
    private final Function<String, Object> lockOf;
    private final Consumer<String> requireTenant;
    private final Predicate<TimelineId> pinned;
    private final Quotas defaults;
    private final MetadataRecords meta;
    private final BranchRecords records;
    private final BranchPoints points;
    private final BranchAccess access;

    /** What a put did. @param created whether the branch was new @param uri the endpoint's URI when running, else null */
    public record PutResult(BranchInfo branch, boolean created, String uri) {
    }

    /**
     * What a restore did.
     *
     * @param branch the restored branch (same ref, new timeline)
     * @param keptAs the branch that holds the state before the restore
     * @param lsn    the restore point on the branch's former timeline, {@code X/Y}
     * @param uri    the endpoint's URI when it was running (restarted on the restored state), else null
     */
    public record RestoreResult(BranchInfo branch, BranchInfo keptAs, String lsn, String uri) {
    }

    /**
     * A tenant's limits and what it uses of them.
     *
     * @param config           the tenant's own settings (nulls: server default)
     * @param limits           the effective limits
     * @param branches         branches now, main included
     * @param runningEndpoints endpoints running or provisioning now
     */
    public record Usage(TenantConfig config, Quotas limits, int branches, int runningEndpoints) {
    }

    /**
     * @param lockOf        the tenant's lock (shared with {@link TenantService})
     * @param requireTenant throws {@link ApiException} 400/404 for an invalid or unknown tenant
     * @param pinned        whether something outside branches (a backup) holds a timeline
     * @param defaults      server-wide limits
     */
    public BranchService(PageStore store, EndpointManager endpoints, Clock clock, Function<String, Object> lockOf,
                         Consumer<String> requireTenant, Predicate<TimelineId> pinned, Quotas defaults,
                         io.forkline.pageserver.access.Credentials credentials) {
        this.store = store;
        this.endpoints = endpoints;
        this.clock = clock;
        this.lockOf = lockOf;
        this.requireTenant = requireTenant;
        this.pinned = pinned;
        this.defaults = defaults;
        this.meta = new MetadataRecords(store);
        this.records = new BranchRecords(meta);
        this.points = new BranchPoints(store, endpoints, clock);
        this.access = new BranchAccess(records, credentials);
        access.loadAndAssignMissing();
    }

    /** Endpoint ids, passwords and connection strings of the branches. */
    public BranchAccess access() {
        return access;
    }

    /**
     * Checks a branch ref: 1-64 characters, a letter or digit first, then {@code A-Z a-z 0-9 . _ - /}.
     *
     * @throws ApiException 400 naming the ref and the rule
     */
    public static void validateRef(String ref) {
        if (ref == null || !REF.matcher(ref).matches()) {
            throw ApiException.badRequest("invalid branch ref '" + ref
                    + "': 1-64 characters, a letter or digit first, then A-Z a-z 0-9 . _ - /");
        }
    }

    /**
     * Parses a compute size ({@code xs}, {@code s}, {@code m}, {@code l}); {@code null} stays null.
     *
     * @throws ApiException 400 naming the value and the valid sizes
     */
    public static ComputeSize parseSize(String text) {
        if (text == null) {
            return null;
        }
        try {
            return ComputeSize.parse(text);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage());
        }
    }

    private Object lock(String tenant) {
        return lockOf.apply(tenant);
    }

    // ------------------------------------------------------------------ create, put, reset

    /**
     * Creates branch {@code ref} from {@code parentRef} (default {@code main}) at an LSN, a time or
     * the parent's last record LSN (see {@link BranchPoints#resolve}).
     *
     * @throws ApiException 400 for bad values or a point outside the parent's range, 403 at the branch
     *                      quota (or the endpoint quota with {@code start}), 404 for an unknown tenant or
     *                      parent, 409 when the ref exists, 503 when a schema-only branch's compute fails
     */
    public BranchInfo create(String tenant, String ref, String parentRef, String lsnText, String atText, BranchOptions o) {
        requireTenant.accept(tenant);
        validateRef(ref);
        String parentName = parentRef == null || parentRef.isBlank() ? "main" : parentRef;
        if (lsnText != null && atText != null) {
            throw ApiException.badRequest("give either an LSN or a timestamp, not both (lsn '" + lsnText + "', at '" + atText + "')");
        }
        synchronized (lock(tenant)) {
            if (records.find(tenant, ref) != null) {
                throw ApiException.conflict("branch '" + ref + "' already exists in tenant '" + tenant + "'");
            }
            return createLocked(tenant, ref, parentName, lsnText, atText, o).branch();
        }
    }

    private PutResult createLocked(String tenant, String ref, String parentName, String lsnText, String atText,
                                   BranchOptions o) {
        BranchInfo parent = records.require(tenant, parentName);
        checkBranchQuota(tenant, 1);
        BranchPoints.Point point = points.resolve(tenant, parentName, TimelineId.parse(parent.timelineId()), lsnText, atText,
                formerTimelines(parent));
        long lsn = point.lsn();
        TimelineId tl = TimelineId.generate();
        Instant now = clock.instant();
        MetadataRecords.Changes secret = new MetadataRecords.Changes();
        BranchInfo info = access.assign(tenant, withTtl(new BranchInfo(ref, tl.toString(), parentName, Lsn.format(lsn), iso(now),
                false, null, null, o.size() == null ? null : o.size().apiName(), o.schemaOnlyOrDefault()), o, now)
                .withSuspendAfter(o.suspendAfter()), secret);
        // nothing to prepare on the timeline: it and the branch record in one atomic, fsync'd batch;
        // else the compute needs the timeline first, and on a failure (a schema-only branch that could
        // not be emptied) the timeline is deleted again and the branch is not created at all
        boolean prepare = info.schemaOnly() || o.start();
        newTimeline(tenant, point.timeline(), lsn, tl,
                prepare ? secret : records.putChange(tenant, info).putAll(secret));
        if (o.storage() != null) {
            endpoints.preferStorage(tenant, ref, o.storage()); // forgotten with the endpoint if adopting fails
        }
        String uri = null;
        if (prepare) {
            uri = adoptTimeline(tenant, info, o.start(), false, () -> records.put(tenant, info),
                    () -> endpoints.remove(tenant, ref));
        }
        log.info("branch {}/{} created from {} at {}", tenant, ref, parentName, Lsn.format(lsn));
        return new PutResult(info, true, uri);
    }

    /**
     * Creates the branch the first time and resets it to its parent's current state every later
     * time (one idempotent call for CI). A later put keeps what the branch was created with unless
     * an option changes it: {@code ttl} given sets the expiry ({@code 0}: none), absent renews the
     * branch's own TTL from now; {@code size} and {@code schemaOnly}, when given, replace the
     * branch's; {@code start} leaves the endpoint running. A running
     * endpoint is restarted on the new state with the same URI. When neither the parent nor the
     * branch changed since the last put and the endpoint is stopped, the branch keeps its timeline.
     *
     * @param parentRef parent ref; {@code null}: the branch's current parent, or {@code main} for a new one
     * @throws ApiException 400 for an invalid ref or a parent that is the branch or one of its
     *                      descendants, 403 at a quota, 404 for an unknown tenant or parent, 409 for
     *                      {@code main} or a protected branch
     */
    public PutResult put(String tenant, String ref, String parentRef, BranchOptions o) {
        requireTenant.accept(tenant);
        validateRef(ref);
        synchronized (lock(tenant)) {
            BranchInfo existing = records.find(tenant, ref);
            if (existing == null) {
                return createLocked(tenant, ref, parentRef == null || parentRef.isBlank() ? "main" : parentRef, null, null, o);
            }
            refuseReset(existing, "reset by a put");
            String parentName = parentRef == null || parentRef.isBlank() ? existing.parent() : parentRef;
            if (!parentName.equals(existing.parent())) {
                checkNewParent(tenant, ref, parentName);
            }
            if (o.storage() != null) {
                endpoints.preferStorage(tenant, ref, o.storage());
            }
            BranchInfo wanted = withTtl(existing, o, clock.instant())
                    .withSize(o.size() != null ? o.size().apiName() : existing.size())
                    .withSchemaOnly(o.schemaOnly() != null ? o.schemaOnly() : existing.schemaOnly())
                    .withSuspendAfter(o.suspendAfter() != null ? o.suspendAfter() : existing.suspendAfter());
            return resetLocked(tenant, wanted, parentName, o.start());
        }
    }

    /**
     * Moves a branch to its parent's latest state (a new timeline at the parent's last record LSN).
     * The ref, settings and endpoint URI stay; a running endpoint is restarted on the new state.
     *
     * @throws ApiException 404 when unknown, 409 for {@code main} or a protected branch
     */
    public BranchInfo reset(String tenant, String ref) {
        requireTenant.accept(tenant);
        synchronized (lock(tenant)) {
            BranchInfo b = records.require(tenant, ref);
            refuseReset(b, "reset");
            return resetLocked(tenant, b, b.parent(), false).branch();
        }
    }

    private void refuseReset(BranchInfo b, String what) {
        if (b.parent() == null) {
            throw ApiException.conflict("branch '" + b.ref() + "' is the tenant's root branch: it has no parent and cannot be "
                    + what);
        }
        if (b.isProtected()) {
            throw ApiException.conflict("branch '" + b.ref() + "' is protected and cannot be " + what
                    + "; unprotect it first (forkline branch protect " + b.ref() + " --off)");
        }
    }

    private void checkNewParent(String tenant, String ref, String parentName) {
        validateRef(parentName);
        records.require(tenant, parentName);
        String p = parentName;
        Set<String> seen = new HashSet<>();
        while (p != null && seen.add(p)) {
            if (p.equals(ref)) {
                throw ApiException.badRequest("parent '" + parentName + "' of branch '" + ref
                        + "' is the branch itself or one of its descendants");
            }
            BranchInfo pb = records.find(tenant, p);
            p = pb == null ? null : pb.parent();
        }
    }

    private PutResult resetLocked(String tenant, BranchInfo b, String parentName, boolean start) {
        String ref = b.ref();
        BranchInfo parent = records.require(tenant, parentName);
        TimelineId parentTl = TimelineId.parse(parent.timelineId());
        endpoints.catchUp(tenant, parentName, parentTl);
        long lsn = store.lastRecordLsn(parentTl);
        TimelineId oldTl = TimelineId.parse(b.timelineId());
        TimelineMetadata md = store.timeline(oldTl);
        EndpointManager.Endpoint e = endpoints.get(tenant, ref);
        boolean wasRunning = e != null && e.active();
        boolean unchanged = !wasRunning && md != null && parentTl.equals(md.ancestor()) && md.ancestorLsn() == lsn
                && store.lastRecordLsn(oldTl) == md.startLsn();
        if (unchanged) {
            BranchInfo info = b.withTimeline(b.timelineId(), parentName, Lsn.format(lsn));
            records.put(tenant, info);
            String uri = start ? startLocked(tenant, info, null) : null;
            log.info("branch {}/{} already at {} of {}: kept", tenant, ref, Lsn.format(lsn), parentName);
            return new PutResult(info, false, uri);
        }
        // the new timeline first: a point GC already removed is refused before the endpoint stops
        TimelineId tl = newTimeline(tenant, parentTl, lsn);
        ComputeSize sizeBefore = wasRunning ? e.size() : null;
        if (wasRunning) {
            try {
                endpoints.stop(tenant, ref);
            } catch (RuntimeException ex) {
                deleteNewTimeline(tl, ex);
                throw ex;
            }
        }
        BranchInfo info = b.withTimeline(tl.toString(), parentName, Lsn.format(lsn));
        String uri = adoptTimeline(tenant, info, start || wasRunning, wasRunning, () -> {
            records.put(tenant, info);
            releaseTimeline(tenant, oldTl, ref);
            sweepRetired(tenant);
        }, () -> {
            if (wasRunning) { // back to where it was: the branch still points at its former timeline
                endpoints.start(tenant, ref, oldTl, sizeBefore);
            }
        });
        log.info("branch {}/{} reset to {} of {} (timeline {} -> {})", tenant, ref, Lsn.format(lsn), parentName, oldTl, tl);
        return new PutResult(info, false, uri);
    }

    /**
     * Makes the new timeline that {@code info} names the branch's: when schema-only, starts the
     * branch's endpoint on it and empties every user table ({@link SchemaOnly}); starts the endpoint
     * when {@code run}; then {@code commit} writes the record (and lets go of a former timeline);
     * last, stops the endpoint unless {@code run}. A failure before {@code commit} stops the
     * endpoint, deletes the new timeline, runs {@code undoEndpoint} and rethrows: the branch keeps
     * its former state (it never points at its parent's rows when schema-only). Call under the
     * tenant's lock.
     *
     * @param run          leave the endpoint running
     * @param wasRunning   the endpoint ran before (so it does not count as a new one for the quota)
     * @param commit       switches the branch to the new timeline; runs only after the preparation succeeded
     * @param undoEndpoint after a failure: puts the endpoint back as it was (forget it for a new
     *                     branch, restart it on the former timeline for a reset)
     * @return the endpoint's URI when left running, else null
     * @throws ApiException 403 at the endpoint quota, 503 when the compute cannot start or the
     *                      tables cannot be emptied
     */
    private String adoptTimeline(String tenant, BranchInfo info, boolean run, boolean wasRunning, Runnable commit,
                                 Runnable undoEndpoint) {
        String ref = info.ref();
        TimelineId tl = TimelineId.parse(info.timelineId());
        String uri = null;
        try {
            if (run && !wasRunning) {
                checkEndpointQuota(tenant, ref);
            }
            if (info.schemaOnly() || run) {
                uri = endpoints.start(tenant, ref, tl, sizeOf(info));
            }
            if (info.schemaOnly()) {
                int tables = SchemaOnly.truncateAll(endpoints.get(tenant, ref).address());
                log.info("branch {}/{} is schema-only: {} tables emptied", tenant, ref, tables);
            }
        } catch (RuntimeException ex) {
            try {
                endpoints.stop(tenant, ref);
            } catch (RuntimeException cleanup) {
                ex.addSuppressed(cleanup);
            }
            deleteNewTimeline(tl, ex);
            try {
                undoEndpoint.run();
            } catch (RuntimeException cleanup) {
                ex.addSuppressed(cleanup);
            }
            throw ex;
        }
        commit.run();
        if (!run && uri != null) {
            endpoints.stop(tenant, ref);
            return null;
        }
        return uri;
    }

    /** Rolls back a timeline created for a branch that did not take it; a failure is added to {@code cause}. */
    private void deleteNewTimeline(TimelineId tl, RuntimeException cause) {
        try {
            store.deleteTimeline(tl);
        } catch (RuntimeException cleanup) {
            cause.addSuppressed(cleanup);
        }
    }

    /**
     * A new timeline of {@code tenant} branched from {@code parentTl} at {@code lsn}.
     *
     * @throws ApiException 404 when {@code parentTl} is gone or belongs to another tenant, 409
     *                      {@value EarliestRestorable#CODE} when GC removed history at {@code lsn},
     *                      400 when the store refuses the branch point
     */
    private TimelineId newTimeline(String tenant, TimelineId parentTl, long lsn) {
        TimelineId tl = TimelineId.generate();
        newTimeline(tenant, parentTl, lsn, tl, new MetadataRecords.Changes());
        return tl;
    }

    /**
     * Creates timeline {@code tl} as {@link #newTimeline(String, TimelineId, long)} does, with
     * {@code withRecords} in the same atomic batch (nothing of either is written on a failure).
     */
    private void newTimeline(String tenant, TimelineId parentTl, long lsn, TimelineId tl, MetadataRecords.Changes withRecords) {
        TimelineMetadata pmd = store.timeline(parentTl);
        if (pmd == null || !pmd.tenant().name().equals(tenant)) {
            throw ApiException.notFound("timeline " + parentTl + " does not exist in tenant '" + tenant + "'");
        }
        EarliestRestorable.check(store, parentTl, lsn, "parent timeline " + parentTl);
        try {
            store.createTimeline(new TimelineMetadata(tl, new TenantId(tenant), parentTl, lsn, lsn, pmd.pgVersion(),
                    clock.instant()), withRecords.asMap());
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("cannot branch at " + Lsn.format(lsn) + ": " + e.getMessage());
        }
    }

    // ------------------------------------------------------------------ restore

    /**
     * Restores a branch in place to a past point of its own history: its ref moves to a new timeline
     * branched from its current one at the point ({@code lsnText} or {@code atText}), and the state
     * it had is kept as branch {@code keepAs} (default {@code <ref>-before-restore-<yyyyMMddTHHmmssZ>}),
     * a child of the restored branch at the restore point. A running endpoint is restarted on the
     * restored state with the same URI. Works on {@code main} too.
     *
     * @throws ApiException 400 for no point, both, a bad value, a point outside the branch's range, or
     *                      an invalid keep-as name, 403 at the branch quota, 404 when unknown, 409 when
     *                      {@code keepAs} exists
     */
    public RestoreResult restore(String tenant, String ref, String lsnText, String atText, String keepAs) {
        requireTenant.accept(tenant);
        if (lsnText == null && atText == null) {
            throw ApiException.badRequest("restore of branch '" + ref + "' needs a point: an LSN (X/Y) or a timestamp");
        }
        if (keepAs != null) {
            validateRef(keepAs);
        }
        synchronized (lock(tenant)) {
            BranchInfo b = records.require(tenant, ref);
            guard(tenant, b, "restore");
            Instant now = clock.instant();
            String keep = keepAs != null ? keepAs : freeKeepAsName(tenant, ref, now);
            if (records.find(tenant, keep) != null) {
                throw ApiException.conflict("branch '" + keep + "' already exists in tenant '" + tenant
                        + "'; choose another name for the pre-restore state (--keep-as)");
            }
            checkBranchQuota(tenant, 1);
            TimelineId oldTl = TimelineId.parse(b.timelineId());
            BranchPoints.Point point = points.resolve(tenant, ref, oldTl, lsnText, atText, formerTimelines(b));
            long lsn = point.lsn();
            // the new timeline first: a point GC already removed is refused while the endpoint still runs
            TimelineId tl = newTimeline(tenant, point.timeline(), lsn);
            EndpointManager.Endpoint e = endpoints.get(tenant, ref);
            boolean wasRunning = e != null && e.active();
            if (wasRunning) {
                try {
                    endpoints.stop(tenant, ref);
                } catch (RuntimeException ex) {
                    deleteNewTimeline(tl, ex);
                    throw ex;
                }
            }
            BranchInfo kept = access.assign(tenant, new BranchInfo(keep, oldTl.toString(), ref, Lsn.format(lsn), iso(now), false,
                    null, null, b.size(), b.schemaOnly()));
            BranchInfo restored = b.withTimeline(tl.toString(), b.parent(), b.ancestorLsn())
                    .withRestore(new BranchInfo.Restore(iso(now), Lsn.format(lsn), oldTl.toString(), keep));
            records.put(tenant, kept);
            records.put(tenant, restored);
            log.info("branch {}/{} restored to {} (timeline {}); its former state is branch {}", tenant, ref,
                    Lsn.format(lsn), tl, keep);
            String uri = wasRunning ? endpoints.start(tenant, ref, tl, sizeOf(restored)) : null;
            return new RestoreResult(restored, kept, Lsn.format(lsn), uri);
        }
    }

    /**
     * The timelines {@code b} pointed at before its in-place restores: its history below its
     * timeline's start (see {@link BranchPoints#resolve(String, String, TimelineId, String, String, Set)}).
     */
    static Set<TimelineId> formerTimelines(BranchInfo b) {
        Set<TimelineId> out = new HashSet<>();
        for (BranchInfo.Restore r : b.restoresDone()) {
            out.add(TimelineId.parse(r.fromTimelineId()));
        }
        return out;
    }

    private String freeKeepAsName(String tenant, String ref, Instant now) {
        String base = ref + "-before-restore-" + KEEP_AS_TIME.format(now);
        String name = base;
        for (int i = 2; records.find(tenant, name) != null; i++) {
            name = base + "-" + i;
        }
        if (!REF.matcher(name).matches()) {
            throw ApiException.badRequest("the pre-restore branch name '" + name
                    + "' is longer than 64 characters; name it with --keep-as");
        }
        return name;
    }

    // ------------------------------------------------------------------ from a timeline (backup restore)

    /**
     * Creates branch {@code ref} as a child of timeline {@code source} at {@code lsn}, whichever ref
     * (if any) points at that timeline now: a restore of a backup, which pins (timeline, LSN) rather
     * than a ref. Writes metadata only; the source is not modified. Counts against the branch quota.
     *
     * @param parentRef the ref recorded as parent (the backup's branch); {@code null} for none
     * @param lsn       WAL position, bytes, within {@code [start, last record LSN]} of {@code source}
     * @throws ApiException 400 for an invalid ref or an LSN outside the source's range, 403 at the
     *                      branch quota, 404 for an unknown tenant or a timeline that is gone or
     *                      belongs to another tenant, 409 when the ref exists or GC removed history
     *                      at {@code lsn} ({@value EarliestRestorable#CODE})
     */
    public BranchInfo createFromTimeline(String tenant, String ref, TimelineId source, long lsn, String parentRef) {
        requireTenant.accept(tenant);
        validateRef(ref);
        synchronized (lock(tenant)) {
            if (records.find(tenant, ref) != null) {
                throw ApiException.conflict("branch '" + ref + "' already exists in tenant '" + tenant + "'");
            }
            checkBranchQuota(tenant, 1);
            TimelineMetadata smd = store.timeline(source);
            if (smd == null || !smd.tenant().name().equals(tenant)) {
                throw ApiException.notFound("timeline " + source + " does not exist in tenant '" + tenant + "'");
            }
            long last = store.lastRecordLsn(source);
            if (Long.compareUnsigned(lsn, smd.startLsn()) < 0 || Long.compareUnsigned(lsn, last) > 0) {
                throw ApiException.badRequest("LSN " + Lsn.format(lsn) + " is outside timeline " + source + ": valid LSNs are "
                        + Lsn.format(smd.startLsn()) + " to " + Lsn.format(last));
            }
            TimelineId tl = newTimeline(tenant, source, lsn);
            BranchInfo info = access.assign(tenant, new BranchInfo(ref, tl.toString(), parentRef, Lsn.format(lsn),
                    iso(clock.instant())));
            records.put(tenant, info);
            log.info("branch {}/{} created from timeline {} at {}", tenant, ref, source, Lsn.format(lsn));
            return info;
        }
    }

    // ------------------------------------------------------------------ rename, log

    /** Called after a rename, under the tenant's lock: {@code (tenant, oldRef, newRef)}. */
    public interface RenameListener {
        void renamed(String tenant, String oldRef, String newRef);
    }

    private final List<RenameListener> renameListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** Adds a listener told of every rename (e.g. backup schedules that name the branch). */
    public void addRenameListener(RenameListener l) {
        renameListeners.add(l);
    }

    /** A check that may refuse a write to a ref's timeline (e.g. a mirror's: it takes no writes of its own). */
    @FunctionalInterface
    public interface TimelineGuard {
        /**
         * @param action what is about to happen, e.g. {@code start an endpoint on}
         * @throws ApiException to refuse it
         */
        void check(String tenant, String ref, TimelineId timeline, String action);
    }

    private final List<TimelineGuard> timelineGuards = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** Adds a guard called before an endpoint starts on a ref's timeline and before a ref is restored or reset. */
    public void addTimelineGuard(TimelineGuard g) {
        timelineGuards.add(g);
    }

    private void guard(String tenant, BranchInfo b, String action) {
        for (TimelineGuard g : timelineGuards) {
            g.check(tenant, b.ref(), TimelineId.parse(b.timelineId()), action);
        }
    }

    /**
     * Renames a branch: same timeline, settings and history; its children name the new ref as
     * parent. Its endpoint must be stopped (the endpoint's directory and log go with the old name).
     *
     * @return the renamed branch
     * @throws ApiException 400 for an invalid new ref, 404 when unknown, 409 for the root branch, a
     *                      new ref that exists, or a running endpoint
     */
    public BranchInfo rename(String tenant, String ref, String newRef) {
        requireTenant.accept(tenant);
        if (newRef == null) {
            throw ApiException.badRequest("rename of branch '" + ref + "' needs the new name (new_ref)");
        }
        validateRef(newRef);
        synchronized (lock(tenant)) {
            BranchInfo b = records.require(tenant, ref);
            if (b.parent() == null) {
                throw ApiException.conflict("branch '" + ref + "' is the tenant's root branch and cannot be renamed");
            }
            if (records.find(tenant, newRef) != null) {
                throw ApiException.conflict("branch '" + newRef + "' already exists in tenant '" + tenant + "'");
            }
            EndpointManager.Endpoint e = endpoints.get(tenant, ref);
            if (e != null && e.active()) {
                throw ApiException.conflict("the endpoint of branch '" + ref + "' is running; stop it first (forkline endpoint "
                        + "stop " + ref + ")");
            }
            BranchInfo renamed = b.withRef(newRef);
            records.put(tenant, renamed);
            for (BranchInfo c : records.all(tenant)) {
                if (ref.equals(c.parent())) {
                    records.put(tenant, c.withParent(newRef));
                }
            }
            records.delete(tenant, ref);
            endpoints.remove(tenant, ref);
            for (RenameListener l : renameListeners) {
                l.renamed(tenant, ref, newRef);
            }
            log.info("branch {}/{} renamed to {}", tenant, ref, newRef);
            return renamed;
        }
    }

    /**
     * What {@code branch log} shows: the branch's commits, newest first, and its restorable window.
     *
     * @param window  the restorable window ({@link #window})
     * @param commits commits at or above the earliest restorable point, newest first
     */
    public record Log(Window window, List<LoggedCommit> commits) {
    }

    /**
     * One commit of a branch's history.
     *
     * @param timelineId the timeline it was made on (the branch's, or one it had before a restore)
     */
    public record LoggedCommit(long timestampMicros, long lsn, long xid, String timelineId) {
    }

    /**
     * The commits of a branch from the commit-time index, newest first: its timeline's and, below its
     * start, those of the timelines it had before in-place restores (each up to the restore point),
     * down to its earliest restorable point, like {@code git log}.
     *
     * @param sinceText RFC 3339 time; only commits at or after it ({@code null}: all)
     * @param limit     at most this many, 1..10000
     * @throws ApiException 400 for a bad time or limit, 404 when unknown
     */
    public Log log(String tenant, String ref, String sinceText, int limit) {
        requireTenant.accept(tenant);
        if (limit < 1 || limit > 10_000) {
            throw ApiException.badRequest("invalid limit " + limit + ": expected 1 to 10000");
        }
        long since = Long.MIN_VALUE;
        if (sinceText != null) {
            Instant t = BranchPoints.parseTime(sinceText, "since time");
            since = t.getEpochSecond() * 1_000_000L + t.getNano() / 1000;
        }
        BranchInfo b = records.require(tenant, ref);
        Window w = window(b);
        List<LoggedCommit> out = new ArrayList<>();
        if (w == null) {
            return new Log(null, out);
        }
        Set<TimelineId> former = formerTimelines(b);
        TimelineId cur = TimelineId.parse(b.timelineId());
        long maxLsn = -1L;
        while (out.size() < limit) {
            for (PageStore.Commit c : store.commits(cur, since, maxLsn, limit - out.size())) {
                if (Long.compareUnsigned(c.lsn(), w.earliestLsn()) < 0) {
                    return new Log(w, out); // below the earliest restorable point
                }
                out.add(new LoggedCommit(c.timestampMicros(), c.lsn(), c.xid(), cur.toString()));
            }
            TimelineMetadata md = store.timeline(cur);
            if (md == null || md.ancestor() == null || !former.contains(md.ancestor()) || store.timeline(md.ancestor()) == null) {
                break;
            }
            maxLsn = md.ancestorLsn();
            cur = md.ancestor();
        }
        return new Log(w, out);
    }

    // ------------------------------------------------------------------ protect, delete, expiry

    /**
     * Turns protection on or off: a protected branch cannot be deleted, reset or expire.
     *
     * @throws ApiException 404 when unknown
     */
    public BranchInfo protect(String tenant, String ref, boolean on) {
        requireTenant.accept(tenant);
        synchronized (lock(tenant)) {
            BranchInfo b = records.require(tenant, ref).withProtected(on);
            records.put(tenant, b);
            log.info("branch {}/{} protection {}", tenant, ref, on ? "on" : "off");
            return b;
        }
    }

    /**
     * Deletes a branch: stops its endpoint, removes its ref and its timeline (or retires the timeline
     * while others descend from it or a pin holds it). With {@code recursive}, its descendants go
     * first; without, a branch with children is refused.
     *
     * @return the deleted refs, children before parents
     * @throws ApiException 404 when unknown, 409 for {@code main}, a protected branch in the tree, or
     *                      children without {@code recursive} (the message names them)
     */
    public List<String> delete(String tenant, String ref, boolean recursive) {
        return delete(tenant, ref, recursive, false);
    }

    /**
     * Deletes a branch as {@link #delete(String, String, boolean)} does; unless {@code force}, first
     * refuses (409 {@value #HISTORY_CODE}) when a deleted branch is the only way to reach history
     * inside the tenant's PITR window: its timeline stays (others descend from it, e.g. the branch a
     * restore moved away from it) but commits it holds above the last point a remaining timeline
     * hangs from, made within the PITR window, could no longer be branched from or restored. (That
     * history is then released by GC as the PITR window passes over it.)
     *
     * @param force delete even when history inside the PITR window becomes unreachable
     * @throws ApiException 409 {@value #HISTORY_CODE} naming the branch, the LSN range and the commit
     *                      times that would become unreachable
     */
    public List<String> delete(String tenant, String ref, boolean recursive, boolean force) {
        requireTenant.accept(tenant);
        synchronized (lock(tenant)) {
            BranchInfo b = records.require(tenant, ref);
            if (b.parent() == null) {
                throw ApiException.conflict("branch '" + ref + "' is the tenant's root branch and cannot be deleted");
            }
            if (b.isProtected()) {
                throw ApiException.conflict("branch '" + ref + "' is protected and cannot be deleted; unprotect it first "
                        + "(forkline branch protect " + ref + " --off)");
            }
            List<BranchInfo> all = records.all(tenant);
            List<String> children = all.stream().filter(c -> ref.equals(c.parent())).map(BranchInfo::ref).sorted().toList();
            if (!children.isEmpty() && !recursive) {
                throw ApiException.conflict("branch '" + ref + "' has child branches " + children
                        + "; delete them first, or delete with --recursive");
            }
            List<BranchInfo> order = subtreeChildrenFirst(all, b);
            List<String> guarded = order.stream().filter(BranchInfo::isProtected).map(BranchInfo::ref).toList();
            if (!guarded.isEmpty()) {
                throw ApiException.conflict((guarded.size() == 1 && guarded.get(0).equals(ref)
                        ? "branch '" + ref + "' is protected"
                        : "branch '" + ref + "' has protected branches in its tree " + guarded)
                        + " and cannot be deleted; unprotect first (forkline branch protect REF --off)");
            }
            if (!force) {
                refuseHistoryLoss(tenant, order);
            }
            List<String> deleted = new ArrayList<>();
            for (BranchInfo d : order) {
                deleteLocked(tenant, d);
                deleted.add(d.ref());
            }
            sweepRetired(tenant);
            return deleted;
        }
    }

    /** Error code of a delete refused because history inside the PITR window would become unreachable. */
    public static final String HISTORY_CODE = "history_would_be_lost";

    private void refuseHistoryLoss(String tenant, List<BranchInfo> order) {
        Set<String> going = new HashSet<>();
        order.forEach(d -> going.add(d.timelineId()));
        java.time.Duration pitr = io.forkline.pageserver.retention.RetentionService.storedConfig(meta, tenant).pitrInterval();
        Instant windowStart = clock.instant().minus(pitr);
        long sinceMicros = windowStart.getEpochSecond() * 1_000_000L + windowStart.getNano() / 1000;
        for (BranchInfo d : order) {
            TimelineId tl = TimelineId.parse(d.timelineId());
            if (store.timeline(tl) == null) {
                continue;
            }
            long highestPoint = -1;
            for (TimelineMetadata c : store.children(tl)) {
                if (!going.contains(c.id().toString())
                        && (highestPoint == -1 || Long.compareUnsigned(c.ancestorLsn(), highestPoint) > 0)) {
                    highestPoint = c.ancestorLsn();
                }
            }
            if (highestPoint == -1) {
                continue; // the timeline goes with the branch: deleting a branch deletes its history, as asked
            }
            List<PageStore.Commit> newest = store.commits(tl, sinceMicros, -1L, 1);
            if (newest.isEmpty() || Long.compareUnsigned(newest.get(0).lsn(), highestPoint) <= 0) {
                continue;
            }
            int max = 10_000; // enough to say how much; a busy week is not read whole
            List<PageStore.Commit> lost = new ArrayList<>();
            for (PageStore.Commit c : store.commits(tl, sinceMicros, -1L, max + 1)) {
                if (Long.compareUnsigned(c.lsn(), highestPoint) <= 0) {
                    break;
                }
                lost.add(c);
            }
            boolean more = lost.size() > max;
            if (more) {
                lost = lost.subList(0, max);
            }
            PageStore.Commit first = lost.get(lost.size() - 1);
            PageStore.Commit last = lost.get(0);
            throw new ApiException(409, HISTORY_CODE, "branch '" + d.ref() + "' is the only way to reach "
                    + (more ? "more than " + max : Integer.toString(lost.size()))
                    + " commit(s) from " + CommitTimes.format(first.timestampMicros()) + " to "
                    + CommitTimes.format(last.timestampMicros()) + " (LSN " + Lsn.format(first.lsn()) + " to "
                    + Lsn.format(last.lsn()) + ", after the point " + Lsn.format(highestPoint)
                    + " other branches hang from), inside the PITR window of " + IntervalText.format(pitr)
                    + "; deleted, that history can no longer be restored. Delete with --force to go ahead");
        }
    }

    /**
     * The restorable window of branch {@code b}: from the earliest point still restorable on its
     * history (its timeline and, after in-place restores, the timelines it had before, down to where
     * GC removed history) to its last record LSN.
     *
     * @param earliestLsn   WAL position of the earliest restorable point
     * @param earliestTime  the first commit at or after it (the earliest time {@code --at} lands there), or null
     * @param latestLsn     the branch's last record LSN
     * @param latestTime    its newest commit's time, or null when it has none of its own
     */
    public record Window(long earliestLsn, Instant earliestTime, long latestLsn, Instant latestTime) {
    }

    /** The restorable window of {@code b} ({@link Window}); {@code null} when its timeline is gone. */
    public Window window(BranchInfo b) {
        TimelineId cur = TimelineId.parse(b.timelineId());
        TimelineMetadata md = store.timeline(cur);
        if (md == null) {
            return null;
        }
        TimelineId top = cur;
        long latest = store.lastRecordLsn(cur);
        Set<TimelineId> former = formerTimelines(b);
        long earliest;
        while (true) {
            long cutoff = store.gcCutoff(cur);
            if (Long.compareUnsigned(cutoff, md.startLsn()) > 0) {
                earliest = cutoff;
                break;
            }
            earliest = md.startLsn();
            TimelineId anc = md.ancestor();
            if (anc == null || !former.contains(anc) || store.timeline(anc) == null
                    || Long.compareUnsigned(store.gcCutoff(anc), md.ancestorLsn()) > 0) {
                break;
            }
            cur = anc;
            md = store.timeline(anc);
        }
        java.util.OptionalLong t = store.commitTimestampAtOrAfter(cur, earliest);
        List<PageStore.Commit> newest = store.commits(top, Long.MIN_VALUE, -1L, 1);
        return new Window(earliest, t.isEmpty() ? null : CommitTimes.instant(t.getAsLong()), latest,
                newest.isEmpty() ? null : CommitTimes.instant(newest.get(0).timestampMicros()));
    }

    private static List<BranchInfo> subtreeChildrenFirst(List<BranchInfo> all, BranchInfo root) {
        List<BranchInfo> pre = new ArrayList<>();
        Deque<BranchInfo> todo = new ArrayDeque<>();
        todo.push(root);
        Set<String> seen = new HashSet<>();
        while (!todo.isEmpty()) {
            BranchInfo x = todo.pop();
            if (!seen.add(x.ref())) {
                continue;
            }
            pre.add(x);
            for (BranchInfo c : all) {
                if (x.ref().equals(c.parent())) {
                    todo.push(c);
                }
            }
        }
        List<BranchInfo> out = new ArrayList<>(pre);
        java.util.Collections.reverse(out);
        return out;
    }

    private void deleteLocked(String tenant, BranchInfo b) {
        // the branch's and its endpoint's records go in the same atomic batch as the timeline (or its retired record)
        MetadataRecords.Changes changes = records.deleteChange(tenant, b.ref());
        if (b.endpointId() != null) {
            io.forkline.pageserver.access.Credentials.delete(b.endpointId(), changes);
        }
        endpoints.remove(tenant, b.ref(), changes);
        releaseTimeline(tenant, TimelineId.parse(b.timelineId()), b.ref(), changes);
        log.info("branch {}/{} deleted", tenant, b.ref());
    }

    /**
     * Deletes every expired branch (expires_at at or before the clock's now) that is not protected and
     * has no children, with its endpoint; then deletes the retired timelines nothing needs any more
     * (e.g. a pin such as a lease expired). Called by {@link BranchReaper}; tests call it after moving
     * their clock.
     *
     * @return the deleted branches as {@code tenant/ref}
     */
    public List<String> reapExpired() {
        List<String> out = reapExpiredBranches();
        for (String tenant : records.tenantsWithRetired()) {
            synchronized (lock(tenant)) {
                sweepRetired(tenant);
            }
        }
        return out;
    }

    private List<String> reapExpiredBranches() {
        List<String> out = new ArrayList<>();
        for (String tenant : records.tenantsWithBranches()) {
            for (BranchInfo candidate : records.all(tenant)) {
                if (!expired(candidate, clock.instant())) {
                    continue;
                }
                synchronized (lock(tenant)) {
                    BranchInfo b = records.find(tenant, candidate.ref());
                    Instant now = clock.instant();
                    if (b == null || !expired(b, now)) {
                        continue; // deleted or renewed meanwhile
                    }
                    List<String> children = records.all(tenant).stream().filter(c -> b.ref().equals(c.parent()))
                            .map(BranchInfo::ref).toList();
                    if (!children.isEmpty()) {
                        log.info("branch {}/{} expired at {} but has child branches {}: kept", tenant, b.ref(),
                                b.expiresAt(), children);
                        continue;
                    }
                    deleteLocked(tenant, b);
                    sweepRetired(tenant);
                    log.info("branch {}/{} expired at {} (ttl {}) and was deleted", tenant, b.ref(), b.expiresAt(), b.ttl());
                    out.add(tenant + "/" + b.ref());
                }
            }
        }
        return out;
    }

    private static boolean expired(BranchInfo b, Instant now) {
        return b.expiresAt() != null && b.parent() != null && !b.isProtected() && !Instant.parse(b.expiresAt()).isAfter(now);
    }

    // ------------------------------------------------------------------ timelines without refs

    /** Deletes a timeline that lost its ref, or retires it while it has children or is pinned. */
    private void releaseTimeline(String tenant, TimelineId tl, String formerRef) {
        releaseTimeline(tenant, tl, formerRef, new MetadataRecords.Changes());
    }

    /**
     * Releases {@code tl} as {@link #releaseTimeline(String, TimelineId, String)} does, writing
     * {@code withRecords} in the same atomic batch as the timeline's deletion or its retired record
     * (or alone when the timeline is gone already). A branch record being deleted in
     * {@code withRecords} no longer counts as a reference to {@code tl}.
     */
    private void releaseTimeline(String tenant, TimelineId tl, String formerRef, MetadataRecords.Changes withRecords) {
        if (store.timeline(tl) == null) {
            records.write(withRecords);
            return;
        }
        if (hasChildren(tenant, tl) || pinned.test(tl) || referencedByOther(tenant, tl, formerRef)) {
            records.write(BranchRecords.withRetired(withRecords, tenant,
                    new BranchRecords.Retired(tl.toString(), formerRef, iso(clock.instant()))));
            log.info("timeline {} of {}/{} retired: still needed by descendants or a pin", tl, tenant, formerRef);
        } else {
            deleteTimelineIfPresent(tl, withRecords);
        }
    }

    /** Deletes a timeline; one deleted meanwhile (by a backup's release of an orphan) is the same outcome. */
    private void deleteTimelineIfPresent(TimelineId tl) {
        deleteTimelineIfPresent(tl, new MetadataRecords.Changes());
    }

    /** Deletes a timeline with {@code withRecords} in the same batch; when it was deleted meanwhile, writes {@code withRecords} alone. */
    private void deleteTimelineIfPresent(TimelineId tl, MetadataRecords.Changes withRecords) {
        try {
            store.deleteTimeline(tl, withRecords.asMap());
        } catch (IllegalArgumentException e) {
            if (store.timeline(tl) != null) {
                throw e;
            }
            records.write(withRecords);
        }
    }

    /** Deletes retired timelines that nothing needs any more, up their ancestor chains. */
    private void sweepRetired(String tenant) {
        boolean changed = true;
        while (changed) {
            changed = false;
            for (BranchRecords.Retired r : records.retired(tenant)) {
                TimelineId tl = TimelineId.parse(r.timelineId());
                if (store.timeline(tl) == null) {
                    records.deleteRetired(tenant, r.timelineId());
                } else if (referenced(tenant, tl)) {
                    records.deleteRetired(tenant, r.timelineId()); // a ref took it over (restore's keep-as)
                } else if (!hasChildren(tenant, tl) && !pinned.test(tl)) {
                    deleteTimelineIfPresent(tl);
                    records.deleteRetired(tenant, r.timelineId());
                    log.info("retired timeline {} of tenant {} deleted: nothing descends from it any more", tl, tenant);
                    changed = true;
                }
            }
        }
    }

    private boolean hasChildren(String tenant, TimelineId tl) {
        for (TimelineMetadata md : store.timelines(new TenantId(tenant))) {
            if (tl.equals(md.ancestor())) {
                return true;
            }
        }
        return false;
    }

    private boolean referenced(String tenant, TimelineId tl) {
        return referencedByOther(tenant, tl, null);
    }

    /** Whether a branch other than {@code exceptRef} points at {@code tl}. */
    private boolean referencedByOther(String tenant, TimelineId tl, String exceptRef) {
        String id = tl.toString();
        return records.all(tenant).stream().anyMatch(b -> id.equals(b.timelineId()) && !b.ref().equals(exceptRef));
    }

    // ------------------------------------------------------------------ listing

    /**
     * Branches of a tenant with live endpoint state, by creation time (then ref). Reads without the
     * tenant's lock: a branch whose timeline a concurrent reset, restore or delete replaced is read
     * again, and left out when it is gone by then (deleted meanwhile).
     *
     * @throws ApiException 400/404 for an invalid or unknown tenant
     */
    public List<TenantService.BranchView> list(String tenant) {
        requireTenant.accept(tenant);
        List<TenantService.BranchView> out = new ArrayList<>();
        for (BranchInfo b : records.all(tenant)) {
            TenantService.BranchView v = viewOf(tenant, b);
            if (v != null) {
                out.add(v);
            }
        }
        // by instant, not by text: Instant.toString() drops ".000", and "...:18Z" sorts after "...:18.5Z" as text
        out.sort(Comparator.comparing((TenantService.BranchView v) -> Instant.parse(v.info().createdAt()))
                .thenComparing(v -> v.info().ref()));
        return out;
    }

    /**
     * One branch with its live endpoint state, as {@link #list} shows it. When its timeline is gone
     * even after reading the record again (never in a consistent store), the view has last record
     * LSN 0.
     *
     * @throws ApiException 400/404 for an invalid or unknown tenant, 404 for an unknown (or meanwhile
     *                      deleted) branch
     */
    public TenantService.BranchView view(String tenant, String ref) {
        requireTenant.accept(tenant);
        BranchInfo b = records.require(tenant, ref);
        TenantService.BranchView v = viewOf(tenant, b);
        if (v != null) {
            return v;
        }
        return render(tenant, records.require(tenant, ref), 0);
    }

    /** The view of {@code b}, read again when its timeline vanished; {@code null} when still gone. */
    private TenantService.BranchView viewOf(String tenant, BranchInfo b) {
        Long lsn = lastRecordLsnIfPresent(b);
        if (lsn == null) {
            // a reset, restore or delete replaced the timeline after the record was read
            b = records.find(tenant, b.ref());
            lsn = b == null ? null : lastRecordLsnIfPresent(b);
            if (lsn == null) {
                return null;
            }
        }
        return render(tenant, b, lsn);
    }

    private Long lastRecordLsnIfPresent(BranchInfo b) {
        TimelineId tl = TimelineId.parse(b.timelineId());
        try {
            return store.timeline(tl) == null ? null : store.lastRecordLsn(tl);
        } catch (IllegalArgumentException e) {
            if (store.timeline(tl) == null) {
                return null; // deleted between the two calls
            }
            throw e;
        }
    }

    private TenantService.BranchView render(String tenant, BranchInfo b, long lastRecordLsn) {
        EndpointManager.Endpoint e = endpoints.get(tenant, b.ref());
        boolean active = e != null && e.active();
        return new TenantService.BranchView(b, lastRecordLsn, e == null ? "stopped" : e.state().apiName(),
                e == null ? null : e.uri(), active ? e.size().apiName() : sizeOf(b).apiName());
    }

    /**
     * Where a branch's timeline really hangs from, which can differ from its recorded parent: a reset
     * or restore of the parent moves the parent to a new timeline while its children keep hanging
     * from the old one.
     *
     * @param ancestorTimelineId the timeline the branch's timeline branches from ({@code null} for the root)
     * @param ancestorRef        the ref that points at that timeline now, {@code null} when none does
     *                           (a retired former timeline of the parent)
     * @param onParentTimeline   whether that is the recorded parent's current timeline
     */
    public record Lineage(String ancestorTimelineId, String ancestorRef, boolean onParentTimeline) {
    }

    /** The current ref of every timeline of {@code tenant} that has one, timeline id → ref. */
    public Map<String, String> refsByTimeline(String tenant) {
        Map<String, String> out = new java.util.HashMap<>();
        for (BranchInfo b : records.all(tenant)) {
            out.put(b.timelineId(), b.ref());
        }
        return out;
    }

    /** {@link Lineage} of {@code b}, given {@link #refsByTimeline}; {@code null} when its timeline is gone. */
    public Lineage lineage(BranchInfo b, Map<String, String> refsByTimeline) {
        TimelineMetadata md = store.timeline(TimelineId.parse(b.timelineId()));
        if (md == null) {
            return null;
        }
        if (md.ancestor() == null) {
            return new Lineage(null, null, b.parent() == null);
        }
        String anc = md.ancestor().toString();
        String ref = refsByTimeline.get(anc);
        return new Lineage(anc, ref, b.parent() != null && b.parent().equals(ref));
    }

    /** One branch's record. @throws ApiException 400/404 for an invalid or unknown tenant, 404 for an unknown branch */
    public BranchInfo get(String tenant, String ref) {
        requireTenant.accept(tenant);
        return records.require(tenant, ref);
    }

    // ------------------------------------------------------------------ endpoints

    /**
     * Starts (or returns) the branch's endpoint with {@code sizeText} or the branch's default size.
     *
     * @return the libpq URI
     * @throws ApiException 400 for a bad size, 403 at the running-endpoint quota, 404 when unknown, 409
     *                      when it runs with another size (use {@link #resize}), 503 when it cannot start
     */
    public String startEndpoint(String tenant, String ref, String sizeText) {
        requireTenant.accept(tenant);
        ComputeSize size = parseSize(sizeText);
        synchronized (lock(tenant)) {
            return startLocked(tenant, records.require(tenant, ref), size);
        }
    }

    private String startLocked(String tenant, BranchInfo b, ComputeSize requested) {
        guard(tenant, b, "start an endpoint on");
        ComputeSize size = requested != null ? requested : sizeOf(b);
        EndpointManager.Endpoint e = endpoints.get(tenant, b.ref());
        if (e != null && e.active()) {
            if (requested != null && e.size() != requested) {
                throw ApiException.conflict("the endpoint of branch '" + b.ref() + "' is running with size "
                        + e.size().apiName() + ", not " + requested.apiName() + "; use endpoint resize");
            }
            size = e.size();
        } else {
            checkEndpointQuota(tenant, b.ref());
        }
        return endpoints.start(tenant, b.ref(), TimelineId.parse(b.timelineId()), size);
    }

    /**
     * Makes {@code sizeText} the branch's default compute size and, when its endpoint runs, restarts
     * it with that size on the same port (same URI).
     *
     * @return the URI when running, else null
     * @throws ApiException 400 for a missing or bad size, 404 when unknown, 503 when it cannot restart
     */
    public String resize(String tenant, String ref, String sizeText) {
        requireTenant.accept(tenant);
        if (sizeText == null) {
            throw ApiException.badRequest("resize of branch '" + ref + "' needs a size: xs, s, m or l");
        }
        ComputeSize size = parseSize(sizeText);
        synchronized (lock(tenant)) {
            BranchInfo b = records.require(tenant, ref).withSize(size.apiName());
            records.put(tenant, b);
            return endpoints.restart(tenant, ref, TimelineId.parse(b.timelineId()), size);
        }
    }

    /**
     * Stops the branch's endpoint (waiting for its shutdown checkpoint to be ingested); no-op when
     * stopped. Runs under the tenant's lock, so it never interleaves with a reset, restore or start.
     *
     * @throws ApiException 400/404 for an invalid or unknown tenant, 404 for an unknown branch
     */
    public void stopEndpoint(String tenant, String ref) {
        requireTenant.accept(tenant);
        synchronized (lock(tenant)) {
            records.require(tenant, ref);
            endpoints.stop(tenant, ref);
        }
    }

    /**
     * Suspends the branch's compute (scale to zero): stops it as {@link #stopEndpoint} does, its
     * state then reads {@code suspended} and it stays so across a server restart until a connection
     * wakes it. No-op unless it runs.
     *
     * @return whether it was running and is suspended now
     * @throws ApiException 404 for an unknown tenant or branch
     */
    public boolean suspendEndpoint(String tenant, String ref) {
        requireTenant.accept(tenant);
        synchronized (lock(tenant)) {
            records.require(tenant, ref);
            return endpoints.suspend(tenant, ref);
        }
    }

    /**
     * The connection string of the branch through the Postgres proxy, with its password
     * ({@link BranchAccess#connectionString}).
     *
     * @throws ApiException 400/404 for an invalid or unknown tenant or branch
     */
    public String connectionString(String tenant, String ref) {
        requireTenant.accept(tenant);
        return access.connectionString(records.require(tenant, ref));
    }

    /**
     * Gives the branch a new random password (the old one stops working for new logins at once) and
     * returns its new connection string. Endpoint id, compute and sessions stay.
     *
     * @throws ApiException 400/404 for an invalid or unknown tenant or branch
     */
    public String resetPassword(String tenant, String ref) {
        requireTenant.accept(tenant);
        synchronized (lock(tenant)) {
            BranchInfo b = records.require(tenant, ref);
            if (b.endpointId() == null) {
                b = access.assign(tenant, b);
                records.put(tenant, b);
            } else {
                access.credentials().reset(b.endpointId());
            }
            log.info("branch {}/{}: password reset", tenant, ref);
            return access.connectionString(b);
        }
    }

    /**
     * Sets the branch's suspend timeout ({@code 30s}, {@code 5m}, {@code 1h}, {@code 0} = never); a
     * pending suspend timer uses the new value from the next session end on.
     *
     * @return the branch
     * @throws ApiException 400 naming a malformed value, 404 for an unknown tenant or branch
     */
    public BranchInfo configureEndpoint(String tenant, String ref, String suspendAfter) {
        requireTenant.accept(tenant);
        if (suspendAfter == null) {
            throw ApiException.badRequest("endpoint config of branch '" + ref + "' needs a setting: suspend_after");
        }
        String normalized = io.forkline.pageserver.access.SuspendAfter.normalize(suspendAfter);
        BranchInfo b;
        synchronized (lock(tenant)) {
            b = records.require(tenant, ref).withSuspendAfter(normalized);
            records.put(tenant, b);
        }
        java.util.function.Consumer<String> l = suspendAfterListener;
        if (l != null && b.endpointId() != null) {
            l.accept(b.endpointId());
        }
        return b;
    }

    private volatile java.util.function.Consumer<String> suspendAfterListener;

    /**
     * Tells {@code listener} the endpoint id of a branch whose {@code suspend_after} was just changed
     * ({@link #configureEndpoint}), so a pending suspend timer follows the new setting at once.
     */
    public void onSuspendAfterChanged(java.util.function.Consumer<String> listener) {
        this.suspendAfterListener = listener;
    }

    /**
     * Starts again every endpoint that ran when the server last went down, on the port it had, so
     * stored connection strings keep working (called once by the server at start). An endpoint of
     * a compute node whose port another process took meanwhile stays stopped and says so ({@link
     * EndpointManager.Endpoint#note()}, a WARN line); one that cannot start is logged and left
     * stopped; one whose branch is gone is forgotten.
     *
     * @return the endpoints started, as {@code tenant/ref}
     */
    public List<String> resumeEndpoints() {
        List<String> out = new ArrayList<>();
        for (EndpointManager.Resume r : endpoints.toResume()) {
            synchronized (lock(r.tenant())) {
                BranchInfo b = records.find(r.tenant(), r.ref());
                if (b == null) {
                    endpoints.forgetRecord(r.tenant(), r.ref());
                    continue;
                }
                if (r.port() != 0 && endpoints.computesListenOnTcp()
                        && !io.forkline.compute.endpoint.ComputeProcess.isPortFree(r.port())) {
                    String why = "port " + r.port() + " it ran on before the server restarted is taken by another process; "
                            + "it stays stopped (endpoint start gives it a new port and URI)";
                    log.warn("endpoint {}/{}: {}", r.tenant(), r.ref(), why);
                    endpoints.notResumed(r.tenant(), r.ref(), why);
                    continue;
                }
                try {
                    String uri = startLocked(r.tenant(), b, r.size());
                    log.info("endpoint {}/{} running again after the server restart: {}", r.tenant(), r.ref(), uri);
                    out.add(r.tenant() + "/" + r.ref());
                } catch (ApiException e) {
                    log.warn("endpoint {}/{} did not come back after the server restart: {}", r.tenant(), r.ref(),
                            e.getMessage());
                    endpoints.notResumed(r.tenant(), r.ref(), "did not start after the server restart: " + e.getMessage());
                }
            }
        }
        return out;
    }

    private static ComputeSize sizeOf(BranchInfo b) {
        return b.size() == null ? ComputeSize.DEFAULT : ComputeSize.parse(b.size());
    }

    // ------------------------------------------------------------------ config and quotas

    /** The tenant's settings and usage. @throws ApiException 400/404 for an invalid or unknown tenant */
    public Usage usage(String tenant) {
        requireTenant.accept(tenant);
        TenantConfig c = records.config(tenant);
        return new Usage(c, defaults.apply(c), records.all(tenant).size(), endpoints.active(tenant).size());
    }

    /**
     * Applies settings ({@code {"max_branches":N,"max_running_endpoints":M}}, null clears one) and
     * returns the new usage. Lowering a limit below the current usage is allowed; it refuses new
     * branches or endpoints until usage drops.
     *
     * @throws ApiException 400 naming an unknown key or a bad value, 404 for an unknown tenant
     */
    public Usage configure(String tenant, JsonNode update) {
        requireTenant.accept(tenant);
        synchronized (lock(tenant)) {
            records.putConfig(tenant, records.config(tenant).with(update));
            return usage(tenant);
        }
    }

    /**
     * Refuses one more branch of {@code tenant} beyond its {@code max_branches}. For other code that
     * creates branch records (e.g. a backup restore); call it under the tenant's lock.
     *
     * @throws ApiException 403 {@code quota_exceeded} with the usage
     */
    public void checkBranchQuota(String tenant) {
        checkBranchQuota(tenant, 1);
    }

    private void checkBranchQuota(String tenant, int adding) {
        int max = defaults.apply(records.config(tenant)).maxBranches();
        int used = records.all(tenant).size();
        if (used + adding > max) {
            throw ApiException.forbidden("tenant '" + tenant + "' has " + used + " of at most " + max
                    + " branches (max_branches); delete a branch or raise the limit: forkline tenant config " + tenant
                    + " max_branches=N");
        }
    }

    private void checkEndpointQuota(String tenant, String ref) {
        int max = defaults.apply(records.config(tenant)).maxRunningEndpoints();
        Map<String, EndpointManager.Endpoint> active = endpoints.active(tenant);
        active.remove(ref);
        if (active.size() + 1 > max) {
            throw ApiException.forbidden("tenant '" + tenant + "' has " + active.size() + " of at most " + max
                    + " endpoints running (max_running_endpoints) " + active.keySet() + "; stop one or raise the limit: "
                    + "forkline tenant config " + tenant + " max_running_endpoints=N");
        }
    }

    // ------------------------------------------------------------------ helpers

    /**
     * {@code b} with the expiry {@code o} asks for: a given TTL from {@code now} ({@code 0}: none);
     * none given: {@code b}'s own TTL renewed from {@code now} (none for a new branch, whose record has none).
     */
    private static BranchInfo withTtl(BranchInfo b, BranchOptions o, Instant now) {
        java.time.Duration ttl = o.ttl() != null ? o.ttl() : b.ttl() == null ? null : Ttl.parse(b.ttl());
        if (ttl == null || ttl.isZero()) {
            return b.withExpiry(null, null);
        }
        // a TTL is whole minutes (Ttl.parse), so this is 30m, 4h or 7d
        return b.withExpiry(iso(now.plus(ttl)), IntervalText.format(ttl));
    }

    private static String iso(Instant t) {
        return MetadataRecords.timestamp(t);
    }
}
