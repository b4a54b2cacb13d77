package io.forkline.pageserver.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.forkline.pageserver.tenant.BranchInfo;
import io.forkline.pageserver.tenant.TenantService;
import io.forkline.storage.lsn.Lsn;

/**
 * Tenants, branches and endpoints:
 *
 * <pre>
 *   GET    /v1/status
 *   GET    /v1/tenants                                       -> [{name, created_at, init_lsn}]
 *   POST   /v1/tenants                {"name"}               -> tenant (201)
 *   GET    /v1/tenants/{t}/branches                          -> [{ref, timeline_id, parent, ancestor_lsn,
 *                                                                 last_record_lsn, created_at, endpoint}]
 *   POST   /v1/tenants/{t}/branches   {"ref","parent"?,"lsn"?,"at"?} -> branch (201)
 *   GET    /v1/tenants/{t}/branches/{ref}
 *   DELETE /v1/tenants/{t}/branches/{ref}
 *   POST   /v1/tenants/{t}/branches/{ref}/endpoint/start    -> {"uri"}
 *   POST   /v1/tenants/{t}/branches/{ref}/endpoint/stop     -> {}
 * </pre>
 */
public final class TenantRoutes implements Router.Module {
    private static final String BRANCHES = "/v1/tenants/{tenant}/branches";
    private static final String BRANCH = BRANCHES + "/{ref}";

    private final TenantService tenants;
    private final ObjectMapper json = new ObjectMapper();

    public TenantRoutes(TenantService tenants) {
        this.tenants = tenants;
    }

    @Override
    public void register(Router r) {
        r.add("GET", "/v1/status", q -> json.createObjectNode().put("status", "ok"));
        r.add("GET", "/v1/tenants", q -> tenants.listTenants());
        r.add("POST", "/v1/tenants", q -> ApiResponse.created(tenants.createTenant(q.text("name", true))));
        r.add("GET", BRANCHES, q -> branchList(q.param("tenant")));
        r.add("POST", BRANCHES, q -> ApiResponse.created(tenants.createBranch(q.param("tenant"), q.text("ref", true),
                q.text("parent", false), q.text("lsn", false), q.text("at", false))));
        r.add("GET", BRANCH, q -> tenants.branch(q.param("tenant"), q.param("ref")));
        r.add("DELETE", BRANCH, q -> {
            tenants.deleteBranch(q.param("tenant"), q.param("ref"));
            return json.createObjectNode();
        });
        r.add("POST", BRANCH + "/endpoint/start",
                q -> json.createObjectNode().put("uri", tenants.startEndpoint(q.param("tenant"), q.param("ref"))));
        r.add("POST", BRANCH + "/endpoint/stop", q -> {
            tenants.stopEndpoint(q.param("tenant"), q.param("ref"));
            return json.createObjectNode();
        });
    }

    private ArrayNode branchList(String tenant) {
        ArrayNode arr = json.createArrayNode();
        for (TenantService.BranchView v : tenants.listBranches(tenant)) {
            BranchInfo b = v.info();
            ObjectNode n = arr.addObject();
            n.put("ref", b.ref());
            n.put("timeline_id", b.timelineId());
            n.put("parent", b.parent());
            n.put("ancestor_lsn", b.ancestorLsn());
            n.put("last_record_lsn", Lsn.format(v.lastRecordLsn()));
            n.put("created_at", b.createdAt());
            ObjectNode e = n.putObject("endpoint");
            e.put("state", v.endpointState());
            e.put("uri", v.uri());
        }
        return arr;
    }
}
