package io.forkline.pageserver.api;

import io.forkline.pageserver.endpoint.StorageMode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.forkline.pageserver.branch.BranchOptions;
import io.forkline.pageserver.branch.BranchService;
import io.forkline.pageserver.branch.CommitTimes;
import io.forkline.pageserver.branch.Ttl;
import io.forkline.pageserver.tenant.BranchInfo;
import io.forkline.pageserver.tenant.TenantService;
import io.forkline.storage.lsn.Lsn;

import java.util.List;
import java.util.Map;

/**
 * Tenants, branches and endpoints:
 *
 * <pre>
 *   GET    /v1/tenants                                       -> [{name, created_at, init_lsn, logical_size_bytes,
 *                                                                 total_physical_size_bytes, history_size_bytes}]
 *   POST   /v1/tenants                {"name"}               -> tenant (201)
 *   GET    /v1/tenants/{t}/size                              -> {@link io.forkline.pageserver.size.TenantSize}
 *   GET    /v1/tenants/{t}/config                            -> {config, limits, usage}
 *   POST   /v1/tenants/{t}/config     {"max_branches"?,"max_running_endpoints"?} -> {config, limits, usage}
 *   GET    /v1/tenants/{t}/branches                          -> [branch]
 *   POST   /v1/tenants/{t}/branches   {"ref","parent"?,"lsn"?,"at"?,"ttl"?,"size"?,"schema_only"?,"start"?,
 *                                              "storage"?: "lazy"|"full"}
 *                                                            -> branch (201)
 *   GET    /v1/tenants/{t}/branches/{ref}                    -> branch
 *   PUT    /v1/tenants/{t}/branches/{ref}  {"parent"?,"ttl"?,"size"?,"schema_only"?,"start"?,"storage"?}
 *                                                            -> branch + "created" (201 created, 200 reset)
 *   DELETE /v1/tenants/{t}/branches/{ref}[?recursive=true][&force=true] -> {"deleted":[refs, children first]}
 *                                                            (409 history_would_be_lost without force, see
 *                                                            {@link BranchService#delete(String, String, boolean, boolean)})
 *   POST   /v1/tenants/{t}/branches/{ref}/reset              -> branch
 *   POST   /v1/tenants/{t}/branches/{ref}/restore {"lsn"|"at","keep_as"?} -> {branch, kept_as, lsn}
 *   POST   /v1/tenants/{t}/branches/{ref}/protect {"protected"?: true} -> branch
 *   POST   /v1/tenants/{t}/branches/{ref}/endpoint/start {"size"?,"storage"?: "lazy"|"full"}  -> {"uri","size","storage",...}
 *   POST   /v1/tenants/{t}/branches/{ref}/endpoint/resize {"size"}  -> {"uri","size","state"}
 *   POST   /v1/tenants/{t}/branches/{ref}/endpoint/stop     -> {}
 *   POST   /v1/tenants/{t}/branches/{ref}/endpoint/config {"suspend_after": "30s"|"5m"|"1h"|"0"} -> endpoint
 *   GET    /v1/tenants/{t}/branches/{ref}/connection-string -> {ref, endpoint_id, connection_string}
 *   POST   /v1/tenants/{t}/branches/{ref}/password/reset    -> {ref, endpoint_id, connection_string} (new password)
 *   DELETE /v1/tenants/{t}[?force=true]                      -> {deleted, branches, timelines, freed_bytes}
 *                                                            (admin token; 409 while computes run, unless force)
 *   POST   /v1/tenants/{t}/branches/{ref}/rename {"new_ref"} -> branch (409 while its endpoint runs)
 *   GET    /v1/tenants/{t}/branches/{ref}/log[?since=T][&limit=N] -> {ref, restorable, commits: [{time, lsn, xid,
 *                                                                    timeline_id}]} newest first (default 20)
 *   GET    /v1/tenants/{t}/endpoints                         -> [{ref, state, uri, size, port, timeline_id, log, note}]
 *   GET    /v1/tenants/{t}/branches/{ref}/endpoint/logs[?offset=B | ?tail=L] -> {path, size, offset, text}
 * </pre>
 *
 * A branch is {@code {ref, timeline_id, parent, ancestor_lsn, last_record_lsn, created_at, protected,
 * expires_at, ttl, size, schema_only, ancestor_timeline_id, ancestor_ref, on_parent_timeline,
 * logical_size_bytes, physical_size_bytes, stored_bytes, size_lsn, restorable: {earliest_lsn, earliest_time,
 * latest_lsn, latest_time}, restores: [{at, lsn, from_timeline_id, kept_as}], endpoint: {state, uri,
 * size}}} (times RFC 3339 UTC with microseconds; {@code ancestor_ref} is the ref that points at the
 * timeline the branch really hangs from, which is not its parent's current one after the parent was
 * reset or restored) (sizes: {@link io.forkline.pageserver.size.SizeService#listed}, from its cache: as of
 * {@code size_lsn}, which lags {@code last_record_lsn} while a refresh runs; {@code null}
 * when the branch's timeline is gone). Quota refusals are 403
 * {@code quota_exceeded}; protection and root-branch refusals 409.
 */
public final class TenantRoutes implements Router.Module {
    private static final String TENANT = "/v1/tenants/{tenant}";
    private static final String BRANCHES = TENANT + "/branches";
    private static final String BRANCH = BRANCHES + "/{ref}";

    private final TenantService tenants;
    private final BranchService branches;
    private final ObjectMapper json = new ObjectMapper();

    /** Routes over {@code tenants} and its {@link TenantService#branches()}. */
    public TenantRoutes(TenantService tenants) {
        this.tenants = tenants;
        this.branches = tenants.branches();
    }

    @Override
    public void register(Router r) {
        // any token; a tenant token sees only its own tenant
        r.add("GET", "/v1/tenants", Router.Access.AUTHENTICATED, q -> tenantList(q.scope()));
        r.add("GET", TENANT + "/size", q -> tenants.tenantSize(q.param("tenant")));
        r.add("POST", "/v1/tenants", q -> ApiResponse.created(tenants.createTenant(q.text("name", true))));
        r.add("GET", TENANT + "/config", q -> usage(branches.usage(q.param("tenant"))));
        // quotas are the operator's limits: a tenant token may read them, not raise them
        r.add("POST", TENANT + "/config", Router.Access.ADMIN, q -> usage(branches.configure(q.param("tenant"), q.body())));
        r.add("GET", BRANCHES, q -> branchList(q.param("tenant")));
        r.add("POST", BRANCHES, q -> {
            String tenant = q.param("tenant");
            BranchInfo b = branches.create(tenant, q.text("ref", true), q.text("parent", false), q.text("lsn", false),
                    q.text("at", false), options(q));
            return ApiResponse.created(branchJson(tenant, b.ref()));
        });
        r.add("GET", BRANCH, q -> branchJson(q.param("tenant"), branches.get(q.param("tenant"), q.param("ref")).ref()));
        r.add("PUT", BRANCH, q -> {
            String tenant = q.param("tenant");
            BranchService.PutResult p = branches.put(tenant, q.param("ref"), q.text("parent", false), options(q));
            ObjectNode n = branchJson(tenant, p.branch().ref());
            n.put("created", p.created());
            return p.created() ? ApiResponse.created(n) : n;
        });
        r.add("DELETE", BRANCH, q -> {
            ObjectNode n = json.createObjectNode();
            ArrayNode deleted = n.putArray("deleted");
            branches.delete(q.param("tenant"), q.param("ref"), q.flag("recursive"), q.flag("force")).forEach(deleted::add);
            return n;
        });
        r.add("POST", BRANCH + "/reset", q -> {
            BranchInfo b = branches.reset(q.param("tenant"), q.param("ref"));
            return branchJson(q.param("tenant"), b.ref());
        });
        r.add("POST", BRANCH + "/restore", q -> {
            String tenant = q.param("tenant");
            BranchService.RestoreResult res = branches.restore(tenant, q.param("ref"), q.text("lsn", false),
                    q.text("at", false), q.text("keep_as", false));
            ObjectNode n = json.createObjectNode();
            n.set("branch", branchJson(tenant, res.branch().ref()));
            n.set("kept_as", branchJson(tenant, res.keptAs().ref()));
            n.put("lsn", res.lsn());
            return n;
        });
        r.add("POST", BRANCH + "/protect", q -> {
            BranchInfo b = branches.protect(q.param("tenant"), q.param("ref"), q.bool("protected", true));
            return branchJson(q.param("tenant"), b.ref());
        });
        r.add("POST", BRANCH + "/endpoint/start", q -> {
            StorageMode mode = storage(q);
            if (mode != null) {
                branches.get(q.param("tenant"), q.param("ref")); // 404 before remembering anything
                tenants.endpoints().preferStorage(q.param("tenant"), q.param("ref"), mode);
            }
            String uri = branches.startEndpoint(q.param("tenant"), q.param("ref"), q.text("size", false));
            return endpointJson(q.param("tenant"), q.param("ref"))
                    .put("uri", branches.access().shownUri(branches.get(q.param("tenant"), q.param("ref")), uri));
        });
        r.add("POST", BRANCH + "/endpoint/config", q -> {
            BranchInfo b = branches.configureEndpoint(q.param("tenant"), q.param("ref"), suspendAfter(q));
            return endpointJson(q.param("tenant"), b.ref());
        });
        r.add("GET", BRANCH + "/connection-string", q -> access(q.param("tenant"), q.param("ref"),
                branches.connectionString(q.param("tenant"), q.param("ref"))));
        r.add("POST", BRANCH + "/password/reset", q -> access(q.param("tenant"), q.param("ref"),
                branches.resetPassword(q.param("tenant"), q.param("ref"))));
        r.add("POST", BRANCH + "/endpoint/resize", q -> {
            branches.resize(q.param("tenant"), q.param("ref"), q.text("size", true));
            return endpointJson(q.param("tenant"), q.param("ref"));
        });
        // like tenant create: an admin's act, not a tenant token's
        r.add("DELETE", TENANT, Router.Access.ADMIN, q -> {
            TenantService.TenantDeletion d = tenants.deleteTenant(q.param("tenant"), q.flag("force"));
            ObjectNode n = json.createObjectNode();
            n.put("deleted", d.name());
            n.put("branches", d.branches());
            n.put("timelines", d.timelines());
            n.put("freed_bytes", d.storedBytes());
            return n;
        });
        r.add("POST", BRANCH + "/rename", q -> {
            BranchInfo b = branches.rename(q.param("tenant"), q.param("ref"), q.text("new_ref", true));
            return branchJson(q.param("tenant"), b.ref());
        });
        r.add("GET", BRANCH + "/log", q -> branchLog(q));
        r.add("GET", TENANT + "/endpoints", q -> endpointList(q.param("tenant")));
        r.add("GET", BRANCH + "/endpoint/logs", q -> endpointLogs(q));
        r.add("POST", BRANCH + "/endpoint/stop", q -> {
            tenants.stopEndpoint(q.param("tenant"), q.param("ref"));
            return json.createObjectNode();
        });
    }

    /** A non-negative integer query parameter, {@code dflt} when absent. @throws ApiException 400 naming it */
    private static long number(ApiRequest q, String name, long dflt, long max) {
        String v = q.query().get(name);
        if (v == null) {
            return dflt;
        }
        try {
            long n = Long.parseLong(v);
            if (n >= 0 && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw ApiException.badRequest("invalid query parameter " + name + "='" + v + "': expected 0 to " + max);
    }

    private ObjectNode branchLog(ApiRequest q) {
        String tenant = q.param("tenant");
        String ref = q.param("ref");
        BranchService.Log log = branches.log(tenant, ref, q.query().get("since"), (int) number(q, "limit", 20, 10_000));
        ObjectNode n = json.createObjectNode();
        n.put("ref", ref);
        putWindow(n, log.window());
        ArrayNode commits = n.putArray("commits");
        for (BranchService.LoggedCommit c : log.commits()) {
            ObjectNode o = commits.addObject();
            o.put("time", CommitTimes.format(c.timestampMicros()));
            o.put("lsn", Lsn.format(c.lsn()));
            if (c.xid() == 0) {
                o.putNull("xid");
            } else {
                o.put("xid", c.xid());
            }
            o.put("timeline_id", c.timelineId());
        }
        return n;
    }

    private ArrayNode endpointList(String tenant) {
        ArrayNode arr = json.createArrayNode();
        for (TenantService.BranchView v : tenants.listBranches(tenant)) {
            ObjectNode o = arr.addObject();
            o.put("ref", v.info().ref());
            o.put("state", v.endpointState());
            o.put("endpoint_id", v.info().endpointId());
            o.put("suspend_after", io.forkline.pageserver.access.SuspendAfter.shown(v.info().suspendAfter()));
            o.put("uri", branches.access().shownUri(v.info(), v.uri()));
            o.put("size", v.endpointSize());
            io.forkline.pageserver.endpoint.EndpointManager.Endpoint e = tenants.endpoints().get(tenant, v.info().ref());
            if (e != null && e.port() != 0) {
                o.put("port", e.port());
            } else {
                o.putNull("port");
            }
            o.put("timeline_id", e != null && e.active() && e.timeline() != null ? e.timeline().toString() : v.info().timelineId());
            o.put("log", tenants.endpoints().logFile(tenant, v.info().ref()).toAbsolutePath().toString());
            o.put("note", e == null ? null : e.note());
        }
        return arr;
    }

    /**
     * {@code {path, size, offset, text}}: the compute's log from byte {@code offset} (at most 1 MiB),
     * or, without an offset, its last {@code tail} lines (default 100); {@code offset} in the answer
     * is where the next read continues ({@code --follow}).
     */
    private ObjectNode endpointLogs(ApiRequest q) throws java.io.IOException {
        String tenant = q.param("tenant");
        String ref = q.param("ref");
        branches.get(tenant, ref);
        java.nio.file.Path file = tenants.endpoints().logFile(tenant, ref);
        ObjectNode n = json.createObjectNode();
        n.put("path", file.toAbsolutePath().toString());
        long size = java.nio.file.Files.exists(file) ? java.nio.file.Files.size(file) : 0;
        long offset;
        int max = 1 << 20;
        if (q.query().containsKey("offset")) {
            offset = Math.min(number(q, "offset", 0, Long.MAX_VALUE), size);
        } else {
            offset = Math.max(0, size - max);
        }
        String text = "";
        if (size > offset) {
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file)) {
                java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate((int) Math.min(max, size - offset));
                while (buf.hasRemaining() && ch.read(buf, offset + buf.position()) > 0) {
                    // fill
                }
                text = new String(buf.array(), 0, buf.position(), java.nio.charset.StandardCharsets.UTF_8);
                offset += buf.position();
            }
        }
        if (!q.query().containsKey("offset")) {
            long tail = number(q, "tail", 100, 100_000);
            String[] lines = text.split("\n", -1);
            int keep = (int) Math.min(tail, Math.max(0, lines.length - 1));
            StringBuilder b = new StringBuilder();
            for (int i = lines.length - 1 - keep; i < lines.length - 1; i++) {
                b.append(lines[i]).append('\n');
            }
            text = b.toString();
        }
        n.put("size", size);
        n.put("offset", offset);
        n.put("text", text);
        return n;
    }

    private void putWindow(ObjectNode n, BranchService.Window w) {
        if (w == null) {
            n.putNull("restorable");
            return;
        }
        ObjectNode r = n.putObject("restorable");
        r.put("earliest_lsn", Lsn.format(w.earliestLsn()));
        r.put("earliest_time", CommitTimes.format(w.earliestTime()));
        r.put("latest_lsn", Lsn.format(w.latestLsn()));
        r.put("latest_time", CommitTimes.format(w.latestTime()));
    }

    private static BranchOptions options(ApiRequest q) {
        return new BranchOptions(Ttl.parseGiven(q.text("ttl", false)), BranchService.parseSize(q.text("size", false)),
                q.has("schema_only") ? q.bool("schema_only", false) : null, q.bool("start", false), storage(q),
                io.forkline.pageserver.access.SuspendAfter.normalize(suspendAfter(q)));
    }

    /** The body's {@code suspend_after} as text ({@code "5m"}, or the number {@code 0}), null when absent. */
    private static String suspendAfter(ApiRequest q) {
        com.fasterxml.jackson.databind.JsonNode v = q.body().get("suspend_after");
        return v != null && v.isIntegralNumber() ? v.asText() : q.text("suspend_after", false);
    }

    /** {@code {ref, endpoint_id, connection_string}}. */
    private ObjectNode access(String tenant, String ref, String connectionString) {
        ObjectNode n = json.createObjectNode();
        n.put("ref", ref);
        n.put("endpoint_id", branches.get(tenant, ref).endpointId());
        n.put("connection_string", connectionString);
        return n;
    }

    /** The body's {@code storage} ({@code lazy} or {@code full}), null when absent. @throws ApiException 400 naming it */
    private static StorageMode storage(ApiRequest q) {
        String storage = q.text("storage", false);
        if (storage == null) {
            return null;
        }
        try {
            return StorageMode.parse(storage);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage());
        }
    }

    private ObjectNode usage(BranchService.Usage u) {
        ObjectNode n = json.createObjectNode();
        n.set("config", json.valueToTree(u.config()));
        ObjectNode limits = n.putObject("limits");
        limits.put("max_branches", u.limits().maxBranches());
        limits.put("max_running_endpoints", u.limits().maxRunningEndpoints());
        ObjectNode usage = n.putObject("usage");
        usage.put("branches", u.branches());
        usage.put("running_endpoints", u.runningEndpoints());
        return n;
    }

    private ArrayNode tenantList(io.forkline.pageserver.auth.AuthScope scope) {
        ArrayNode arr = json.createArrayNode();
        for (io.forkline.pageserver.tenant.TenantInfo t : tenants.listTenants()) {
            if (!scope.allowsTenant(t.name())) {
                continue;
            }
            ObjectNode n = json.valueToTree(t);
            io.forkline.pageserver.size.TenantSize size;
            try {
                size = tenants.listedTenantSize(t.name());
            } catch (ApiException e) {
                if (e.status() != 404) {
                    throw e;
                }
                continue; // the tenant's record went after it was listed (no API deletes tenants yet)
            }
            n.put("logical_size_bytes", size.logicalSizeBytes());
            n.put("total_physical_size_bytes", size.totalPhysicalSizeBytes());
            n.put("history_size_bytes", size.historySizeBytes());
            io.forkline.pageserver.mirror.MirrorStatus m = tenants.mirrors().status(t.name());
            if (m != null) {
                n.set("mirror", json.valueToTree(m));
            }
            io.forkline.pageserver.logical.LogicalImportStatus sub = tenants.logicalImports().status(t.name());
            if (sub != null) {
                n.set("subscription", json.valueToTree(sub));
            }
            arr.add(n);
        }
        return arr;
    }

    private ArrayNode branchList(String tenant) {
        ArrayNode arr = json.createArrayNode();
        List<TenantService.BranchView> views = tenants.listBranches(tenant);
        Map<String, String> refs = branches.refsByTimeline(tenant);
        for (TenantService.BranchView v : views) {
            arr.add(render(tenant, v, refs));
        }
        return arr;
    }

    private ObjectNode branchJson(String tenant, String ref) {
        TenantService.BranchView v = branches.view(tenant, ref);
        return render(tenant, v, branches.refsByTimeline(tenant));
    }

    private ObjectNode endpointJson(String tenant, String ref) {
        ObjectNode e = (ObjectNode) branchJson(tenant, ref).get("endpoint");
        return e.deepCopy();
    }

    private void sizes(ObjectNode n, BranchInfo b) {
        io.forkline.storage.id.TimelineId tl = io.forkline.storage.id.TimelineId.parse(b.timelineId());
        // from the size cache: a listing never waits for a scan (size_lsn: the LSN the sizes are of)
        io.forkline.pageserver.size.TimelineSize size = tenants.sizes().listed(tl, java.util.List.of(b.ref()));
        if (size == null) { // the branch's timeline is gone (deleted meanwhile)
            n.putNull("logical_size_bytes");
            n.putNull("physical_size_bytes");
            n.putNull("stored_bytes");
            n.putNull("size_lsn");
        } else {
            n.put("logical_size_bytes", size.logicalSizeBytes());
            n.put("physical_size_bytes", size.physicalSizeBytes());
            n.put("stored_bytes", size.storedBytes());
            n.put("size_lsn", size.lastRecordLsn());
        }
    }

    private ObjectNode render(String tenant, TenantService.BranchView v, Map<String, String> refsByTimeline) {
        BranchInfo b = v.info();
        ObjectNode n = json.createObjectNode();
        n.put("ref", b.ref());
        n.put("timeline_id", b.timelineId());
        n.put("parent", b.parent());
        n.put("ancestor_lsn", b.ancestorLsn());
        n.put("last_record_lsn", Lsn.format(v.lastRecordLsn()));
        n.put("created_at", b.createdAt());
        n.put("protected", b.isProtected() || b.parent() == null);
        n.put("expires_at", b.expiresAt());
        n.put("ttl", b.ttl());
        n.put("size", b.size() == null ? "s" : b.size());
        n.put("schema_only", b.schemaOnly());
        n.put("endpoint_id", b.endpointId());
        n.put("suspend_after", io.forkline.pageserver.access.SuspendAfter.shown(b.suspendAfter()));
        n.put("connection_string", b.endpointId() == null ? null : branches.access().connectionString(b));
        BranchService.Lineage lineage = branches.lineage(b, refsByTimeline);
        n.put("ancestor_timeline_id", lineage == null ? null : lineage.ancestorTimelineId());
        n.put("ancestor_ref", lineage == null ? null : lineage.ancestorRef());
        n.put("on_parent_timeline", lineage == null || lineage.onParentTimeline());
        sizes(n, b);
        putWindow(n, branches.window(b));
        ArrayNode restores = n.putArray("restores");
        for (BranchInfo.Restore r : b.restoresDone()) {
            restores.add(json.valueToTree(r));
        }
        ObjectNode e = n.putObject("endpoint");
        e.put("state", v.endpointState());
        e.put("uri", branches.access().shownUri(b, v.uri()));
        e.put("size", v.endpointSize());
        e.put("endpoint_id", b.endpointId());
        e.put("suspend_after", io.forkline.pageserver.access.SuspendAfter.shown(b.suspendAfter()));
        e.put("connection_string", b.endpointId() == null ? null : branches.access().connectionString(b));
        io.forkline.pageserver.endpoint.EndpointManager.Endpoint ep = tenants.endpoints().get(tenant, b.ref());
        if (ep != null && ep.active()) {
            e.put("storage", ep.storage());
            if (ep.computeNode() != null) {
                e.put("compute_node", ep.computeNode());
            }
            io.forkline.compute.lazy.LazyStats ls = ep.lazyStats();
            if (ls != null) {
                e.put("blocks_fetched", ls.blocksFetched());
                e.put("prefetched_blocks", ls.prefetchedBlocks());
                e.put("fetch_mean_us", Math.round(ls.meanFetchMicros() * 10) / 10.0);
            }
        }
        if (ep != null && ep.note() != null) {
            e.put("note", ep.note());
        }
        return n;
    }
}
