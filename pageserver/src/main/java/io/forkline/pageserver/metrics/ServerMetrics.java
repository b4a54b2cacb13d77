package io.forkline.pageserver.metrics;

import io.forkline.compute.proxy.PgProxy;
import io.forkline.compute.proxy.session.ProxyContext;
import io.forkline.pageserver.endpoint.EndpointManager;
import io.forkline.pageserver.endpoint.EndpointState;
import io.forkline.pageserver.retention.RetentionService;
import io.forkline.pageserver.size.TenantSize;
import io.forkline.pageserver.size.TimelineSize;
import io.forkline.pageserver.tenant.TenantInfo;
import io.forkline.pageserver.tenant.TenantService;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;
import io.forkline.storage.timeline.TimelineMetadata;
import io.forkline.wal.replication.WalReceiver;
import io.forkline.page.protocol.proto.ErrorCode;
import io.forkline.pageserver.pageservice.PageService;
import io.forkline.pageserver.pageservice.PageServiceMetrics;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The server's metrics in Prometheus text format 0.0.4 (Micrometer's {@link PrometheusMeterRegistry}),
 * served by {@code GET /metrics}. Labels: {@code tenant}, {@code branch} (the ref; empty for a
 * timeline no ref points at), {@code timeline_id}.
 *
 * <pre>
 *   forkline_timeline_last_record_lsn{tenant,branch,timeline_id}       gauge: durable last record LSN, bytes
 *   forkline_ingest_lag_bytes{tenant,branch,timeline_id}               gauge: WAL of the running compute known
 *                                                                      to its receiver and not durable yet
 *                                                                      (WalReceiver#lagBytes)
 *   forkline_ingest_lag_seconds{tenant,branch,timeline_id}             gauge: age of the oldest received byte
 *                                                                      not durable (WalReceiver#lagSeconds)
 *   forkline_ingest_background{tenant,branch,timeline_id}              gauge: 1 while the receiver yields the CPU
 *                                                                      to computes (BackgroundIngest), else 0;
 *                                                                      the three only for running endpoints
 *   forkline_mirror_lag_bytes{tenant}                                  gauge: a mirrored primary's flush LSN minus
 *                                                                      what is durable here (tenants imported
 *                                                                      with --from-primary; absent until the
 *                                                                      primary was polled)
 *   forkline_mirror_lag_seconds{tenant}                                gauge: how long ago the primary had
 *                                                                      flushed the oldest WAL not durable here
 *   forkline_mirror_failed{tenant}                                     gauge: 1 when the mirror stopped on an
 *                                                                      error (tenant list shows it), else 0
 *   forkline_getpage_seconds_{count,sum,bucket,max}{tenant,branch,timeline_id}
 *                                                                      timer: page reads (PageStore.get /
 *                                                                      getVersion: basebackup pages, GC's
 *                                                                      ancestor checks; not ingest's own reads)
 *   forkline_gc_runs_total, forkline_gc_versions_removed_total,
 *   forkline_gc_removed_bytes_total                                    counters since start (timelines collected;
 *                                                                      key + value bytes, uncompressed)
 *   forkline_branch_logical_size_bytes / _physical_size_bytes / _stored_bytes{tenant,branch,timeline_id}
 *   forkline_tenant_logical_size_bytes / _physical_size_bytes / _history_size_bytes{tenant}
 *   forkline_endpoint_state{tenant,branch,timeline_id,state}           1 for the endpoint's state, 0 for the others
 *                                                                      (provisioning, running, stopped)
 *   forkline_page_cache_bytes / _max_bytes / _entries                  gauges: the store's cache of materialized
 *                                                                      versions (bounded in bytes)
 *   forkline_page_cache_hits_total / _misses_total                     counters since start
 *   forkline_compute_blocks_fetched{tenant,branch,timeline_id}         gauge: blocks a running lazy compute fetched
 *   forkline_compute_fetch_mean_micros{tenant,branch,timeline_id}      gauge: their mean fetch time
 *   forkline_pageservice_connections                                   gauge: open page service connections
 *   forkline_pageservice_pages_served_total                            counter: pages sent in GetPage answers
 *   forkline_pageservice_errors_total{code}                            counter: error answers by protocol code
 *   forkline_pageservice_backpressure_pauses_total                     counter: times a connection was not
 *                                                                      read because of back-pressure
 * </pre>
 *
 * Gauges are recomputed at each scrape (sizes: {@link io.forkline.pageserver.size.SizeService}, the
 * logical size cached per timeline and LSN); the GetPage timer is fed by a
 * {@link PageStore.ReadListener} installed on construction and removed by {@link #close()}.
 * Thread-safe; scrapes are serialized.
 */
public final class ServerMetrics implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ServerMetrics.class);

    /** Media type of {@link #scrape()}. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private static final Duration[] GETPAGE_BUCKETS = {Duration.ofNanos(10_000), Duration.ofNanos(50_000),
            Duration.ofNanos(100_000), Duration.ofNanos(500_000), Duration.ofMillis(1), Duration.ofMillis(5),
            Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofSeconds(1)};

    private final PageStore store;
    private final TenantService tenants;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<TimelineId, Timer> getPage = new ConcurrentHashMap<>();
    private final MultiGauge lastRecordLsn;
    private final MultiGauge lagBytes;
    private final MultiGauge lagSeconds;
    private final MultiGauge ingestBackground;
    private final MultiGauge mirrorLagBytes;
    private final MultiGauge mirrorLagSeconds;
    private final MultiGauge mirrorFailed;
    private final MultiGauge subscriptionLagBytes;
    private final MultiGauge subscriptionDisabled;
    private final MultiGauge branchLogical;
    private final MultiGauge branchPhysical;
    private final MultiGauge branchStored;
    private final MultiGauge tenantLogical;
    private final MultiGauge tenantPhysical;
    private final MultiGauge tenantHistory;
    private final MultiGauge endpointState;
    private final MultiGauge computeBlocksFetched;
    private final MultiGauge computeFetchMicros;

    /**
     * Registers the meters and installs the GetPage listener on {@code store} (replacing any other).
     */
    public ServerMetrics(PageStore store, TenantService tenants, RetentionService retention, PageService pages) {
        this.store = store;
        this.tenants = tenants;
        Gauge.builder("forkline.page.cache", store, s -> s.pageCacheStats().bytes()).baseUnit("bytes")
                .description("weighed size of the cache of materialized page versions").register(registry);
        Gauge.builder("forkline.page.cache.max", store, s -> s.pageCacheStats().maxBytes()).baseUnit("bytes")
                .description("bound of the cache of materialized page versions (0: off)").register(registry);
        Gauge.builder("forkline.page.cache.entries", store, s -> s.pageCacheStats().entries())
                .description("entries in the cache of materialized page versions").register(registry);
        FunctionCounter.builder("forkline.page.cache.hits", store, s -> s.pageCacheStats().hits())
                .description("page reads answered from the cache since the server started").register(registry);
        FunctionCounter.builder("forkline.page.cache.misses", store, s -> s.pageCacheStats().misses())
                .description("page reads that went to RocksDB since the server started").register(registry);
        PageServiceMetrics pm = pages.metrics();
        Gauge.builder("forkline.pageservice.connections", pm, PageServiceMetrics::connections)
                .description("open page service connections").register(registry);
        FunctionCounter.builder("forkline.pageservice.pages.served", pm, PageServiceMetrics::pagesServed)
                .description("pages sent in GetPage answers since the server started").register(registry);
        FunctionCounter.builder("forkline.pageservice.backpressure.pauses", pm, PageServiceMetrics::backPressurePauses)
                .description("times a page service connection stopped being read because of back-pressure")
                .register(registry);
        for (ErrorCode c : ErrorCode.values()) {
            if (c != ErrorCode.UNRECOGNIZED && c != ErrorCode.ERROR_CODE_UNSPECIFIED) {
                FunctionCounter.builder("forkline.pageservice.errors", pm, m -> m.errors(c)).tag("code", c.name())
                        .description("page service error answers by code since the server started").register(registry);
            }
        }
        FunctionCounter.builder("forkline.gc.runs", retention, r -> r.totals().runs())
                .description("GC runs (timelines collected) since the server started").register(registry);
        FunctionCounter.builder("forkline.gc.versions.removed", retention, r -> r.totals().versionsRemoved())
                .description("page versions GC removed since the server started").register(registry);
        FunctionCounter.builder("forkline.gc.removed", retention, r -> r.totals().bytesRemoved()).baseUnit("bytes")
                .description("key + value bytes (uncompressed) of the versions GC removed since the server started")
                .register(registry);
        lastRecordLsn = gauge("forkline.timeline.last.record.lsn", null,
                "durable last record LSN of the timeline (WAL byte position)");
        lagBytes = gauge("forkline.ingest.lag.bytes", "bytes",
                "WAL of the running compute that its receiver knows of (received, or reported by the walsender) and is not durable yet");
        lagSeconds = gauge("forkline.ingest.lag.seconds", "seconds",
                "age of the oldest received WAL byte that is not durable yet; 0 when caught up");
        ingestBackground = gauge("forkline.ingest.background", null,
                "1 while the WAL receiver of the running compute yields the CPU to computes (BackgroundIngest), else 0");
        mirrorLagBytes = gauge("forkline.mirror.lag.bytes", "bytes",
                "the mirrored primary's flush LSN minus the WAL durable here");
        mirrorLagSeconds = gauge("forkline.mirror.lag.seconds", "seconds",
                "how long ago the primary had flushed the oldest WAL not durable here; 0 when caught up");
        mirrorFailed = gauge("forkline.mirror.failed", null, "1 when the mirror stopped on an error, else 0");
        subscriptionLagBytes = gauge("forkline.subscription.lag.bytes", "bytes",
                "a logical import: the source's current WAL position minus its slot's confirmed flush position");
        subscriptionDisabled = gauge("forkline.subscription.disabled", null,
                "a logical import: 1 when an apply error disabled main's subscription, else 0");
        branchLogical = gauge("forkline.branch.logical.size.bytes", "bytes",
                "logical size (relation blocks x 8192) at the timeline's last record LSN");
        branchPhysical = gauge("forkline.branch.physical.size.bytes", "bytes",
                "approximate on-disk bytes (compressed) of the timeline's own versions");
        branchStored = gauge("forkline.branch.stored.bytes", "bytes",
                "exact key + value bytes (uncompressed) of the timeline's own versions");
        tenantLogical = gauge("forkline.tenant.logical.size.bytes", "bytes", "logical size of the tenant's main");
        tenantPhysical = gauge("forkline.tenant.physical.size.bytes", "bytes",
                "approximate on-disk bytes of every timeline of the tenant");
        tenantHistory = gauge("forkline.tenant.history.size.bytes", "bytes",
                "exact uncompressed bytes of every version the tenant keeps");
        computeBlocksFetched = gauge("forkline.compute.blocks.fetched", null,
                "blocks the running lazy compute fetched from the page service since it started");
        computeFetchMicros = gauge("forkline.compute.fetch.mean.micros", null,
                "mean time of the running lazy compute's page fetches, microseconds");
        endpointState = gauge("forkline.endpoint.state", null,
                "1 for the branch endpoint's current state, 0 for the other states");
        store.setReadListener(this::pageRead);
    }

    private MultiGauge gauge(String name, String unit, String description) {
        MultiGauge.Builder b = MultiGauge.builder(name).description(description);
        if (unit != null) {
            b.baseUnit(unit);
        }
        return b.register(registry);
    }

    private void pageRead(TimelineId timeline, long nanos) {
        Timer t = getPage.get(timeline);
        if (t == null) {
            t = getPage.computeIfAbsent(timeline, this::newGetPageTimer);
        }
        t.record(nanos, TimeUnit.NANOSECONDS);
    }

    private Timer newGetPageTimer(TimelineId timeline) {
        TimelineMetadata md = store.timeline(timeline);
        String tenant = md == null ? "" : md.tenant().name();
        String ref = "";
        if (md != null) {
            try {
                for (TenantService.BranchView v : tenants.listBranches(tenant)) {
                    if (v.info().timelineId().equals(timeline.toString())) {
                        ref = v.info().ref();
                        break;
                    }
                }
                if (ref.isEmpty()) {
                    // a branch whose record follows its first compute start (put --start, schema-only):
                    // the endpoint being started already names it
                    String serving = tenants.endpoints().refServing(tenant, timeline);
                    ref = serving == null ? "" : serving;
                }
            } catch (RuntimeException e) {
                // the read itself must not fail for its metric: label the timer without the branch
                log.warn("cannot find the branch of timeline {} for its GetPage metric: {}", timeline, e.toString());
            }
        }
        return Timer.builder("forkline.getpage")
                .description("page reads (GetPage@LSN): basebackup pages, GC's ancestor checks")
                .tags(labels(tenant, ref, timeline.toString()))
                .serviceLevelObjectives(GETPAGE_BUCKETS)
                .register(registry);
    }

    private static Tags labels(String tenant, String ref, String timelineId) {
        return Tags.of("tenant", tenant, "branch", ref, "timeline_id", timelineId);
    }

    /**
     * Recomputes the gauges and renders every meter.
     *
     * @return Prometheus text exposition format 0.0.4 ({@link #CONTENT_TYPE})
     */
    public synchronized String scrape() {
        refresh();
        return registry.scrape();
    }

    private void refresh() {
        List<MultiGauge.Row<?>> lsn = new ArrayList<>();
        List<MultiGauge.Row<?>> lagB = new ArrayList<>();
        List<MultiGauge.Row<?>> lagS = new ArrayList<>();
        List<MultiGauge.Row<?>> bg = new ArrayList<>();
        List<MultiGauge.Row<?>> logical = new ArrayList<>();
        List<MultiGauge.Row<?>> physical = new ArrayList<>();
        List<MultiGauge.Row<?>> stored = new ArrayList<>();
        List<MultiGauge.Row<?>> tLogical = new ArrayList<>();
        List<MultiGauge.Row<?>> tPhysical = new ArrayList<>();
        List<MultiGauge.Row<?>> tHistory = new ArrayList<>();
        List<MultiGauge.Row<?>> states = new ArrayList<>();
        List<MultiGauge.Row<?>> fetched = new ArrayList<>();
        List<MultiGauge.Row<?>> fetchUs = new ArrayList<>();
        for (TenantInfo t : tenants.listTenants()) {
            String tenant = t.name();
            TenantSize size;
            List<TenantService.BranchView> branches;
            try {
                branches = tenants.listBranches(tenant);
                size = tenants.tenantSize(tenant, branches);
            } catch (io.forkline.pageserver.api.ApiException e) {
                if (e.status() != 404) {
                    throw e;
                }
                continue; // the tenant's record went after it was listed (no API deletes tenants yet)
            }
            Tags tenantTags = Tags.of("tenant", tenant);
            tLogical.add(MultiGauge.Row.of(tenantTags, size.logicalSizeBytes()));
            tPhysical.add(MultiGauge.Row.of(tenantTags, size.totalPhysicalSizeBytes()));
            tHistory.add(MultiGauge.Row.of(tenantTags, size.historySizeBytes()));
            for (TimelineSize s : size.timelines()) {
                List<String> refs = s.refs().isEmpty() ? List.of("") : s.refs();
                for (String ref : refs) {
                    Tags tags = labels(tenant, ref, s.timelineId());
                    lsn.add(MultiGauge.Row.of(tags, (double) Lsn.parse(s.lastRecordLsn())));
                    logical.add(MultiGauge.Row.of(tags, s.logicalSizeBytes()));
                    physical.add(MultiGauge.Row.of(tags, s.physicalSizeBytes()));
                    stored.add(MultiGauge.Row.of(tags, s.storedBytes()));
                }
            }
            for (TenantService.BranchView v : branches) {
                String ref = v.info().ref();
                Tags tags = labels(tenant, ref, v.info().timelineId());
                for (EndpointState st : EndpointState.values()) {
                    states.add(MultiGauge.Row.of(tags.and("state", st.apiName()),
                            st.apiName().equals(v.endpointState()) ? 1 : 0));
                }
                EndpointManager.Endpoint e = tenants.endpoints().get(tenant, ref);
                io.forkline.compute.lazy.LazyStats ls = e == null ? null : e.lazyStats();
                if (ls != null) {
                    fetched.add(MultiGauge.Row.of(tags, ls.blocksFetched()));
                    fetchUs.add(MultiGauge.Row.of(tags, ls.meanFetchMicros()));
                }
                WalReceiver r = e == null ? null : e.receiver();
                if (r != null && e.active()) {
                    Tags rt = labels(tenant, ref, r.timeline().toString());
                    lagB.add(MultiGauge.Row.of(rt, r.lagBytes()));
                    lagS.add(MultiGauge.Row.of(rt, r.lagSeconds()));
                    bg.add(MultiGauge.Row.of(rt, r.inBackground() ? 1 : 0));
                }
            }
        }
        List<MultiGauge.Row<?>> mB = new ArrayList<>();
        List<MultiGauge.Row<?>> mS = new ArrayList<>();
        List<MultiGauge.Row<?>> mF = new ArrayList<>();
        for (Map.Entry<String, io.forkline.pageserver.mirror.MirrorStatus> m : tenants.mirrors().statuses().entrySet()) {
            Tags tags = Tags.of("tenant", m.getKey());
            if (m.getValue().lagBytes() != null) {
                mB.add(MultiGauge.Row.of(tags, m.getValue().lagBytes()));
                mS.add(MultiGauge.Row.of(tags, m.getValue().lagSeconds()));
            }
            mF.add(MultiGauge.Row.of(tags, "failed".equals(m.getValue().state()) ? 1 : 0));
        }
        List<MultiGauge.Row<?>> sB = new ArrayList<>();
        List<MultiGauge.Row<?>> sD = new ArrayList<>();
        for (io.forkline.pageserver.tenant.TenantInfo t : tenants.listTenants()) {
            io.forkline.pageserver.logical.LogicalImportStatus st = tenants.logicalImports().status(t.name());
            if (st == null) {
                continue;
            }
            Tags tags = Tags.of("tenant", t.name());
            if (st.lagBytes() != null) {
                sB.add(MultiGauge.Row.of(tags, st.lagBytes()));
            }
            sD.add(MultiGauge.Row.of(tags, "disabled".equals(st.state()) ? 1 : 0));
        }
        subscriptionLagBytes.register(sB, true);
        subscriptionDisabled.register(sD, true);
        mirrorLagBytes.register(mB, true);
        mirrorLagSeconds.register(mS, true);
        mirrorFailed.register(mF, true);
        lastRecordLsn.register(lsn, true);
        lagBytes.register(lagB, true);
        lagSeconds.register(lagS, true);
        ingestBackground.register(bg, true);
        branchLogical.register(logical, true);
        branchPhysical.register(physical, true);
        branchStored.register(stored, true);
        tenantLogical.register(tLogical, true);
        tenantPhysical.register(tPhysical, true);
        tenantHistory.register(tHistory, true);
        endpointState.register(states, true);
        computeBlocksFetched.register(fetched, true);
        computeFetchMicros.register(fetchUs, true);
        getPage.entrySet().removeIf(en -> {
            if (store.timeline(en.getKey()) == null) {
                registry.remove(en.getValue());
                return true;
            }
            return false;
        });
    }

    /**
     * Registers the Postgres proxy's counters ({@link ProxyContext.Stats}): sessions spliced, refused
     * connections, forwarded cancels, and how the kernel relays sessions (docs/ARCHITECTURE.md "Kernel
     * relay"): in any shape, in the SK_MSG shape, with the client's own socket sending straight into the
     * backend's, and the falls back to TCP and the proxy's user space (a stalled client; a client over
     * its byte budget).
     */
    public void bindProxy(PgProxy proxy) {
        ProxyContext.Stats st = proxy.stats();
        counter("forkline.proxy.sessions", st.sessionsStarted,
                "client sessions the Postgres proxy spliced to a compute since the server started");
        counter("forkline.proxy.connections.refused", st.connectionsRefused,
                "client connections the Postgres proxy refused with a FATAL error");
        counter("forkline.proxy.cancels.forwarded", st.cancelsForwarded, "CancelRequests the Postgres proxy forwarded to a compute");
        counter("forkline.proxy.sessions.kernel", st.sessionsKernelRelayed,
                "sessions relayed by the kernel (eBPF sockmap) instead of the proxy's user space");
        counter("forkline.proxy.sessions.kernel.msg", st.sessionsMsgRelayed,
                "of those, sessions whose backend sends straight to the client socket (SK_MSG shape)");
        counter("forkline.proxy.sessions.kernel.client.direct", st.sessionsClientDirect,
                "of those, sessions whose client's own socket sends straight into the backend's");
        counter("forkline.proxy.fallbacks.stalled.client", st.msgRelayFallbacks,
                "SK_MSG sessions whose stalled client sent the backend's bytes to the proxy's user space");
        counter("forkline.proxy.fallbacks.client.budget", st.clientDirectFallbacks,
                "client-direct sessions whose client outran its byte budget, relayed by the proxy from then on");
        Gauge.builder("forkline.proxy.kernel.relay", proxy, p -> p.kernelRelayOn() ? 1 : 0)
                .description("1 when the proxy's kernel relay loaded").register(registry);
        Gauge.builder("forkline.proxy.kernel.client.capture", proxy, p -> p.clientSocketsCaptured() ? 1 : 0)
                .description("1 when local clients' own sockets are captured (their bytes go straight into the backend's)")
                .register(registry);
    }

    private void counter(String name, java.util.concurrent.atomic.AtomicLong value, String description) {
        FunctionCounter.builder(name, value, java.util.concurrent.atomic.AtomicLong::get).description(description).register(registry);
    }

    /** Removes the GetPage listener from the store and closes the registry. */
    @Override
    public void close() {
        store.setReadListener(null);
        registry.close();
    }
}
