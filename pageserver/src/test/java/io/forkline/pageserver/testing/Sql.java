package io.forkline.pageserver.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** pgjdbc helpers for tests that talk to real computes by their libpq URI. */
public final class Sql {
    private Sql() {
    }

    /**
     * {@code postgresql://user[:password]@host:port/db[?options=...]} (a compute's own URI, or a
     * connection string through the Postgres proxy) → a JDBC URL for database {@code db} with the
     * same user, password and options. A {@code host=/directory} query parameter (a compute that
     * listens only on its Unix-domain socket, see {@code EndpointManager.Endpoint#uri}) becomes
     * junixsocket's socket factory on {@code <directory>/.s.PGSQL.<port>}; an {@code sslkey=...key}
     * (a compute node's compute: libpq's PEM key) becomes its {@code .pk8} twin, which pgjdbc reads.
     */
    public static String jdbc(String uri, String db) {
        java.net.URI u = java.net.URI.create(uri);
        String info = u.getRawUserInfo();
        int colon = info.indexOf(':');
        String user = colon < 0 ? info : info.substring(0, colon);
        StringBuilder url = new StringBuilder("jdbc:postgresql://").append(u.getHost()).append(':').append(u.getPort())
                .append('/').append(db).append("?user=").append(user);
        if (colon >= 0) {
            url.append("&password=").append(info.substring(colon + 1));
        }
        if (u.getRawQuery() != null) {
            for (String param : u.getRawQuery().split("&")) {
                if (param.startsWith("host=")) {
                    String dir = java.net.URLDecoder.decode(param.substring(5), java.nio.charset.StandardCharsets.UTF_8);
                    String socket = dir + "/.s.PGSQL." + u.getPort();
                    url.append("&socketFactory=org.newsclub.net.unix.AFUNIXSocketFactory%24FactoryArg&socketFactoryArg=")
                            .append(java.net.URLEncoder.encode(socket, java.nio.charset.StandardCharsets.UTF_8));
                } else if (param.startsWith("sslkey=") && param.endsWith(".key")) {
                    // libpq takes the PEM key of a compute node's URI; pgjdbc its DER twin (ComputeClientTls)
                    String pem = java.net.URLDecoder.decode(param.substring(7), java.nio.charset.StandardCharsets.UTF_8);
                    url.append("&sslkey=").append(java.net.URLEncoder.encode(pem.substring(0, pem.length() - 4) + ".pk8",
                            java.nio.charset.StandardCharsets.UTF_8));
                } else {
                    url.append('&').append(param);
                }
            }
        }
        return url.toString();
    }

    /**
     * The host to give libpq tools as {@code -h} for {@code uri}: the socket directory of a
     * {@code host=/directory} query parameter, else the URI's host.
     */
    public static String host(String uri) {
        java.net.URI u = java.net.URI.create(uri);
        if (u.getRawQuery() != null) {
            for (String param : u.getRawQuery().split("&")) {
                if (param.startsWith("host=")) {
                    return java.net.URLDecoder.decode(param.substring(5), java.nio.charset.StandardCharsets.UTF_8);
                }
            }
        }
        return u.getHost();
    }

    /** The port of {@code uri}, as libpq tools take it ({@code -p}). */
    public static String port(String uri) {
        return Integer.toString(java.net.URI.create(uri).getPort());
    }

    /** The libpq URI {@code uri} (a compute's own, or through the Postgres proxy) with database {@code db}. */
    public static String libpq(String uri, String db) {
        java.net.URI u = java.net.URI.create(uri);
        return "postgresql://" + u.getRawUserInfo() + "@" + u.getHost() + ":" + u.getPort() + "/" + db
                + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery());
    }

    public static Connection connect(String uri, String db) throws SQLException {
        return DriverManager.getConnection(jdbc(uri, db));
    }

    public static void exec(String uri, String db, String... statements) throws SQLException {
        try (Connection c = connect(uri, db); Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }

    public static String queryString(String uri, String db, String sql) throws SQLException {
        try (Connection c = connect(uri, db); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    public static long queryLong(String uri, String db, String sql) throws SQLException {
        return Long.parseLong(queryString(uri, db, sql));
    }

    public static List<String> queryColumn(String uri, String db, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = connect(uri, db); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
