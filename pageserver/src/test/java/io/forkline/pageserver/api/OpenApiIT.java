package io.forkline.pageserver.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.forkline.pageserver.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code GET /v1/openapi.json} against the routes the real server registers: the same
 * (method, path) pairs, the same path parameters, the same access (public operations with
 * {@code security: []}), unique operation ids, every {@code $ref} resolvable, and every documented
 * parameterless GET answering its documented status.
 */
class OpenApiIT {
    private static final Pattern PARAM = Pattern.compile("\\{([^}]+)}");
    private static TestServer server;
    private static JsonNode doc;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start("openapi", TestServer.Option.NO_BACKGROUND_GC);
        doc = server.get("/v1/openapi.json").expect(200);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static List<Map.Entry<String, JsonNode>> operations() {
        List<Map.Entry<String, JsonNode>> out = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> p = doc.path("paths").fields(); p.hasNext(); ) {
            Map.Entry<String, JsonNode> path = p.next();
            for (Iterator<Map.Entry<String, JsonNode>> m = path.getValue().fields(); m.hasNext(); ) {
                Map.Entry<String, JsonNode> op = m.next();
                out.add(Map.entry(op.getKey().toUpperCase(Locale.ROOT) + " " + path.getKey(), op.getValue()));
            }
        }
        return out;
    }

    private static Set<String> params(String path) {
        Set<String> out = new TreeSet<>();
        Matcher m = PARAM.matcher(path);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    @Test
    void documentsExactlyTheRealRoutes() {
        assertThat(doc.path("openapi").asText()).startsWith("3.");
        Set<String> documented = new TreeSet<>();
        for (Map.Entry<String, JsonNode> op : operations()) {
            documented.add(op.getKey());
        }
        Set<String> real = new TreeSet<>();
        for (Router.RouteInfo r : server.server().routes()) {
            real.add(r.method() + " " + (r.pattern().equals("/") ? "/" : r.pattern()));
        }
        assertThat(documented).as("routes documented in openapi.json").containsExactlyElementsOf(real);
    }

    @Test
    void parametersAndAccessMatchEachRoute() {
        Map<String, Router.RouteInfo> real = new java.util.HashMap<>();
        for (Router.RouteInfo r : server.server().routes()) {
            real.put(r.method() + " " + r.pattern(), r);
        }
        Set<String> ids = new HashSet<>();
        for (Map.Entry<String, JsonNode> e : operations()) {
            JsonNode op = e.getValue();
            Router.RouteInfo route = real.get(e.getKey());
            assertThat(route).as(e.getKey()).isNotNull();
            String path = e.getKey().substring(e.getKey().indexOf(' ') + 1);
            Set<String> inPath = new TreeSet<>();
            for (JsonNode p : op.path("parameters")) {
                if (p.path("in").asText().equals("path")) {
                    assertThat(p.path("required").asBoolean()).as("%s path parameter %s required", e.getKey(), p.path("name")).isTrue();
                    inPath.add(p.path("name").asText());
                }
            }
            assertThat(inPath).as("path parameters of %s", e.getKey()).isEqualTo(params(path));
            assertThat(op.path("x-forkline-access").asText()).as("access of %s", e.getKey())
                    .isEqualTo(route.access().name().toLowerCase(Locale.ROOT));
            boolean publicOp = op.has("security") && op.path("security").isArray() && op.path("security").isEmpty();
            assertThat(publicOp).as("security: [] exactly on public %s", e.getKey()).isEqualTo(route.access() == Router.Access.PUBLIC);
            assertThat(ids.add(op.path("operationId").asText())).as("unique operationId of %s", e.getKey()).isTrue();
            assertThat(op.path("responses").size()).as("responses of %s", e.getKey()).isPositive();
        }
    }

    @Test
    void everyReferenceResolves() {
        List<String> refs = new ArrayList<>();
        collectRefs(doc, refs);
        assertThat(refs).isNotEmpty();
        for (String ref : refs) {
            assertThat(ref).startsWith("#/");
            assertThat(doc.at(ref.substring(1)).isMissingNode()).as("target of %s", ref).isFalse();
        }
    }

    private static void collectRefs(JsonNode n, List<String> out) {
        if (n.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                if (f.getKey().equals("$ref")) {
                    out.add(f.getValue().asText());
                } else {
                    collectRefs(f.getValue(), out);
                }
            }
        } else if (n.isArray()) {
            n.forEach(c -> collectRefs(c, out));
        }
    }

    @Test
    void parameterlessGetsAnswerTheirDocumentedStatus() throws Exception {
        for (Map.Entry<String, JsonNode> e : operations()) {
            String key = e.getKey();
            if (!key.startsWith("GET ") || key.contains("{") || key.equals("GET /console/signin")) {
                continue;
            }
            String path = key.substring(4);
            String documented = e.getValue().path("responses").fieldNames().next();
            assertThat(server.http("GET", path).status()).as(key).isEqualTo(Integer.parseInt(documented));
        }
        // the document itself needs a token
        assertThat(server.httpAs(null, "GET", "/v1/openapi.json", null).status()).isEqualTo(401);
    }
}
