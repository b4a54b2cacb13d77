package io.forkline.compute.proxy.route;

import io.forkline.compute.proxy.wire.PgProtocolException;
import io.forkline.compute.proxy.wire.PgWire;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * How a client names the endpoint (branch) it wants, in the order the proxy looks (Neon's
 * conventions, see neon {@code proxy/src/auth/credentials.rs}):
 * <ol>
 *   <li>the first label of the TLS SNI host name, {@code <endpoint-id>.<any domain>};</li>
 *   <li>{@code endpoint=<endpoint-id>} in the StartupMessage's {@code options};</li>
 *   <li>a password of the form {@code endpoint=<endpoint-id>;<password>} (asked in clear).</li>
 * </ol>
 * Static helpers; thread-safe.
 */
public final class EndpointRoute {
    /** A DNS label: what endpoint ids are (lowercase letters, digits, inner hyphens, 1 to 63 characters). */
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern IPV4 = Pattern.compile("[0-9]+(\\.[0-9]+){3}");
    private static final String OPTION_PREFIX = "endpoint=";

    /** What a client gets told when it named no endpoint. */
    public static final String HOW_TO = "Name the endpoint in one of three ways: connect to host <endpoint-id>.<domain> "
            + "with TLS (e.g. sslmode=require; the first label of the TLS server name is the endpoint id), "
            + "or pass options=endpoint=<endpoint-id> (in a URI: ?options=endpoint%3D<endpoint-id>), "
            + "or use the password endpoint=<endpoint-id>;<password>.";

    private EndpointRoute() {
    }

    /** Whether {@code id} has the shape of an endpoint id (a DNS label). */
    public static boolean looksLikeEndpointId(String id) {
        return id != null && DNS_LABEL.matcher(id).matches();
    }

    /**
     * The endpoint id the SNI host name carries: its first label, when the name has at least two
     * labels, is not an IP address and the label looks like an endpoint id; else empty.
     *
     * @param serverName the SNI host name, or {@code null} when the client sent none
     */
    public static Optional<String> fromServerName(String serverName) {
        if (serverName == null || serverName.isEmpty()) {
            return Optional.empty();
        }
        String name = serverName.toLowerCase(Locale.ROOT);
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        if (name.contains(":") || IPV4.matcher(name).matches()) {
            return Optional.empty();
        }
        int dot = name.indexOf('.');
        if (dot <= 0 || dot == name.length() - 1) {
            return Optional.empty();
        }
        String label = name.substring(0, dot);
        return looksLikeEndpointId(label) ? Optional.of(label) : Optional.empty();
    }

    /**
     * The startup {@code options} split into the endpoint id it names, if any, and the options to
     * forward to the compute without it.
     *
     * @param endpointId the id of an {@code endpoint=<id>} word, or {@code null}
     * @param forwarded  the remaining words, escaped again as libpq does ({@code null} when none remain)
     */
    public record Options(String endpointId, String forwarded) {
        /**
         * Splits {@code options} into words as PostgreSQL does ({@code pg_split_opts}: whitespace
         * separates, a backslash makes the next character literal), takes out {@code endpoint=<id>}.
         *
         * @param options the {@code options} startup parameter, or {@code null}
         * @throws PgProtocolException (08004) naming the value when {@code endpoint=} is given twice
         *                             with different ids or the id is not an endpoint id
         */
        public static Options parse(String options) {
            if (options == null) {
                return new Options(null, null);
            }
            String id = null;
            List<String> rest = new ArrayList<>();
            for (String word : splitWords(options)) {
                if (word.startsWith(OPTION_PREFIX)) {
                    String value = word.substring(OPTION_PREFIX.length());
                    if (!looksLikeEndpointId(value)) {
                        throw new PgProtocolException(PgWire.CONNECTION_REJECTED, "endpoint id \"" + value
                                + "\" in options is not an endpoint id (lowercase letters, digits and hyphens, at most 63)");
                    }
                    if (id != null && !id.equals(value)) {
                        throw new PgProtocolException(PgWire.CONNECTION_REJECTED, "options name two endpoints: \"" + id
                                + "\" and \"" + value + "\"");
                    }
                    id = value;
                } else {
                    rest.add(word);
                }
            }
            return new Options(id, rest.isEmpty() ? null : joinWords(rest));
        }
    }

    /** {@code pg_split_opts}: words separated by whitespace; backslash escapes the next character. */
    static List<String> splitWords(String s) {
        List<String> words = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean inWord = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isWhitespace(c)) {
                if (inWord) {
                    words.add(w.toString());
                    w.setLength(0);
                    inWord = false;
                }
            } else if (c == '\\' && i + 1 < s.length()) {
                w.append(s.charAt(++i));
                inWord = true;
            } else {
                w.append(c);
                inWord = true;
            }
        }
        if (inWord) {
            words.add(w.toString());
        }
        return words;
    }

    /** The inverse of {@link #splitWords}: backslash before whitespace and backslashes. */
    static String joinWords(List<String> words) {
        StringBuilder b = new StringBuilder();
        for (String word : words) {
            if (!b.isEmpty()) {
                b.append(' ');
            }
            for (int i = 0; i < word.length(); i++) {
                char c = word.charAt(i);
                if (c == '\\' || Character.isWhitespace(c)) {
                    b.append('\\');
                }
                b.append(c);
            }
        }
        return b.toString();
    }

    /**
     * A password that routes: {@code endpoint=<id>;<password>}, split; empty when the password does
     * not start with {@code endpoint=} and a {@code ;}.
     */
    public static Optional<PasswordRoute> fromPassword(String password) {
        if (password == null || !password.startsWith(OPTION_PREFIX)) {
            return Optional.empty();
        }
        int semi = password.indexOf(';');
        if (semi < 0) {
            return Optional.empty();
        }
        return Optional.of(new PasswordRoute(password.substring(OPTION_PREFIX.length(), semi), password.substring(semi + 1)));
    }

    /**
     * A password split into the endpoint id and the real password.
     *
     * @param endpointId what follows {@code endpoint=} up to the first {@code ;}
     * @param password   the rest
     */
    public record PasswordRoute(String endpointId, String password) {
    }
}
