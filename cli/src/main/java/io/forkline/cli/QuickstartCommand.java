package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

import static io.forkline.cli.Specs.option;

/**
 * {@code forkline quickstart [--keep]}: the whole loop on the embedded default. Starts a server
 * (RocksDB under {@code .forkline/quickstart}), creates tenant {@code demo}, loads pgbench data on
 * {@code main}, runs pgbench, notes the time T, deletes half of {@code pgbench_accounts}, branches
 * {@code before-accident} at T and checks both row counts. Exit 0 only when the branch holds the
 * count as of T and main the count after the accident.
 */
final class QuickstartCommand implements CliCommand, Callable<Integer> {
    boolean keep;

    int scale;

    int port;

    int pagePort;

    Path dataDir;

    CommandSpec spec;

    private int step;
    private static final int STEPS = 10;
    /** Progress and results: the command line's writer (stdout, or what a test injected). */
    private PrintWriter out;

    @Override
    public CommandSpec spec() {
        CommandSpec spec = Specs.command(this, "Run the end-to-end demo: load, accident, point-in-time branch.");
        this.spec = spec;
        spec.addOption(option(boolean.class, () -> keep, v -> keep = v, "--keep")
                .description("leave the server and endpoints running and the data directory in place "
                        + "(without it the data directory is removed after a successful run)").build());
        spec.addOption(option(int.class, () -> scale, v -> scale = v, "--scale").defaultValue("10")
                .description("pgbench scale factor (default: ${DEFAULT-VALUE})").paramLabel("<scale>").build());
        spec.addOption(option(int.class, () -> port, v -> port = v, "--port").defaultValue("9898")
                .description("admin API port (default: ${DEFAULT-VALUE})").paramLabel("<port>").build());
        spec.addOption(option(int.class, () -> pagePort, v -> pagePort = v, "--page-port").defaultValue("6400")
                .description("page service port (default: ${DEFAULT-VALUE})").paramLabel("<pagePort>").build());
        spec.addOption(option(Path.class, () -> dataDir, v -> dataDir = v, "--data-dir").defaultValue(".forkline/quickstart")
                .description("data directory, emptied first (default: ${DEFAULT-VALUE})").paramLabel("<dataDir>").build());
        return spec;
    }

    @Override
    public Integer call() throws Exception {
        out = Main.out(spec);
        if (scale < 1) {
            throw new CliException("invalid --scale " + scale + ": expected at least 1");
        }
        if (port < 1 || port > 65535) {
            throw new CliException("invalid --port " + port + ": expected 1..65535");
        }
        if (pagePort < 0 || pagePort > 65535) {
            throw new CliException("invalid --page-port " + pagePort + ": expected 0..65535");
        }
        LocalRuntime local = LocalRuntime.load();
        String pgbench = local.postgresProgram("pgbench").toString();
        portFree(port);
        killLeftoverComputes(local, dataDir);
        deleteRecursively(dataDir);
        Files.createDirectories(dataDir);
        String url = "http://127.0.0.1:" + port;
        Process server = null;
        boolean ok = false;
        try {
            server = step("start server on 127.0.0.1:" + port, () -> startServer(new AdminClient(url,
                    TokenDiscovery.Credentials.none())));
            // the admin token the server created at its first start (it also wrote it to the client token file)
            Path tokenFile = dataDir.resolve("data").resolve("auth").resolve("admin.token");
            AdminClient api = new AdminClient(url, new TokenDiscovery.Credentials(TokenDiscovery.read(tokenFile),
                    tokenFile.toString(), List.of(tokenFile)));
            step("create tenant demo (initdb)", () -> api.post("/v1/tenants", Map.of("name", "demo")));
            String mainUri = step("start endpoint main", () -> startEndpoint(api, "main"));
            step("pgbench -i -s " + scale, () -> local.runCommand(Duration.ofMinutes(30),
                    List.of(pgbench, "-i", "-s", Integer.toString(scale), "-q", mainUri)));
            step("pgbench for 5 s", () -> local.runCommand(Duration.ofMinutes(5),
                    List.of(pgbench, "-T", "5", "-c", "2", mainUri)));
            long before = count(mainUri);
            Thread.sleep(20);
            Instant t = Instant.now().truncatedTo(ChronoUnit.MILLIS);
            Thread.sleep(20);
            out.println("      T = " + t + "; pgbench_accounts has " + before + " rows");
            step("the accident: DELETE half of pgbench_accounts", () -> execute(mainUri,
                    "DELETE FROM pgbench_accounts WHERE aid % 2 = 0"));
            step("create branch before-accident --at " + t, () -> api.post(AdminClient.branchesPath("demo"),
                    Map.of("ref", "before-accident", "parent", "main", "at", t.toString())));
            String branchUri = step("start endpoint before-accident", () -> startEndpoint(api, "before-accident"));
            long mainCount = step("count rows on main", () -> count(mainUri));
            long branchCount = step("count rows on before-accident", () -> count(branchUri));
            out.println();
            out.printf("main             %,10d rows  %s%n", mainCount, mainUri);
            out.printf("before-accident  %,10d rows  %s%n", branchCount, branchUri);
            long expectedAfter = before - before / 2;
            ok = branchCount == before && mainCount == expectedAfter;
            out.println(ok ? "OK: the branch holds the data as of T, main holds the data after the accident"
                    : "FAILED: expected " + before + " rows on before-accident and " + expectedAfter + " on main");
            if (keep) {
                out.println("kept running: server pid " + server.pid() + " (FORKLINE_URL=http://127.0.0.1:" + port
                        + "); stop it with: kill " + server.pid());
            }
            return ok ? 0 : 1;
        } finally {
            if (server != null && (!keep || !ok)) {
                stepQuiet("stop endpoints and server", server);
            }
            if (!keep) {
                if (ok) {
                    // the demo leaves nothing behind: its store, computes' data and logs go
                    try {
                        deleteRecursively(dataDir);
                        out.println("removed " + dataDir.toAbsolutePath() + " (keep it with --keep)");
                    } catch (IOException e) {
                        out.println("could not remove " + dataDir.toAbsolutePath() + ": " + e.getMessage());
                    }
                } else {
                    out.println("kept " + dataDir.toAbsolutePath() + " for inspection (server.log); the next run empties it");
                }
            }
        }
    }

    /** Starts the server process and waits until {@code GET /v1/status} (no token needed) answers. */
    private Process startServer(AdminClient api) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-Dforkline.log.level=INFO");
        String configHome = System.getProperty(TokenDiscovery.CONFIG_HOME_PROPERTY);
        if (configHome != null) { // a test's config home: the server writes its client token file there too
            cmd.add("-D" + TokenDiscovery.CONFIG_HOME_PROPERTY + "=" + configHome);
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.add("server");
        cmd.add("--data-dir");
        cmd.add(dataDir.resolve("data").toString());
        cmd.add("--port");
        cmd.add(Integer.toString(port));
        cmd.add("--page-port");
        cmd.add(Integer.toString(pagePort));
        cmd.add("--pg-port"); // the Postgres proxy on any free port: a running `forkline server` may hold 55432
        cmd.add("0");
        Path log = dataDir.resolve("server.log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new CliException("server exited with code " + p.exitValue() + "; see " + log.toAbsolutePath());
            }
            try {
                api.get("/v1/status");
                return p;
            } catch (CliException e) {
                Thread.sleep(100);
            }
        }
        p.destroyForcibly();
        throw new CliException("server did not answer within 60 s; see " + log.toAbsolutePath());
    }

    private static String startEndpoint(AdminClient api, String ref) {
        JsonNode r = api.post(AdminClient.branchPath("demo", ref) + "/endpoint/start", Map.of());
        return r.path("uri").asText();
    }

    private static String jdbc(String uri) {
        // postgresql://postgres:PW@127.0.0.1:PORT/postgres?options=endpoint%3DID (through the Postgres proxy)
        //   -> jdbc:postgresql://127.0.0.1:PORT/postgres?user=postgres&password=PW&options=endpoint%3DID
        java.net.URI u = java.net.URI.create(uri);
        String info = u.getRawUserInfo();
        int colon = info.indexOf(':');
        return "jdbc:postgresql://" + u.getHost() + ":" + u.getPort() + u.getRawPath() + "?user="
                + (colon < 0 ? info : info.substring(0, colon) + "&password=" + info.substring(colon + 1))
                + (u.getRawQuery() == null ? "" : "&" + u.getRawQuery());
    }

    private static long count(String uri) throws SQLException {
        try (Connection c = DriverManager.getConnection(jdbc(uri)); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM pgbench_accounts")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static int execute(String uri, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(jdbc(uri)); Statement st = c.createStatement()) {
            return st.executeUpdate(sql);
        }
    }

    @FunctionalInterface
    private interface Step<T> {
        T run() throws Exception;
    }

    private <T> T step(String what, Step<T> body) throws Exception {
        step++;
        out.printf("[%2d/%d] %s ...%n", step, STEPS, what);
        out.flush();
        long t0 = System.nanoTime();
        T result = body.run();
        out.printf("       done in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        return result;
    }

    private void stepQuiet(String what, Process server) {
        out.printf("[--] %s ...%n", what);
        server.destroy();
        try {
            if (!server.waitFor(90, java.util.concurrent.TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.destroyForcibly();
        }
    }

    private static void portFree(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("127.0.0.1", port));
        } catch (IOException e) {
            throw new CliException("port " + port + " on 127.0.0.1 is in use (another forkline server?); choose another with --port");
        }
    }

    /** A previous {@code --keep} run may have left computes on this directory: stop them first. */
    private static void killLeftoverComputes(LocalRuntime local, Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.filter(p -> p.getFileName().toString().equals("postmaster.pid"))
                    .forEach(p -> local.killPostmaster(p.getParent()));
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
