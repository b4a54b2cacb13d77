package io.forkline.pageserver.endpoint;

import io.forkline.compute.endpoint.ComputeProcess;
import io.forkline.compute.endpoint.ComputeSettings;
import io.forkline.compute.postgres.PostgresException;
import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.pageserver.api.ApiException;
import io.forkline.pageserver.basebackup.BasebackupBuilder;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;
import io.forkline.wal.replication.ReceiverState;
import io.forkline.wal.replication.WalReceiver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Runs one compute per branch: builds the basebackup at the timeline's last record LSN, starts
 * stock PostgreSQL 15 on a free port, and streams its WAL back into the timeline with a
 * {@link WalReceiver} (synchronous replication: commits wait for Forkline's flush).
 *
 * <p>Directory layout: {@code <dataDir>/endpoints/<tenant>/<ref-with-slashes-escaped>/pgdata} plus
 * {@code postgres.log} beside it. On construction, postmasters left behind by a killed server
 * are killed (they would otherwise hold ports and accept writes nobody ingests).
 *
 * <p>Thread-safe; start and stop of one endpoint are serialized on that endpoint.
 */
public final class EndpointManager implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EndpointManager.class);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);
    private static final Pattern CHECKPOINT_LINE = Pattern.compile("Latest checkpoint location:\\s+([0-9A-Fa-f]+/[0-9A-Fa-f]+)");

    private final PageStore store;
    private final PostgresInstallation pg;
    private final Path root;
    private final Map<String, Endpoint> endpoints = new ConcurrentHashMap<>();

    /** A running (or starting) compute and its WAL receiver. */
    public static final class Endpoint {
        private final String key;
        private volatile EndpointState state = EndpointState.STOPPED;
        private volatile ComputeProcess compute;
        private volatile WalReceiver receiver;
        private volatile TimelineId timeline;

        Endpoint(String key) {
            this.key = key;
        }

        public EndpointState state() {
            return state;
        }

        /** libpq URI, or {@code null} when not running. */
        public String uri() {
            ComputeProcess c = compute;
            return state == EndpointState.RUNNING && c != null ? uriFor(c.port()) : null;
        }

        public WalReceiver receiver() {
            return receiver;
        }

        public ComputeProcess compute() {
            return compute;
        }
    }

    /**
     * @param dataDir the server's data directory; endpoints live under {@code dataDir/endpoints}
     */
    public EndpointManager(PageStore store, PostgresInstallation pg, Path dataDir) {
        this.store = store;
        this.pg = pg;
        this.root = dataDir.resolve("endpoints");
        killOrphans();
    }

    /** The libpq URI of a compute on {@code port}. */
    public static String uriFor(int port) {
        return "postgresql://postgres@127.0.0.1:" + port + "/postgres";
    }

    private static String key(String tenant, String ref) {
        return tenant + "/" + ref;
    }

    private Path dirOf(String tenant, String ref) {
        return root.resolve(tenant).resolve(ref.replace("/", "%2F"));
    }

    /** The endpoint of a branch, or {@code null} when it was never started in this server. */
    public Endpoint get(String tenant, String ref) {
        return endpoints.get(key(tenant, ref));
    }

    /** State of a branch's endpoint. */
    public EndpointState state(String tenant, String ref) {
        Endpoint e = get(tenant, ref);
        return e == null ? EndpointState.STOPPED : e.state();
    }

    /**
     * Starts the branch's compute at its timeline's last record LSN, or returns the running one's URI.
     *
     * @return the libpq URI {@code postgresql://postgres@127.0.0.1:PORT/postgres}
     * @throws ApiException 503 when postgres cannot be started (the log tail is in the message)
     */
    public String start(String tenant, String ref, TimelineId timeline) {
        Endpoint e = endpoints.computeIfAbsent(key(tenant, ref), Endpoint::new);
        synchronized (e) {
            if (e.state == EndpointState.RUNNING && e.compute != null && e.compute.isAlive()
                    && e.receiver != null && e.receiver.state() != ReceiverState.FAILED) {
                return e.uri();
            }
            if (e.state == EndpointState.RUNNING) {
                // the compute or its ingest died: start over from what is durable
                stopLocked(e);
            }
            e.state = EndpointState.PROVISIONING;
            e.timeline = timeline;
            Path dir = dirOf(tenant, ref);
            Path pgdata = dir.resolve("pgdata");
            try {
                ComputeProcess.killPostmaster(pgdata);
                deleteRecursively(pgdata);
                Files.createDirectories(dir);
                long lsn = store.lastRecordLsn(timeline);
                long t0 = System.nanoTime();
                new BasebackupBuilder(store).build(timeline, lsn, pgdata);
                log.info("basebackup of {} at {} built in {} ms", key(tenant, ref), Lsn.format(lsn),
                        (System.nanoTime() - t0) / 1_000_000);
                int port = ComputeProcess.freePort();
                ComputeProcess compute = ComputeProcess.start(pg, pgdata, port, START_TIMEOUT);
                e.compute = compute;
                long walStart = Lsn.nextSegmentStart(lsn);
                e.receiver = WalReceiver.start(store, timeline, "127.0.0.1", port, "postgres",
                        ComputeSettings.INGEST_STANDBY_NAME, walStart);
                e.state = EndpointState.RUNNING;
                log.info("endpoint {} running on port {}, WAL from {}", key(tenant, ref), port, Lsn.format(walStart));
                return e.uri();
            } catch (IOException | RuntimeException ex) {
                stopLocked(e);
                if (ex instanceof ApiException api) {
                    throw api;
                }
                throw ApiException.unavailable("cannot start endpoint of branch '" + ref + "': " + ex.getMessage());
            }
        }
    }

    /**
     * Stops the branch's compute with a fast shutdown and waits until its shutdown checkpoint is
     * ingested, so the next start continues from exactly where this one ended. No-op when stopped.
     */
    public void stop(String tenant, String ref) {
        Endpoint e = get(tenant, ref);
        if (e == null) {
            return;
        }
        synchronized (e) {
            stopLocked(e);
        }
    }

    private void stopLocked(Endpoint e) {
        ComputeProcess c = e.compute;
        WalReceiver r = e.receiver;
        try {
            if (c != null) {
                if (r != null) {
                    r.computeStopping();
                }
                c.stop(STOP_TIMEOUT);
                if (r != null && r.state() != ReceiverState.FAILED) {
                    long ckpt = finalCheckpointLsn(c.dataDir());
                    if (ckpt != 0 && !awaitDurable(r, ckpt + 1, Duration.ofSeconds(30))) {
                        log.warn("endpoint {}: shutdown checkpoint {} not ingested in time", e.key, Lsn.format(ckpt));
                    }
                }
            }
        } finally {
            if (r != null) {
                r.close();
            }
            e.compute = null;
            e.receiver = null;
            e.state = EndpointState.STOPPED;
        }
    }

    /** Waits until the receiver's durable last record LSN reaches {@code lsn}. */
    private static boolean awaitDurable(WalReceiver r, long lsn, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (Long.compareUnsigned(r.lastRecordLsn(), lsn) < 0) {
            if (System.nanoTime() > deadline || r.state() == ReceiverState.FAILED) {
                return false;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    private long finalCheckpointLsn(Path pgdata) {
        try {
            String out = PostgresInstallation.runCommand(Duration.ofSeconds(30),
                    List.of(pg.bin("pg_controldata").toString(), pgdata.toString()));
            Matcher m = CHECKPOINT_LINE.matcher(out);
            return m.find() ? Lsn.parse(m.group(1)) : 0;
        } catch (PostgresException ex) {
            log.warn("cannot read final checkpoint of {}: {}", pgdata, ex.getMessage());
            return 0;
        }
    }

    /** Stops every endpoint (server shutdown). */
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

    private void killOrphans() {
        if (!Files.isDirectory(root)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root, 3)) {
            s.filter(p -> p.getFileName().toString().equals("pgdata")).forEach(p -> {
                if (ComputeProcess.killPostmaster(p)) {
                    log.warn("killed orphan postmaster on {} left by a previous server", p);
                }
            });
        } catch (IOException e) {
            log.warn("cannot scan {} for orphan computes: {}", root, e.toString());
        }
    }

    static void deleteRecursively(Path dir) throws IOException {
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
