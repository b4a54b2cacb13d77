package io.forkline.pageserver.branch;

import io.forkline.pageserver.api.ApiException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Empties a running compute's user tables, keeping the schema: in every database that accepts
 * connections, one transaction runs one {@code TRUNCATE ... } over every ordinary and partitioned
 * table outside {@code pg_catalog}, {@code information_schema} and the toast/temp schemas (one
 * statement, so foreign keys between them do not get in the way). Sequences keep their values.
 * See PostgreSQL's {@code src/backend/commands/tablecmds.c}, {@code ExecuteTruncate}.
 */
final class SchemaOnly {
    private static final Logger log = LoggerFactory.getLogger(SchemaOnly.class);
    private static final String USER_TABLES = """
            SELECT format('%I.%I', n.nspname, c.relname)
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p')
               AND n.nspname NOT IN ('pg_catalog', 'information_schema')
               AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
             ORDER BY 1""";

    private SchemaOnly() {
    }

    /**
     * Truncates every user table of every database of the compute at {@code address} (its Unix-domain socket or TCP port).
     *
     * @return how many tables were truncated, over all databases
     * @throws ApiException 503 when a database cannot be reached or a TRUNCATE fails (the message
     *                      names the database and Postgres's error)
     */
    static int truncateAll(io.forkline.compute.proxy.ComputeAddress address) {
        int total = 0;
        for (String db : databases(address)) {
            try (Connection c = connect(address, db)) {
                c.setAutoCommit(false);
                List<String> tables = new ArrayList<>();
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(USER_TABLES)) {
                    while (rs.next()) {
                        tables.add(rs.getString(1));
                    }
                }
                if (!tables.isEmpty()) {
                    try (Statement st = c.createStatement()) {
                        st.execute("TRUNCATE " + String.join(", ", tables));
                    }
                }
                c.commit();
                total += tables.size();
                log.info("schema-only: truncated {} tables in database {}", tables.size(), db);
            } catch (SQLException e) {
                throw ApiException.unavailable("cannot empty the tables of database '" + db + "' at " + address
                        + ": " + e.getMessage());
            }
        }
        return total;
    }

    private static List<String> databases(io.forkline.compute.proxy.ComputeAddress address) {
        List<String> out = new ArrayList<>();
        try (Connection c = connect(address, "postgres"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT datname FROM pg_database WHERE datallowconn ORDER BY datname")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        } catch (SQLException e) {
            throw ApiException.unavailable("cannot list the databases of the compute at " + address + ": " + e.getMessage());
        }
        return out;
    }

    private static Connection connect(io.forkline.compute.proxy.ComputeAddress address, String db) throws SQLException {
        java.util.Properties p = new java.util.Properties();
        p.setProperty("connectTimeout", "10");
        return io.forkline.pageserver.endpoint.ComputeConnections.connect(address, db, p);
    }
}
