package io.forkline.pageserver.access;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * The connection strings the server prints for a branch: a libpq URI to the Postgres proxy that
 * routes by endpoint id (Neon's {@code options=endpoint=<id>} convention) and carries the branch's
 * password, e.g.
 * {@code postgresql://postgres:<password>@127.0.0.1:55432/postgres?options=endpoint%3Dep-k3v9q2xd}.
 * Works unchanged with psql, pgbench, pg_dump and pgjdbc.
 *
 * <p>The proxy's host and port come from the server's {@code --pg-host} (default {@code 127.0.0.1})
 * and {@code --pg-port} (default {@value #DEFAULT_PORT}), kept as the system properties
 * {@value #HOST_PROPERTY} and {@value #PORT_PROPERTY} ({@link #configured()}).
 *
 * @param host the host clients reach the proxy at
 * @param port the proxy's TCP port
 */
public record ConnectionStrings(String host, int port) {
    /** The proxy's default port. */
    public static final int DEFAULT_PORT = 55432;
    /** System property: the proxy's port ({@code --pg-port}). */
    public static final String PORT_PROPERTY = "forkline.pg.port";
    /** System property: the host printed in connection strings ({@code --pg-host}). */
    public static final String HOST_PROPERTY = "forkline.pg.host";
    /** The user of every connection string. */
    public static final String USER = "postgres";
    /** The database of every connection string. */
    public static final String DATABASE = "postgres";

    public ConnectionStrings {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("the proxy host is empty");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("invalid proxy port " + port + ": expected 0..65535");
        }
    }

    /**
     * The proxy address the server was started with ({@value #HOST_PROPERTY}, {@value #PORT_PROPERTY}),
     * else {@code 127.0.0.1:55432}.
     *
     * @throws IllegalArgumentException naming the value when the port property is not a port
     */
    public static ConnectionStrings configured() {
        String host = System.getProperty(HOST_PROPERTY, "127.0.0.1");
        String port = System.getProperty(PORT_PROPERTY, Integer.toString(DEFAULT_PORT));
        try {
            return new ConnectionStrings(host.strip(), Integer.parseInt(port.strip()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid " + PORT_PROPERTY + " '" + port + "': expected 0..65535");
        }
    }

    /** This address with another port (e.g. the port the proxy really bound when configured with 0). */
    public ConnectionStrings withPort(int newPort) {
        return new ConnectionStrings(host, newPort);
    }

    /** The URI of {@code endpointId} with {@code password}. */
    public String uri(String endpointId, String password) {
        String h = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
        return "postgresql://" + USER + ":" + URLEncoder.encode(password, StandardCharsets.UTF_8) + "@" + h + ":" + port
                + "/" + DATABASE + "?options=" + URLEncoder.encode("endpoint=" + endpointId, StandardCharsets.UTF_8);
    }
}
