package io.forkline.pageserver.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import io.forkline.pageserver.tenant.TenantService;
import io.forkline.pageserver.testing.Sql;
import io.forkline.pageserver.testing.TestServer;
import io.forkline.pageserver.testing.TestServer.Response;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.lsn.Lsn;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code GET /metrics} of a server whose {@code main} endpoint (real PostgreSQL 15) ingested some
 * writes: every metric family is there with plausible values, and GC runs show after an on-demand
 * GC. Background GC is off so the GC counter only moves when the test asks.
 */
class MetricsIT {
    private static final String TENANT = "met";
    /** {@code name{labels} value}; Micrometer writes no timestamps. */
    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})? (\\S+)$");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    private static TestServer server;
    private static TenantService tenants;

    private record Sample(String name, Map<String, String> labels, double value) {
    }

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start("metrics", TestServer.Option.NO_BACKGROUND_GC);
        tenants = server.tenants();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static List<Sample> scrape() throws Exception {
        Response r = server.get("/metrics");
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue(ServerMetrics.CONTENT_TYPE);
        List<Sample> out = new ArrayList<>();
        for (String line : r.text().split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            assertThat(m.matches()).as("exposition line '%s'", line).isTrue();
            Map<String, String> labels = new TreeMap<>();
            if (m.group(2) != null) {
                Matcher l = LABEL.matcher(m.group(2));
                while (l.find()) {
                    labels.put(l.group(1), l.group(2));
                }
            }
            out.add(new Sample(m.group(1), labels, Double.parseDouble(m.group(3))));
        }
        return out;
    }

    /** The one sample of {@code name} whose labels include {@code match}. */
    private static double value(List<Sample> samples, String name, Map<String, String> match) {
        List<Sample> hits = samples.stream().filter(s -> s.name().equals(name)
                && s.labels().entrySet().containsAll(match.entrySet())).toList();
        assertThat(hits).as("samples of %s with %s", name, match).hasSize(1);
        return hits.get(0).value();
    }

    @Test
    void everyFamilyIsScrapedWithPlausibleValues() throws Exception {
        tenants.createTenant(TENANT);
        String uri = tenants.startEndpoint(TENANT, "main");
        TimelineId tl = TimelineId.parse(tenants.branch(TENANT, "main").timelineId());
        Sql.exec(uri, "postgres", "CREATE TABLE t (id int PRIMARY KEY, v text)",
                "INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 20000) g");
        long lsn = server.awaitIngested(tl, uri);
        Map<String, String> main = Map.of("tenant", TENANT, "branch", "main", "timeline_id", tl.toString());

        // caught up: no lag once the last write is durable (the receiver published it)
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(value(scrape(), "forkline_ingest_lag_bytes", main)).isZero());
        List<Sample> s = scrape();
        assertThat(value(s, "forkline_ingest_lag_seconds", main)).isZero();
        // the local compute acknowledges commits itself: its receiver streams in the background
        // (BackgroundIngest) where thread priorities can be restored (root in CI), else at the server's
        int background = io.forkline.wal.replication.ThreadPriority.available() != null ? 1 : 0;
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(value(scrape(), "forkline_ingest_background", main)).isEqualTo(background));

        double last = value(s, "forkline_timeline_last_record_lsn", main);
        assertThat(Lsn.covers((long) last, lsn)).as("last record LSN %s covers %s", Lsn.format((long) last),
                Lsn.format(lsn)).isTrue();
        assertThat(last).isLessThanOrEqualTo((double) server.store().lastRecordLsn(tl));

        // the endpoint start's basebackup read every page of the cluster
        assertThat(value(s, "forkline_getpage_seconds_count", main)).isGreaterThan(100);
        assertThat(value(s, "forkline_getpage_seconds_sum", main)).isPositive();
        assertThat(s).anyMatch(x -> x.name().equals("forkline_getpage_seconds_bucket")
                && x.labels().get("le") != null && x.labels().get("branch").equals("main"));

        assertThat(value(s, "forkline_endpoint_state", with(main, "state", "running"))).isEqualTo(1);
        assertThat(value(s, "forkline_endpoint_state", with(main, "state", "stopped"))).isZero();
        assertThat(value(s, "forkline_endpoint_state", with(main, "state", "provisioning"))).isZero();

        double logical = value(s, "forkline_branch_logical_size_bytes", main);
        assertThat(logical).isEqualTo((double) tenants.sizes().logicalSize(tl)).isGreaterThan(5e6);
        assertThat(value(s, "forkline_branch_physical_size_bytes", main)).isPositive();
        assertThat(value(s, "forkline_branch_stored_bytes", main)).isGreaterThan(5e6);
        Map<String, String> tenant = Map.of("tenant", TENANT);
        assertThat(value(s, "forkline_tenant_logical_size_bytes", tenant)).isEqualTo(logical);
        assertThat(value(s, "forkline_tenant_physical_size_bytes", tenant)).isPositive();
        assertThat(value(s, "forkline_tenant_history_size_bytes", tenant))
                .isEqualTo(value(s, "forkline_branch_stored_bytes", main));

        // the Postgres proxy: two sessions through its connection string (plain, so the kernel may relay them)
        double sessionsBefore = value(s, "forkline_proxy_sessions_total", Map.of());
        String cs = server.get("/v1/tenants/" + TENANT + "/branches/main/connection-string").ok()
                .path("connection_string").asText() + "&sslmode=disable";
        for (int i = 0; i < 2; i++) {
            assertThat(Sql.queryString(cs, "postgres", "SELECT count(*) FROM t")).isEqualTo("20000");
        }
        var proxyStats = server.server().pgProxy().stats();
        List<Sample> p = scrape();
        assertThat(value(p, "forkline_proxy_sessions_total", Map.of()) - sessionsBefore).isEqualTo(2);
        assertThat(value(p, "forkline_proxy_sessions_total", Map.of())).isEqualTo((double) proxyStats.sessionsStarted.get());
        assertThat(value(p, "forkline_proxy_sessions_kernel_total", Map.of()))
                .isEqualTo((double) proxyStats.sessionsKernelRelayed.get());
        assertThat(value(p, "forkline_proxy_sessions_kernel_client_direct_total", Map.of()))
                .isEqualTo((double) proxyStats.sessionsClientDirect.get())
                .isEqualTo(server.server().pgProxy().clientSocketsCaptured() ? 2 : 0);
        assertThat(value(p, "forkline_proxy_fallbacks_client_budget_total", Map.of())).isZero();
        assertThat(value(p, "forkline_proxy_kernel_relay", Map.of()))
                .isEqualTo(server.server().pgProxy().kernelRelayOn() ? 1 : 0);

        // GC keeping no history removes the INSERT's older page versions; the counters (background GC
        // is off, so this is the only run) are exactly what the run reported
        assertThat(value(s, "forkline_gc_runs_total", Map.of())).isZero();
        server.post("/v1/tenants/" + TENANT + "/retention", "{\"pitr_interval\": \"0\", \"gc_horizon\": \"0\"}")
                .expect(200);
        JsonNode gc = server.post("/v1/tenants/" + TENANT + "/gc", "{}").expect(200);
        long runs = 0;
        long versionsRemoved = 0;
        long bytesRemoved = 0;
        for (JsonNode t : gc.path("timelines")) {
            runs++;
            versionsRemoved += t.path("versions_removed").asLong();
            bytesRemoved += t.path("bytes_removed").asLong();
        }
        assertThat(runs).as("timelines collected in %s", gc).isEqualTo(1);
        assertThat(versionsRemoved).as("versions removed in %s", gc).isPositive();
        assertThat(bytesRemoved).as("bytes removed in %s", gc).isPositive();
        List<Sample> after = scrape();
        assertThat(value(after, "forkline_gc_runs_total", Map.of())).isEqualTo((double) runs);
        assertThat(value(after, "forkline_gc_versions_removed_total", Map.of())).isEqualTo((double) versionsRemoved);
        assertThat(value(after, "forkline_gc_removed_bytes_total", Map.of())).isEqualTo((double) bytesRemoved);

        // a stopped endpoint: state gauge moves, ingest lag series go away
        tenants.stopEndpoint(TENANT, "main");
        List<Sample> stopped = scrape();
        assertThat(value(stopped, "forkline_endpoint_state", with(main, "state", "stopped"))).isEqualTo(1);
        assertThat(value(stopped, "forkline_endpoint_state", with(main, "state", "running"))).isZero();
        assertThat(stopped).noneMatch(x -> x.name().equals("forkline_ingest_lag_bytes"));
        assertThat(stopped).noneMatch(x -> x.name().equals("forkline_ingest_background"));
    }

    @Test
    void getPageOfABranchMadeByPutWithStartIsLabelledWithItsRef() throws Exception {
        tenants.createTenant("met-put");
        JsonNode b = server.put("/v1/tenants/met-put/branches/pr-7", "{\"start\":true,\"size\":\"xs\"}").expect(201);
        try {
            String tl = b.path("timeline_id").asText();
            List<Sample> getPage = scrape().stream()
                    .filter(s -> s.name().equals("forkline_getpage_seconds_count") && tl.equals(s.labels().get("timeline_id")))
                    .toList();
            assertThat(getPage).as("the basebackup of its first start read its pages").isNotEmpty();
            assertThat(getPage).allSatisfy(s -> assertThat(s.labels()).containsEntry("branch", "pr-7").containsEntry("tenant", "met-put"));
        } finally {
            server.post("/v1/tenants/met-put/branches/pr-7/endpoint/stop", "").expect(200);
        }
    }

    @Test
    void unknownPathsStillAnswer404AndMetricsIsGetOnly() throws Exception {
        assertThat(server.get("/metricsx").status()).isEqualTo(404);
        assertThat(server.http("POST", "/metrics").status()).isEqualTo(405);
    }

    private static Map<String, String> with(Map<String, String> labels, String k, String v) {
        Map<String, String> m = new TreeMap<>(labels);
        m.put(k, v);
        return m;
    }
}
