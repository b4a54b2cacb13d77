package io.forkline.pageserver.size;

import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;

/**
 * The sizes of one tenant (JSON, snake_case), as {@code GET /v1/tenants/{t}/size} returns them.
 *
 * @param tenant                 tenant name
 * @param logicalSizeBytes       {@code main}'s logical size at its last record LSN
 * @param totalPhysicalSizeBytes sum of {@code physical_size_bytes} over every timeline of the tenant:
 *                               its branches' and the retired ones still kept (children, backups)
 * @param historySizeBytes       sum of {@code stored_bytes} over the same timelines: every page
 *                               version the tenant keeps (the initial import, its branches' writes,
 *                               and the history the PITR window, leases and backups retain), exact,
 *                               before compression
 * @param timelines              per timeline, oldest first
 */
public record TenantSize(@JsonProperty("tenant") String tenant,
                         @JsonProperty("logical_size_bytes") long logicalSizeBytes,
                         @JsonProperty("total_physical_size_bytes") long totalPhysicalSizeBytes,
                         @JsonProperty("history_size_bytes") long historySizeBytes,
                         @JsonProperty("timelines") List<TimelineSize> timelines) {
}
