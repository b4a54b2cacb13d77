package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.forkline.pageserver.testing.Sql;
import io.forkline.pageserver.testing.TestServer;
import io.forkline.storage.lsn.Lsn;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code forkline diff} on real computes: {@code --data --json} is an array with one object per
 * table, {@code --schema} prints the unified diff, the default prints both, bad arguments fail with
 * one line naming the value.
 */
class DiffCliIT {
    private static final String T = "dc";
    private static TestServer server;
    private static Map<String, String> env;
    private static String before;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start("diff-cli", TestServer.Option.NO_BACKGROUND_GC);
        env = Map.of("FORKLINE_URL", server.url());
        CliResult.run(env, "tenant", "create", T).ok();
        String uri = CliResult.run(env, "endpoint", "start", "main", "--tenant", T).ok().out().strip();
        Sql.exec(uri, "postgres", "CREATE TABLE items (id bigint PRIMARY KEY, name text)",
                "INSERT INTO items SELECT g, 'n' || g FROM generate_series(1, 1000) g");
        before = awaitIngested(uri);
        Sql.exec(uri, "postgres", "CREATE INDEX items_name ON items (name)",
                "INSERT INTO items VALUES (1001, 'x'), (1002, 'y')", "DELETE FROM items WHERE id = 5",
                "UPDATE items SET name = 'changed' WHERE id = 7");
        awaitIngested(uri);
    }

    /** Waits until main's last record LSN covers the compute's insert position; returns it ({@code X/Y}). */
    private static String awaitIngested(String uri) throws Exception {
        long insert = Lsn.parse(Sql.queryString(uri, "postgres", "SELECT pg_current_wal_insert_lsn()"));
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (true) {
            String last = server.get("/v1/tenants/" + T + "/branches/main").expect(200).path("last_record_lsn").asText();
            if (Lsn.covers(Lsn.parse(last), insert)) {
                return last;
            }
            assertThat(System.nanoTime()).as("ingest up to %s within 30 s (at %s)", Lsn.format(insert), last).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void dataAsJsonSchemaAsUnifiedDiff() throws Exception {
        CliResult data = CliResult.run(env, "diff", "--tenant", T, "main@" + before, "main", "--data", "--json").ok();
        JsonNode arr = new ObjectMapper().readTree(data.out());
        assertThat(arr.isArray()).isTrue();
        JsonNode items = null;
        for (JsonNode t : arr) {
            if (t.path("table").asText().equals("public.items")) {
                items = t;
            }
        }
        assertThat(items).as(data.out()).isNotNull();
        assertThat(items.path("database").asText()).isEqualTo("postgres");
        assertThat(items.path("added").asLong()).isEqualTo(2);
        assertThat(items.path("removed").asLong()).isEqualTo(1);
        assertThat(items.path("changed").asLong()).isEqualTo(1);
        assertThat(items.path("sample")).hasSize(4);

        CliResult schema = CliResult.run(env, "diff", "--tenant", T, "main@" + before, "main", "--schema").ok();
        assertThat(schema.out()).contains("--- main@" + before + "/postgres").contains("+CREATE INDEX items_name ON public.items");

        CliResult both = CliResult.run(env, "diff", "--tenant", T, "main@" + before, "main").ok();
        assertThat(both.out()).contains("+CREATE INDEX items_name").containsPattern("postgres +public\\.items +2 +1 +1 ");
        assertThat(server.refs(T)).containsExactly("main");
    }

    @Test
    void badArgumentsNameTheValue() {
        assertThat(CliResult.run(env, "diff", "--tenant", T, "main@0/zz", "main").errorLine(1)).contains("0/zz");
        assertThat(CliResult.run(env, "diff", "--tenant", T, "nope", "main").errorLine(1)).contains("nope");
        CliResult both = CliResult.run(env, "diff", "--tenant", T, "main", "main", "--schema", "--data");
        assertThat(both.code()).isEqualTo(2);
        assertThat(both.err()).contains("mutually exclusive");
    }
}
