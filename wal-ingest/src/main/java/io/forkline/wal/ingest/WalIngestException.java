package io.forkline.wal.ingest;

import io.forkline.storage.lsn.Lsn;

/**
 * A WAL record that ingest cannot turn into page versions: malformed rmgr data, a block reference
 * without a post-image, or an unsupported cluster setting. The message names the record's start
 * and end LSN, its resource manager and info byte, and the reason. Ingest of the timeline must stop:
 * the versions of the failed record may be partly staged, so the caller must not commit the
 * writer's batch after this exception.
 */
public final class WalIngestException extends RuntimeException {
    private final long startLsn;
    private final long endLsn;
    private final int rmid;

    /**
     * @param startLsn record start LSN
     * @param endLsn   record end LSN
     * @param rmid     resource manager id
     * @param info     {@code xl_info}
     * @param reason   what is wrong, with the offending value
     * @param cause    underlying exception or {@code null}
     */
    public WalIngestException(long startLsn, long endLsn, int rmid, int info, String reason, Throwable cause) {
        super("cannot ingest WAL record at " + Lsn.format(startLsn) + " (end " + Lsn.format(endLsn) + ", rmgr "
                + ResourceManagers.name(rmid) + " (" + rmid + "), info 0x" + Integer.toHexString(info & 0xFF) + "): "
                + reason, cause);
        this.startLsn = startLsn;
        this.endLsn = endLsn;
        this.rmid = rmid;
    }

    /** Start LSN of the record that failed. */
    public long startLsn() {
        return startLsn;
    }

    /** End LSN of the record that failed. */
    public long endLsn() {
        return endLsn;
    }

    /** Resource manager id of the record that failed. */
    public int rmid() {
        return rmid;
    }
}
