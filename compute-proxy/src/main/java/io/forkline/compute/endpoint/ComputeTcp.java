package io.forkline.compute.endpoint;

/**
 * Whether and where a compute of the server's own machine listens on TCP beside its private
 * Unix-domain socket. Its {@code pg_hba.conf} trusts every connection, so only a listener that no
 * process but the server reaches may exist; the proxy's kernel relay wants one (its SK_MSG shape
 * takes the backend's TCP socket: one kernel-worker hop per round trip instead of two).
 */
public enum ComputeTcp {
    /** The Unix-domain socket only (where neither guard below is available). */
    NONE,
    /**
     * 127.0.0.1 of the host's network namespace on a port that {@code io.forkline.compute.guard.PortGuard}
     * lets only the server's process connect to; the compute keeps the host's network (outbound
     * connections of a logical import, {@code dblink}, {@code postgres_fdw} work).
     */
    GUARDED,
    /**
     * 127.0.0.1 of a network namespace of the compute's own ({@code io.forkline.compute.netns.NetNamespace}):
     * nothing outside reaches it, and the compute reaches nothing outside.
     */
    OWN_NETWORK_NAMESPACE
}
