package io.forkline.page.protocol;

import java.util.List;

/**
 * Versions of the page protocol and the LSN conventions of its requests.
 *
 * <p>Read LSNs follow Neon's pagestream v3 ({@code PagestreamRequest}): a request carries a
 * {@code request_lsn} (or {@code latest}: the timeline's last record LSN when served) and a
 * {@code not_modified_since_lsn} hint; the server waits (bounded) until the timeline has ingested
 * {@code not_modified_since_lsn} (or {@code request_lsn} without a hint) and reads at
 * {@code min(request_lsn, last record LSN)}.
 */
public final class PageProtocol {
    /** The version this code speaks. */
    public static final int VERSION = 1;
    /** Every version a server of this code accepts. */
    public static final List<Integer> SUPPORTED_VERSIONS = List.of(VERSION);
    /** Default TCP port of the page service. */
    public static final int DEFAULT_PORT = 6400;

    private PageProtocol() {
    }
}
