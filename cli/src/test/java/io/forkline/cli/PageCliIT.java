package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.forkline.pageserver.testing.TestServer;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.key.Key;
import io.forkline.storage.key.RelTag;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code forkline page get|ls} against a real server: the page service's address comes from
 * {@code /v1/status}, the token is the one the CLI discovers for {@code FORKLINE_URL}; pages equal
 * the store's; bad values get one line naming them.
 */
class PageCliIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static TestServer server;
    private static Map<String, String> env;

    private static CliResult cli(String... args) {
        return CliResult.run(env, args);
    }

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start("page-cli");
        env = Map.of("FORKLINE_URL", server.url());
        cli("tenant", "create", "pg").ok();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void listsRelationsAndFetchesPagesOverThePageService() throws Exception {
        JsonNode ls = JSON.readTree(cli("page", "ls", "--tenant", "pg", "--json").ok().out());
        assertThat(ls.path("relations").size()).isGreaterThan(100);
        JsonNode pgClass = null;
        for (JsonNode r : ls.path("relations")) {
            if (r.path("rel").asText().equals("1663/5/1259") && r.path("fork").asText().equals("main")) {
                pgClass = r;
            }
        }
        assertThat(pgClass).as("pg_class of database postgres").isNotNull();
        assertThat(pgClass.path("nblocks").asLong()).isPositive();
        assertThat(cli("page", "ls", "--tenant", "pg", "--db", "1663/5").ok().out()).contains("1663/5/1259")
                .doesNotContain("1663/1/");

        String summary = cli("page", "get", "--tenant", "pg", "--rel", "1663/5/1259", "--block", "0").ok().out();
        assertThat(summary).startsWith("pd_lsn ").contains("pd_lower").contains("LP_NORMAL");

        Path out = server.dir().resolve("page.bin");
        cli("page", "get", "--tenant", "pg", "--branch", "main", "--rel", "1663/5/1259", "--block", "0",
                "--out", out.toString()).ok();
        TimelineId tl = TimelineId.parse(server.tenants().branch("pg", "main").timelineId());
        byte[] expected = server.store().get(tl, Key.relBlock(new RelTag(1663, 5, 1259, 0), 0),
                server.store().lastRecordLsn(tl));
        assertThat(Files.readAllBytes(out)).isEqualTo(expected);

        assertThat(cli("page", "get", "--tenant", "pg", "--rel", "1663/5", "--block", "0").errorLine(1))
                .isEqualTo("forkline: invalid --rel '1663/5': expected SPC/DB/REL, e.g. 1663/5/16384");
        assertThat(cli("page", "get", "--tenant", "pg", "--rel", "1663/5/1259", "--fork", "toast", "--block", "0")
                .errorLine(1)).contains("invalid --fork 'toast'");
        assertThat(cli("page", "get", "--tenant", "pg", "--rel", "1663/5/1259", "--block", "999999").errorLine(1))
                .contains("past its end");
        assertThat(cli("page", "get", "--tenant", "pg", "--rel", "1663/5/1259", "--block", "0", "--lsn", "zz")
                .errorLine(1)).contains("invalid --lsn 'zz'");
        assertThat(cli("page", "ls", "--tenant", "pg", "--branch", "nope").errorLine(1)).contains("'nope'");
        assertThat(cli("page", "ls", "--tenant", "pg", "--pageserver", "127.0.0.1:1").errorLine(1))
                .contains("127.0.0.1:1");
    }
}
