package io.forkline.cli.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.forkline.pageserver.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The client commands run on the client's class path alone ({@code cli/target}: the cli jar plus
 * {@code cli/target/lib}, what the launcher runs them on), in a JVM of their own against a real
 * server: no server, storage or compute jar is on it, and {@code server} there says it needs the
 * server's class path instead of failing with a missing class.
 */
class ClientClassPathIT {
    private static final Path CLI_TARGET = Path.of("..", "cli", "target").toAbsolutePath().normalize();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static TestServer server;

    @BeforeAll
    static void start() throws IOException {
        server = TestServer.start("client-classpath", TestServer.Option.NO_BACKGROUND_GC);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private record Run(int code, String out, String err) {
    }

    /** The cli jar and every jar of {@code cli/target/lib}. */
    private static List<Path> clientClassPath() throws IOException {
        List<Path> cp = new ArrayList<>();
        try (Stream<Path> s = Files.list(CLI_TARGET)) {
            s.filter(p -> p.getFileName().toString().matches("forkline-cli-.*\\.jar")
                    && !p.getFileName().toString().contains("-tests")).forEach(cp::add);
        }
        assertThat(cp).as("the cli jar in %s (package the cli module first)", CLI_TARGET).hasSize(1);
        try (Stream<Path> s = Files.list(CLI_TARGET.resolve("lib"))) {
            s.sorted().forEach(cp::add);
        }
        return cp;
    }

    private static Run cli(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", String.join(File.pathSeparator, clientClassPath().stream().map(Path::toString).toList()),
                "io.forkline.cli.Main"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(Map.of("FORKLINE_URL", server.url(), "FORKLINE_TOKEN", server.adminToken()));
        Path err = Files.createTempFile("cli-err", ".txt");
        try {
            Process p = pb.redirectError(err.toFile()).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(2, TimeUnit.MINUTES)).as("forkline %s finished", String.join(" ", args)).isTrue();
            return new Run(p.exitValue(), out, Files.readString(err));
        } finally {
            Files.deleteIfExists(err);
        }
    }

    @Test
    void theClientClassPathHoldsNoServerCode() throws IOException {
        List<String> names = clientClassPath().stream().map(p -> p.getFileName().toString()).toList();
        assertThat(names).anyMatch(n -> n.startsWith("forkline-cli-picocli-")).anyMatch(n -> n.startsWith("jackson-databind-"));
        assertThat(names).noneMatch(n -> n.startsWith("forkline-pageserver") || n.startsWith("forkline-storage-engine")
                || n.startsWith("forkline-wal-ingest") || n.startsWith("forkline-compute-proxy")
                || n.startsWith("rocksdbjni") || n.startsWith("postgresql-") || n.startsWith("logback"));
    }

    @Test
    void clientCommandsRunOnIt() throws Exception {
        Run help = cli("--help");
        assertThat(help.code()).as(help.err()).isZero();
        assertThat(help.out()).contains("server").contains("branch").contains("completion");

        Run created = cli("tenant", "create", "cp");
        assertThat(created.code()).as(created.err()).isZero();
        assertThat(created.err()).isEmpty();
        Run branch = cli("branch", "create", "dev", "--tenant", "cp");
        assertThat(branch.code()).as(branch.err()).isZero();
        Run list = cli("branch", "list", "--tenant", "cp", "--json");
        assertThat(list.code()).as(list.err()).isZero();
        JsonNode arr = JSON.readTree(list.out());
        assertThat(arr.findValuesAsText("ref")).containsExactlyInAnyOrder("main", "dev");
        Run table = cli("branch", "list", "--tenant", "cp");
        assertThat(table.code()).as(table.err()).isZero();
        assertThat(table.out()).contains("REF").contains("dev");
        Run deleted = cli("branch", "delete", "dev", "--tenant", "cp");
        assertThat(deleted.code()).as(deleted.err()).isZero();
        Run completion = cli("completion", "bash");
        assertThat(completion.code()).as(completion.err()).isZero();
        assertThat(completion.out()).contains("_complete_forkline");
    }

    @Test
    void serverOnTheClientClassPathSaysWhatItNeeds() throws Exception {
        Run r = cli("server", "--port", "0", "--page-port", "0", "--data-dir", "target/never");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).isEmpty();
        assertThat(r.err().lines().toList()).hasSize(1);
        assertThat(r.err()).startsWith("forkline: ").contains("not on the class path").contains("./forkline server");
    }
}
