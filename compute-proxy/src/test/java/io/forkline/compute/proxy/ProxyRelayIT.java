package io.forkline.compute.proxy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import io.forkline.compute.proxy.relay.KernelRelay;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;
import org.postgresql.util.PSQLException;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The relay after a session is spliced (bytes pass unchanged both ways, no message parsing), with
 * Netty's leak detector on PARANOID: one pgjdbc session, with and without TLS, moves a 24 MB COPY
 * in (the compute slower than the client: the client channel stops reading), the same rows out
 * through a consumer that stalls (the client slower than the compute: the compute channel stops
 * reading) and as one big result set, byte for byte; then a cancel on that same session still
 * reaches its backend (the key in BackendKeyData is the proxy's, not the compute's), and a close
 * on either side closes the other. No ByteBuf may leak. Each case runs through a proxy with the
 * kernel relay ({@link io.forkline.compute.proxy.relay.KernelRelay}: the session must then be
 * relayed by the kernel, unless it is TLS) and through one relaying in user space only. Where the
 * kernel relay cannot load (not root, not Linux) the kernel case checks only that the session works.
 * The cases run against a compute on its Unix-domain socket and, where network namespaces are
 * available (root), against one listening on 127.0.0.1 in a namespace of its own, which the kernel
 * relay serves in its SK_MSG shape ({@link io.forkline.compute.proxy.relay.MsgRelay}); there a
 * client that stops reading for 3 s must not make the backend spin.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProxyRelayIT {
    static final String EP = "ep-relay-1";
    static final String PW = "relay pw";
    static final String EP_NS = "ep-relay-ns";
    static final int ROWS = 200_000;

    UnixSocketPostgres pg;
    /** The compute in its own network namespace, or null where namespaces are unavailable. */
    UnixSocketPostgres pgNs;
    TestDirectory directory;
    PgProxy proxy;
    PgProxy userSpaceProxy;
    Path tlsDir;
    ResourceLeakDetector.Level leakLevel;
    ListAppender<ILoggingEvent> leaks;
    Logger leakLogger;

    @BeforeAll
    void start() throws Exception {
        leakLevel = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        leakLogger = (Logger) LoggerFactory.getLogger(ResourceLeakDetector.class);
        leaks = new ListAppender<>();
        leaks.start();
        leakLogger.addAppender(leaks);
        pg = UnixSocketPostgres.start(20);
        directory = new TestDirectory();
        directory.add(EP, PW, pg.address());
        if (io.forkline.compute.netns.NetNamespace.available()) {
            pgNs = UnixSocketPostgres.start(20, io.forkline.compute.netns.NetNamespace.create("relay-it"));
            directory.add(EP_NS, PW, pgNs.address());
        }
        tlsDir = Files.createTempDirectory("fl-relay-tls");
        proxy = PgProxy.start(PgProxyConfig.of("127.0.0.1", 0).withSelfSignedTls(tlsDir).withKernelRelay(true), directory);
        userSpaceProxy = PgProxy.start(PgProxyConfig.of("127.0.0.1", 0).withSelfSignedTls(tlsDir).withKernelRelay(false), directory);
        if ("root".equals(System.getProperty("user.name")) && System.getProperty("os.name").startsWith("Linux")) {
            assertThat(proxy.kernelRelayOn()).as("kernel relay loads as root on Linux").isTrue();
        }
        assertThat(userSpaceProxy.kernelRelayOn()).isFalse();
    }

    @AfterAll
    void stop() throws Exception {
        try {
            if (proxy != null) {
                proxy.close();
            }
            if (userSpaceProxy != null) {
                userSpaceProxy.close();
            }
            // leaks are reported when the detector next tracks a buffer after the leaked one was collected
            for (int i = 0; i < 5; i++) {
                System.gc();
                Thread.sleep(100);
                for (int j = 0; j < 100; j++) {
                    ByteBuf b = ByteBufAllocator.DEFAULT.directBuffer(64);
                    b.release();
                }
            }
            assertThat(leaks.list).as("Netty leak reports").extracting(ILoggingEvent::getFormattedMessage).isEmpty();
        } finally {
            leakLogger.detachAppender(leaks);
            ResourceLeakDetector.setLevel(leakLevel);
            if (pg != null) {
                pg.close();
            }
            if (pgNs != null) {
                pgNs.close();
            }
            if (tlsDir != null) {
                try (Stream<Path> files = Files.walk(tlsDir)) {
                    for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(f);
                    }
                }
            }
        }
    }

    private static int countRows(Statement s, String table) throws SQLException {
        try (ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
            assertThat(rs.next()).isTrue();
            return rs.getInt(1);
        }
    }

    Connection connect(PgProxy via, boolean tls, String applicationName) throws SQLException {
        return connect(via, tls, applicationName, EP);
    }

    Connection connect(PgProxy via, boolean tls, String applicationName, String endpoint) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("password", PW);
        p.setProperty("options", "endpoint=" + endpoint);
        p.setProperty("sslmode", tls ? "require" : "disable");
        p.setProperty("ApplicationName", applicationName);
        p.setProperty("connectTimeout", "60");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + via.port() + "/postgres", p);
    }

    @ParameterizedTest(name = "tls={0} kernelRelay={1} netns={2}")
    @CsvSource({"false,true,false", "true,true,false", "false,false,false", "false,true,true", "true,true,true",
            "false,false,true"})
    void bulkBothWaysThenCancelThenClose(boolean tls, boolean kernel, boolean inNamespace) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(!inNamespace || pgNs != null, "network namespaces need root");
        UnixSocketPostgres pg = inNamespace ? pgNs : this.pg;
        String ep = inNamespace ? EP_NS : EP;
        PgProxy via = kernel ? proxy : userSpaceProxy;
        String app = "relay-" + tls + "-" + kernel + "-" + inNamespace;
        String table = "relay_" + tls + "_" + kernel + "_" + inNamespace;
        long kernelRelayedBefore = via.stats().sessionsKernelRelayed.get();
        long msgRelayedBefore = via.stats().sessionsMsgRelayed.get();
        long clientDirectBefore = via.stats().sessionsClientDirect.get();
        try (Connection c = connect(via, tls, app, ep); Statement s = c.createStatement()) {
            // the fast path engaged (or, for TLS and the user-space proxy, did not)
            // a Unix-socket compute only in the opt-in SK_SKB shape
            assertThat(via.stats().sessionsKernelRelayed.get() - kernelRelayedBefore).as("sessions relayed by the kernel")
                    .isEqualTo(via.kernelRelayOn() && !tls && (inNamespace || KernelRelay.skbShapeRequested()) ? 1 : 0);
            assertThat(via.stats().sessionsMsgRelayed.get() - msgRelayedBefore).as("sessions in the SK_MSG shape")
                    .isEqualTo(via.kernelRelayOn() && !tls && inNamespace ? 1 : 0);
            assertThat(via.stats().sessionsClientDirect.get() - clientDirectBefore)
                    .as("sessions whose client socket sends straight into the backend's")
                    .isEqualTo(via.clientSocketsCaptured() && !tls && inNamespace ? 1 : 0);
            // the client holds the proxy's cancel key, not the backend's
            int backendPid;
            try (ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
                assertThat(rs.next()).isTrue();
                backendPid = rs.getInt(1);
            }
            assertThat(c.unwrap(PGConnection.class).getBackendPID()).isNotEqualTo(backendPid);

            s.execute("CREATE TABLE " + table + " (id int PRIMARY KEY, payload text)");
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();

            // client -> compute: 24 MB of COPY data
            MessageDigest in = MessageDigest.getInstance("SHA-256");
            long copied = copy.copyIn("COPY " + table + " FROM STDIN", new RowsStream(ROWS, in));
            assertThat(copied).isEqualTo(ROWS);
            byte[] sent = in.digest();

            // compute -> client, through a reader that stalls: the same bytes back
            MessageDigest out = MessageDigest.getInstance("SHA-256");
            long back = copy.copyOut("COPY (SELECT * FROM " + table + " ORDER BY id) TO STDOUT", new StallingDigest(out));
            assertThat(back).isEqualTo(ROWS);
            assertThat(HexFormat.of().formatHex(out.digest())).isEqualTo(HexFormat.of().formatHex(sent));

            // compute -> client as one big result set
            MessageDigest rows = MessageDigest.getInstance("SHA-256");
            int n = 0;
            try (ResultSet rs = s.executeQuery("SELECT id, payload FROM " + table + " ORDER BY id")) {
                while (rs.next()) {
                    rows.update(RowsStream.row(rs.getInt(1), rs.getString(2)));
                    n++;
                }
            }
            assertThat(n).isEqualTo(ROWS);
            assertThat(HexFormat.of().formatHex(rows.digest())).isEqualTo(HexFormat.of().formatHex(sent));

            // cancel still reaches this session's backend
            ExecutorService ex = Executors.newSingleThreadExecutor();
            try {
                long cancelsBefore = via.stats().cancelsForwarded.get();
                Future<?> sleeping = ex.submit(() -> s.execute("SELECT pg_sleep(60)"));
                await().atMost(Duration.ofSeconds(20)).until(() -> pg.psqlDirect(
                        "SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + app + "' AND state = 'active'").equals("1"));
                s.cancel();
                // within 10 s, not the 60 s of the sleep (no tighter bound: a timed assertion flakes at load 9+)
                assertThatThrownBy(() -> sleeping.get(10, TimeUnit.SECONDS)).hasRootCauseInstanceOf(PSQLException.class)
                        .hasMessageContaining("canceling statement due to user request");
                assertThat(via.stats().cancelsForwarded.get() - cancelsBefore).as("CancelRequests the proxy forwarded")
                        .isEqualTo(1);
            } finally {
                ex.shutdownNow();
            }
            // The next statement works. Seen twice at load 17-24: it too was cancelled although the proxy had
            // forwarded one CancelRequest (counted above); PostgreSQL applies a cancel signal to whatever the
            // backend runs when it arrives, so that one retry is allowed, no more.
            int count;
            try {
                count = countRows(s, table);
            } catch (PSQLException e) {
                assertThat(e.getMessage()).contains("canceling statement due to user request");
                count = countRows(s, table);
            }
            assertThat(count).isEqualTo(ROWS);
            s.execute("DROP TABLE " + table);
        }
        // the client closed: its backend goes
        await().atMost(Duration.ofSeconds(10)).until(() -> pg.psqlDirect(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + app + "'").equals("0"));

        // the backend goes: the client's connection closes
        try (Connection c = connect(via, tls, app + "-k", ep); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT 1")) {
                assertThat(rs.next()).isTrue();
            }
            assertThat(pg.psqlDirect("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '"
                    + app + "-k'")).isEqualTo("1");
            assertThatThrownBy(() -> {
                for (int i = 0; i < 50; i++) { // the first statement may still be written before the close is seen
                    s.executeQuery("SELECT 1").close();
                    Thread.sleep(100);
                }
            }).isInstanceOf(SQLException.class);
            assertThat(c.isValid(5)).isFalse();
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(directory.totalClosed()).isEqualTo(directory.totalOpened()));
    }

    /**
     * SK_MSG shape: a client that stops reading for 3 s while its backend has ~80 MB to send. The
     * backend's push into the full client socket fails inside its own send; without the proxy's stall
     * check it would retry at once (measured: ~3 s of CPU in 3 s). It must use under 0.5 s of CPU in the
     * stall, the session must fall back, the backend must still be waiting to write (what is queued for
     * the client is bounded), and every byte must arrive in order.
     */
    @org.junit.jupiter.api.Test
    void aStalledClientDoesNotMakeTheBackendSpin() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(pgNs != null && proxy.kernelRelayOn(), "needs root");
        long fallbacksBefore = proxy.stats().msgRelayFallbacks.get();
        try (Connection c = connect(proxy, false, "relay-stall", EP_NS); Statement s = c.createStatement()) {
            int backendPid;
            try (ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
                assertThat(rs.next()).isTrue();
                backendPid = rs.getInt(1);
            }
            long[] cpuAtStall = new long[2];
            String[] waitAtStall = new String[1];
            MessageDigest direct = MessageDigest.getInstance("SHA-256");
            MessageDigest relayed = MessageDigest.getInstance("SHA-256");
            String query = "COPY (SELECT repeat('x', 800) || i FROM generate_series(1, 100000) i) TO STDOUT";
            long rows = c.unwrap(PGConnection.class).getCopyAPI().copyOut(query, new OutputStream() {
                private boolean stalled;

                @Override
                public void write(int b) {
                    write(new byte[]{(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    relayed.update(b, off, len);
                    if (!stalled) {
                        stalled = true;
                        try {
                            Thread.sleep(500); // the backend fills both sockets' buffers
                            cpuAtStall[0] = cpuMillis(backendPid);
                            Thread.sleep(3000);
                            cpuAtStall[1] = cpuMillis(backendPid);
                            waitAtStall[0] = pgNs.psqlDirect("SELECT coalesce(wait_event, state) FROM pg_stat_activity WHERE pid = "
                                    + backendPid);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                }
            });
            assertThat(rows).isEqualTo(100_000);
            assertThat(cpuAtStall[1] - cpuAtStall[0]).as("backend CPU (ms) in 3 s of a stalled client").isLessThan(500);
            assertThat(proxy.stats().msgRelayFallbacks.get() - fallbacksBefore).as("SK_MSG fallbacks").isEqualTo(1);
            // bounded: the ~80 MB cannot all be queued for the stalled client, so the backend still waits to write
            // (an SK_SKB redirect after the fallback had queued all of it, and the backend was done)
            assertThat(waitAtStall[0]).as("the backend's wait event 3.5 s into the stall").isEqualTo("ClientWrite");
            for (int i = 1; i <= 100_000; i++) {
                direct.update(("x".repeat(800) + i + "\n").getBytes(StandardCharsets.UTF_8));
            }
            assertThat(HexFormat.of().formatHex(relayed.digest())).isEqualTo(HexFormat.of().formatHex(direct.digest()));
            // the session goes on after the fall-back
            try (ResultSet rs = s.executeQuery("SELECT 6 * 7")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(42);
            }
        }
    }

    /**
     * SK_MSG shape with the client's own socket captured: a client that writes 128 MB of COPY data while
     * its backend sleeps 3 s on the first row. The kernel would queue all of it in the backend socket's
     * receive queue (nothing bounds that path); the session's budget must hold the client back (it
     * cannot have handed more than 64 MB to its socket 2.5 s in), the session must fall back to TCP, and
     * every row must arrive.
     */
    @org.junit.jupiter.api.Test
    void aClientThatOutrunsItsBackendIsHeldBack() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(pgNs != null && proxy.clientSocketsCaptured(),
                "needs root and a cgroup v2 mount");
        long directBefore = proxy.stats().sessionsClientDirect.get();
        long fallbacksBefore = proxy.stats().clientDirectFallbacks.get();
        int rows = 200_000;
        try (Connection c = connect(proxy, false, "relay-outrun", EP_NS); Statement s = c.createStatement()) {
            assertThat(proxy.stats().sessionsClientDirect.get() - directBefore).as("client socket captured").isEqualTo(1);
            s.execute("CREATE TABLE relay_outrun (id int, payload text)");
            s.execute("CREATE FUNCTION relay_outrun_slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    + "IF NEW.id = 1 THEN PERFORM pg_sleep(3); END IF; RETURN NEW; END $$");
            s.execute("CREATE TRIGGER relay_outrun_slow BEFORE INSERT ON relay_outrun FOR EACH ROW EXECUTE FUNCTION relay_outrun_slow()");
            java.util.concurrent.atomic.AtomicLong read = new java.util.concurrent.atomic.AtomicLong();
            MessageDigest sent = MessageDigest.getInstance("SHA-256");
            RowsStream data = new RowsStream(rows, sent, 640);
            InputStream counted = new InputStream() {
                @Override
                public int read() throws IOException {
                    int b = data.read();
                    if (b >= 0) {
                        read.incrementAndGet();
                    }
                    return b;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    int n = data.read(b, off, len);
                    if (n > 0) {
                        read.addAndGet(n);
                    }
                    return n;
                }
            };
            long[] readAt = new long[1];
            ExecutorService ex = Executors.newSingleThreadExecutor();
            try {
                Future<?> probe = ex.submit(() -> {
                    Thread.sleep(2500);
                    readAt[0] = read.get();
                    return null;
                });
                long copied = c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY relay_outrun FROM STDIN", counted);
                probe.get(10, TimeUnit.SECONDS);
                assertThat(copied).isEqualTo(rows);
            } finally {
                ex.shutdownNow();
            }
            long total = read.get();
            assertThat(total).as("COPY data").isGreaterThan(120L << 20);
            assertThat(readAt[0]).as("bytes the client had written 2.5 s into its backend's 3 s sleep").isLessThan(64L << 20);
            assertThat(proxy.stats().clientDirectFallbacks.get() - fallbacksBefore).as("client budget fallbacks").isEqualTo(1);
            MessageDigest back = MessageDigest.getInstance("SHA-256");
            c.unwrap(PGConnection.class).getCopyAPI().copyOut("COPY (SELECT * FROM relay_outrun ORDER BY id) TO STDOUT", new OutputStream() {
                @Override
                public void write(int b) {
                    back.update((byte) b);
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    back.update(b, off, len);
                }
            });
            assertThat(HexFormat.of().formatHex(back.digest())).isEqualTo(HexFormat.of().formatHex(sent.digest()));
            // the session goes on over TCP
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM relay_outrun")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getLong(1)).isEqualTo(rows);
            }
            s.execute("DROP TABLE relay_outrun");
            s.execute("DROP FUNCTION relay_outrun_slow()");
        }
    }

    /**
     * The client sockets' sock_ops hook lives on the cgroup v2 root only as long as its proxy: one more
     * {@code fl_cli_ops} program while a second proxy runs, back to before once it is closed (a bpf link,
     * not a legacy attachment, so a killed server leaves nothing behind either).
     */
    @org.junit.jupiter.api.Test
    void theClientHookGoesWithItsProxy() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(proxy.clientSocketsCaptured(), "needs root and a cgroup v2 mount");
        int before = clientHooks();
        PgProxy second = PgProxy.start(PgProxyConfig.of("127.0.0.1", 0).withKernelRelay(true), directory);
        try {
            assertThat(second.clientSocketsCaptured()).isTrue();
            assertThat(clientHooks()).isEqualTo(before + 1);
        } finally {
            second.close();
        }
        assertThat(clientHooks()).isEqualTo(before);
    }

    /** How many {@code fl_cli_ops} programs the cgroup v2 root runs at socket events. */
    private static int clientHooks() {
        io.forkline.compute.bpf.LinuxBpf bpf = io.forkline.compute.bpf.LinuxBpf.load();
        int cg = bpf.openReadOnly(io.forkline.compute.bpf.Cgroup2.root());
        try {
            int n = 0;
            for (int id : bpf.attachedPrograms(cg, io.forkline.compute.bpf.LinuxBpf.BPF_CGROUP_SOCK_OPS)) {
                int fd;
                try {
                    fd = bpf.programFd(id);
                } catch (io.forkline.compute.bpf.LinuxBpf.BpfException gone) {
                    continue;
                }
                try {
                    if (bpf.programInfo(fd).name().equals("fl_cli_ops")) {
                        n++;
                    }
                } finally {
                    bpf.close(fd);
                }
            }
            return n;
        } finally {
            bpf.close(cg);
        }
    }

    /**
     * The SK_SKB shape, opt-in ({@link KernelRelay#SKB_PROPERTY}): a compute on its Unix socket is relayed
     * by the kernel when asked, and the session works both ways.
     */
    @org.junit.jupiter.api.Test
    void theSkbShapeIsOptIn() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(proxy.kernelRelayOn(), "needs root");
        String old = System.getProperty(KernelRelay.SKB_PROPERTY);
        try {
            for (boolean on : new boolean[] {false, true}) {
                System.setProperty(KernelRelay.SKB_PROPERTY, Boolean.toString(on));
                long before = proxy.stats().sessionsKernelRelayed.get();
                try (Connection c = connect(proxy, false, "relay-skb-" + on); Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT sum(i) FROM generate_series(1, 1000) i")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getLong(1)).isEqualTo(500_500);
                }
                assertThat(proxy.stats().sessionsKernelRelayed.get() - before).as("SK_SKB sessions with the property " + on)
                        .isEqualTo(on ? 1 : 0);
            }
        } finally {
            if (old == null) {
                System.clearProperty(KernelRelay.SKB_PROPERTY);
            } else {
                System.setProperty(KernelRelay.SKB_PROPERTY, old);
            }
        }
    }

    /** utime + stime of a process in milliseconds ({@code /proc/PID/stat} fields 14 and 15, 100 ticks a second). */
    static long cpuMillis(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** COPY text rows {@code id \t payload \n} for ids 1..rows, fed to a digest as they are read. */
    static final class RowsStream extends InputStream {
        private final int rows;
        private final MessageDigest digest;
        private int next = 1;
        private byte[] current = new byte[0];
        private int pos;
        /** Payload bytes of every row, or 0 for {@link #payload}'s varied ones. */
        private final int width;

        RowsStream(int rows, MessageDigest digest) {
            this(rows, digest, 0);
        }

        RowsStream(int rows, MessageDigest digest, int width) {
            this.rows = rows;
            this.digest = digest;
            this.width = width;
        }

        static byte[] row(int id, String payload) {
            return (id + "\t" + payload + "\n").getBytes(StandardCharsets.UTF_8);
        }

        static String payload(int id) {
            return ("row " + id + " ").repeat(1 + id % 23) + "x".repeat(id % 97);
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (pos == current.length) {
                if (next > rows) {
                    return -1;
                }
                current = row(next, width > 0 ? "x".repeat(width) : payload(next));
                next++;
                pos = 0;
                digest.update(current);
            }
            int n = Math.min(len, current.length - pos);
            System.arraycopy(current, pos, b, off, n);
            pos += n;
            return n;
        }
    }

    /** Digests what it is given and sleeps 30 ms after every 2 MB, so the proxy's client side fills up. */
    static final class StallingDigest extends OutputStream {
        private final MessageDigest digest;
        private long sinceStall;

        StallingDigest(MessageDigest digest) {
            this.digest = digest;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[]{(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            digest.update(b, off, len);
            sinceStall += len;
            if (sinceStall >= 2 << 20) {
                sinceStall = 0;
                try {
                    Thread.sleep(30);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException(e);
                }
            }
        }
    }
}
