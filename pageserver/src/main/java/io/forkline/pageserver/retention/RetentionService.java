package io.forkline.pageserver.retention;

import io.forkline.format.interval.IntervalText;
import io.forkline.format.size.ByteSizeText;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.forkline.pageserver.api.ApiException;
import io.forkline.pageserver.branch.BranchPoints;
import io.forkline.pageserver.metadata.MetadataRecords;
import io.forkline.pageserver.tenant.BranchInfo;
import io.forkline.pageserver.tenant.TenantService;
import io.forkline.storage.gc.GarbageCollector;
import io.forkline.storage.gc.GcResult;
import io.forkline.storage.id.TenantId;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;
import io.forkline.storage.timeline.TimelineMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Retention of a tenant's history: its settings ({@code pitr_interval}, {@code gc_horizon}), LSN
 * leases, and garbage collection of its timelines, on demand and in the background.
 *
 * <h2>Cutoff</h2>
 * For a timeline with last record LSN {@code last} and start LSN {@code start}:
 * <pre>
 *   horizon = last - gc_horizon                      (0 when gc_horizon &gt; last)
 *   pitr    = lsnForTimestamp(now - pitr_interval)   (the last commit at or before then;
 *                                                     start when no commit is that old)
 *   cutoff  = min(horizon, pitr), raised to start, lowered to every retained LSN &gt;= start of
 *             the timeline (active leases, {@link RetainedLsnSource}s such as backups), at most last
 * </pre>
 * The retained LSNs lower the cutoff, not only pass through {@link GarbageCollector#collect}'s
 * retained list, because a lease or backup promises that a <em>branch</em> at its LSN can still be
 * created, and {@link PageStore#createTimeline} refuses every branch point below the applied cutoff.
 * The price: GC of a timeline keeps everything above its oldest lease or backup. Branch points of
 * child timelines are retained by the collector itself and do not lower the cutoff (they already
 * exist). {@code now} comes from the injected {@link Clock}.
 *
 * <h2>Concurrency</h2>
 * GC runs of one tenant are serialized (a background pass and an API call never collect the same
 * tenant at once). Computing and persisting a timeline's cutoff
 * ({@link PageStore#advanceGcCutoff}) and taking a lease are serialized per tenant too, so a lease
 * is either seen by the run or lies at or above the cutoff it applied. Everything else runs beside
 * ingest, branch creation and deletion (see {@code io.forkline.storage.gc}). Thread-safe.
 *
 * <h2>Records</h2>
 * {@code retention/<tenant>} → {@code {"pitr_interval_seconds":N,"gc_horizon_bytes":N}};
 * {@code lease/<tenant>/<timeline>/<lsn hex>} → {@link LsnLease}.
 */
public final class RetentionService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RetentionService.class);
    /** Lease TTL when none is given. */
    public static final Duration DEFAULT_LEASE_TTL = Duration.ofHours(1);
    /** Longest lease TTL. */
    public static final Duration MAX_LEASE_TTL = Duration.ofDays(30);

    private final PageStore store;
    private final TenantService tenants;
    private final Clock clock;
    private final GcSettings settings;
    private final GarbageCollector onDemand;
    private final GarbageCollector background;
    private final MetadataRecords records;
    private final List<RetainedLsnSource> sources = new CopyOnWriteArrayList<>();
    private final Map<String, Object> gcLocks = new ConcurrentHashMap<>();
    private final Map<String, Object> cutoffLocks = new ConcurrentHashMap<>();
    /** Per timeline: what its last run used, so an unchanged timeline is not rescanned every pass. */
    private final Map<TimelineId, String> lastRunSignature = new ConcurrentHashMap<>();
    private final AtomicLong runs = new AtomicLong();
    private final AtomicLong versionsRemoved = new AtomicLong();
    private final AtomicLong bytesRemoved = new AtomicLong();
    private volatile GcScheduler scheduler;

    /**
     * @param settings batch bound and pause of GC; {@link #startBackground()} uses its interval
     */
    public RetentionService(PageStore store, TenantService tenants, Clock clock, GcSettings settings) {
        this.store = store;
        this.tenants = tenants;
        this.clock = clock;
        this.settings = settings;
        this.records = new MetadataRecords(store);
        this.onDemand = new GarbageCollector(settings.maxDeletesPerBatch(), Duration.ZERO);
        this.background = new GarbageCollector(settings.maxDeletesPerBatch(), settings.pauseBetweenBatches());
    }

    /**
     * Starts the background GC thread ({@code forkline-gc}): every {@link GcSettings#interval()} it
     * collects every timeline of every tenant whose cutoff or retained LSNs changed. No-op when the
     * interval is zero or it already runs.
     */
    public synchronized void startBackground() {
        if (scheduler == null && !settings.interval().isZero()) {
            scheduler = GcScheduler.start(this, settings.interval());
        }
    }

    /** Adds a source of retained LSNs (backups); see {@link RetainedLsnSource} for the contract. */
    public void addSource(RetainedLsnSource source) {
        sources.add(source);
    }

    // ------------------------------------------------------------------ config

    /**
     * The tenant's retention settings ({@link RetentionConfig#DEFAULT} until set).
     *
     * @throws ApiException 400 for an invalid tenant name, 404 for an unknown tenant
     */
    public RetentionConfig config(String tenant) {
        tenants.requireTenant(tenant);
        return storedConfig(tenant);
    }

    private RetentionConfig storedConfig(String tenant) {
        return storedConfig(records, tenant);
    }

    /**
     * The retention settings stored for {@code tenant} ({@link RetentionConfig#DEFAULT} where unset),
     * read from its record without checking the tenant: for other services that need the PITR window.
     */
    public static RetentionConfig storedConfig(MetadataRecords records, String tenant) {
        JsonNode n = records.get(configKey(tenant), JsonNode.class);
        if (n == null) {
            n = JsonNodeFactory.instance.objectNode();
        }
        return new RetentionConfig(
                n.has("pitr_interval_seconds") ? Duration.ofSeconds(n.get("pitr_interval_seconds").asLong())
                        : RetentionConfig.DEFAULT.pitrInterval(),
                n.has("gc_horizon_bytes") ? n.get("gc_horizon_bytes").asLong() : RetentionConfig.DEFAULT.gcHorizonBytes());
    }

    private JsonNode storedSettings(String tenant) {
        JsonNode n = records.get(configKey(tenant), JsonNode.class);
        return n == null ? JsonNodeFactory.instance.objectNode() : n;
    }

    /**
     * The settings the tenant set itself (the others are {@link RetentionConfig#DEFAULT}'s), a subset
     * of {@link RetentionConfig#KEYS}.
     *
     * @throws ApiException 404 for an unknown tenant
     */
    public java.util.Set<String> configuredKeys(String tenant) {
        tenants.requireTenant(tenant);
        JsonNode n = storedSettings(tenant);
        java.util.Set<String> out = new java.util.TreeSet<>();
        if (n.has("pitr_interval_seconds")) {
            out.add(RetentionConfig.PITR_INTERVAL);
        }
        if (n.has("gc_horizon_bytes")) {
            out.add(RetentionConfig.GC_HORIZON);
        }
        return out;
    }

    /**
     * Changes some of the tenant's settings; the rest keep their values. Takes effect at the next GC
     * run; it never brings back what GC already removed.
     *
     * @param settings {@code pitr_interval} ({@link IntervalText}, {@code 7d}) and/or
     *                 {@code gc_horizon} ({@link ByteSizeText}, {@code 64MB}); a {@code null} value
     *                 returns that setting to the default
     * @return the settings now in force
     * @throws ApiException 400 for an unknown key or a malformed value (the message names it), 404
     *                      for an unknown tenant
     */
    public RetentionConfig configure(String tenant, Map<String, String> settings) {
        tenants.requireTenant(tenant);
        synchronized (cutoffLock(tenant)) {
            ObjectNode n = (ObjectNode) storedSettings(tenant).deepCopy();
            for (Map.Entry<String, String> e : settings.entrySet()) {
                String field = switch (e.getKey()) {
                    case RetentionConfig.PITR_INTERVAL -> "pitr_interval_seconds";
                    case RetentionConfig.GC_HORIZON -> "gc_horizon_bytes";
                    default -> throw ApiException.badRequest("unknown retention setting '" + e.getKey() + "': known are "
                            + RetentionConfig.PITR_INTERVAL + ", " + RetentionConfig.GC_HORIZON);
                };
                if (e.getValue() == null) {
                    n.remove(field);
                    continue;
                }
                RetentionConfig parsed;
                try {
                    parsed = RetentionConfig.DEFAULT.with(Map.of(e.getKey(), e.getValue()));
                } catch (IllegalArgumentException ex) {
                    throw ApiException.badRequest(e.getKey() + ": " + ex.getMessage());
                }
                if (field.equals("pitr_interval_seconds")) {
                    n.put(field, parsed.pitrInterval().getSeconds());
                } else {
                    n.put(field, parsed.gcHorizonBytes());
                }
            }
            records.put(configKey(tenant), n);
            RetentionConfig next = storedConfig(tenant);
            log.info("tenant {} retention: {}", tenant, next.asSettings());
            return next;
        }
    }

    // ------------------------------------------------------------------ leases

    /**
     * Takes (or renews) a lease on {@code (ref's timeline, lsn)} until {@code now + ttl}: until then
     * GC keeps that point readable and a branch there creatable. Renewing never shortens a lease.
     *
     * @param lsnText {@code X/Y}, within {@code [start, last record LSN]} of the ref's timeline
     * @param ttlText {@link IntervalText} ({@code 1h}), at most 30 days; {@code null} for 1 hour
     * @throws ApiException 400 for a bad LSN, TTL or an LSN outside the timeline (names the range),
     *                      404 for an unknown tenant or ref, 409 {@value EarliestRestorable#CODE}
     *                      when GC already removed history at that LSN
     */
    public LsnLease createLease(String tenant, String ref, String lsnText, String ttlText) {
        BranchInfo b = tenants.branch(tenant, ref);
        long lsn = parseLsn(lsnText);
        Duration ttl = parseTtl(ttlText);
        TimelineId tl = TimelineId.parse(b.timelineId());
        TimelineMetadata md = store.timeline(tl);
        long last = store.lastRecordLsn(tl);
        if (Long.compareUnsigned(lsn, md.startLsn()) < 0 || Long.compareUnsigned(lsn, last) > 0) {
            throw ApiException.badRequest("LSN " + Lsn.format(lsn) + " is outside branch '" + ref + "': valid LSNs are "
                    + Lsn.format(md.startLsn()) + " to " + Lsn.format(last));
        }
        synchronized (cutoffLock(tenant)) {
            EarliestRestorable.check(store, tl, lsn, "branch '" + ref + "'");
            Instant now = clock.instant();
            Instant expires = now.plus(ttl).truncatedTo(ChronoUnit.MILLIS);
            String key = leaseKey(tenant, tl, lsn);
            LsnLease prev = records.get(key, LsnLease.class);
            String created = MetadataRecords.timestamp(now);
            if (prev != null) {
                if (prev.activeAt(now)) {
                    created = prev.createdAt();
                    Instant prevExpiry = Instant.parse(prev.expiresAt());
                    if (prevExpiry.isAfter(expires)) {
                        expires = prevExpiry;
                    }
                }
            }
            LsnLease lease = new LsnLease(tenant, ref, tl.toString(), Lsn.format(lsn), created, expires.toString());
            records.put(key, lease);
            log.info("lease on {}/{} ({}) at {} until {}", tenant, ref, tl, Lsn.format(lsn), expires);
            return lease;
        }
    }

    /**
     * The active leases taken on {@code ref}, by LSN.
     *
     * @throws ApiException 404 for an unknown tenant or ref
     */
    public List<LsnLease> leases(String tenant, String ref) {
        tenants.branch(tenant, ref);
        Instant now = clock.instant();
        List<LsnLease> out = new ArrayList<>();
        for (LsnLease l : allLeases(tenant)) {
            if (l.ref().equals(ref) && l.activeAt(now)) {
                out.add(l);
            }
        }
        out.sort((a, c) -> Long.compareUnsigned(Lsn.parse(a.lsn()), Lsn.parse(c.lsn())));
        return out;
    }

    /**
     * Releases the lease(s) taken on {@code ref} at {@code lsn}.
     *
     * @throws ApiException 400 for a bad LSN, 404 for an unknown tenant or ref, or when there is no
     *                      such active lease
     */
    public void deleteLease(String tenant, String ref, String lsnText) {
        tenants.branch(tenant, ref);
        long lsn = parseLsn(lsnText);
        Instant now = clock.instant();
        boolean found = false;
        synchronized (cutoffLock(tenant)) {
            for (LsnLease l : allLeases(tenant)) {
                if (l.ref().equals(ref) && Lsn.parse(l.lsn()) == lsn) {
                    records.delete(leaseKey(tenant, TimelineId.parse(l.timelineId()), lsn));
                    found |= l.activeAt(now);
                }
            }
        }
        if (!found) {
            throw ApiException.notFound("no active lease on branch '" + ref + "' at " + Lsn.format(lsn));
        }
    }

    private List<LsnLease> allLeases(String tenant) {
        return records.list("lease/" + tenant + "/", LsnLease.class);
    }

    /**
     * Whether an active lease (at the clock's now) holds an LSN of {@code timeline}. The server
     * registers it as a pin ({@link TenantService#addTimelinePin}): a delete or reset of the branch
     * whose timeline it is then retires the timeline instead of deleting it, and the reaper deletes
     * it once the lease has expired, as {@link LsnLease} promises. Reads the metadata only; takes no
     * lock.
     */
    public boolean pins(TimelineId timeline) {
        TimelineMetadata md = store.timeline(timeline);
        if (md == null) {
            return false;
        }
        Instant now = clock.instant();
        for (LsnLease l : records.list("lease/" + md.tenant().name() + "/" + timeline + "/", LsnLease.class)) {
            if (l.activeAt(now)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Every point of the tenant that must stay restorable at {@code now}: active leases and what
     * the {@link RetainedLsnSource}s report.
     */
    public List<RetainedLsn> retainedLsns(String tenant, Instant now) {
        List<RetainedLsn> out = new ArrayList<>();
        for (LsnLease l : allLeases(tenant)) {
            if (l.activeAt(now)) {
                out.add(new RetainedLsn(TimelineId.parse(l.timelineId()), Lsn.parse(l.lsn()),
                        "lease until " + l.expiresAt()));
            }
        }
        for (RetainedLsnSource s : sources) {
            out.addAll(s.retainedLsns(tenant));
        }
        return out;
    }

    // ------------------------------------------------------------------ GC

    /** The cutoff of one timeline and how it was reached (LSNs are WAL byte positions). */
    public record Cutoff(long lastRecordLsn, long horizonCutoff, long pitrCutoff, long cutoff) {
    }

    /**
     * Computes a timeline's GC cutoff (rule: class javadoc). Pure apart from reading the store.
     *
     * @param retained LSNs of this timeline that must stay restorable (leases, backups)
     */
    public static Cutoff cutoff(PageStore store, TimelineMetadata md, RetentionConfig config, Instant now,
                                Collection<Long> retained) {
        long last = store.lastRecordLsn(md.id());
        long start = md.startLsn();
        long horizon = Long.compareUnsigned(last, config.gcHorizonBytes()) > 0 ? last - config.gcHorizonBytes() : 0L;
        Instant pitrTime = now.minus(config.pitrInterval());
        long micros = Math.addExact(Math.multiplyExact(pitrTime.getEpochSecond(), 1_000_000L), pitrTime.getNano() / 1000);
        long pitr = store.lsnForTimestamp(md.id(), micros);
        if (pitr == Lsn.INVALID || Long.compareUnsigned(pitr, start) < 0) {
            pitr = start;
        }
        long c = Long.compareUnsigned(horizon, pitr) < 0 ? horizon : pitr;
        if (Long.compareUnsigned(c, start) < 0) {
            c = start;
        }
        for (long r : retained) {
            if (Long.compareUnsigned(r, start) >= 0 && Long.compareUnsigned(r, c) < 0) {
                c = r;
            }
        }
        if (Long.compareUnsigned(c, last) > 0) {
            c = last;
        }
        return new Cutoff(last, horizon, pitr, c);
    }

    /**
     * Collects the tenant's timelines now (on demand, without pauses between batches).
     *
     * @param ref a branch ref to collect only its timeline, or {@code null} for every timeline of
     *            the tenant (those of deleted branches that backups keep included)
     * @return one report per timeline
     * @throws ApiException         404 for an unknown tenant or ref
     * @throws InterruptedException when interrupted between batches
     */
    public List<TimelineGcReport> collect(String tenant, String ref) throws InterruptedException {
        TimelineId only = ref == null ? null : TimelineId.parse(tenants.branch(tenant, ref).timelineId());
        return collect(tenant, only, false);
    }

    /** One background pass: every tenant; a failing tenant is logged and the pass goes on. */
    void collectAllInBackground() throws InterruptedException {
        for (var t : tenants.listTenants()) {
            try {
                collect(t.name(), null, true);
            } catch (InterruptedException e) {
                throw e;
            } catch (RuntimeException e) {
                if (Thread.currentThread().isInterrupted()) {
                    throw new InterruptedException("GC pass interrupted: " + e);
                }
                log.error("background GC of tenant {} failed", t.name(), e);
            }
        }
    }

    private List<TimelineGcReport> collect(String tenant, TimelineId only, boolean inBackground)
            throws InterruptedException {
        Map<TimelineId, List<String>> refs = new HashMap<>();
        for (TenantService.BranchView v : tenants.listBranches(tenant)) {
            refs.computeIfAbsent(TimelineId.parse(v.info().timelineId()), k -> new ArrayList<>()).add(v.info().ref());
        }
        List<TimelineGcReport> out = new ArrayList<>();
        synchronized (gcLock(tenant)) {
            RetentionConfig config = storedConfig(tenant);
            purgeExpiredLeases(tenant);
            List<TimelineMetadata> timelines = store.timelines(new TenantId(tenant));
            timelines.sort((a, b) -> a.createdAt().compareTo(b.createdAt()));
            for (TimelineMetadata md : timelines) {
                if (only != null && !only.equals(md.id())) {
                    continue;
                }
                TimelineGcReport r = collectTimeline(tenant, md, config, refs.getOrDefault(md.id(), List.of()),
                        inBackground);
                if (r != null) {
                    out.add(r);
                }
            }
        }
        return out;
    }

    private TimelineGcReport collectTimeline(String tenant, TimelineMetadata md, RetentionConfig config,
                                             List<String> refs, boolean inBackground) throws InterruptedException {
        TimelineId id = md.id();
        Cutoff cut;
        List<Long> retained = new ArrayList<>();
        try {
            synchronized (cutoffLock(tenant)) {
                Instant now = clock.instant();
                for (RetainedLsn r : retainedLsns(tenant, now)) {
                    if (r.timeline().equals(id)) {
                        retained.add(r.lsn());
                    }
                }
                cut = cutoff(store, md, config, now, retained);
                String signature = signature(id, cut.cutoff(), retained);
                if (inBackground && signature.equals(lastRunSignature.get(id))) {
                    return null;
                }
                lastRunSignature.put(id, signature);
                store.advanceGcCutoff(id, cut.cutoff());
            }
            GcResult res = (inBackground ? background : onDemand).collect(store, id, cut.cutoff(), retained);
            runs.incrementAndGet();
            versionsRemoved.addAndGet(res.versionsRemoved());
            bytesRemoved.addAndGet(res.bytesRemoved());
            if (res.versionsRemoved() > 0 || !inBackground) {
                log.info("GC {}/{} {}: cutoff {}, removed {} of {} versions ({} bytes) in {} ms", tenant, refs, id,
                        Lsn.format(cut.cutoff()), res.versionsRemoved(), res.versionsExamined(), res.bytesRemoved(),
                        res.duration().toMillis());
            }
            List<String> kept = new ArrayList<>();
            for (long r : res.retainedLsns()) {
                kept.add(Lsn.format(r));
            }
            return new TimelineGcReport(refs, id.toString(), Lsn.format(cut.lastRecordLsn()),
                    Lsn.format(cut.horizonCutoff()), Lsn.format(cut.pitrCutoff()), Lsn.format(cut.cutoff()),
                    Lsn.format(res.appliedCutoffLsn()), kept, res.versionsExamined(), res.versionsRemoved(),
                    res.bytesRemoved(), res.duration().toMillis(), null);
        } catch (IllegalArgumentException e) {
            if (store.timeline(id) == null) {
                // the branch was deleted while GC looked at it: nothing left to collect
                lastRunSignature.remove(id);
                return new TimelineGcReport(refs, id.toString(), null, null, null, null, null, List.of(), 0, 0, 0, 0,
                        "deleted");
            }
            throw e;
        }
    }

    private String signature(TimelineId id, long cutoff, List<Long> retained) {
        TreeSet<String> parts = new TreeSet<>();
        for (long r : retained) {
            parts.add("r" + Long.toHexString(r));
        }
        for (TimelineMetadata c : store.children(id)) {
            parts.add("c" + c.id() + "@" + Long.toHexString(c.ancestorLsn()));
        }
        return Long.toHexString(cutoff) + parts;
    }

    private void purgeExpiredLeases(String tenant) {
        Instant now = clock.instant();
        synchronized (cutoffLock(tenant)) {
            for (Map.Entry<String, LsnLease> e : records.listWithKeys("lease/" + tenant + "/", LsnLease.class).entrySet()) {
                LsnLease l = e.getValue();
                if (!l.activeAt(now)) {
                    records.delete(e.getKey());
                    log.info("lease on {}/{} at {} expired at {}", tenant, l.ref(), l.lsn(), l.expiresAt());
                }
            }
        }
    }

    /** Counters since start: GC runs (timelines collected), versions and bytes removed. */
    public record Totals(long runs, long versionsRemoved, long bytesRemoved) {
    }

    /** What GC did since the server started (for metrics). */
    public Totals totals() {
        return new Totals(runs.get(), versionsRemoved.get(), bytesRemoved.get());
    }

    /** Stops the background thread (waits for a running pass to stop at its next batch). */
    @Override
    public void close() {
        GcScheduler s;
        synchronized (this) {
            s = scheduler;
            scheduler = null;
        }
        if (s != null) {
            s.close();
        }
    }

    // ------------------------------------------------------------------ helpers

    private Object gcLock(String tenant) {
        return gcLocks.computeIfAbsent(tenant, t -> new Object());
    }

    private Object cutoffLock(String tenant) {
        return cutoffLocks.computeIfAbsent(tenant, t -> new Object());
    }

    private static long parseLsn(String text) {
        if (text == null) {
            throw ApiException.badRequest("missing field 'lsn'");
        }
        return BranchPoints.parseLsn(text);
    }

    private static Duration parseTtl(String text) {
        if (text == null) {
            return DEFAULT_LEASE_TTL;
        }
        Duration d;
        try {
            d = IntervalText.parse(text);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("invalid ttl: " + e.getMessage());
        }
        if (d.isZero() || d.compareTo(MAX_LEASE_TTL) > 0) {
            throw ApiException.badRequest("invalid ttl '" + text + "': between 1s and " + IntervalText.format(MAX_LEASE_TTL));
        }
        return d;
    }

    private static String configKey(String tenant) {
        return "retention/" + tenant;
    }

    private static String leaseKey(String tenant, TimelineId tl, long lsn) {
        return "lease/" + tenant + "/" + tl + "/" + String.format("%016X", lsn);
    }
}
