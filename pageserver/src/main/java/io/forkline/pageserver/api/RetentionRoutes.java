package io.forkline.pageserver.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.forkline.pageserver.retention.EarliestRestorable;
import io.forkline.pageserver.retention.RetentionConfig;
import io.forkline.pageserver.retention.RetentionService;
import io.forkline.pageserver.retention.TimelineGcReport;
import io.forkline.pageserver.tenant.TenantService;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Retention settings, GC and LSN leases ({@link RetentionService}):
 *
 * <pre>
 *   GET    /v1/tenants/{t}/retention        -> {tenant, pitr_interval, gc_horizon, pitr_interval_seconds, gc_horizon_bytes, source,
 *                                               branches: [{ref, timeline_id, applied_gc_cutoff,
 *                                                           earliest_restorable_lsn, earliest_restorable_time}]}
 *   POST   /v1/tenants/{t}/retention        {"pitr_interval"?: "7d", "gc_horizon"?: "64MB"} -> as GET
 *   POST   /v1/tenants/{t}/gc               {"branch"?: REF} -> {tenant, timelines: [TimelineGcReport]}
 *   POST   /v1/tenants/{t}/branches/{ref}/lsn_lease  {"lsn": "X/Y", "ttl"?: "1h"} -> LsnLease
 *   GET    /v1/tenants/{t}/branches/{ref}/lsn_lease  -> [LsnLease]   (active ones)
 *   DELETE /v1/tenants/{t}/branches/{ref}/lsn_lease/{lsn}  ({lsn} percent-encoded, 0%2F16B3748) -> {}
 * </pre>
 *
 * Settings values may be JSON strings or whole numbers (seconds, bytes); {@code null} returns a
 * setting to its default ({@code source} in the answer says which settings the tenant set). A branch
 * point below the applied GC cutoff is refused by branch creation with 409
 * {@code below_gc_cutoff} ({@link EarliestRestorable#check}).
 */
public final class RetentionRoutes implements Router.Module {
    private static final String LEASE = "/v1/tenants/{tenant}/branches/{ref}/lsn_lease";

    private final RetentionService retention;
    private final TenantService tenants;
    private final PageStore store;
    private final ObjectMapper json = new ObjectMapper();

    public RetentionRoutes(RetentionService retention, TenantService tenants, PageStore store) {
        this.retention = retention;
        this.tenants = tenants;
        this.store = store;
    }

    @Override
    public void register(Router r) {
        r.add("GET", "/v1/tenants/{tenant}/retention", q -> status(q.param("tenant"), retention.config(q.param("tenant"))));
        r.add("POST", "/v1/tenants/{tenant}/retention", q -> {
            String tenant = q.param("tenant");
            return status(tenant, retention.configure(tenant, settings(q.body())));
        });
        r.add("POST", "/v1/tenants/{tenant}/gc", q -> {
            String tenant = q.param("tenant");
            List<TimelineGcReport> reports = retention.collect(tenant, q.text("branch", false));
            ObjectNode n = json.createObjectNode();
            n.put("tenant", tenant);
            n.set("timelines", json.valueToTree(reports));
            return n;
        });
        r.add("POST", LEASE, q -> retention.createLease(q.param("tenant"), q.param("ref"), q.text("lsn", true),
                q.text("ttl", false)));
        r.add("GET", LEASE, q -> retention.leases(q.param("tenant"), q.param("ref")));
        r.add("DELETE", LEASE + "/{lsn}", q -> {
            retention.deleteLease(q.param("tenant"), q.param("ref"), q.param("lsn"));
            return json.createObjectNode();
        });
    }

    private static Map<String, String> settings(JsonNode body) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = body.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            if (v.isNull()) {
                out.put(e.getKey(), null);
            } else if (v.isTextual()) {
                out.put(e.getKey(), v.asText());
            } else if (v.isIntegralNumber()) {
                out.put(e.getKey(), v.asText());
            } else {
                throw ApiException.badRequest("setting '" + e.getKey() + "' must be a string such as \"7d\" or \"64MB\", got " + v);
            }
        }
        if (out.isEmpty()) {
            throw ApiException.badRequest("no settings given: send " + RetentionConfig.KEYS);
        }
        return out;
    }

    private ObjectNode status(String tenant, RetentionConfig c) {
        ObjectNode n = json.createObjectNode();
        n.put("tenant", tenant);
        n.put(RetentionConfig.PITR_INTERVAL, c.pitrIntervalText());
        n.put(RetentionConfig.GC_HORIZON, c.gcHorizonText());
        n.put("pitr_interval_seconds", c.pitrInterval().getSeconds());
        n.put("gc_horizon_bytes", c.gcHorizonBytes());
        ObjectNode source = n.putObject("source");
        var configured = retention.configuredKeys(tenant);
        for (String k : List.of(RetentionConfig.PITR_INTERVAL, RetentionConfig.GC_HORIZON)) {
            source.put(k, configured.contains(k) ? "tenant" : "default");
        }
        ArrayNode arr = n.putArray("branches");
        for (TenantService.BranchView v : tenants.listBranches(tenant)) {
            TimelineId tl = TimelineId.parse(v.info().timelineId());
            if (store.timeline(tl) == null) {
                continue;
            }
            EarliestRestorable e = EarliestRestorable.of(store, tl);
            ObjectNode b = arr.addObject();
            b.put("ref", v.info().ref());
            b.put("timeline_id", tl.toString());
            b.put("applied_gc_cutoff", Lsn.format(store.gcCutoff(tl)));
            b.put("earliest_restorable_lsn", Lsn.format(e.lsn()));
            b.put("earliest_restorable_time", e.time() == null ? null : e.time().toString());
        }
        return n;
    }
}
