package io.forkline.compute.proxy;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where a running compute's PostgreSQL accepts the proxy's connections: a Unix-domain socket file
 * (a compute on this machine: {@code <socket directory>/.s.PGSQL.<port>}, reachable only by the
 * server's own OS users) or a TCP host and port (a compute on a compute node).
 *
 * @param unixSocket the socket file, or {@code null} for TCP
 * @param host       TCP host, or {@code null} for a Unix-domain socket
 * @param port       TCP port (the socket file's port suffix for a Unix-domain socket)
 */
public record ComputeAddress(Path unixSocket, String host, int port) {
    public ComputeAddress {
        if ((unixSocket == null) == (host == null)) {
            throw new IllegalArgumentException("a compute address is either a Unix-domain socket or a TCP host, not "
                    + (unixSocket == null ? "neither" : "both"));
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
    }

    /** The Unix-domain socket {@code <directory>/.s.PGSQL.<port>} (PostgreSQL's {@code UNIXSOCK_PATH}). */
    public static ComputeAddress unix(Path directory, int port) {
        return new ComputeAddress(Objects.requireNonNull(directory, "directory").resolve(".s.PGSQL." + port), null, port);
    }

    /** A TCP address. */
    public static ComputeAddress tcp(String host, int port) {
        return new ComputeAddress(null, Objects.requireNonNull(host, "host"), port);
    }

    /** Whether this is a Unix-domain socket. */
    public boolean isUnix() {
        return unixSocket != null;
    }

    @Override
    public String toString() {
        return isUnix() ? unixSocket.toString() : host + ":" + port;
    }
}
