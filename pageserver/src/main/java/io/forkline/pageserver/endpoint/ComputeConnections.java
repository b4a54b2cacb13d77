package io.forkline.pageserver.endpoint;

import io.forkline.compute.proxy.ComputeAddress;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/**
 * The server's own pgjdbc connections to a compute, as user {@code postgres}: over the compute's
 * private Unix-domain socket when it has one (junixsocket's {@code AFUNIXSocketFactory$FactoryArg}
 * as pgjdbc's {@code socketFactory}, the socket file as its argument), else over TCP (with TLS and
 * the server's client certificate when the address names one). Stateless.
 */
public final class ComputeConnections {
    /** pgjdbc's {@code socketFactory} for a Unix-domain socket. */
    public static final String UNIX_SOCKET_FACTORY = "org.newsclub.net.unix.AFUNIXSocketFactory$FactoryArg";

    private ComputeConnections() {
    }

    /**
     * Connects to database {@code db} of the compute at {@code address} as {@code postgres}, with
     * {@code properties} (e.g. {@code connectTimeout}) added.
     *
     * @throws SQLException as pgjdbc reports it
     */
    public static Connection connect(ComputeAddress address, String db, Properties properties) throws SQLException {
        Properties p = new Properties();
        p.putAll(properties);
        p.setProperty("user", "postgres");
        String host;
        if (address.isUnix()) {
            p.setProperty("socketFactory", UNIX_SOCKET_FACTORY);
            p.setProperty("socketFactoryArg", address.unixSocket().toString());
            host = "localhost";
        } else {
            host = address.host().indexOf(':') >= 0 ? "[" + address.host() + "]" : address.host();
            if (address.tls() != null) {
                address.tls().addTo(p); // a compute node's compute: TLS with the server's client certificate
            }
        }
        return DriverManager.getConnection("jdbc:postgresql://" + host + ":" + address.port() + "/"
                + URLEncoder.encode(db, StandardCharsets.UTF_8).replace("+", "%20"), p);
    }
}
