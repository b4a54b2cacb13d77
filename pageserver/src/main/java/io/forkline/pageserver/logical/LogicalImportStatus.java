package io.forkline.pageserver.logical;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * A logical import as {@code tenant list} and the API show it ({@code "subscription"} of a tenant),
 * from the last poll (every {@link LogicalImports#POLL_INTERVAL}).
 *
 * @param source       the source's URI without password
 * @param publication  the publication followed
 * @param subscription the subscription on {@code main}'s compute (and slot name on the source)
 * @param state        {@code copying} (initial table copies not all done), {@code streaming},
 *                     {@code disabled} (an apply error disabled the subscription: see {@code error}),
 *                     {@code compute stopped} ({@code main}'s compute does not run, so nothing is
 *                     followed until it starts) or {@code unknown} (not polled yet)
 * @param error        what to do when {@code disabled} or when a poll failed, else null
 * @param tablesReady  tables whose initial copy is done ({@code pg_subscription_rel} state {@code r})
 * @param tablesTotal  tables of the subscription
 * @param lagBytes     the source's current WAL position minus the slot's confirmed flush position,
 *                     bytes, or null when the source was not reachable
 * @param copy         progress of the initial table copies while {@code copying}, else null
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record LogicalImportStatus(@JsonProperty("source") String source,
                                  @JsonProperty("publication") String publication,
                                  @JsonProperty("subscription") String subscription,
                                  @JsonProperty("state") String state,
                                  @JsonProperty("error") String error,
                                  @JsonProperty("tables_ready") long tablesReady,
                                  @JsonProperty("tables_total") long tablesTotal,
                                  @JsonProperty("lag_bytes") Long lagBytes,
                                  @JsonProperty("copy") CopyProgress copy) {

    /** A status without copy progress. */
    public LogicalImportStatus(String source, String publication, String subscription, String state, String error,
                               long tablesReady, long tablesTotal, Long lagBytes) {
        this(source, publication, subscription, state, error, tablesReady, tablesTotal, lagBytes, null);
    }

    /**
     * The initial copy of the publication's tables: the subscribed tables' size on {@code main}
     * ({@code pg_table_size}) against the published tables' size on the source.
     *
     * @param bytesDone          bytes of the subscribed tables on {@code main}
     * @param bytesTotal         bytes of the published tables on the source, or null when unknown
     * @param percent            done / total in percent (capped at 100), or null
     * @param rateBytesPerSecond bytes per second since the copy was first seen, or null
     * @param etaSeconds         seconds left at that rate, or null
     */
    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record CopyProgress(@JsonProperty("bytes_done") long bytesDone,
                               @JsonProperty("bytes_total") Long bytesTotal,
                               @JsonProperty("percent") Double percent,
                               @JsonProperty("rate_bytes_per_second") Long rateBytesPerSecond,
                               @JsonProperty("eta_seconds") Long etaSeconds) {
    }
}
