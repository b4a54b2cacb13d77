package io.forkline.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The CLI's JSON: databind's tree nodes ({@link JsonNode}), read by {@link JsonTreeReader} and
 * written by Jackson's streaming generator ({@code jackson-core}), without an {@code ObjectMapper}. In a fresh JVM an
 * {@code ObjectMapper} costs more than the rest of a command's JSON work together (its static
 * initialisation builds a {@code SimpleDateFormat}, and with it the locale providers' calendar
 * data; its first {@code readTree} sets up the deserializer caches): about 90 ms of CPU per
 * command on the 2-vCPU development machine, measured with JFR CPU-time samples. The results are
 * the same as {@code ObjectMapper}'s defaults: integers as int, long or BigInteger nodes, other
 * numbers as double nodes, a repeated key keeps its last value, and {@link #pretty} prints what
 * {@link JsonNode#toPrettyString()} prints (Jackson's default pretty printer).
 */
final class Json {
    private static final JsonFactory FACTORY = new JsonFactory();

    private Json() {
    }

    /**
     * The JSON document in {@code bytes} (UTF-8) as a tree; what follows the first value is not read.
     *
     * @throws IOException when the bytes are not JSON (or empty)
     */
    static JsonNode parse(byte[] bytes) throws IOException {
        return JsonTreeReader.read(new String(bytes, StandardCharsets.UTF_8));
    }

    /**
     * {@code value} as compact UTF-8 JSON: maps (keys as strings) and iterables, strings, numbers,
     * booleans, {@code null} and {@link JsonNode}s, nested in any way.
     *
     * @throws IllegalArgumentException for a value of any other type, naming it
     */
    static byte[] encode(Object value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            writeValue(g, value);
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode JSON", e); // a ByteArrayOutputStream does not fail
        }
        return out.toByteArray();
    }

    /** {@code node} indented as Jackson's default pretty printer does ({@link JsonNode#toPrettyString()}). */
    static String pretty(JsonNode node) {
        StringWriter w = new StringWriter();
        try (JsonGenerator g = FACTORY.createGenerator(w)) {
            g.setPrettyPrinter(new DefaultPrettyPrinter());
            writeNode(g, node);
        } catch (IOException e) {
            throw new IllegalStateException("cannot print JSON", e); // a StringWriter does not fail
        }
        return w.toString();
    }

    // an instanceof chain, not a pattern switch: that one's invokedynamic bootstrap costs start-up time
    private static void writeValue(JsonGenerator g, Object v) throws IOException {
        if (v == null) {
            g.writeNull();
        } else if (v instanceof String s) {
            g.writeString(s);
        } else if (v instanceof Boolean b) {
            g.writeBoolean(b);
        } else if (v instanceof Integer i) {
            g.writeNumber(i);
        } else if (v instanceof Long l) {
            g.writeNumber(l);
        } else if (v instanceof Double d) {
            g.writeNumber(d);
        } else if (v instanceof BigInteger i) {
            g.writeNumber(i);
        } else if (v instanceof BigDecimal d) {
            g.writeNumber(d);
        } else if (v instanceof JsonNode n) {
            writeNode(g, n);
        } else if (v instanceof Map<?, ?> m) {
            g.writeStartObject();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                g.writeFieldName(String.valueOf(e.getKey()));
                writeValue(g, e.getValue());
            }
            g.writeEndObject();
        } else if (v instanceof Iterable<?> items) {
            g.writeStartArray();
            for (Object x : items) {
                writeValue(g, x);
            }
            g.writeEndArray();
        } else {
            throw new IllegalArgumentException("cannot encode a " + v.getClass().getName() + " as JSON: " + v);
        }
    }

    private static void writeNode(JsonGenerator g, JsonNode n) throws IOException {
        switch (n.getNodeType()) {
            case OBJECT -> {
                g.writeStartObject();
                for (Map.Entry<String, JsonNode> e : n.properties()) {
                    g.writeFieldName(e.getKey());
                    writeNode(g, e.getValue());
                }
                g.writeEndObject();
            }
            case ARRAY -> {
                g.writeStartArray();
                for (JsonNode x : n) {
                    writeNode(g, x);
                }
                g.writeEndArray();
            }
            case STRING -> g.writeString(n.textValue());
            case BOOLEAN -> g.writeBoolean(n.booleanValue());
            case NUMBER -> {
                if (n.isInt()) {
                    g.writeNumber(n.intValue());
                } else if (n.isLong()) {
                    g.writeNumber(n.longValue());
                } else if (n.isBigInteger()) {
                    g.writeNumber(n.bigIntegerValue());
                } else if (n.isBigDecimal()) {
                    g.writeNumber(n.decimalValue());
                } else if (n.isFloat()) {
                    g.writeNumber(n.floatValue());
                } else {
                    g.writeNumber(n.doubleValue());
                }
            }
            case NULL, MISSING -> g.writeNull();
            case BINARY -> g.writeBinary(n.binaryValue());
            default -> throw new IllegalArgumentException("cannot write a " + n.getNodeType() + " JSON node");
        }
    }
}
