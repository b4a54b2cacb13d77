package io.forkline.pageserver.pageservice;

import io.forkline.page.protocol.proto.Error;
import io.forkline.page.protocol.proto.ErrorCode;

/**
 * A request the page service refuses: travels to the client as an {@code Error} response.
 */
public final class PageServiceError extends RuntimeException {
    private final ErrorCode code;
    private final long earliestLsn;

    /**
     * @param code    the protocol's code
     * @param message names the offending value
     */
    public PageServiceError(ErrorCode code, String message) {
        this(code, message, 0);
    }

    /** With the earliest readable LSN, for {@link ErrorCode#BELOW_GC_CUTOFF}. */
    public PageServiceError(ErrorCode code, String message, long earliestLsn) {
        super(message, null, false, false);
        this.code = code;
        this.earliestLsn = earliestLsn;
    }

    public ErrorCode code() {
        return code;
    }

    /** The wire form. */
    public Error toProto() {
        return Error.newBuilder().setCode(code).setMessage(getMessage()).setEarliestLsn(earliestLsn).build();
    }
}
