package io.forkline.pageserver.branch;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.forkline.pageserver.api.ApiException;
import io.forkline.pageserver.tenant.BranchInfo;
import io.forkline.storage.store.PageStore;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The JSON metadata records of branches, kept in the page store's {@code meta} column family:
 *
 * <pre>
 *   branch/&lt;tenant&gt;/&lt;ref&gt;                  -> {@link BranchInfo}
 *   tenant-config/&lt;tenant&gt;                   -> {@link TenantConfig}
 *   retired-timeline/&lt;tenant&gt;/&lt;timeline&gt;  -> {@link Retired}: a timeline no ref points at any more,
 *                                            kept while other timelines descend from it or a pin holds it
 * </pre>
 *
 * Each write is one durable RocksDB put. Thread-safe; callers serialize read-modify-write sequences
 * on the tenant's lock.
 */
final class BranchRecords {
    private final PageStore store;
    private final ObjectMapper json = new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /**
     * A timeline that lost its ref (reset, restore's keep-as deleted, branch deleted) but could not
     * be deleted yet.
     *
     * @param timelineId 32 hex digits
     * @param formerRef  the ref that pointed at it last
     * @param retiredAt  RFC 3339 UTC
     */
    record Retired(@JsonProperty("timeline_id") String timelineId, @JsonProperty("former_ref") String formerRef,
                   @JsonProperty("retired_at") String retiredAt) {
    }

    BranchRecords(PageStore store) {
        this.store = store;
    }

    static String branchKey(String tenant, String ref) {
        return "branch/" + tenant + "/" + ref;
    }

    /** The branch's record, or {@code null}. */
    BranchInfo find(String tenant, String ref) {
        byte[] v = store.getMetadata(branchKey(tenant, ref));
        return v == null ? null : read(v, BranchInfo.class);
    }

    /** @throws ApiException 404 naming the branch and tenant when there is no such branch */
    BranchInfo require(String tenant, String ref) {
        BranchInfo b = find(tenant, ref);
        if (b == null) {
            throw ApiException.notFound("branch '" + ref + "' does not exist in tenant '" + tenant + "'");
        }
        return b;
    }

    /** All branches of a tenant, by ref. */
    List<BranchInfo> all(String tenant) {
        List<BranchInfo> out = new ArrayList<>();
        for (byte[] v : store.listMetadata("branch/" + tenant + "/").values()) {
            out.add(read(v, BranchInfo.class));
        }
        return out;
    }

    /** The names of tenants that have branch records. */
    List<String> tenantsWithBranches() {
        List<String> out = new ArrayList<>();
        for (String k : store.listMetadata("branch/").keySet()) {
            String rest = k.substring("branch/".length());
            int slash = rest.indexOf('/');
            String t = slash < 0 ? rest : rest.substring(0, slash);
            if (out.isEmpty() || !out.get(out.size() - 1).equals(t)) {
                out.add(t);
            }
        }
        return out;
    }

    void put(String tenant, BranchInfo b) {
        store.putMetadata(branchKey(tenant, b.ref()), write(b));
    }

    void delete(String tenant, String ref) {
        store.deleteMetadata(branchKey(tenant, ref));
    }

    TenantConfig config(String tenant) {
        byte[] v = store.getMetadata("tenant-config/" + tenant);
        return v == null ? TenantConfig.EMPTY : read(v, TenantConfig.class);
    }

    void putConfig(String tenant, TenantConfig c) {
        store.putMetadata("tenant-config/" + tenant, write(c));
    }

    List<Retired> retired(String tenant) {
        List<Retired> out = new ArrayList<>();
        for (Map.Entry<String, byte[]> e : store.listMetadata("retired-timeline/" + tenant + "/").entrySet()) {
            out.add(read(e.getValue(), Retired.class));
        }
        return out;
    }

    void putRetired(String tenant, Retired r) {
        store.putMetadata("retired-timeline/" + tenant + "/" + r.timelineId(), write(r));
    }

    void deleteRetired(String tenant, String timelineId) {
        store.deleteMetadata("retired-timeline/" + tenant + "/" + timelineId);
    }

    private byte[] write(Object value) {
        try {
            return json.writeValueAsBytes(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private <T> T read(byte[] bytes, Class<T> type) {
        try {
            return json.readValue(bytes, type);
        } catch (IOException e) {
            throw new UncheckedIOException("corrupt metadata record (" + type.getSimpleName() + ")", e);
        }
    }
}
