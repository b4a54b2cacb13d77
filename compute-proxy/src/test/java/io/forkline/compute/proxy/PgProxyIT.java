package io.forkline.compute.proxy;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.postgresql.util.PSQLException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The proxy against a real PostgreSQL 15 listening only on a Unix-domain socket with trust: psql,
 * pgbench, pg_dump and pgjdbc by each routing form, with and without TLS; refusals (wrong password,
 * another endpoint's password, unknown endpoint, none given); bad startup packets over raw sockets;
 * cancel; 200 concurrent clients over 20 endpoints.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PgProxyIT {
    static final String EP1 = "ep-one-1", EP2 = "ep-two-2";
    static final String PW1 = "pw-one s3cret", PW2 = "pw-two";
    static final Path BIN = Path.of("/usr/lib/postgresql/15/bin");
    /** Readers of client processes' output: not the common pool, which PostgresInstallation.runCommand needs (1 thread on 2 cores). */
    static final ExecutorService READERS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "process-output");
        t.setDaemon(true);
        return t;
    });

    UnixSocketPostgres pg;
    TestDirectory directory;
    PgProxy proxy;
    Path tlsDir;

    enum Route { SNI, OPTIONS, PASSWORD }

    @BeforeAll
    void startPostgresAndProxy() throws Exception {
        pg = UnixSocketPostgres.start(300);
        directory = new TestDirectory();
        directory.add(EP1, PW1, pg.address());
        directory.add(EP2, PW2, pg.address());
        for (int i = 0; i < 20; i++) {
            directory.add(String.format("ep-c%02d", i), "pw-c" + i, pg.address());
        }
        tlsDir = Files.createTempDirectory("fl-proxy-tls");
        // the kernel relay asked for (whatever the default): every client below must work through it
        proxy = PgProxy.start(PgProxyConfig.of("127.0.0.1", 0).withSelfSignedTls(tlsDir).withKernelRelay(true), directory);
        if ("root".equals(System.getProperty("user.name")) && System.getProperty("os.name").startsWith("Linux")) {
            assertThat(proxy.kernelRelayOn()).as("the kernel relay loads as root on Linux").isTrue();
        }
        // pgbench's tables, made through the proxy
        ProcessResult init = run(env(PW1), BIN.resolve("pgbench").toString(), "-i", "-s", "1", "-q",
                conninfo(Route.OPTIONS, EP1, false));
        assertThat(init.exit).as(init.toString()).isZero();
    }

    @AfterAll
    void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        if (pg != null) {
            pg.close();
        }
        if (tlsDir != null) {
            try (Stream<Path> files = Files.walk(tlsDir)) {
                for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    @AfterEach
    void sessionsBalance() {
        directory.wakeOverride = null;
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(directory.totalClosed()).isEqualTo(directory.totalOpened()));
    }

    // ---------------------------------------------------------------- the clients, by every route

    static Stream<Arguments> routes() {
        return Stream.of(Arguments.of(Route.SNI, true), Arguments.of(Route.OPTIONS, false), Arguments.of(Route.OPTIONS, true),
                Arguments.of(Route.PASSWORD, false), Arguments.of(Route.PASSWORD, true));
    }

    @ParameterizedTest(name = "{0}, tls={1}")
    @MethodSource("routes")
    void psqlPgbenchPgDumpAndPgjdbcWorkThroughTheProxy(Route route, boolean tls) throws Exception {
        String conninfo = conninfo(route, EP1, tls);
        Map<String, String> env = env(route == Route.PASSWORD ? "endpoint=" + EP1 + ";" + PW1 : PW1);
        long kernelRelayedBefore = proxy.stats().sessionsKernelRelayed.get();

        ProcessResult psql = run(env, BIN.resolve("psql").toString(), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", conninfo,
                "-c", "SELECT 'ssl=' || ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                "-c", "SELECT count(*) FROM pgbench_branches", "-c", "SHOW DateStyle");
        assertThat(psql.exit).as(psql.toString()).isZero();
        // the compute sees a Unix-socket client (the proxy), never TLS: TLS ends at the proxy
        assertThat(psql.out.lines().toList()).containsExactly("ssl=false", "1",
                route == Route.OPTIONS ? "ISO, DMY" : "ISO, MDY");

        ProcessResult bench = run(env, BIN.resolve("pgbench").toString(), "-n", "-S", "-c", "2", "-t", "50", conninfo);
        assertThat(bench.exit).as(bench.toString()).isZero();
        assertThat(bench.out).contains("number of transactions actually processed: 100/100");

        ProcessResult dump = run(env, BIN.resolve("pg_dump").toString(), "-t", "pgbench_branches", "-d", conninfo);
        assertThat(dump.exit).as(dump.toString()).isZero();
        assertThat(dump.out).contains("CREATE TABLE public.pgbench_branches").contains("COPY public.pgbench_branches");

        try (Connection c = jdbc(route, EP1, tls, PW1, new Properties()); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT current_user, count(*) FROM pgbench_accounts")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("postgres");
            assertThat(rs.getLong(2)).isEqualTo(100_000);
        }
        if (route == Route.SNI) {
            assertThat(psql.exit).isZero(); // SNI routed although no endpoint option or password form was given
        }
        // these computes listen on a Unix socket only: the kernel relays them only in the SK_SKB shape, which
        // is opt-in (unbounded queues, see MsgRelay); then every session without TLS went through it: psql,
        // pgbench's 2, pg_dump's and pgjdbc's; TLS sessions stay in user space
        long kernelRelayed = proxy.stats().sessionsKernelRelayed.get() - kernelRelayedBefore;
        if (proxy.kernelRelayOn() && !tls && io.forkline.compute.proxy.relay.KernelRelay.skbShapeRequested()) {
            assertThat(kernelRelayed).as("sessions relayed by the kernel").isGreaterThanOrEqualTo(5);
        } else {
            assertThat(kernelRelayed).as("sessions relayed by the kernel").isZero();
        }
    }

    // ---------------------------------------------------------------- refusals

    @Test
    void wrongPasswordGetsPostgresqlsOwnError() throws Exception {
        for (Route route : Route.values()) {
            boolean tls = route == Route.SNI;
            ProcessResult r = run(env(route == Route.PASSWORD ? "endpoint=" + EP1 + ";nope" : "nope"),
                    BIN.resolve("psql").toString(), "-X", "-d", conninfo(route, EP1, tls), "-c", "SELECT 1");
            assertThat(r.exit).as(r.toString()).isNotZero();
            assertThat(r.err).as(route.toString()).contains("FATAL:  password authentication failed for user \"postgres\"");
            assertThatThrownBy(() -> jdbc(route, EP1, tls, "nope", new Properties()).close())
                    .isInstanceOfSatisfying(PSQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("28P01");
                        assertThat(e.getMessage()).contains("password authentication failed for user \"postgres\"");
                    });
        }
        assertStillServes();
    }

    @Test
    void anotherEndpointsPasswordDoesNotOpenThisOne() throws Exception {
        for (Route route : Route.values()) {
            boolean tls = route == Route.SNI;
            assertThatThrownBy(() -> jdbc(route, EP1, tls, PW2, new Properties()).close())
                    .isInstanceOfSatisfying(PSQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28P01"));
            try (Connection c = jdbc(route, EP2, tls, PW2, new Properties())) { // and it opens its own
                assertThat(c.isValid(5)).isTrue();
            }
        }
    }

    @Test
    void unknownEndpointIsNamed() throws Exception {
        ProcessResult byOptions = run(env(PW1), BIN.resolve("psql").toString(), "-X", "-d",
                conninfo(Route.OPTIONS, "ep-nope", false), "-c", "SELECT 1");
        assertThat(byOptions.err).contains("FATAL:  endpoint \"ep-nope\" does not exist");
        ProcessResult byPassword = run(env("endpoint=ep-nope;" + PW1), BIN.resolve("psql").toString(), "-X", "-d",
                conninfo(Route.PASSWORD, "ep-nope", false), "-c", "SELECT 1");
        assertThat(byPassword.err).contains("FATAL:  endpoint \"ep-nope\" does not exist");
        ProcessResult bySni = run(env(PW1), BIN.resolve("psql").toString(), "-X", "-d",
                conninfo(Route.SNI, "ep-nope", true), "-c", "SELECT 1");
        assertThat(bySni.err).contains("FATAL:  endpoint \"ep-nope\" (from the TLS server name) does not exist");
        assertThatThrownBy(() -> jdbc(Route.OPTIONS, "ep-nope", false, PW1, new Properties()).close())
                .isInstanceOfSatisfying(PSQLException.class, e -> {
                    assertThat(e.getSQLState()).isEqualTo("08004");
                    assertThat(e.getMessage()).contains("endpoint \"ep-nope\" does not exist");
                });
        assertStillServes();
    }

    @Test
    void noEndpointGivenSaysHowToPassOne() throws Exception {
        ProcessResult r = run(env(PW1), BIN.resolve("psql").toString(), "-X", "-d",
                "host=127.0.0.1 port=" + proxy.port() + " user=postgres dbname=postgres sslmode=disable", "-c", "SELECT 1");
        assertThat(r.exit).isNotZero();
        assertThat(r.err).contains("FATAL:  no endpoint id given").contains("<endpoint-id>.<domain>")
                .contains("options=endpoint=<endpoint-id>").contains("endpoint=<endpoint-id>;<password>");
        assertStillServes();
    }

    @Test
    void wakeFailureAndTimeoutAreClearFatals() throws Exception {
        directory.wakeOverride = id -> CompletableFuture.failedFuture(new ComputeDirectory.WakeException("compute of " + id + " failed: disk full"));
        assertThatThrownBy(() -> jdbc(Route.OPTIONS, EP1, false, PW1, new Properties()).close())
                .hasMessageContaining("compute of " + EP1 + " failed: disk full");
        directory.wakeOverride = null;
        try (PgProxy quick = PgProxy.start(PgProxyConfig.of("127.0.0.1", 0).withWakeTimeout(Duration.ofMillis(300)), directory)) {
            directory.wakeOverride = id -> new CompletableFuture<>(); // never wakes
            ProcessResult r = run(env(PW1), BIN.resolve("psql").toString(), "-X", "-d",
                    "host=127.0.0.1 port=" + quick.port() + " user=postgres dbname=postgres options=endpoint=" + EP1, "-c", "SELECT 1");
            assertThat(r.err).contains("FATAL:  the compute of endpoint \"" + EP1 + "\" did not start within 0.3 s");
        }
        directory.wakeOverride = null;
        assertStillServes();
    }

    @Test
    void aComputeThatAsksForAPasswordIsAClearError() throws Exception {
        pg.psqlDirect("DO $$ BEGIN CREATE ROLE needs_password LOGIN PASSWORD 'x'; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
        ProcessResult r = run(env(PW1), BIN.resolve("psql").toString(), "-X", "-d",
                "host=127.0.0.1 port=" + proxy.port() + " user=needs_password dbname=postgres options=endpoint=" + EP1, "-c", "SELECT 1");
        assertThat(r.exit).isNotZero();
        assertThat(r.err).contains("FATAL:  the compute at " + pg.address() + " asked for authentication (request code 10)");
        assertStillServes();
    }

    // ---------------------------------------------------------------- bad startup packets (raw sockets)

    @Test
    void badStartupPacketsGetAClearErrorAndTheProxyServesOthers() throws Exception {
        assertThat(fatalOf(raw(ints(4)))).contains("C08P01").contains("Minvalid length of startup packet: 4 bytes");
        assertStillServes();
        assertThat(fatalOf(raw(ints(20_000, 196608)))).contains("C08P01").contains("invalid length of startup packet: 20000 bytes");
        assertStillServes();
        ByteBuffer noTerminator = ByteBuffer.allocate(8 + 9).putInt(17).putInt(196608).put("user\0abc\0".getBytes(StandardCharsets.US_ASCII));
        assertThat(fatalOf(raw(noTerminator.array()))).contains("C08P01").contains("invalid startup packet layout");
        assertStillServes();
        ByteBuffer noUser = ByteBuffer.allocate(8 + 1).putInt(9).putInt(196608).put((byte) 0);
        assertThat(fatalOf(raw(noUser.array()))).contains("C28000").contains("no PostgreSQL user name specified in startup packet");
        assertStillServes();
        assertThat(fatalOf(raw(ints(8, 2 << 16)))).contains("SFATAL").contains("C0A000")
                .contains("unsupported frontend protocol 2.0: server supports 3.0 to 3.0");
        assertStillServes();
        assertThat(fatalOf(raw(ints(8, 1234 << 16 | 9999)))).contains("C0A000").contains("unsupported frontend protocol 1234.9999");
        assertStillServes();
        // truncated: a length of 100 and 12 bytes, then the client stops sending: closed without an answer
        assertThat(raw(ints(100, 196608, 0))).isEmpty();
        assertStillServes();
        // GSSENCRequest: 'N', then the same connection goes on in clear
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(ints(8, 80877104));
            assertThat(s.getInputStream().read()).isEqualTo('N');
            s.getOutputStream().write(startupPacket("user", "postgres", "database", "postgres", "options", "endpoint=" + EP1));
            InputStream in = s.getInputStream();
            assertThat(in.read()).isEqualTo('R'); // AuthenticationSASL
            byte[] len = in.readNBytes(4);
            byte[] body = in.readNBytes(ByteBuffer.wrap(len).getInt() - 4);
            assertThat(ByteBuffer.wrap(body).getInt()).isEqualTo(10);
            assertThat(new String(body, 4, body.length - 4, StandardCharsets.US_ASCII)).isEqualTo("SCRAM-SHA-256\0\0");
        }
        assertStillServes();
        // protocol 3.1 with a _pq_ option: NegotiateProtocolVersion (3.0, the option unrecognized), then authentication
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
            s.setSoTimeout(5000);
            byte[] p = startupPacket("user", "postgres", "options", "endpoint=" + EP1, "_pq_.future", "on");
            ByteBuffer.wrap(p).putInt(4, 3 << 16 | 1);
            s.getOutputStream().write(p);
            InputStream in = s.getInputStream();
            assertThat(in.read()).isEqualTo('v');
            ByteBuffer v = ByteBuffer.wrap(in.readNBytes(ByteBuffer.wrap(in.readNBytes(4)).getInt() - 4));
            assertThat(v.getInt()).isEqualTo(3 << 16);
            assertThat(v.getInt()).isEqualTo(1);
            assertThat(new String(v.array(), 8, v.remaining(), StandardCharsets.US_ASCII)).isEqualTo("_pq_.future\0");
            assertThat(in.read()).isEqualTo('R');
        }
        assertStillServes();
        // an unknown cancel key is ignored silently (the connection just closes)
        assertThat(raw(ints(16, 80877102, 12345, 67890))).isEmpty();
        assertStillServes();
        // SSLRequest to a proxy without TLS: 'N'
        try (PgProxy clear = PgProxy.start(PgProxyConfig.of("127.0.0.1", 0), directory);
             Socket s = new Socket(InetAddress.getLoopbackAddress(), clear.port())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(ints(8, 80877103));
            assertThat(s.getInputStream().read()).isEqualTo('N');
        }
        assertThat(proxy.stats().connectionsRefused.get()).isPositive();
    }

    // ---------------------------------------------------------------- cancel

    @Test
    void cancelReachesTheRightBackendInUnderTwoSeconds() throws Exception {
        Properties props = new Properties();
        props.setProperty("ApplicationName", "cancel-me");
        try (Connection c = jdbc(Route.OPTIONS, EP1, false, PW1, props); Statement s = c.createStatement()) {
            ExecutorService ex = Executors.newSingleThreadExecutor();
            try {
                Future<?> sleeping = ex.submit(() -> s.execute("SELECT pg_sleep(60)"));
                await().atMost(Duration.ofSeconds(10)).until(() ->
                        pg.psqlDirect("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'cancel-me' AND state = 'active'").equals("1"));
                long t0 = System.nanoTime();
                s.cancel();
                assertThatThrownBy(() -> sleeping.get(10, TimeUnit.SECONDS)).hasRootCauseInstanceOf(PSQLException.class)
                        .hasMessageContaining("canceling statement due to user request");
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertThat(ms).as("cancel took %d ms", ms).isLessThan(2000);
                assertThat(pg.psqlDirect("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' AND state = 'active'"))
                        .isEqualTo("0");
                try (ResultSet rs = s.executeQuery("SELECT 42")) { // the session goes on
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getInt(1)).isEqualTo(42);
                }
            } finally {
                ex.shutdownNow();
            }
        }
        await().atMost(Duration.ofSeconds(10)).until(() ->
                pg.psqlDirect("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'cancel-me'").equals("0"));
        assertThat(proxy.stats().cancelsForwarded.get()).isPositive();
    }

    @Test
    void psqlInterruptCancelsThroughTheProxy() throws Exception {
        ProcessBuilder pb = new ProcessBuilder(BIN.resolve("psql").toString(), "-X", "-d",
                conninfo(Route.SNI, EP1, true) + " application_name=psql-cancel", "-c", "SELECT pg_sleep(60)");
        pb.environment().putAll(env(PW1));
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process p = pb.start();
        try {
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()), READERS);
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()), READERS);
            try {
                await().atMost(Duration.ofSeconds(20)).failFast(() -> !p.isAlive()).until(() ->
                        pg.psqlDirect("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'psql-cancel' AND state = 'active'").equals("1"));
            } catch (RuntimeException e) {
                throw new AssertionError("psql alive " + p.isAlive() + ", sessions: "
                        + pg.psqlDirect("SELECT string_agg(application_name || '/' || state || '/' || query, ' | ') FROM pg_stat_activity WHERE backend_type = 'client backend'"), e);
            }
            long t0 = System.nanoTime();
            new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
            assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertThat(err.get(5, TimeUnit.SECONDS)).as(out.getNow("")).contains("canceling statement due to user request");
            assertThat(ms).as("cancel took %d ms", ms).isLessThan(2000);
        } finally {
            p.destroyForcibly();
        }
        await().atMost(Duration.ofSeconds(10)).until(() ->
                pg.psqlDirect("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'psql-cancel'").equals("0"));
    }

    // ---------------------------------------------------------------- concurrency

    @Test
    void twoHundredConcurrentClientsOverTwentyEndpoints() throws Exception {
        int clients = 200;
        int before = directory.totalOpened();
        CountDownLatch allConnected = new CountDownLatch(clients);
        ExecutorService ex = Executors.newFixedThreadPool(clients);
        try {
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                int n = i;
                results.add(ex.submit(() -> {
                    String id = String.format("ep-c%02d", n % 20);
                    Route route = Route.values()[n % 3];
                    boolean tls = route == Route.SNI || n % 2 == 0;
                    Properties props = new Properties();
                    props.setProperty("ApplicationName", "c" + n);
                    Connection opened;
                    try {
                        opened = jdbc(route, id, tls, "pw-c" + (n % 20), props);
                    } finally {
                        allConnected.countDown(); // a failed client must not keep the others waiting
                    }
                    try (Connection c = opened) {
                        assertThat(allConnected.await(120, TimeUnit.SECONDS)).isTrue();
                        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                                "SELECT current_setting('application_name'), count(*) FROM pgbench_branches")) {
                            rs.next();
                            return rs.getString(1) + ":" + rs.getInt(2);
                        }
                    }
                }));
            }
            List<String> failures = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                try {
                    String r = results.get(i).get(180, TimeUnit.SECONDS);
                    if (!r.equals("c" + i + ":1")) {
                        failures.add(i + ": " + r);
                    }
                } catch (java.util.concurrent.ExecutionException e) {
                    Throwable c = e.getCause();
                    StringBuilder chain = new StringBuilder();
                    for (; c != null; c = c.getCause()) {
                        chain.append(" <- ").append(c);
                    }
                    failures.add(i + ": " + chain);
                }
            }
            assertThat(failures).isEmpty();
        } finally {
            ex.shutdownNow();
        }
        assertThat(directory.totalOpened() - before).isEqualTo(clients);
        for (int i = 0; i < 20; i++) {
            String id = String.format("ep-c%02d", i);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(directory.closed(id)).isEqualTo(directory.opened(id)));
        }
    }

    // ---------------------------------------------------------------- helpers

    String conninfo(Route route, String endpoint, boolean tls) {
        String ssl = " sslmode=" + (tls ? "require" : "disable");
        return switch (route) {
            case SNI -> "host=" + endpoint + ".localhost hostaddr=127.0.0.1 port=" + proxy.port() + " user=postgres dbname=postgres" + ssl;
            case OPTIONS -> "host=127.0.0.1 port=" + proxy.port() + " user=postgres dbname=postgres"
                    + " options='endpoint=" + endpoint + " -c DateStyle=ISO,\\\\ DMY'" + ssl;
            case PASSWORD -> "host=127.0.0.1 port=" + proxy.port() + " user=postgres dbname=postgres" + ssl;
        };
    }

    Connection jdbc(Route route, String endpoint, boolean tls, String password, Properties props) throws SQLException {
        Properties p = new Properties();
        p.putAll(props);
        p.setProperty("user", "postgres");
        p.setProperty("password", route == Route.PASSWORD ? "endpoint=" + endpoint + ";" + password : password);
        p.setProperty("sslmode", tls ? "require" : "disable");
        p.setProperty("connectTimeout", "60");
        // 200 client threads in this JVM starve each other on 2 cores: more than pgjdbc's default 5 s to see 'S'
        p.setProperty("sslResponseTimeout", "60000");
        String host = "127.0.0.1";
        if (route == Route.SNI) {
            host = endpoint + ".localhost";
            p.setProperty("socketFactory", LoopbackSocketFactory.class.getName());
        } else if (route == Route.OPTIONS) {
            p.setProperty("options", "endpoint=" + endpoint);
        }
        return DriverManager.getConnection("jdbc:postgresql://" + host + ":" + proxy.port() + "/postgres", p);
    }

    void assertStillServes() throws Exception {
        try (Connection c = jdbc(Route.OPTIONS, EP1, false, PW1, new Properties()); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT 1")) {
            assertThat(rs.next()).isTrue();
        }
    }

    static Map<String, String> env(String password) {
        Map<String, String> env = new HashMap<>();
        env.put("PGPASSWORD", password);
        env.put("PGCONNECT_TIMEOUT", "30");
        env.put("PGSSLROOTCERT", "/nonexistent"); // sslmode=require: encrypt, no certificate check
        return env;
    }

    record ProcessResult(int exit, String out, String err) {
    }

    static ProcessResult run(Map<String, String> env, String... cmd) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()), READERS);
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()), READERS);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", cmd) + " did not finish");
        }
        return new ProcessResult(p.exitValue(), out.get(), err.get());
    }

    static String read(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    static byte[] ints(int... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4);
        for (int v : values) {
            b.putInt(v);
        }
        return b.array();
    }

    static byte[] startupPacket(String... kv) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (String s : kv) {
            body.writeBytes(s.getBytes(StandardCharsets.UTF_8));
            body.write(0);
        }
        body.write(0);
        byte[] b = body.toByteArray();
        return ByteBuffer.allocate(8 + b.length).putInt(8 + b.length).putInt(196608).put(b).array();
    }

    /** Sends {@code bytes}, stops sending, returns everything the proxy answers until it closes. */
    byte[] raw(byte[] bytes) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(bytes);
            s.shutdownOutput();
            try {
                return s.getInputStream().readAllBytes();
            } catch (SocketTimeoutException e) {
                throw new AssertionError("the proxy did not close the connection", e);
            }
        }
    }

    /** The fields of one ErrorResponse as "S..", "C..", "M.." strings joined by '|'. */
    static String fatalOf(byte[] answer) {
        assertThat(answer).isNotEmpty();
        assertThat((char) answer[0]).isEqualTo('E');
        int len = ByteBuffer.wrap(answer, 1, 4).getInt();
        assertThat(answer).hasSize(1 + len);
        return new String(answer, 5, len - 4, StandardCharsets.UTF_8).replace('\0', '|');
    }
}
