package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.math.BigInteger;

/**
 * Reads one JSON value (RFC 8259) into Jackson's tree nodes, as {@code ObjectMapper.readTree} with
 * its defaults does: integers become int, long or BigInteger nodes by size, numbers with a fraction
 * or exponent double nodes, a repeated key keeps its last value (in its first place), and what
 * follows the first value is not read.
 *
 * <p>Why not jackson-core's parser: every Jackson parser initialises {@code ParserMinimalBase},
 * whose constants initialise {@link java.math.BigDecimal}, and JDK 25's {@code BigDecimal} static
 * initialiser computes 5^(2^16) (its {@code FIVE_TO_2_TO} table) — in a fresh, interpreting JVM
 * 50-130 ms of CPU, a quarter of a CLI command. This reader touches no {@code BigDecimal}.
 */
final class JsonTreeReader {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final int MAX_DEPTH = 1000;

    private final String s;
    private int i;

    private JsonTreeReader(String s) {
        this.s = s;
    }

    /**
     * The first JSON value of {@code text}.
     *
     * @throws IOException naming the offset when {@code text} does not start with a JSON value
     */
    static JsonNode read(String text) throws IOException {
        JsonTreeReader r = new JsonTreeReader(text);
        if (!text.isEmpty() && text.charAt(0) == '\uFEFF') {
            r.i = 1; // a byte order mark
        }
        return r.value(0);
    }

    private JsonNode value(int depth) throws IOException {
        if (depth > MAX_DEPTH) {
            throw error("nesting deeper than " + MAX_DEPTH);
        }
        char c = next();
        switch (c) {
            case '{' -> {
                ObjectNode o = NODES.objectNode();
                if (peek() == '}') {
                    i++;
                    return o;
                }
                do {
                    if (next() != '"') {
                        throw error("expected a field name");
                    }
                    String name = string();
                    if (next() != ':') {
                        throw error("expected ':'");
                    }
                    o.replace(name, value(depth + 1));
                    c = next();
                } while (c == ',');
                if (c != '}') {
                    throw error("expected ',' or '}'");
                }
                return o;
            }
            case '[' -> {
                ArrayNode a = NODES.arrayNode();
                if (peek() == ']') {
                    i++;
                    return a;
                }
                do {
                    a.add(value(depth + 1));
                    c = next();
                } while (c == ',');
                if (c != ']') {
                    throw error("expected ',' or ']'");
                }
                return a;
            }
            case '"' -> {
                return NODES.textNode(string());
            }
            case 't' -> {
                literal("rue");
                return NODES.booleanNode(true);
            }
            case 'f' -> {
                literal("alse");
                return NODES.booleanNode(false);
            }
            case 'n' -> {
                literal("ull");
                return NODES.nullNode();
            }
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) {
                    i--;
                    return number();
                }
                throw error(c == 0 ? "no JSON value" : "unexpected character '" + c + "'");
            }
        }
    }

    /** The next character after white space; 0 at the end. */
    private char next() {
        while (i < s.length()) {
            char c = s.charAt(i++);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return c;
            }
        }
        return 0;
    }

    /** The next character after white space, not consumed; 0 at the end. */
    private char peek() {
        char c = next();
        if (c != 0) {
            i--;
        }
        return c;
    }

    private void literal(String rest) throws IOException {
        if (!s.startsWith(rest, i)) {
            throw error("unexpected literal");
        }
        i += rest.length();
    }

    /** The rest of a string whose opening quote was read. */
    private String string() throws IOException {
        StringBuilder b = null;
        int start = i;
        while (true) {
            if (i >= s.length()) {
                throw error("unterminated string");
            }
            char c = s.charAt(i++);
            if (c == '"') {
                return b == null ? s.substring(start, i - 1) : b.toString();
            }
            if (c < 0x20) {
                throw error("unescaped control character in a string");
            }
            if (c == '\\') {
                if (b == null) {
                    b = new StringBuilder().append(s, start, i - 1);
                }
                if (i >= s.length()) {
                    throw error("unterminated string");
                }
                char e = s.charAt(i++);
                switch (e) {
                    case '"', '\\', '/' -> b.append(e);
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'n' -> b.append('\n');
                    case 'r' -> b.append('\r');
                    case 't' -> b.append('\t');
                    case 'u' -> {
                        if (i + 4 > s.length()) {
                            throw error("short \\u escape");
                        }
                        int v = 0;
                        for (int k = 0; k < 4; k++) {
                            int d = Character.digit(s.charAt(i++), 16);
                            if (d < 0) {
                                throw error("bad \\u escape");
                            }
                            v = v * 16 + d;
                        }
                        b.append((char) v);
                    }
                    default -> throw error("bad escape '\\" + e + "'");
                }
            } else if (b != null) {
                b.append(c);
            }
        }
    }

    private JsonNode number() throws IOException {
        int start = i;
        if (s.charAt(i) == '-') {
            i++;
        }
        int intStart = i;
        digits();
        if (i - intStart > 1 && s.charAt(intStart) == '0') {
            throw error("leading zero in a number");
        }
        boolean integer = true;
        if (i < s.length() && s.charAt(i) == '.') {
            i++;
            digits();
            integer = false;
        }
        if (i < s.length() && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
            i++;
            if (i < s.length() && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
                i++;
            }
            digits();
            integer = false;
        }
        String text = s.substring(start, i);
        if (!integer) {
            return NODES.numberNode(Double.parseDouble(text));
        }
        if (i - intStart <= 18) {
            long v = Long.parseLong(text);
            return v == (int) v ? NODES.numberNode((int) v) : NODES.numberNode(v);
        }
        BigInteger v = new BigInteger(text);
        return v.bitLength() < 64 ? NODES.numberNode(v.longValue()) : NODES.numberNode(v);
    }

    /** One or more decimal digits. */
    private void digits() throws IOException {
        int start = i;
        while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
            i++;
        }
        if (i == start) {
            throw error("expected a digit");
        }
    }

    private IOException error(String what) {
        return new IOException("not JSON: " + what + " at offset " + Math.max(0, i - 1));
    }
}
