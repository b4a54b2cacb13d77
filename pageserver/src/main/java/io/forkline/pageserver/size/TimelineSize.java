package io.forkline.pageserver.size;

import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;

/**
 * The sizes of one timeline (JSON, snake_case), as {@code GET /v1/tenants/{t}/size} lists them.
 *
 * @param timelineId       32 hex digits
 * @param refs             the branch refs pointing at it; empty for a retired timeline or one only a
 *                         backup keeps
 * @param lastRecordLsn    {@code X/Y}: the LSN the logical size is taken at
 * @param logicalSizeBytes {@link LogicalSize} at the last record LSN: what the database holds
 * @param physicalSizeBytes what the timeline's own versions take on disk (RocksDB's approximation,
 *                          LZ4-compressed; {@code PageStore.physicalSize}): what this branch costs
 *                          beyond its ancestors
 * @param storedBytes      exact key + value bytes of its own versions before compression
 *                         ({@code PageStore.storedBytes}); GC deletes show here at once, on disk only
 *                         after compaction
 */
public record TimelineSize(@JsonProperty("timeline_id") String timelineId,
                           @JsonProperty("refs") List<String> refs,
                           @JsonProperty("last_record_lsn") String lastRecordLsn,
                           @JsonProperty("logical_size_bytes") long logicalSizeBytes,
                           @JsonProperty("physical_size_bytes") long physicalSizeBytes,
                           @JsonProperty("stored_bytes") long storedBytes) {
}
