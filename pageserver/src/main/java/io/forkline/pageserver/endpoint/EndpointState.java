package io.forkline.pageserver.endpoint;

/** Lifecycle of a branch's compute, as Neon and the API name it. */
public enum EndpointState {
    /** Basebackup being built or postgres starting. */
    PROVISIONING,
    /** Accepting connections; its WAL streams into the branch's timeline. */
    RUNNING,
    /** No compute process. */
    STOPPED;

    /** Lower-case API name. */
    public String apiName() {
        return name().toLowerCase();
    }
}
