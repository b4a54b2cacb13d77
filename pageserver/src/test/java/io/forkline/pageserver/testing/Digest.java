package io.forkline.pageserver.testing;

import io.forkline.compute.postgres.PostgresInstallation;

import java.security.MessageDigest;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A digest of every database of a cluster: its schema ({@code pg_dump --schema-only}) and, per
 * user table, the md5 of its rows as text in sorted order. Sequences' positions are left out:
 * Postgres WAL-logs them ahead of use, so any recovery (ours or Postgres's own PITR) shows a later
 * value than the running primary had.
 */
public final class Digest {
    private Digest() {
    }

    /** database name → digest, for every database that allows connections. */
    public static Map<String, String> of(PostgresInstallation pg, String uri) throws SQLException {
        Map<String, String> out = new TreeMap<>();
        for (String db : Sql.queryColumn(uri, "postgres", "SELECT datname FROM pg_database WHERE datallowconn ORDER BY 1")) {
            out.put(db, ofDatabase(pg, uri, db));
        }
        return out;
    }

    public static String ofDatabase(PostgresInstallation pg, String uri, String db) throws SQLException {
        StringBuilder sb = new StringBuilder();
        String schema = PostgresInstallation.runCommand(Duration.ofMinutes(2), List.of(pg.bin("pg_dump").toString(),
                "--schema-only", "--no-comments", "-d", Sql.libpq(uri, db)));
        // pg_dump 15.14+ wraps its output in restrict/unrestrict meta-commands with a random key
        schema = schema.replaceAll("(?m)^\\\\(un)?restrict .*$", "");
        sb.append("schema ").append(sha256(schema).substring(0, 16));
        List<String> tables = Sql.queryColumn(uri, db, "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c "
                + "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r','p','m') "
                + "AND n.nspname NOT IN ('pg_catalog','information_schema') AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1");
        for (String t : tables) {
            String md5 = Sql.queryString(uri, db, "SELECT count(*) || ':' || coalesce(md5(string_agg(x, E'\\n' ORDER BY x)), '') "
                    + "FROM (SELECT t::text AS x FROM " + t + " t) s");
            sb.append("\n-- data ").append(t).append(' ').append(md5);
        }
        return sb.toString();
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes()));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
