package io.forkline.compute.proxy;

import io.forkline.bench.Args;
import io.forkline.bench.Samples;
import io.forkline.compute.postgres.Pgbench;
import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.compute.postgres.StockCluster;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code pgbench -S} (select-only) TPS and average latency through the {@link PgProxy} beside the
 * same stock PostgreSQL 15 reached straight over its Unix-domain socket and over its TCP port, in
 * one run: rounds alternate the targets so machine noise hits all alike. The proxy reaches the
 * compute over the Unix socket, as in the server. Targets: {@code unix} (direct), {@code tcp}
 * (direct, 127.0.0.1), {@code proxy} (SCRAM, options route, no TLS, relayed in user space),
 * {@code proxy-kernel} (the same through a second proxy whose spliced sessions the kernel relays:
 * {@link io.forkline.compute.proxy.relay.KernelRelay}; left out with a note where it cannot load),
 * {@code proxy-kernel-tcp} (the kernel relay with the compute reached over TCP on 127.0.0.1; only
 * when named in {@code --targets}), {@code proxy-tls} ({@code sslmode=require}; user space).
 *
 * <p>Besides TPS it reports, per transaction and round: the CPU time this JVM (the proxies) spent,
 * in microseconds; the CPU of everything serving the benchmark ({@code bench+kworker}: this JVM,
 * pgbench, the compute's processes, and every kworker/ksoftirqd thread, which is where the kernel
 * relay's sends run; {@link SystemCpu#ownJiffies}, {@link SystemCpu#kernelThreadJiffiesBetween}); the machine-wide busy CPU, softirq and
 * context switches from {@code /proc/stat}; and the load average. The first two, unlike the TPS
 * ratio, hardly move with the load other processes put on the machine.
 *
 * <p>Options: {@code --scale 10 --clients 4 --seconds 5 --rounds 3 --threads 0} ({@code --threads}:
 * the proxy's event loop threads, 0 = its default) {@code --targets unix,tcp,proxy,proxy-kernel,proxy-tls}
 * {@code --also-threads 1,4} (more proxies in the same run, without TLS, with that many event loop
 * threads: targets {@code proxy-1t}, {@code proxy-4t}).
 * {@code --netns 1} starts the PostgreSQL in a network namespace of its own, as a local compute of the
 * server runs where namespaces are available: target {@code tcp} then runs its pgbench inside that
 * namespace (loopback TCP there), {@code proxy-kernel} reaches the compute on 127.0.0.1 inside it (the
 * kernel relay's SK_MSG shape, {@code MsgRelay}), and {@code proxy-kernel-unix} is the kernel relay
 * through the compute's Unix-domain socket (the SK_SKB shape, opt-in: the harness sets
 * {@code forkline.proxy.kernelRelay.skb}) for comparison; {@code proxy-kernel-nocap} is the SK_MSG shape
 * without capturing pgbench's own sockets (its bytes to the backend relayed in user space, as for a
 * client on another host).
 * {@code --guard 1} keeps the PostgreSQL in the host's namespace on a 127.0.0.1 port that
 * {@link io.forkline.compute.guard.PortGuard} lets only this JVM connect to, as a local compute of the
 * server runs by default: {@code proxy-kernel} then reaches it there (the SK_MSG shape) and
 * {@code proxy-kernel-unix} through its Unix-domain socket; the guard is lifted while the {@code tcp}
 * target's pgbench (another process) runs (the guard's program runs at {@code connect} only, so the
 * steady state is the same).
 * Prints one line per run and a RESULT block with medians and the ratios proxy/unix and proxy/tcp.
 */
public final class ProxyComparison {
    private static final Pattern TPS = Pattern.compile("tps = ([0-9.]+) \\(without initial connection time\\)");
    private static final Pattern LATENCY = Pattern.compile("latency average = ([0-9.]+) ms");
    private static final Pattern TRANSACTIONS = Pattern.compile("number of transactions actually processed: ([0-9]+)");

    /** With {@code --netns 1}: the namespace the compute runs in, where the {@code tcp} target's pgbench runs. */
    private static io.forkline.compute.netns.NetNamespace netnsForTcp;
    /** With {@code --guard 1}: the compute's port while guarded (lifted for the {@code tcp} target). */
    private static io.forkline.compute.guard.PortGuard.Protection guarded;

    private ProxyComparison() {
    }

    public static void main(String[] argv) throws Exception {
        Args args = new Args(argv);
        int scale = args.intValue("scale", 10);
        int clients = args.intValue("clients", 4);
        int seconds = args.intValue("seconds", 5);
        int rounds = args.intValue("rounds", 3);
        int threads = args.intValue("threads", 0);
        String alsoThreads = args.value("also-threads", "");
        List<PgProxy> extra = new ArrayList<>();
        PgProxy kernelProxy = null;
        List<String> only = List.of(args.value("targets", "unix,tcp,proxy,proxy-kernel,proxy-tls").split(","));
        PostgresInstallation pg = PostgresInstallation.detect();
        Path dir = Files.createTempDirectory("fl-proxybench");
        Path sock = dir.resolve("sock");
        pg.prepareDirectory(dir);
        pg.prepareDirectory(sock);
        String password = "bench-password";
        io.forkline.compute.netns.NetNamespace ns = args.intValue("netns", 0) != 0
                ? io.forkline.compute.netns.NetNamespace.create("proxybench") : null;
        java.util.concurrent.Callable<StockCluster> startCluster = () -> StockCluster.start(pg, dir.resolve("pg"), port -> {
            Map<String, String> s = new LinkedHashMap<>(StockCluster.defaultWalSettings(port));
            s.put("unix_socket_directories", "'" + sock + "'");
            s.put("max_connections", "100");
            return s;
        });
        try (StockCluster cluster = ns == null ? startCluster.call() : ns.call(startCluster)) {
            int port = Integer.parseInt(cluster.uri().replaceAll(".*:(\\d+)/.*", "$1"));
            ComputeAddress address = ComputeAddress.unix(sock, port);
            netnsForTcp = ns;
            io.forkline.compute.guard.PortGuard guard = null;
            if (args.intValue("guard", 0) != 0) {
                guard = io.forkline.compute.guard.PortGuard.shared();
                if (guard == null) {
                    throw new IllegalStateException("--guard 1: " + io.forkline.compute.guard.PortGuard.unavailableReason());
                }
                guarded = guard.protect(port);
            }
            ComputeAddress kernelAddress = ns != null ? ComputeAddress.inNamespace(ns, port)
                    : guard != null ? ComputeAddress.guardedLoopback(port) : null;
            SingleEndpoint directory = new SingleEndpoint("ep-bench", ScramVerifier.create(password.toCharArray(), new SecureRandom()), address);
            try (PgProxy proxy = PgProxy.start(PgProxyConfig.of("127.0.0.1", 0).withSelfSignedTls(dir.resolve("tls"))
                    .withEventLoopThreads(threads).withKernelRelay(false), directory)) {
                Map<String, String> targets = new LinkedHashMap<>();
                targets.put("unix", "host=" + sock + " port=" + port + " user=postgres dbname=postgres");
                targets.put("tcp", "host=127.0.0.1 port=" + port + " user=postgres dbname=postgres sslmode=disable");
                String viaProxy = "host=127.0.0.1 port=" + proxy.port() + " user=postgres dbname=postgres options=endpoint=ep-bench";
                targets.put("proxy", viaProxy + " sslmode=disable");
                if (only.contains("proxy-kernel")) {
                    PgProxy k = PgProxy.start(PgProxyConfig.of("127.0.0.1", 0).withEventLoopThreads(threads).withKernelRelay(true),
                            kernelAddress == null ? directory : new SingleEndpoint("ep-bench", directory.verifier(),
                                    kernelAddress));
                    extra.add(k);
                    kernelProxy = k;
                    if (kernelAddress != null && only.contains("proxy-kernel-unix")) {
                        // the SK_SKB shape is opt-in (its redirects queue without bound for a slow receiver)
                        System.setProperty(io.forkline.compute.proxy.relay.KernelRelay.SKB_PROPERTY, "true");
                        PgProxy u = PgProxy.start(PgProxyConfig.of("127.0.0.1", 0).withEventLoopThreads(threads)
                                .withKernelRelay(true), directory);
                        extra.add(u);
                        targets.put("proxy-kernel-unix", "host=127.0.0.1 port=" + u.port()
                                + " user=postgres dbname=postgres options=endpoint=ep-bench sslmode=disable");
                    }
                    if (kernelAddress != null && only.contains("proxy-kernel-nocap")) {
                        // the SK_MSG shape without the clients' own sockets: their bytes relayed in user space
                        String was = System.setProperty(io.forkline.compute.proxy.relay.ClientSockets.PROPERTY, "false");
                        try {
                            PgProxy nc = PgProxy.start(PgProxyConfig.of("127.0.0.1", 0).withEventLoopThreads(threads)
                                    .withKernelRelay(true), new SingleEndpoint("ep-bench", directory.verifier(), kernelAddress));
                            extra.add(nc);
                            targets.put("proxy-kernel-nocap", "host=127.0.0.1 port=" + nc.port()
                                    + " user=postgres dbname=postgres options=endpoint=ep-bench sslmode=disable");
                        } finally {
                            if (was == null) {
                                System.clearProperty(io.forkline.compute.proxy.relay.ClientSockets.PROPERTY);
                            } else {
                                System.setProperty(io.forkline.compute.proxy.relay.ClientSockets.PROPERTY, was);
                            }
                        }
                    }
                    if (k.kernelRelayOn()) {
                        targets.put("proxy-kernel", "host=127.0.0.1 port=" + k.port()
                                + " user=postgres dbname=postgres options=endpoint=ep-bench sslmode=disable");
                    } else {
                        System.out.println("proxy-kernel left out: the kernel relay does not load here (see the log)");
                    }
                }
                if (only.contains("proxy-kernel-tcp")) {
                    // the same kernel relay, but the proxy reaches the compute over TCP on 127.0.0.1 (tcp_bpf both sides)
                    SingleEndpoint overTcp = new SingleEndpoint("ep-bench", directory.verifier(), ComputeAddress.tcp("127.0.0.1", port));
                    PgProxy k = PgProxy.start(PgProxyConfig.of("127.0.0.1", 0).withEventLoopThreads(threads).withKernelRelay(true), overTcp);
                    extra.add(k);
                    if (k.kernelRelayOn()) {
                        targets.put("proxy-kernel-tcp", "host=127.0.0.1 port=" + k.port()
                                + " user=postgres dbname=postgres options=endpoint=ep-bench sslmode=disable");
                    }
                }
                targets.put("proxy-tls", viaProxy + " sslmode=require");
                for (String n : alsoThreads.isBlank() ? new String[0] : alsoThreads.split(",")) {
                    PgProxy p = PgProxy.start(PgProxyConfig.of("127.0.0.1", 0).withEventLoopThreads(Integer.parseInt(n.trim()))
                            .withKernelRelay(false), directory);
                    extra.add(p);
                    targets.put("proxy-" + n.trim() + "t", "host=127.0.0.1 port=" + p.port()
                            + " user=postgres dbname=postgres options=endpoint=ep-bench sslmode=disable");
                }
                targets.keySet().removeIf(t -> !only.contains(t) && !t.matches("proxy-\\d+t"));
                if (!targets.keySet().containsAll(List.of("tcp", "proxy"))) {
                    throw new IllegalArgumentException("--targets must name at least tcp and proxy, got " + only);
                }
                System.out.printf(Locale.ROOT, "pgbench -i -s %d (through the proxy) ...%n", scale);
                Pgbench.initialize(pg, uriWithPassword(viaProxy + " sslmode=disable", password), scale, Duration.ofMinutes(30));
                Map<String, Samples> tps = new LinkedHashMap<>();
                Map<String, Samples> latency = new LinkedHashMap<>();
                Map<String, Samples> cpu = new LinkedHashMap<>();
                Map<String, Samples> sysCpu = new LinkedHashMap<>();
                Map<String, Samples> softirq = new LinkedHashMap<>();
                Map<String, Samples> switches = new LinkedHashMap<>();
                Map<String, Samples> ownCpu = new LinkedHashMap<>();
                Map<String, Samples> kworkerCpu = new LinkedHashMap<>();
                for (String t : targets.keySet()) {
                    ownCpu.put(t, new Samples(t, "us/txn"));
                    kworkerCpu.put(t, new Samples(t, "us/txn"));
                    sysCpu.put(t, new Samples(t, "us/txn"));
                    softirq.put(t, new Samples(t, "us/txn"));
                    switches.put(t, new Samples(t, "/txn"));
                    tps.put(t, new Samples(t, "tps"));
                    latency.put(t, new Samples(t, "ms"));
                    cpu.put(t, new Samples(t, "us/txn"));
                }
                for (int r = 1; r <= rounds; r++) {
                    List<String> order = new ArrayList<>(targets.keySet());
                    if (r % 2 == 0) {
                        java.util.Collections.reverse(order);
                    }
                    for (String t : order) {
                        long cpuBefore = processCpuNanos();
                        long[] statBefore = SystemCpu.read();
                        long ownBefore = SystemCpu.ownJiffies(cluster.dataDir());
                        Map<Long, Long> kBefore = SystemCpu.kernelThreadJiffies();
                        String conninfo = targets.get(t);
                        double[] res;
                        if (t.equals("tcp") && netnsForTcp != null) {
                            res = netnsForTcp.call(() -> selectOnly(pg, conninfo, password, clients, seconds));
                        } else if (t.equals("tcp") && guarded != null) {
                            guarded.close(); // pgbench is another process: lift the guard for it
                            try {
                                res = selectOnly(pg, conninfo, password, clients, seconds);
                            } finally {
                                guarded = guard.protect(port);
                            }
                        } else {
                            res = selectOnly(pg, conninfo, password, clients, seconds);
                        }
                        Thread.sleep(300); // the postmaster reaps the ended backends (their CPU moves into its cutime)
                        long[] statAfter = SystemCpu.read();
                        long kJiffies = SystemCpu.kernelThreadJiffiesBetween(kBefore, SystemCpu.kernelThreadJiffies());
                        double ownPerTxn = SystemCpu.micros(SystemCpu.ownJiffies(cluster.dataDir()) - ownBefore + kJiffies) / res[2];
                        double kPerTxn = SystemCpu.micros(kJiffies) / res[2];
                        ownCpu.get(t).add(ownPerTxn);
                        kworkerCpu.get(t).add(kPerTxn);
                        double cpuPerTxn = (processCpuNanos() - cpuBefore) / 1000.0 / res[2];
                        double sysPerTxn = SystemCpu.busyMicros(statBefore, statAfter) / res[2];
                        double softPerTxn = SystemCpu.softirqMicros(statBefore, statAfter) / res[2];
                        double ctxPerTxn = SystemCpu.switches(statBefore, statAfter) / res[2];
                        sysCpu.get(t).add(sysPerTxn);
                        softirq.get(t).add(softPerTxn);
                        switches.get(t).add(ctxPerTxn);
                        tps.get(t).add(res[0]);
                        latency.get(t).add(res[1]);
                        cpu.get(t).add(cpuPerTxn);
                        System.out.printf(Locale.ROOT, "round %d %-16s tps %10.1f  latency %.3f ms  proxy JVM cpu %6.2f us/txn"
                                        + "  bench+kworker cpu %6.2f us/txn (kworker+ksoftirqd %5.2f)  system cpu %6.2f us/txn (softirq %5.2f)  %4.2f cs/txn  load %s%n",
                                r, t, res[0], res[1], cpuPerTxn, ownPerTxn, kPerTxn, sysPerTxn, softPerTxn, ctxPerTxn, SystemCpu.loadAverage());
                    }
                }
                System.out.println("RESULT proxy (pgbench -S, scale " + scale + ", " + clients + " clients, " + seconds + " s x "
                        + rounds + " rounds, medians; proxy transport " + io.forkline.compute.proxy.session.ProxyTransport.chosen()
                        + ", event loop threads " + (threads == 0 ? "default (Netty: 2 x processors)" : threads) + ")");
                for (String t : targets.keySet()) {
                    System.out.printf(Locale.ROOT, "  %-16s tps %10.1f  latency %.3f ms  proxy JVM cpu %6.2f us/txn"
                                    + "  bench+kworker cpu %6.2f us/txn (kworker+ksoftirqd %5.2f)  system cpu %6.2f us/txn (softirq %5.2f)  %4.2f cs/txn%n", t,
                            tps.get(t).median(), latency.get(t).median(), cpu.get(t).median(), ownCpu.get(t).median(),
                            kworkerCpu.get(t).median(), sysCpu.get(t).median(),
                            softirq.get(t).median(), switches.get(t).median());
                }
                for (String t : targets.keySet()) {
                    if (!t.equals("tcp")) {
                        System.out.printf(Locale.ROOT, "  ratio tps %s/tcp %s%.3f%n", t, " ".repeat(Math.max(1, 13 - t.length())),
                                tps.get(t).median() / tps.get("tcp").median());
                    }
                }
                if (kernelProxy != null && targets.containsKey("proxy-kernel")) {
                    System.out.printf(Locale.ROOT, "  proxy-kernel: %d of %d sessions relayed by the kernel, %d in the SK_MSG"
                                    + " shape (%d stall fallbacks), %d with the client's own socket direct (%d over budget)%n",
                            kernelProxy.stats().sessionsKernelRelayed.get(),
                            kernelProxy.stats().sessionsStarted.get(), kernelProxy.stats().sessionsMsgRelayed.get(),
                            kernelProxy.stats().msgRelayFallbacks.get(), kernelProxy.stats().sessionsClientDirect.get(),
                            kernelProxy.stats().clientDirectFallbacks.get());
                }
                System.out.println("END RESULT");
            } finally {
                extra.forEach(PgProxy::close);
            }
        } finally {
            PostgresInstallation.runCommand(Duration.ofMinutes(1), List.of("rm", "-rf", dir.toString()));
        }
    }

    private static String uriWithPassword(String conninfo, String password) {
        return conninfo + " password=" + password;
    }

    /** CPU time of this process (all its threads) so far, in nanoseconds. */
    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** {@code pgbench -n -S -c clients -j clients -T seconds}: {tps, average latency ms, transactions}. */
    private static double[] selectOnly(PostgresInstallation pg, String conninfo, String password, int clients, int seconds) {
        List<String> cmd = List.of(pg.bin("pgbench").toString(), "-n", "-S", "-c", Integer.toString(clients), "-j",
                Integer.toString(clients), "-T", Integer.toString(seconds), uriWithPassword(conninfo, password));
        String out = PostgresInstallation.runCommand(Duration.ofSeconds(seconds + 120L), cmd);
        Matcher t = TPS.matcher(out);
        Matcher l = LATENCY.matcher(out);
        Matcher n = TRANSACTIONS.matcher(out);
        if (!t.find() || !l.find() || !n.find()) {
            throw new IllegalStateException("pgbench output without a summary: " + out);
        }
        return new double[]{Double.parseDouble(t.group(1)), Double.parseDouble(l.group(1)), Double.parseDouble(n.group(1))};
    }

    /** One endpoint, always running: the proxy's directory for this benchmark. */
    private record SingleEndpoint(String id, ScramVerifier verifier, ComputeAddress address) implements ComputeDirectory {
        @Override
        public Endpoint lookup(String endpointId) {
            return id.equals(endpointId) ? new Endpoint(id, "bench", "main", verifier) : null;
        }

        @Override
        public CompletableFuture<ComputeAddress> wake(String endpointId) {
            return CompletableFuture.completedFuture(address);
        }

        @Override
        public void sessionOpened(String endpointId) {
        }

        @Override
        public void sessionClosed(String endpointId) {
        }
    }
}
