package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link Json} reads, writes and prints as an {@code ObjectMapper} with its defaults does (what the CLI used before:
 * {@code readTree}, {@code writeValueAsBytes}, {@code toPrettyString}), byte for byte.
 */
class JsonTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String[] DOCUMENTS = {
            "{}", "[]", "null", "true", "\"x\"", "0", "-7", "2147483647", "2147483648", "-9223372036854775808",
            "92233720368547758070", "1.5", "-0.0", "1e300", "3.141592653589793238462643383279",
            "{\"ref\":\"main\",\"parent\":null,\"protected\":true,\"size\":123,\"restores\":[],\"endpoint\":{}}",
            "[{\"a\":[1,[2,[3,{}]],{\"b\":[]}]},{\"dup\":1,\"dup\":2}]",
            "{\"text\":\"tab\\t quote\\\" backslash\\\\ newline\\n unicode \\u00e9\\u20ac \\ud83d\\ude00 ctrl \\u0001\"}",
            "{\"é\":\"€ and 😀 unescaped\"}",
            "  [ 1 , 2 ]  ", "\uFEFF{\"bom\":1}", "[1] trailing text is not read", "-0", "-2147483648", "-2147483649",
            "9223372036854775807", "-9223372036854775809", "18446744073709551616", "1E2", "1e-2", "-1.5E+3", "0.1",
            "{\"a\":{\"b\":{\"c\":[[[[]]]]}}}", "\"\\/\\b\\f\\r\\u0000\"", "[\"\\ud83d\\ude00\", \"\\u00E9\"]",
    };

    @Test
    void parsesAndPrintsAsObjectMapperDoes() throws IOException {
        for (String doc : DOCUMENTS) {
            byte[] bytes = doc.getBytes(StandardCharsets.UTF_8);
            JsonNode expected = MAPPER.readTree(bytes);
            JsonNode actual = Json.parse(bytes);
            assertThat(actual).as(doc).isEqualTo(expected);
            assertThat(actual.getNodeType()).as(doc).isEqualTo(expected.getNodeType());
            assertThat(actual.numberType()).as(doc).isEqualTo(expected.numberType());
            assertThat(Json.pretty(actual)).as(doc).isEqualTo(expected.toPrettyString());
            assertThat(Json.encode(actual)).as(doc).isEqualTo(MAPPER.writeValueAsBytes(expected));
        }
    }

    @Test
    void encodesRequestBodiesAsObjectMapperDoes() throws IOException {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("ref", "feature/é");
        body.put("start", true);
        body.put("keep", null);
        body.put("n", 3);
        body.put("big", 1L << 40);
        body.put("ratio", 0.25);
        body.put("huge", new BigInteger("123456789012345678901234567890"));
        body.put("exact", new BigDecimal("1.10"));
        body.put("list", List.of("a", 1, false));
        body.put("nested", Map.of("k", Arrays.asList("v", null)));
        body.put("node", MAPPER.readTree("{\"x\":[1,{\"y\":null}]}"));
        assertThat(Json.encode(body)).isEqualTo(MAPPER.writeValueAsBytes(body));
        assertThat(new String(Json.encode(Map.of()), StandardCharsets.UTF_8)).isEqualTo("{}");
    }

    @Test
    void refusesWhatIsNotJson() {
        for (String bad : new String[] {"", "   ", "{", "{\"a\":}", "<html>", "[1,]", "{\"a\":1,}", "01", "1.", "-", ".5", "1e",
                "tru", "nul", "\"\\x\"", "\"tab\there\"", "\"open", "[1 2]", "{\"a\" 1}", "{a:1}", "'x'", "NaN", "[", "\"\\u12\""}) {
            assertThatThrownBy(() -> Json.parse(bad.getBytes(StandardCharsets.UTF_8))).as(bad).isInstanceOf(IOException.class);
        }
        assertThatThrownBy(() -> Json.encode(Map.of("when", new Object() {
            @Override
            public String toString() {
                return "odd";
            }
        }))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("odd");
    }
}
