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
     * same user, password and options.
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
            url.append('&').append(u.getRawQuery());
        }
        return url.toString();
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
