package io.forkline.pageserver.branch;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.forkline.pageserver.api.ApiException;
import io.forkline.pageserver.metadata.MetadataRecords;
import io.forkline.pageserver.tenant.BranchInfo;

import java.util.ArrayList;
import java.util.List;

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
 * Each write is one durable RocksDB put, or one atomic batch for the {@code *Change} methods' changes
 * (written with a timeline change by {@code PageStore}). Thread-safe; callers serialize read-modify-write sequences
 * on the tenant's lock.
 */
final class BranchRecords {
    private final MetadataRecords records;

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

    BranchRecords(MetadataRecords records) {
        this.records = records;
    }

    static String branchKey(String tenant, String ref) {
        return "branch/" + tenant + "/" + ref;
    }

    /** The branch's record, or {@code null}. */
    BranchInfo find(String tenant, String ref) {
        return records.get(branchKey(tenant, ref), BranchInfo.class);
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
        return records.list("branch/" + tenant + "/", BranchInfo.class);
    }

    /** The names of tenants that have branch records. */
    List<String> tenantsWithBranches() {
        return tenantsUnder("branch/");
    }

    /** The names of tenants that have retired timelines. */
    List<String> tenantsWithRetired() {
        return tenantsUnder("retired-timeline/");
    }

    private List<String> tenantsUnder(String prefix) {
        List<String> out = new ArrayList<>();
        for (String k : records.store().listMetadata(prefix).keySet()) {
            String rest = k.substring(prefix.length());
            int slash = rest.indexOf('/');
            String t = slash < 0 ? rest : rest.substring(0, slash);
            if (out.isEmpty() || !out.get(out.size() - 1).equals(t)) {
                out.add(t);
            }
        }
        return out;
    }

    void put(String tenant, BranchInfo b) {
        records.put(branchKey(tenant, b.ref()), b);
    }

    /** A change that writes the branch's record (to go with a timeline change in one batch). */
    MetadataRecords.Changes putChange(String tenant, BranchInfo b) {
        return new MetadataRecords.Changes().put(branchKey(tenant, b.ref()), b);
    }

    /** A change that deletes the branch's record. */
    MetadataRecords.Changes deleteChange(String tenant, String ref) {
        return new MetadataRecords.Changes().delete(branchKey(tenant, ref));
    }

    /** Adds the record of a retired timeline to {@code changes}. */
    static MetadataRecords.Changes withRetired(MetadataRecords.Changes changes, String tenant, Retired r) {
        return changes.put(retiredKey(tenant, r.timelineId()), r);
    }

    /** Applies {@code changes} in one atomic, durable write. */
    void write(MetadataRecords.Changes changes) {
        records.write(changes);
    }

    private static String retiredKey(String tenant, String timelineId) {
        return "retired-timeline/" + tenant + "/" + timelineId;
    }

    void delete(String tenant, String ref) {
        records.delete(branchKey(tenant, ref));
    }

    TenantConfig config(String tenant) {
        TenantConfig c = records.get("tenant-config/" + tenant, TenantConfig.class);
        return c == null ? TenantConfig.EMPTY : c;
    }

    void putConfig(String tenant, TenantConfig c) {
        records.put("tenant-config/" + tenant, c);
    }

    List<Retired> retired(String tenant) {
        return records.list("retired-timeline/" + tenant + "/", Retired.class);
    }

    void putRetired(String tenant, Retired r) {
        records.put(retiredKey(tenant, r.timelineId()), r);
    }

    void deleteRetired(String tenant, String timelineId) {
        records.delete(retiredKey(tenant, timelineId));
    }
}
