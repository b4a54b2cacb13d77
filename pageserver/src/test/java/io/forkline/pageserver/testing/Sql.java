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

    /** {@code postgresql://user@host:port/db} → a JDBC URL for database {@code db}. */
    public static String jdbc(String uri, String db) {
        String rest = uri.substring("postgresql://".length());
        String user = rest.substring(0, rest.indexOf('@'));
        String hostPort = rest.substring(rest.indexOf('@') + 1, rest.lastIndexOf('/'));
        return "jdbc:postgresql://" + hostPort + "/" + db + "?user=" + user;
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
