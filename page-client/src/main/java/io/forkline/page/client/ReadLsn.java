package io.forkline.page.client;

/**
 * The LSN a request reads at, in Neon's pagestream v3 terms (see
 * {@link io.forkline.page.protocol.PageProtocol}).
 *
 * @param requestLsn            WAL position to read at, bytes (ignored when {@code latest})
 * @param atLatest              read at the timeline's last record LSN when the request is served
 * @param notModifiedSinceLsn   the data has not changed since this LSN: the server waits for ingest
 *                              only up to here; 0 = no hint
 */
public record ReadLsn(long requestLsn, boolean atLatest, long notModifiedSinceLsn) {
    /** The timeline's last record LSN, whatever it is when the request is served. */
    public static ReadLsn latest() {
        return new ReadLsn(0, true, 0);
    }

    /** Exactly {@code lsn}: waits, bounded, until the timeline has ingested it. */
    public static ReadLsn at(long lsn) {
        return new ReadLsn(lsn, false, 0);
    }

    /** At {@code lsn}, with the hint that nothing asked for changed after {@code notModifiedSince}. */
    public static ReadLsn at(long lsn, long notModifiedSince) {
        return new ReadLsn(lsn, false, notModifiedSince);
    }
}
