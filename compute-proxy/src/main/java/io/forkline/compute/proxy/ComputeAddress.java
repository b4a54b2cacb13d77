package io.forkline.compute.proxy;

import io.forkline.compute.netns.NetNamespace;
import io.forkline.compute.proxy.tls.ComputeClientTls;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where a running compute's PostgreSQL accepts the proxy's connections: a Unix-domain socket file
 * (a compute on this machine: {@code <socket directory>/.s.PGSQL.<port>}, reachable only by the
 * server's own OS users) or a TCP host and port (a compute on a compute node, which accepts TCP
 * connections only over TLS with the server's client certificate, {@link ComputeClientTls}).
 *
 * @param unixSocket the socket file, or {@code null} for TCP
 * @param host       TCP host, or {@code null} for a Unix-domain socket
 * @param port       TCP port (the socket file's port suffix for a Unix-domain socket)
 * @param tls        the client certificate to connect with over TLS, or {@code null} (a Unix-domain
 *                   socket, or a TCP compute that needs none)
 * @param netns      for a TCP address: the network namespace the compute listens in (its 127.0.0.1
 *                   answers only there; the proxy creates its socket inside it, {@link NetNamespace#call}),
 *                   else {@code null}
 * @param local      whether the compute's backends are processes of this machine (and PID namespace) whose
 *                   sockets the proxy may take ({@code pidfd_getfd}) for the kernel relay's SK_MSG shape: a
 *                   local compute's loopback TCP listener, in its own namespace or guarded on the host
 */
public record ComputeAddress(Path unixSocket, String host, int port, ComputeClientTls tls, NetNamespace netns,
                             boolean local) {
    public ComputeAddress {
        if ((unixSocket == null) == (host == null)) {
            throw new IllegalArgumentException("a compute address is either a Unix-domain socket or a TCP host, not "
                    + (unixSocket == null ? "neither" : "both"));
        }
        if ((netns != null || local) && unixSocket != null) {
            throw new IllegalArgumentException("a Unix-domain socket " + unixSocket + " is neither in a network namespace"
                    + " nor a guarded loopback port");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
    }

    /** As the canonical constructor, outside any network namespace of a compute's own. */
    public ComputeAddress(Path unixSocket, String host, int port, ComputeClientTls tls) {
        this(unixSocket, host, port, tls, null, false);
    }

    /**
     * 127.0.0.1:{@code port} inside {@code netns}: a local compute started in a network namespace of
     * its own, whose TCP listener only the server reaches (the SK_MSG kernel relay needs the backend's
     * socket to be TCP).
     */
    public static ComputeAddress inNamespace(NetNamespace netns, int port) {
        return new ComputeAddress(null, "127.0.0.1", port, null, Objects.requireNonNull(netns, "netns"), true);
    }

    /**
     * 127.0.0.1:{@code port} of this machine: a local compute's TCP listener that only the server's
     * process may connect to ({@code io.forkline.compute.guard.PortGuard}).
     */
    public static ComputeAddress guardedLoopback(int port) {
        return new ComputeAddress(null, "127.0.0.1", port, null, null, true);
    }

    /** The Unix-domain socket {@code <directory>/.s.PGSQL.<port>} (PostgreSQL's {@code UNIXSOCK_PATH}). */
    public static ComputeAddress unix(Path directory, int port) {
        return new ComputeAddress(Objects.requireNonNull(directory, "directory").resolve(".s.PGSQL." + port), null, port, null);
    }

    /** A TCP address without TLS. */
    public static ComputeAddress tcp(String host, int port) {
        return tcp(host, port, null);
    }

    /** A TCP address reached over TLS with {@code tls}'s client certificate ({@code null}: no TLS). */
    public static ComputeAddress tcp(String host, int port, ComputeClientTls tls) {
        return new ComputeAddress(null, Objects.requireNonNull(host, "host"), port, tls);
    }

    /** Whether this is a Unix-domain socket. */
    public boolean isUnix() {
        return unixSocket != null;
    }

    /**
     * A libpq connection string ({@code key='value' ...}, libpq's {@code conninfo}) for tools the
     * server runs ({@code pg_dump --dbname=}, {@code psql -d}): the socket's directory as
     * {@code host} for a Unix-domain socket, else the TCP host, plus {@code sslmode}, {@code sslcert} and
     * {@code sslkey} (PEM) when {@link #tls} is set: {@code verify-ca} with {@code sslrootcert} when it
     * knows the compute's certificate, else {@code require}.
     */
    public String libpqConnInfo(String user, String database) {
        if (local) {
            throw new IllegalStateException("127.0.0.1:" + port + (netns != null ? " answers only inside " + netns
                    : " answers only the server's own process") + "; tools reach the compute on its Unix-domain socket");
        }
        StringBuilder sb = new StringBuilder();
        pair(sb, "host", isUnix() ? unixSocket.getParent().toString() : host);
        pair(sb, "port", Integer.toString(port));
        pair(sb, "user", user);
        pair(sb, "dbname", database);
        if (tls != null) {
            pair(sb, "sslmode", tls.serverCertificate() == null ? "require" : "verify-ca");
            pair(sb, "sslcert", tls.certificate().toString());
            pair(sb, "sslkey", tls.key().toString());
            if (tls.serverCertificate() != null) {
                pair(sb, "sslrootcert", tls.serverCertificate().toString());
            }
        }
        return sb.toString();
    }

    private static void pair(StringBuilder sb, String key, String value) {
        if (!sb.isEmpty()) {
            sb.append(' ');
        }
        sb.append(key).append("='").append(value.replace("\\", "\\\\").replace("'", "\\'")).append('\'');
    }

    @Override
    public String toString() {
        return isUnix() ? unixSocket.toString() : host + ":" + port + (netns != null ? " in " + netns : local ? " (guarded)" : "");
    }
}
