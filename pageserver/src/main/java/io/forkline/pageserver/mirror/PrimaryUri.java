package io.forkline.pageserver.mirror;

import io.forkline.pageserver.api.ApiException;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * A libpq connection URI of a primary to mirror: {@code postgresql://USER[:PASSWORD]@HOST[:PORT][/DBNAME]}
 * (also {@code postgres://}; percent-encoding decoded; IPv6 hosts in brackets). The role needs the
 * {@code REPLICATION} attribute; the database only names where the lag poller's connection goes
 * (default {@code postgres}); query parameters are refused (none is supported yet).
 *
 * @param host     host name or address (IPv6 without brackets)
 * @param port     TCP port, default 5432
 * @param user     role
 * @param password password, or {@code null} (trust, or a .pgpass of the server's user)
 * @param dbname   database name
 */
public record PrimaryUri(String host, int port, String user, String password, String dbname) {

    /**
     * Parses {@code text}.
     *
     * @throws ApiException 400 naming the value (password replaced by {@code ***}) and what is wrong
     */
    public static PrimaryUri parse(String text) {
        return parse(text, "from_primary");
    }

    /**
     * Parses {@code text}, naming it {@code field} when it is missing (e.g. {@code from_publication}).
     *
     * @throws ApiException 400 as {@link #parse(String)}
     */
    public static PrimaryUri parse(String text, String field) {
        if (text == null || text.isBlank()) {
            throw ApiException.badRequest(field + " is missing: give postgresql://USER[:PASSWORD]@HOST[:PORT][/DBNAME]");
        }
        String label = "from_primary".equals(field) ? "primary URI" : "source URI";
        URI u;
        try {
            u = new URI(text.strip());
        } catch (URISyntaxException e) {
            throw ApiException.badRequest(label + " '" + redact(text) + "' is invalid: " + e.getReason());
        }
        if (!"postgresql".equals(u.getScheme()) && !"postgres".equals(u.getScheme())) {
            throw ApiException.badRequest(label + " '" + redact(text)
                    + "' must start with postgresql:// (a libpq URI of the primary)");
        }
        String host = u.getHost();
        if (host == null || host.isEmpty()) {
            throw ApiException.badRequest(label + " '" + redact(text) + "' names no host");
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        String info = u.getRawUserInfo();
        if (info == null || info.isEmpty()) {
            throw ApiException.badRequest(label + " '" + redact(text) + "' names no user: give a role with REPLICATION");
        }
        int colon = info.indexOf(':');
        String user = decode(colon < 0 ? info : info.substring(0, colon));
        String password = colon < 0 ? null : decode(info.substring(colon + 1));
        if (u.getRawQuery() != null) {
            throw ApiException.badRequest(label + " '" + redact(text) + "' has parameters '" + u.getRawQuery()
                    + "': none is supported");
        }
        String path = u.getRawPath();
        String db = path == null || path.length() <= 1 ? "postgres" : decode(path.substring(1));
        int port = u.getPort() < 0 ? 5432 : u.getPort();
        return new PrimaryUri(host, port, user, password, db);
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    /** {@code text} with the password part of the user info replaced by {@code ***}. */
    static String redact(String text) {
        return text == null ? null : text.replaceAll("(://[^:/@]*):[^@/]*@", "$1:***@");
    }

    /** The URI without its password, for listings and logs. */
    public String display() {
        String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
        return "postgresql://" + user + (password == null ? "" : ":***") + "@" + h + ":" + port + "/" + dbname;
    }

    /** The pgjdbc URL of {@link #dbname()} (user and password go as properties). */
    public String jdbcUrl() {
        String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
        return "jdbc:postgresql://" + h + ":" + port + "/" + dbname;
    }

    /** Never prints the password. */
    @Override
    public String toString() {
        return display();
    }
}
