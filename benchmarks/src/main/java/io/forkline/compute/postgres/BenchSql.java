package io.forkline.compute.postgres;

import io.forkline.storage.lsn.Lsn;

import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Minimal pgjdbc access for the side-by-side benchmarks: a compute is addressed by the libpq URI
 * Forkline prints ({@code postgresql://postgres@127.0.0.1:PORT/postgres}, or with
 * {@code ?host=/socket-directory} for a compute that listens only on its Unix-domain socket) plus a
 * database name.
 * Not thread-safe state; every method opens its own connection unless one is passed in.
 */
public final class BenchSql {
    private BenchSql() {
    }

    /**
     * The pgjdbc URL for database {@code db} of the server {@code libpqUri} points at.
     *
     * @throws IllegalArgumentException when the URI has no host or port
     */
    public static String jdbcUrl(String libpqUri, String db) {
        URI u = URI.create(libpqUri);
        if (u.getHost() == null || u.getPort() < 0) {
            throw new IllegalArgumentException("libpq URI '" + libpqUri + "' has no host:port");
        }
        String user = u.getUserInfo() == null ? "postgres" : u.getUserInfo();
        String url = "jdbc:postgresql://" + u.getHost() + ":" + u.getPort() + "/" + db + "?user=" + user;
        String dir = socketDirectory(u);
        return dir == null ? url : url + "&socketFactory=org.newsclub.net.unix.AFUNIXSocketFactory%24FactoryArg&socketFactoryArg="
                + java.net.URLEncoder.encode(dir + "/.s.PGSQL." + u.getPort(), java.nio.charset.StandardCharsets.UTF_8);
    }

    /**
     * The Unix-domain socket directory of a URI's {@code host=/directory} query parameter (a compute
     * that listens only on its private socket), else {@code null}.
     */
    public static String socketDirectory(URI u) {
        if (u.getRawQuery() == null) {
            return null;
        }
        for (String param : u.getRawQuery().split("&")) {
            if (param.startsWith("host=")) {
                String dir = java.net.URLDecoder.decode(param.substring(5), java.nio.charset.StandardCharsets.UTF_8);
                return dir.startsWith("/") ? dir : null;
            }
        }
        return null;
    }

    /** The same server's libpq URI with database {@code db} instead of the one in {@code libpqUri}. */
    public static String withDatabase(String libpqUri, String db) {
        URI u = URI.create(libpqUri);
        return "postgresql://" + (u.getUserInfo() == null ? "postgres" : u.getUserInfo()) + "@" + u.getHost() + ":"
                + u.getPort() + "/" + db + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery());
    }

    /** Opens a connection (autocommit) to database {@code db}. */
    public static Connection connect(String libpqUri, String db) throws SQLException {
        return DriverManager.getConnection(jdbcUrl(libpqUri, db));
    }

    /** Runs statements one by one in autocommit mode on a fresh connection. */
    public static void exec(String libpqUri, String db, String... statements) throws SQLException {
        try (Connection c = connect(libpqUri, db); Statement st = c.createStatement()) {
            for (String sql : statements) {
                st.execute(sql);
            }
        }
    }

    /** The single {@code bigint}-compatible value {@code sql} returns on connection {@code c}. */
    public static long queryLong(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            if (!rs.next()) {
                throw new SQLException("query returned no row: " + sql);
            }
            return rs.getLong(1);
        }
    }

    /** The single value {@code sql} returns, on a fresh connection to {@code db}. */
    public static long queryLong(String libpqUri, String db, String sql) throws SQLException {
        try (Connection c = connect(libpqUri, db)) {
            return queryLong(c, sql);
        }
    }

    /**
     * {@code pg_current_wal_lsn()}: the WAL write position, bytes.
     */
    public static long currentWalLsn(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_current_wal_lsn()::text")) {
            rs.next();
            return Lsn.parse(rs.getString(1));
        }
    }
}
