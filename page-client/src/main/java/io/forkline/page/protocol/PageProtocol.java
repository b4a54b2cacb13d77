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
    /** The first version: every frame is a length and one protobuf message. */
    public static final int VERSION_1 = 1;
    /**
     * Version 2: as version 1, but the server answers GetPage with "raw pages" frames (the pages
     * after the protobuf header, not inside it: {@link FrameDescriptor#RAW_PAGES_FLAG}), which the
     * client reads without protobuf's copies.
     */
    public static final int RAW_PAGES_VERSION = 2;
    /**
     * The version this code's client asks for, unless the system property
     * {@code forkline.page.protocolVersion} names another supported one (for side-by-side runs).
     */
    public static final int VERSION = RAW_PAGES_VERSION;
    /** Every version a server of this code accepts. */
    public static final List<Integer> SUPPORTED_VERSIONS = List.of(VERSION_1, RAW_PAGES_VERSION);
    /** Default TCP port of the page service. */
    public static final int DEFAULT_PORT = 6400;

    private PageProtocol() {
    }
}
