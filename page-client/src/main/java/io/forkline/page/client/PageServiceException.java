package io.forkline.page.client;

import io.forkline.page.protocol.proto.ErrorCode;

/**
 * An error the page service answered (an {@code Error} response), or one the client raises with
 * the same codes: {@link ErrorCode#LSN_TIMEOUT} for a request whose deadline passed before its
 * answer came, {@link ErrorCode#INTERNAL} for a lost connection during a basebackup stream.
 */
public class PageServiceException extends RuntimeException {
    private final ErrorCode code;
    private final long earliestLsn;

    /**
     * @param code        the protocol's error code
     * @param message     names the offending value
     * @param earliestLsn for {@link ErrorCode#BELOW_GC_CUTOFF}: the earliest readable LSN, else 0
     */
    public PageServiceException(ErrorCode code, String message, long earliestLsn) {
        super(code + ": " + message);
        this.code = code;
        this.earliestLsn = earliestLsn;
    }

    public PageServiceException(ErrorCode code, String message, Throwable cause) {
        super(code + ": " + message, cause);
        this.code = code;
        this.earliestLsn = 0;
    }

    /** The protocol's error code. */
    public ErrorCode code() {
        return code;
    }

    /** For {@link ErrorCode#BELOW_GC_CUTOFF}: the earliest LSN the timeline can still be read at; else 0. */
    public long earliestLsn() {
        return earliestLsn;
    }
}
