package io.forkline.pageserver.endpoint;

import io.forkline.compute.endpoint.ComputeProcess;
import io.forkline.compute.node.LaunchedCompute;
import io.forkline.compute.endpoint.ComputeSettings;
import io.forkline.compute.endpoint.ComputeSize;
import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.pageserver.api.ApiException;
import io.forkline.pageserver.basebackup.TenantBootstrapFiles;
import io.forkline.pageserver.server.Directories;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;
import io.forkline.wal.replication.BackgroundIngest;
import io.forkline.wal.replication.ReceiverState;
import io.forkline.wal.replication.WalReceiver;
import io.forkline.wal.replication.WalReceiverConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs one compute per branch: builds the basebackup at the timeline's last record LSN, starts
 * stock PostgreSQL 15 on a free port, and streams its WAL back into the timeline with a
 * {@link WalReceiver} (synchronous replication: commits wait for Forkline's flush).
 *
 * <p>Directory layout: {@code <dataDir>/endpoints/<tenant>/<ref-with-slashes-escaped>/pgdata} plus
 * {@code postgres.log} beside it. {@code pgdata} (a full basebackup) exists only while the compute
 * runs: a stop deletes it once the shutdown checkpoint is read and ingested, keeping
 * {@code postgres.log}; {@link #remove} (a deleted branch) deletes the endpoint's whole directory.
 * On construction, postmasters left behind by a killed server are killed (they would otherwise
 * hold ports and accept writes nobody ingests).
 *
 * <p>An endpoint remembers the port it last ran on and starts there again when that port is free,
 * so a restart (branch reset, restore, resize, stop + start) keeps the branch's libpq URI.
 *
 * <p>Thread-safe; start and stop of one endpoint are serialized on that endpoint.
 */
public final class EndpointManager implements AutoCloseable {
    /**
     * System property: {@code true} runs every local compute in a network namespace of its own where
     * namespaces can be made (root), listening on 127.0.0.1 there beside its private Unix socket, so
     * that the proxy's kernel relay takes its SK_MSG shape ({@code MsgRelay}: one kernel worker hop per
     * round trip instead of two). Off by default: such a compute has no network beyond its own loopback,
     * so it cannot open outbound connections (a logical import's subscription to its publisher,
     * {@code dblink}, {@code postgres_fdw}), and {@link #PORT_GUARD_PROPERTY} gives the same shape
     * without that loss. {@code auto}: on when the kernel relay and its SK_MSG shape are requested.
     */
    public static final String NETNS_PROPERTY = "forkline.compute.netns";

    /**
     * System property: {@code auto} (default) guards a TCP listener of every local compute on 127.0.0.1
     * of the host ({@code io.forkline.compute.guard.PortGuard}: only this server's process may connect)
     * when the kernel relay and its SK_MSG shape are requested, so the proxy's sessions take that shape
     * while computes keep the host's network; {@code true} guards one regardless, {@code false} never
     * (Unix-domain socket only). {@link #NETNS_PROPERTY} {@code true} wins over it. Where the guard
     * cannot be had (not root, no cgroup v2) computes listen on their Unix-domain socket only.
     */
    public static final String PORT_GUARD_PROPERTY = "forkline.compute.portGuard";

    /**
     * Where the next local computes listen on TCP, from {@link #NETNS_PROPERTY} and
     * {@link #PORT_GUARD_PROPERTY}.
     *
     * @throws IllegalArgumentException when either is none of true, false, auto (names the value)
     */
    static io.forkline.compute.endpoint.ComputeTcp computeTcp() {
        if (switchProperty(NETNS_PROPERTY, "false")) {
            return io.forkline.compute.endpoint.ComputeTcp.OWN_NETWORK_NAMESPACE;
        }
        return switchProperty(PORT_GUARD_PROPERTY, "auto") ? io.forkline.compute.endpoint.ComputeTcp.GUARDED
                : io.forkline.compute.endpoint.ComputeTcp.NONE;
    }

    /** {@code true}, {@code false}, or {@code auto}: whether the kernel relay and its SK_MSG shape are requested. */
    private static boolean switchProperty(String name, String byDefault) {
        String v = System.getProperty(name, byDefault).strip().toLowerCase(java.util.Locale.ROOT);
        return switch (v) {
            case "auto" -> io.forkline.compute.proxy.relay.KernelRelay.requested()
                    && io.forkline.compute.proxy.relay.KernelRelay.msgRelayRequested();
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("invalid " + name + " '" + v
                    + "': expected true, false or auto");
        };
    }

    private static final Logger log = LoggerFactory.getLogger(EndpointManager.class);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration SHUTDOWN_CHECKPOINT_WAIT = Duration.ofSeconds(30);
    /** Bound of {@link #catchUp}: how far the store may lag a compute before a branch at its head fails. */
    private static final Duration CATCH_UP_TIMEOUT = Duration.ofSeconds(120);

    private final PageStore store;
    private final PostgresInstallation pg;
    private final Path root;
    private final Map<String, Endpoint> endpoints = new ConcurrentHashMap<>();
    private final io.forkline.pageserver.metadata.MetadataRecords records;

    /** A running (or starting) compute and its WAL receiver. */
    public static final class Endpoint {
        private final String key;
        private volatile EndpointState state = EndpointState.STOPPED;
        /** The running compute when it runs in this server's process tree, else null. */
        private volatile LaunchedCompute local;
        /** The running compute when it runs on the compute node, else null. */
        private volatile RemoteComputeNode.Compute remote;
        /** The node {@link #remote} runs on. */
        private volatile RemoteComputeNode node;
        private volatile String tenant;
        private volatile String ref;
        private volatile WalReceiver receiver;
        private volatile TimelineId timeline;
        private volatile ComputeSize size = ComputeSize.DEFAULT;
        /** The port of the last start, 0 before the first; preferred by the next start. */
        private volatile int lastPort;
        /** How this endpoint's data directory is built from its next start on; null: the server's default. */
        private volatile StorageMode preferredStorage;
        /** Guards {@link #catchUpConnection}. */
        private final Object catchUpLock = new Object();
        /**
         * A connection to the running compute kept for {@link #catchUp}'s flush-LSN query (a new
         * connection per branch create would cost a backend start); closed when the compute stops.
         */
        private java.sql.Connection catchUpConnection;

        /** {@code lazy} or {@code full}: how the running compute's data directory is built. */
        public String storage() {
            LaunchedCompute l = local;
            RemoteComputeNode.Compute r = remote;
            return l != null ? l.storage() : r != null ? r.storage() : "full";
        }

        /** The lazy data directory's fetch counters, or null for a full or a remote data directory. */
        public io.forkline.compute.lazy.LazyStats lazyStats() {
            LaunchedCompute l = local;
            return l == null ? null : l.lazyStats();
        }

        /** The compute node's URL when the compute runs there, else null. */
        public String computeNode() {
            RemoteComputeNode n = node;
            return remote != null && n != null ? n.url().toString() : null;
        }

        /**
         * Whether the compute's PostgreSQL is up: the local process lives, or the compute node
         * answers that it runs there.
         */
        boolean computeAlive() {
            LaunchedCompute l = local;
            if (l != null) {
                return l.isAlive();
            }
            RemoteComputeNode.Compute r = remote;
            RemoteComputeNode n = node;
            return r != null && n != null && n.running(tenant, ref, r.port());
        }

        private int runningPort() {
            LaunchedCompute l = local;
            RemoteComputeNode.Compute r = remote;
            return l != null ? l.port() : r != null ? r.port() : 0;
        }

        /**
         * Where the running compute accepts the proxy's and the server's connections: its private
         * Unix-domain socket when it runs in this server's process tree, else its TCP host and port;
         * {@code null} when not running.
         */
        public io.forkline.compute.proxy.ComputeAddress address() {
            LaunchedCompute l = local;
            RemoteComputeNode.Compute r = remote;
            if (state != EndpointState.RUNNING) {
                return null;
            }
            if (l != null) {
                return l.socketDirectory() != null ? io.forkline.compute.proxy.ComputeAddress.unix(l.socketDirectory(), l.port())
                        : io.forkline.compute.proxy.ComputeAddress.tcp("127.0.0.1", l.port());
            }
            RemoteComputeNode n = node;
            return r != null ? io.forkline.compute.proxy.ComputeAddress.tcp(r.host(), r.port(), n == null ? null : n.tls())
                    : null;
        }

        /**
         * Where the proxy reaches the running compute: 127.0.0.1:PORT inside the compute's own network
         * namespace when it runs in one, or of the host when its port is guarded (the kernel relay's
         * SK_MSG shape needs the backend's socket to be TCP; only the server reaches either), else
         * {@link #address()}; {@code null} when
         * not running. The server's own clients (diffs, schema copies, flush-LSN queries) use
         * {@link #address()}.
         */
        public io.forkline.compute.proxy.ComputeAddress proxyAddress() {
            LaunchedCompute l = local;
            io.forkline.compute.netns.NetNamespace ns = l == null ? null : l.netns();
            if (ns != null && state == EndpointState.RUNNING) {
                return io.forkline.compute.proxy.ComputeAddress.inNamespace(ns, l.port());
            }
            if (l != null && l.guardedTcp() && state == EndpointState.RUNNING) {
                return io.forkline.compute.proxy.ComputeAddress.guardedLoopback(l.port());
            }
            return address();
        }

        private String runningHost() {
            RemoteComputeNode.Compute r = remote;
            return r != null ? r.host() : "127.0.0.1";
        }

        /** Why it did not come back after the last server start, else null. */
        private volatile String note;

        Endpoint(String key) {
            this.key = key;
        }

        /**
         * Current state: {@code provisioning} while a start runs, {@code running}, {@code failed}
         * when it should run but its PostgreSQL is gone (exited, or its compute node was killed or is
         * unreachable; a start brings it back), {@code stopped}, or {@code suspended} (stopped for
         * want of client sessions; a connection through the proxy wakes it).
         */
        public EndpointState state() {
            EndpointState s = state;
            return s == EndpointState.RUNNING && !computeAlive() ? EndpointState.FAILED : s;
        }

        /** Size class of the running compute (of the last one when stopped). */
        public ComputeSize size() {
            return size;
        }

        /** The timeline the compute serves (the last one when stopped), {@code null} before the first start. */
        public TimelineId timeline() {
            return timeline;
        }

        /** TCP port of the running compute, or of the last one; 0 before the first start. */
        public int port() {
            return lastPort;
        }

        /** Why the endpoint did not come back after the last server start (its port was taken), else {@code null}. */
        public String note() {
            return note;
        }

        /** Whether a compute is running or being provisioned. */
        public boolean active() {
            EndpointState s = state;
            return s == EndpointState.RUNNING || s == EndpointState.PROVISIONING;
        }

        /**
         * The compute's own libpq URI, or {@code null} when not running: for a compute of this
         * server's process tree, which listens only on its private Unix-domain socket,
         * {@code postgresql://postgres@localhost:PORT/postgres?host=<socket directory>} (libpq's
         * {@code host} parameter overrides the authority; only root and the compute's OS user can
         * open it); for a compute on a compute node
         * {@code postgresql://postgres@HOST:PORT/postgres?sslmode=verify-ca&sslcert=...&sslkey=...&sslrootcert=...}
         * (it accepts only TLS with the server's client certificate, whose files only root can read, and
         * presents its node's certificate, which the server pins).
         * Users get the connection string through the proxy instead ({@code BranchAccess#shownUri}).
         */
        public String uri() {
            int port = runningPort();
            if (state != EndpointState.RUNNING || port == 0) {
                return null;
            }
            LaunchedCompute l = local;
            if (l != null && l.socketDirectory() != null) {
                return socketUriFor(l.socketDirectory(), port);
            }
            RemoteComputeNode n = node;
            var tls = l == null && n != null ? n.tls() : null;
            if (tls == null) {
                return uriFor(runningHost(), port);
            }
            var utf8 = java.nio.charset.StandardCharsets.UTF_8;
            return uriFor(runningHost(), port) + "?sslmode=" + (tls.serverCertificate() == null ? "require" : "verify-ca")
                    + "&sslcert=" + java.net.URLEncoder.encode(tls.certificate().toString(), utf8)
                    + "&sslkey=" + java.net.URLEncoder.encode(tls.key().toString(), utf8)
                    + (tls.serverCertificate() == null ? ""
                    : "&sslrootcert=" + java.net.URLEncoder.encode(tls.serverCertificate().toString(), utf8));
        }

        /**
         * The WAL receiver streaming the running compute's WAL into {@link #timeline()}, or
         * {@code null} when stopped (and briefly while provisioning, before the compute is up).
         */
        public WalReceiver receiver() {
            return receiver;
        }

        /**
         * The running compute process (port, data directory) when it runs in this server's process
         * tree, or {@code null} when stopped or on the compute node.
         */
        public ComputeProcess compute() {
            LaunchedCompute l = local;
            return l == null ? null : l.process();
        }
    }

    /**
     * @param dataDir the server's data directory; endpoints live under {@code dataDir/endpoints}
     */
    public EndpointManager(PageStore store, PostgresInstallation pg, Path dataDir) {
        this.store = store;
        this.pg = pg;
        this.root = dataDir.resolve("endpoints");
        this.records = new io.forkline.pageserver.metadata.MetadataRecords(store);
        killOrphans();
        recoverOrphanWal();
        loadRecords();
    }

    /** The endpoints of an earlier server run: their last port and size, so the next start reuses them. */
    private void loadRecords() {
        records.listWithKeys("endpoint/", EndpointRecord.class).forEach((k, r) -> {
            String tr = k.substring("endpoint/".length());
            Endpoint e = endpoints.computeIfAbsent(tr, Endpoint::new);
            e.lastPort = r.port();
            int slash = tr.indexOf('/');
            e.tenant = tr.substring(0, slash);
            e.ref = tr.substring(slash + 1);
            if (r.suspended() && !r.running()) {
                e.state = EndpointState.SUSPENDED;
            }
            try {
                e.size = ComputeSize.parse(r.size());
            } catch (IllegalArgumentException ex) {
                e.size = ComputeSize.DEFAULT;
            }
        });
    }

    /** An endpoint that ran when the server last went down. */
    public record Resume(String tenant, String ref, int port, ComputeSize size) {
    }

    /**
     * The endpoints that were running when the server last went down (stopped by the shutdown or
     * lost in a crash), to start again on their ports ({@link #start} prefers the last port).
     */
    public List<Resume> toResume() {
        List<Resume> out = new java.util.ArrayList<>();
        records.listWithKeys("endpoint/", EndpointRecord.class).forEach((k, r) -> {
            if (r.running()) {
                String tr = k.substring("endpoint/".length());
                int slash = tr.indexOf('/');
                Endpoint e = endpoints.get(tr);
                out.add(new Resume(tr.substring(0, slash), tr.substring(slash + 1), r.port(),
                        e == null ? ComputeSize.DEFAULT : e.size));
            }
        });
        return out;
    }

    /**
     * Records that the endpoint of {@code tenant}/{@code ref} did not come back after a server start
     * and why (shown with the branch, logged), and that it is stopped.
     */
    public void notResumed(String tenant, String ref, String why) {
        Endpoint e = endpoints.computeIfAbsent(key(tenant, ref), Endpoint::new);
        e.note = why;
        EndpointRecord r = records.get(EndpointRecord.key(tenant, ref), EndpointRecord.class);
        if (r != null) {
            records.put(EndpointRecord.key(tenant, ref), new EndpointRecord(r.port(), r.size(), r.timelineId(), false, why));
        }
    }

    /** Forgets the record of an endpoint whose branch is gone. */
    public void forgetRecord(String tenant, String ref) {
        records.delete(EndpointRecord.key(tenant, ref));
    }

    private void putRecord(Endpoint e, boolean running) {
        putRecord(e, running, false);
    }

    private void putRecord(Endpoint e, boolean running, boolean suspended) {
        TimelineId tl = e.timeline;
        records.put("endpoint/" + e.key, new EndpointRecord(e.lastPort, e.size.apiName(), tl == null ? null : tl.toString(),
                running, e.note, suspended));
    }

    /**
     * Where computes get their data directory from: the page service at {@code host:port}, with a
     * token from {@code tokenForTenant} (called per start with the tenant name). The server sets it
     * once its page service listens; starts fail until then.
     */
    public void usePageService(String host, int port, java.util.function.Function<String, String> tokenForTenant) {
        this.pageService = new PageServiceAddress(host, port, tokenForTenant);
    }

    private record PageServiceAddress(String host, int port, java.util.function.Function<String, String> token) {
    }

    private volatile PageServiceAddress pageService;
    private volatile StorageMode defaultStorage = StorageMode.configured(StorageMode.LAZY);

    /** How the next starts build data directories (the server's default comes from {@link StorageMode#configured}). */
    public void setDefaultStorage(StorageMode mode) {
        this.defaultStorage = java.util.Objects.requireNonNull(mode, "mode");
    }

    /**
     * How the endpoint of {@code ref} builds its data directory from its next start on (a running
     * compute built the other way restarts at the next {@link #start}, same URI).
     */
    public void preferStorage(String tenant, String ref, StorageMode mode) {
        endpoints.computeIfAbsent(key(tenant, ref), Endpoint::new).preferredStorage = mode;
    }

    /** How starts build data directories now. */
    public StorageMode defaultStorage() {
        return defaultStorage;
    }

    private io.forkline.page.client.PageClientConfig pageServiceClient(String tenant, TimelineId timeline) {
        PageServiceAddress a = pageService;
        if (a == null) {
            throw ApiException.unavailable("the page service is not running yet");
        }
        return io.forkline.page.client.PageClientConfig.of(a.host(), a.port(), tenant, timeline.toString(), null,
                a.token().apply(tenant));
    }

    /** The libpq URI of a compute on {@code port} of this machine. */
    public static String uriFor(int port) {
        return uriFor("127.0.0.1", port);
    }

    /** The libpq URI of a compute on {@code host:port}. */
    public static String uriFor(String host, int port) {
        return "postgresql://postgres@" + host + ":" + port + "/postgres";
    }

    /**
     * The libpq URI of a compute listening on {@code <socketDirectory>/.s.PGSQL.<port>}:
     * {@code postgresql://postgres@localhost:PORT/postgres?host=<directory, percent-encoded>}.
     */
    public static String socketUriFor(Path socketDirectory, int port) {
        return uriFor("localhost", port) + "?host="
                + java.net.URLEncoder.encode(socketDirectory.toAbsolutePath().toString(), java.nio.charset.StandardCharsets.UTF_8);
    }

    private volatile RemoteComputeNode computeNode;
    /** The server's client certificate for compute nodes' computes, made on the first {@link #useComputeNode}. */
    private volatile io.forkline.compute.proxy.tls.ComputeClientTls computeTls;

    private volatile java.util.function.BiConsumer<String, String> runningListener;

    private volatile java.util.function.BiFunction<String, String, Map<String, String>> extraSettings;

    /**
     * Settings added to the compute of (tenant, ref) at its next start (e.g. no logical replication
     * workers on the branches of a logically imported tenant); {@code null} (or a function giving
     * an empty map) adds none. Written to {@code <endpoint dir>/}{@value ComputeSettings#EXTRA_SETTINGS_FILE},
     * which the compute's {@code postgresql.conf} includes; computes on a compute node get none.
     */
    public void extraSettings(java.util.function.BiFunction<String, String, Map<String, String>> settings) {
        this.extraSettings = settings;
    }

    private void writeExtraSettings(String tenant, String ref) throws IOException {
        var f = extraSettings;
        Map<String, String> extra = f == null ? Map.of() : f.apply(tenant, ref);
        Path dir = dirOf(tenant, ref);
        Files.createDirectories(dir);
        Path file = dir.resolve(ComputeSettings.EXTRA_SETTINGS_FILE);
        Map<String, String> all = new java.util.LinkedHashMap<>(extra == null ? Map.of() : extra);
        // a compute of this machine keeps its own WAL durable and streams it to the store asynchronously
        // (last: nothing may turn its fsync off)
        all.putAll(ComputeSettings.commitSettings());
        Files.writeString(file, ComputeSettings.render(all), java.nio.charset.StandardCharsets.UTF_8);
        file.toFile().setReadable(true, false);
    }

    /**
     * Calls {@code listener} with (tenant, ref) each time a compute has started and is running
     * (on the starting thread, holding the endpoint's lock: it must only hand work off), e.g. to arm
     * its suspend timer; {@code null} removes it.
     */
    public void onRunning(java.util.function.BiConsumer<String, String> listener) {
        this.runningListener = listener;
    }

    /**
     * Whether the next computes listen on a TCP port (those of a compute node); a compute of this
     * server's process tree listens only on its private Unix-domain socket, whose port number is a
     * name inside its own directory that no other process can take.
     */
    public boolean computesListenOnTcp() {
        return computeNode != null;
    }

    /**
     * Runs the computes of the next starts on the compute node at {@code url} (its API, see
     * {@link RemoteComputeNode}), which must present the certificate in {@code nodeCertificate},
     * authenticated with {@code token}; a null url: in this server's process tree again. Running
     * computes stay where they are until they restart.
     *
     * @throws IllegalArgumentException naming the file when it holds no certificate
     */
    public void useComputeNode(java.net.URI url, Path nodeCertificate, String token) {
        if (url != null && computeTls == null) {
            try {
                computeTls = io.forkline.compute.proxy.tls.ComputeClientTls.ensure(
                        root.getParent().resolve("auth").resolve("compute-tls"));
            } catch (IOException e) {
                throw new IllegalStateException("cannot make the client certificate for compute nodes: " + e.getMessage(), e);
            }
        }
        this.computeNode = url == null ? null : new RemoteComputeNode(url, nodeCertificate, token, computeTls);
        if (url != null) {
            log.info("computes run on the compute node {}", url);
        }
    }

    private static String key(String tenant, String ref) {
        return tenant + "/" + ref;
    }

    private Path dirOf(String tenant, String ref) {
        return root.resolve(tenant).resolve(ref.replace("/", "%2F"));
    }

    /**
     * The PostgreSQL log of the branch's compute: {@code <dataDir>/endpoints/<tenant>/<ref>/postgres.log}
     * ({@code /} in a ref written {@code %2F}); kept after a stop, deleted with the branch. It may not
     * exist (never started).
     */
    public Path logFile(String tenant, String ref) {
        return dirOf(tenant, ref).resolve("postgres.log");
    }

    /** The endpoint of a branch, or {@code null} when it was never started in this server. */
    public Endpoint get(String tenant, String ref) {
        return endpoints.get(key(tenant, ref));
    }

    /**
     * Starts the branch's compute of {@code size} at {@code timeline}'s last record LSN, on the port
     * it last ran on when that is free; returns the running one's URI when it already serves
     * {@code timeline} (whatever its size: use {@link #restart} to change it). A running compute of
     * another timeline is stopped first (its shutdown checkpoint ingested).
     *
     * @return the libpq URI {@code postgresql://postgres@127.0.0.1:PORT/postgres}
     * @throws ApiException 503 when postgres cannot be started (the log tail is in the message)
     */
    public String start(String tenant, String ref, TimelineId timeline, ComputeSize size) {
        Endpoint e = endpoints.computeIfAbsent(key(tenant, ref), Endpoint::new);
        synchronized (e) {
            if (e.state == EndpointState.RUNNING && e.computeAlive()
                    && e.receiver != null && e.receiver.state() != ReceiverState.FAILED
                    && timeline.equals(e.timeline)
                    && (e.preferredStorage == null || e.preferredStorage.apiName().equals(e.storage()))) {
                return e.uri();
            }
            return startLocked(e, tenant, ref, timeline, size);
        }
    }

    /**
     * Stops the branch's compute (when running) and starts it again at {@code timeline}'s last
     * record LSN with {@code size}, on the same port when it is free, so the URI stays the same.
     * Does nothing and returns {@code null} when the endpoint is not running.
     *
     * @return the new libpq URI, or {@code null} when it was not running
     * @throws ApiException 503 when postgres cannot be started again
     */
    public String restart(String tenant, String ref, TimelineId timeline, ComputeSize size) {
        Endpoint e = get(tenant, ref);
        if (e == null) {
            return null;
        }
        synchronized (e) {
            if (!e.active()) {
                return null;
            }
            return startLocked(e, tenant, ref, timeline, size);
        }
    }

    /**
     * The ref of {@code tenant} whose endpoint serves (or last served) {@code timeline}, or
     * {@code null}: names a timeline whose branch record is written only after its compute started
     * (a put with start, a schema-only branch).
     */
    public String refServing(String tenant, TimelineId timeline) {
        String prefix = tenant + "/";
        for (Map.Entry<String, Endpoint> en : endpoints.entrySet()) {
            if (en.getKey().startsWith(prefix) && timeline.equals(en.getValue().timeline)) {
                return en.getKey().substring(prefix.length());
            }
        }
        return null;
    }

    /** Endpoints of {@code tenant} that are running or being provisioned, as {@code ref -> endpoint}. */
    public Map<String, Endpoint> active(String tenant) {
        Map<String, Endpoint> out = new java.util.TreeMap<>();
        String prefix = tenant + "/";
        endpoints.forEach((k, e) -> {
            if (k.startsWith(prefix) && e.active()) {
                out.put(k.substring(prefix.length()), e);
            }
        });
        return out;
    }

    /**
     * Stops the branch's compute, forgets the endpoint (its remembered port and size) and deletes its
     * directory {@code <dataDir>/endpoints/<tenant>/<ref>} (log included, also one left by an earlier
     * server run): for a deleted branch, so a later branch with the same ref starts afresh and no
     * basebackup stays on disk. Callers serialize it with starts of the same ref (the tenant's lock).
     *
     * @throws java.io.UncheckedIOException when the directory cannot be deleted (the compute is
     *                                      stopped and forgotten by then)
     */
    public void remove(String tenant, String ref) {
        io.forkline.pageserver.metadata.MetadataRecords.Changes changes = new io.forkline.pageserver.metadata.MetadataRecords.Changes();
        remove(tenant, ref, changes);
        records.write(changes);
    }

    /**
     * Removes the endpoint as {@link #remove(String, String)} does, except that the deletion of its
     * record (when there is one) is added to {@code withRecords} for the caller to write, e.g. in the
     * same atomic batch as the branch record's deletion (a branch that never had an endpoint then
     * costs no write at all).
     */
    public void remove(String tenant, String ref, io.forkline.pageserver.metadata.MetadataRecords.Changes withRecords) {
        Endpoint e = get(tenant, ref);
        if (e != null) {
            synchronized (e) {
                stopLocked(e);
                endpoints.remove(key(tenant, ref), e);
            }
        }
        if (records.exists(EndpointRecord.key(tenant, ref))) {
            withRecords.delete(EndpointRecord.key(tenant, ref));
        }
        try {
            Directories.deleteRecursively(socketDirectory(tenant, ref));
        } catch (IOException ex) {
            log.warn("cannot delete the socket directory of the endpoint of deleted branch {}/{}: {}", tenant, ref, ex.toString());
        }
        Path dir = dirOf(tenant, ref);
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return; // never had an endpoint (nor a mount or postmaster under it): no scan of /proc/self/mounts
        }
        try {
            LaunchedCompute.cleanStale(dir);
            Directories.deleteRecursively(dir);
        } catch (IOException ex) {
            throw new java.io.UncheckedIOException("cannot delete the directory " + dir + " of the endpoint of deleted branch '"
                    + ref + "' of tenant '" + tenant + "'", ex);
        }
    }

    private String startLocked(Endpoint e, String tenant, String ref, TimelineId timeline, ComputeSize size) {
        StorageMode storage = e.preferredStorage != null ? e.preferredStorage : defaultStorage;
        if (e.state != EndpointState.STOPPED) {
            // running on another timeline or size, or the compute or its ingest died:
            // stop (ingesting the shutdown checkpoint) and start over from what is durable
            stopLocked(e);
        }
        e.state = EndpointState.PROVISIONING;
        e.timeline = timeline;
        e.size = size;
        e.tenant = tenant;
        e.ref = ref;
        long t0 = System.nanoTime();
        try {
            long lsn;
            int port;
            String host;
            RemoteComputeNode node = computeNode;
            if (node != null) {
                e.node = node;
                var f = extraSettings;
                Map<String, String> extra = f == null ? null : f.apply(tenant, ref);
                e.remote = node.start(tenant, ref, timeline.toString(), size, e.lastPort, storage,
                        extra == null ? Map.of() : extra);
                lsn = e.remote.lsn();
                port = e.remote.port();
                host = e.remote.host();
            } else {
                writeExtraSettings(tenant, ref);
                recoverLeftoverWal(tenant, ref);
                e.local = LaunchedCompute.launch(pg, pageServiceClient(tenant, timeline), dirOf(tenant, ref),
                        storage == StorageMode.LAZY, e.lastPort, size, socketDirectory(tenant, ref),
                        computeTcp(), START_TIMEOUT, key(tenant, ref));
                lsn = e.local.lsn();
                port = e.local.port();
                host = "127.0.0.1";
            }
            long tLaunched = System.nanoTime();
            e.lastPort = port;
            long walStart = Lsn.nextSegmentStart(lsn);
            // a compute of this process tree: over its private Unix-domain socket (libpq's '/dir' host form)
            String receiverHost = e.local != null && e.local.socketDirectory() != null
                    ? e.local.socketDirectory().toString() : host;
            WalReceiverConfig receiverConfig = receiverConfig(timeline, receiverHost, port);
            if (e.remote != null && node.tls() != null) { // a compute node's compute: TLS with the client certificate
                receiverConfig = receiverConfig.withClientCertificate(node.tls().certificate(), node.tls().keyDer(),
                        node.tls().serverCertificate());
            }
            if (e.local != null) {
                // before any client commits: whose WAL the compute's pg_wal holds, for ComputeWalRecovery
                ComputeWal.writeMarker(dirOf(tenant, ref), timeline, walStart, e.local.walDirectory());
            }
            // a compute of this machine whose commits wait only for its own WAL: ingest yields it the CPU
            BackgroundIngest background = e.local != null && ComputeSettings.commitsAcknowledgedLocally()
                    ? BackgroundIngest.configured() : null;
            e.receiver = WalReceiver.start(store, timeline, walStart, receiverConfig, null, background);
            e.state = EndpointState.RUNNING;
            e.note = null;
            putRecord(e, true);
            java.util.function.BiConsumer<String, String> listener = runningListener;
            if (listener != null) {
                listener.accept(tenant, ref);
            }
            log.info("endpoint {} ({}, {}) running on {}{}, WAL from {}; started in {} ms (compute {} ms, receiver and"
                            + " record {} ms)", key(tenant, ref), size.apiName(), e.storage(), e.address(),
                    node != null ? " (compute node " + node.url() + ")" : "", Lsn.format(walStart),
                    (System.nanoTime() - t0) / 1_000_000, (tLaunched - t0) / 1_000_000,
                    (System.nanoTime() - tLaunched) / 1_000_000);
            return e.uri();
        } catch (IOException | RuntimeException ex) {
            stopLocked(e);
            if (ex instanceof ApiException api) {
                throw api;
            }
            throw ApiException.unavailable("cannot start endpoint of branch '" + ref + "': " + ex.getMessage());
        }
    }

    /**
     * How the receiver of a compute of {@code timeline} on {@code port} connects: as user
     * {@code postgres} on {@code host} (a TCP host, or the directory of the compute's Unix-domain socket), named {@link ComputeSettings#INGEST_STANDBY_NAME} (the compute's
     * {@code synchronous_standby_names}), recomputing page checksums when the tenant's cluster has
     * data checksums (its original pg_control's {@code data_checksum_version} is not 0).
     */
    private WalReceiverConfig receiverConfig(TimelineId timeline, String host, int port) {
        var md = store.timeline(timeline);
        if (md == null) {
            throw new IllegalArgumentException("timeline " + timeline + " does not exist");
        }
        boolean checksums = TenantBootstrapFiles.controlFile(store, md.tenant()).dataChecksumVersion() != 0;
        return WalReceiverConfig.of(host, port, "postgres")
                .withStandbyName(ComputeSettings.INGEST_STANDBY_NAME)
                .withDataChecksums(checksums);
    }

    /**
     * Suspends the branch's compute: stops it as {@link #stop} does (its shutdown checkpoint
     * ingested), with state {@link EndpointState#SUSPENDED}, which its record keeps across a server
     * restart (it is not resumed at start). No-op when it does not run.
     *
     * @return whether it ran and is suspended now
     */
    public boolean suspend(String tenant, String ref) {
        Endpoint e = get(tenant, ref);
        if (e == null) {
            return false;
        }
        synchronized (e) {
            if (!e.active()) {
                return false;
            }
            stopLocked(e);
            putRecord(e, false, true); // durable before anyone sees the state
            e.state = EndpointState.SUSPENDED;
            log.info("endpoint {} suspended (no client session for its suspend timeout)", e.key);
            return true;
        }
    }

    /**
     * The directory of the Unix-domain socket of the compute of {@code tenant}/{@code ref}:
     * {@code <dataDir>/run/<12 hex digits of SHA-256(tenant/ref)>}, or, when that path is too long
     * for {@code sun_path} (107 bytes with {@code /.s.PGSQL.NNNNN.lock}), {@code <java.io.tmpdir>/forkline-<16 hex
     * digits of SHA-256(data directory, tenant/ref)>}. Mode 0700, owned by the compute's OS user.
     */
    public Path socketDirectory(String tenant, String ref) {
        String k = key(tenant, ref);
        Path dir = root.getParent().resolve("run").resolve(sha256Hex(k).substring(0, 12)).toAbsolutePath();
        if (dir.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length + "/.s.PGSQL.65535.lock".length() > 107) {
            dir = Path.of(System.getProperty("java.io.tmpdir"))
                    .resolve("forkline-" + sha256Hex(root.toAbsolutePath() + "\0" + k).substring(0, 16)).toAbsolutePath();
        }
        return dir;
    }

    private static String sha256Hex(String s) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Stops the branch's compute with a fast shutdown and waits until its shutdown checkpoint is
     * ingested, so the next start continues from exactly where this one ended; then deletes its
     * {@code pgdata} (the next start builds a fresh one). No-op when stopped.
     */
    public void stop(String tenant, String ref) {
        Endpoint e = get(tenant, ref);
        if (e == null) {
            return;
        }
        synchronized (e) {
            boolean wasActive = e.active() || e.state == EndpointState.SUSPENDED; // suspended -> stopped: stays stopped
            stopLocked(e);
            if (wasActive) {
                putRecord(e, false); // stopped by request: it stays stopped over a server restart
            }
        }
    }

    private void stopLocked(Endpoint e) {
        closeCatchUpConnection(e);
        LaunchedCompute l = e.local;
        RemoteComputeNode.Compute rc = e.remote;
        RemoteComputeNode node = e.node;
        WalReceiver r = e.receiver;
        try {
            if (l != null || rc != null) {
                if (r != null) {
                    r.computeStopping();
                }
                long ckpt = 0;
                if (l != null) {
                    ckpt = l.shutdown(STOP_TIMEOUT, e.key); // files kept until its WAL is known to be in the store
                } else {
                    try {
                        ckpt = node.stop(e.tenant, e.ref);
                    } catch (IOException ex) {
                        // a killed node: its start cleans what it left; what was committed is ingested
                        log.warn("endpoint {}: cannot stop its compute on the compute node: {}", e.key, ex.getMessage());
                    }
                }
                if (r != null && r.state() != ReceiverState.FAILED && ckpt != 0
                        && !r.awaitLastRecordLsn(ckpt + 1, SHUTDOWN_CHECKPOINT_WAIT)) {
                    log.warn("endpoint {}: shutdown checkpoint {} not ingested in time", e.key, Lsn.format(ckpt));
                }
            }
        } finally {
            if (l != null) {
                l.kill(e.key); // no-op after a clean stop
            }
            if (r != null) {
                r.close();
            }
            if (l != null && !l.isAlive()) {
                // the WAL the receiver did not make durable (a compute that died, a lost connection, a
                // shutdown checkpoint not ingested in time) is read from the compute's pg_wal first
                if (recoverWal(dirOf(e.tenant, e.ref), e.key)) {
                    l.discardFiles(e.key);
                }
            }
            e.local = null;
            e.remote = null;
            e.receiver = null;
            e.state = EndpointState.STOPPED;
        }
    }

    /**
     * Before a new compute of {@code tenant}/{@code ref} replaces the files of the last one: stops a
     * postmaster still running there and ingests what its {@code pg_wal} holds beyond the store
     * ({@link ComputeWal}).
     *
     * @throws ApiException 503 naming the directory when that WAL cannot be ingested (the files stay)
     */
    private void recoverLeftoverWal(String tenant, String ref) {
        Path dir = dirOf(tenant, ref);
        if (!Files.exists(dir.resolve(ComputeWal.MARKER))) {
            return;
        }
        ComputeProcess.killPostmaster(dir.resolve("pgdata"));
        if (!recoverWal(dir, key(tenant, ref))) {
            throw ApiException.unavailable("the WAL of the last compute of branch '" + ref + "' in " + dir
                    + " could not be ingested (see the server log); its files are kept");
        }
    }

    /** {@link ComputeWal#recover}; false (logged) when it fails. */
    private boolean recoverWal(Path dir, String label) {
        try {
            ComputeWal.recover(store, dir, tl -> {
                var md = store.timeline(tl);
                return md != null && TenantBootstrapFiles.controlFile(store, md.tenant()).dataChecksumVersion() != 0;
            });
            return true;
        } catch (IOException | RuntimeException ex) {
            log.error("endpoint {}: cannot ingest the WAL its compute left in {}: {}", label, dir, ex.toString());
            return false;
        }
    }

    /**
     * Makes every commit the running compute of {@code tenant}/{@code ref} has acknowledged durable in
     * the store, so a branch, restore point or backup taken at the timeline's head includes it: a
     * compute of this machine acknowledges a commit once its own WAL is fsync'd and streams it
     * asynchronously ({@link ComputeSettings#commitSettings()}). Reads the compute's WAL flush LSN
     * and waits until the WAL receiver has made every record ending at or below it durable. No-op
     * when the branch's compute does not run on {@code timeline} here or commits wait for the store;
     * when it died, what its {@code pg_wal} holds is ingested first.
     *
     * @throws ApiException 503 when the compute cannot be reached, the store does not catch up within
     *                      120 s (the message names both LSNs), or a dead compute's WAL cannot be
     *                      ingested
     */
    public void catchUp(String tenant, String ref, TimelineId timeline) {
        Endpoint e = get(tenant, ref);
        if (e == null || !timeline.equals(e.timeline)) {
            return;
        }
        LaunchedCompute l = e.local;
        if (l == null || e.state != EndpointState.RUNNING || e.receiver == null) {
            synchronized (e) {
                if (e.local == null && e.state != EndpointState.PROVISIONING) {
                    recoverLeftoverWal(tenant, ref); // no-op without a marker
                }
            }
            return;
        }
        if (!ComputeSettings.commitsAcknowledgedLocally()) {
            return;
        }
        long flushed;
        try {
            flushed = computeFlushLsn(e);
        } catch (java.sql.SQLException ex) {
            if (!l.isAlive()) {
                // it died: its acknowledged commits are in its pg_wal; the stop ingests them
                synchronized (e) {
                    if (e.local == l) {
                        stopLocked(e);
                        e.state = EndpointState.FAILED;
                    }
                }
                return;
            }
            throw ApiException.unavailable("cannot read how far the compute of branch '" + ref
                    + "' has flushed its WAL: " + ex.getMessage());
        }
        WalReceiver receiver = e.receiver;
        if (receiver != null && !receiver.awaitLsn(flushed, CATCH_UP_TIMEOUT)) {
            throw ApiException.unavailable("the store has not caught up with the compute of branch '" + ref
                    + "' within " + CATCH_UP_TIMEOUT.toSeconds() + " s: it holds its WAL up to "
                    + Lsn.format(receiver.receivedLsn()) + ", the compute flushed up to " + Lsn.format(flushed)
                    + (receiver.isFailed() ? " (its WAL receiver failed: " + receiver.failure().getMessage() + ")" : ""));
        }
    }

    /**
     * {@code pg_current_wal_flush_lsn()} of the running compute of {@code e}: every commit it has
     * acknowledged ends at or below it. (A transaction of our own with {@code synchronous_commit = on}
     * would not do: one that wrote no WAL before its commit record, e.g. {@code SELECT txid_current()},
     * commits asynchronously; {@code RecordTransactionCommit} waits for a standby only when
     * {@code wrote_xlog}.)
     */
    private static long computeFlushLsn(Endpoint e) throws java.sql.SQLException {
        synchronized (e.catchUpLock) {
            for (int attempt = 0; ; attempt++) {
                java.sql.Connection c = e.catchUpConnection;
                boolean fresh = c == null;
                try {
                    if (fresh) {
                        c = openForFlushLsn(e.address());
                        e.catchUpConnection = c;
                    }
                    return queryFlushLsn(c);
                } catch (java.sql.SQLException ex) {
                    closeCatchUpConnection(e);
                    if (fresh || attempt > 0) {
                        throw ex;
                    }
                    // the kept connection broke (e.g. its backend was terminated): once more on a new one
                }
            }
        }
    }

    private static void closeCatchUpConnection(Endpoint e) {
        synchronized (e.catchUpLock) {
            java.sql.Connection c = e.catchUpConnection;
            e.catchUpConnection = null;
            if (c != null) {
                try {
                    c.close();
                } catch (java.sql.SQLException ignored) {
                    // closing a broken connection
                }
            }
        }
    }

    /**
     * {@code pg_current_wal_flush_lsn()} of the compute at {@code a} (as user {@code postgres}), bytes.
     *
     * @throws java.sql.SQLException when it cannot be reached or {@code a} is null (not running)
     */
    public static long flushLsn(io.forkline.compute.proxy.ComputeAddress a) throws java.sql.SQLException {
        try (java.sql.Connection c = openForFlushLsn(a)) {
            return queryFlushLsn(c);
        }
    }

    private static java.sql.Connection openForFlushLsn(io.forkline.compute.proxy.ComputeAddress a) throws java.sql.SQLException {
        if (a == null) {
            throw new java.sql.SQLException("the compute is not running");
        }
        java.util.Properties p = new java.util.Properties();
        p.setProperty("connectTimeout", "10");
        p.setProperty("socketTimeout", "30");
        p.setProperty("ApplicationName", "forkline-catch-up");
        return ComputeConnections.connect(a, "postgres", p);
    }

    private static long queryFlushLsn(java.sql.Connection c) throws java.sql.SQLException {
        try (java.sql.Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("SELECT pg_current_wal_flush_lsn()")) {
            if (!rs.next() || rs.getString(1) == null) {
                throw new java.sql.SQLException("SELECT pg_current_wal_flush_lsn() returned no LSN");
            }
            return Lsn.parse(rs.getString(1));
        }
    }

    /**
     * Stops every endpoint (server shutdown). Their records keep saying they ran, so the next server
     * start brings them back on their ports ({@link #toResume}).
     */
    @Override
    public void close() {
        for (Endpoint e : endpoints.values()) {
            synchronized (e) {
                try {
                    stopLocked(e);
                } catch (RuntimeException ex) {
                    log.warn("stopping endpoint {} failed: {}", e.key, ex.toString());
                }
            }
        }
    }

    /**
     * The computes a killed server left (their postmasters are gone now): ingests what their
     * {@code pg_wal} holds beyond the store before anything else runs ({@link ComputeWal}); one that
     * fails keeps its files and marker, and its endpoint refuses to start until it succeeds.
     */
    private void recoverOrphanWal() {
        if (!Files.isDirectory(root)) {
            return;
        }
        try (java.util.stream.Stream<Path> s = Files.walk(root, 3)) {
            for (Path marker : s.filter(p -> p.getFileName().toString().equals(ComputeWal.MARKER)).toList()) {
                recoverWal(marker.getParent(), root.relativize(marker.getParent()).toString());
            }
        } catch (IOException | java.io.UncheckedIOException e) {
            log.warn("cannot scan {} for the WAL of computes of a killed server: {}", root, e.toString());
        }
    }

    private void killOrphans() {
        // computes of a killed server: postmasters still running, dead FUSE mounts
        int n = LaunchedCompute.cleanOrphansUnder(root);
        if (n > 0) {
            log.warn("cleaned {} orphan postmaster(s) and mount(s) under {} left by a previous server", n, root);
        }
    }
}
