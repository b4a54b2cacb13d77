package io.forkline.pageserver.endpoint;

/** Lifecycle of a branch's compute, as Neon and the API name it. */
public enum EndpointState {
    /** Basebackup being built or postgres starting. */
    PROVISIONING,
    /** Accepting connections; its WAL streams into the branch's timeline. */
    RUNNING,
    /**
     * Should run, but its PostgreSQL is gone (it exited, or its compute node was killed or does not
     * answer); the next start builds it again. What it committed is in the timeline.
     */
    FAILED,
    /** No compute process. */
    STOPPED,
    /**
     * No compute process: stopped after its branch's suspend timeout with no client session (scale
     * to zero). Stays so across a server restart; the next connection through the proxy wakes it.
     */
    SUSPENDED;

    /** Lower-case API name. */
    public String apiName() {
        return name().toLowerCase();
    }
}
