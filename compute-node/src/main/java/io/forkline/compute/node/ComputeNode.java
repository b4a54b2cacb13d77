package io.forkline.compute.node;

import io.forkline.compute.endpoint.ComputeSettings;
import io.forkline.compute.proxy.tls.SelfSignedCertificate;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;

import io.forkline.compute.endpoint.ComputeSize;
import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.compute.proxy.tls.SelfSignedCertificate;
import io.forkline.page.client.PageClientConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The computes of one compute node ({@code forkline compute-node}): starts and stops computes of
 * any tenant's timeline that the server asks for, each built from the page service at
 * {@code pageHost:pagePort} with the node's token ({@link LaunchedCompute}). The node has no store:
 * the compute's WAL streams to the server's WAL receiver, which connects to the compute's port.
 *
 * <p>Layout: {@code <dataDir>/computes/<tenant>/<ref with / written %2F>/} per compute (see
 * {@link LaunchedCompute}). At construction, postmasters and FUSE mounts that a killed node left
 * under {@code <dataDir>/computes} are killed and unmounted.
 *
 * <p>Thread-safe; start and stop of one compute are serialized on it.
 */
public final class ComputeNode implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ComputeNode.class);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);

    private final PostgresInstallation pg;
    private final String pageHost;
    private final int pagePort;
    private final String token;
    private final Path root;
    private final String listenHost;
    /** {@code [certificate, key]}: the node's own, each compute's {@code ssl_cert_file} / {@code ssl_key_file}. */
    private final Path[] serverCertificate;
    private final Map<String, Slot> computes = new ConcurrentHashMap<>();

    /** What runs for one {@code tenant/ref}. */
    private static final class Slot {
        volatile LaunchedCompute compute;
        volatile ComputeSpec spec;
    }

    /**
     * What the server asks for: the compute of branch {@code ref} of {@code tenant} on
     * {@code timelineId} at its last record LSN.
     *
     * @param port        the port to listen on when free, 0 for any
     * @param storage     {@code lazy} or {@code full}
     * @param clientCaPem the CA certificate (PEM) of the server's TLS client certificate: the compute
     *                    accepts TCP connections only over TLS with a certificate it issued
     * @param settings    postgresql.conf lines of this compute (name → value as the file takes it)
     */
    public record ComputeSpec(String tenant, String ref, String timelineId, ComputeSize size, int port, String storage,
                              String clientCaPem, Map<String, String> settings) {
        /** {@code tenant/ref}. */
        public String key() {
            return tenant + "/" + ref;
        }
    }

    /**
     * A compute as the node reports it.
     *
     * @param state         {@code running}, or {@code failed} when its PostgreSQL exited by itself
     * @param lsn           the start LSN
     * @param blocksFetched blocks the lazy data directory fetched, -1 for a full one
     */
    public record ComputeStatus(String tenant, String ref, String timelineId, int port, String storage, String state,
                                long lsn, long blocksFetched) {
    }

    /**
     * @param pageHost page service host, as the node reaches it
     * @param token    what the node presents to the page service (a token the server issued)
     * @param dataDir  the node's own directory (created if missing)
     */
    public ComputeNode(PostgresInstallation pg, String pageHost, int pagePort, String token, Path dataDir) throws IOException {
        this(pg, pageHost, pagePort, token, dataDir, "127.0.0.1");
    }

    /**
     * @param listenHost the address computes listen on (the node API's; they also listen on
     *                   127.0.0.1, where the node checks that they are up)
     * @throws IOException when the node's TLS certificate cannot be made in {@code <dataDir>/tls}
     */
    public ComputeNode(PostgresInstallation pg, String pageHost, int pagePort, String token, Path dataDir,
                       String listenHost) throws IOException {
        this.pg = pg;
        this.listenHost = listenHost;
        this.serverCertificate = SelfSignedCertificate.ensure(dataDir.resolve("tls"), "compute.crt", "compute.key",
                "forkline-compute-node", "localhost");
        this.pageHost = pageHost;
        this.pagePort = pagePort;
        this.token = token;
        this.root = dataDir.resolve("computes");
        int cleaned = LaunchedCompute.cleanOrphansUnder(root);
        if (cleaned > 0) {
            log.warn("cleaned {} orphan postmaster(s) and mount(s) left by an earlier run under {}", cleaned, root);
        }
    }

    /**
     * The node's own TLS certificate (PEM, self-signed, made at first start in {@code <data dir>/tls}),
     * which its computes and its control API present; the server pins it ({@code --compute-node-cert}).
     */
    public Path certificate() {
        return serverCertificate[0];
    }

    /** The certificate's PKCS#8 private key (PEM, mode 0600). */
    public Path certificateKey() {
        return serverCertificate[1];
    }

    private Path dirOf(String tenant, String ref) {
        return root.resolve(tenant).resolve(ref.replace("/", "%2F"));
    }

    /**
     * Starts the compute of {@code spec}; a compute of the same {@code tenant/ref} that runs is
     * stopped first (its data directory rebuilt).
     *
     * @throws IOException when the data directory cannot be built
     * @throws io.forkline.compute.postgres.PostgresException when postgres does not start
     */
    public ComputeStatus start(ComputeSpec spec) throws IOException {
        Slot s = computes.computeIfAbsent(spec.key(), k -> new Slot());
        synchronized (s) {
            stopLocked(s, spec.key());
            PageClientConfig page = PageClientConfig.of(pageHost, pagePort, spec.tenant(), spec.timelineId(), null, token);
            writeSettings(dirOf(spec.tenant(), spec.ref()), spec);
            s.compute = LaunchedCompute.launch(pg, page, dirOf(spec.tenant(), spec.ref()), !"full".equals(spec.storage()),
                    spec.port(), spec.size(), START_TIMEOUT, spec.key());
            s.spec = spec;
            log.info("compute {} ({}, {}) running on port {}", spec.key(), s.compute.storage(), spec.size().apiName(),
                    s.compute.port());
            return status(s);
        }
    }

    /**
     * Writes {@code <dir>/compute-extra.conf} (which the compute's postgresql.conf includes last):
     * the server's settings, then TLS ({@code ssl}, the node's certificate and key, the server's
     * CA as {@code ssl_ca_file}), {@code listen_addresses} and {@code hba_file}, and
     * {@code <dir>/tls/pg_hba.conf}, which admits TCP connections only over TLS with a client
     * certificate that CA issued ({@code hostssl ... trust clientcert=verify-ca}; the certificate
     * authenticates the server, which connects as any role: its proxy relays clients already
     * authenticated with the branch's password). No Unix-domain socket, no other line.
     */
    private void writeSettings(Path dir, ComputeSpec spec) throws IOException {
        Path tls = dir.resolve("tls");
        pg.prepareDirectory(tls);
        Path cert = tls.resolve("server.crt");
        Path key = tls.resolve("server.key");
        Path ca = tls.resolve("client-ca.crt");
        Path hba = tls.resolve("pg_hba.conf");
        Files.copy(serverCertificate[0], cert, StandardCopyOption.REPLACE_EXISTING);
        Files.copy(serverCertificate[1], key, StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        Files.writeString(ca, spec.clientCaPem(), StandardCharsets.US_ASCII);
        Files.writeString(hba, """
                # written by the Forkline compute node: TCP only over TLS with the server's client certificate
                hostssl  all          all  all  trust  clientcert=verify-ca
                hostssl  replication  all  all  trust  clientcert=verify-ca
                """, StandardCharsets.US_ASCII);
        pg.chownRecursively(tls);
        Map<String, String> conf = new LinkedHashMap<>(spec.settings());
        boolean loopbackOrAny = listenHost.equals("127.0.0.1") || listenHost.equals("0.0.0.0") || listenHost.equals("*");
        conf.put("listen_addresses", "'" + (loopbackOrAny ? listenHost : "127.0.0.1," + listenHost) + "'");
        conf.put("ssl", "on");
        conf.put("ssl_cert_file", quote(cert));
        conf.put("ssl_key_file", quote(key));
        conf.put("ssl_ca_file", quote(ca));
        conf.put("hba_file", quote(hba));
        Path extra = dir.resolve(ComputeSettings.EXTRA_SETTINGS_FILE);
        Files.writeString(extra, ComputeSettings.render(conf), StandardCharsets.UTF_8);
        extra.toFile().setReadable(true, false);
    }

    private static String quote(Path p) {
        String s = p.toAbsolutePath().toString();
        if (s.indexOf('\'') >= 0) {
            throw new IllegalArgumentException("path " + s + " contains a quote");
        }
        return "'" + s + "'";
    }

    /**
     * Stops the compute of {@code tenant/ref} (fast shutdown) and unmounts its data directory.
     *
     * @return the LSN of its shutdown checkpoint, 0 when unknown or it did not run
     */
    public long stop(String tenant, String ref) {
        Slot s = computes.get(tenant + "/" + ref);
        if (s == null) {
            return 0;
        }
        synchronized (s) {
            return stopLocked(s, tenant + "/" + ref);
        }
    }

    private long stopLocked(Slot s, String label) {
        LaunchedCompute c = s.compute;
        if (c == null) {
            return 0;
        }
        s.compute = null;
        long ckpt = c.stop(STOP_TIMEOUT, label);
        log.info("compute {} stopped (shutdown checkpoint {})", label, LaunchedCompute.formatLsn(ckpt));
        return ckpt;
    }

    /** The compute of {@code tenant/ref}, or null when none runs. */
    public ComputeStatus status(String tenant, String ref) {
        Slot s = computes.get(tenant + "/" + ref);
        return s == null ? null : status(s);
    }

    private static ComputeStatus status(Slot s) {
        LaunchedCompute c = s.compute;
        ComputeSpec spec = s.spec;
        if (c == null || spec == null) {
            return null;
        }
        var stats = c.lazyStats();
        return new ComputeStatus(spec.tenant(), spec.ref(), spec.timelineId(), c.port(), c.storage(),
                c.isAlive() ? "running" : "failed", c.lsn(), stats == null ? -1 : stats.blocksFetched());
    }

    /** Every compute that runs (or failed and was not stopped yet). */
    public List<ComputeStatus> list() {
        List<ComputeStatus> out = new ArrayList<>();
        for (Slot s : computes.values()) {
            ComputeStatus st = status(s);
            if (st != null) {
                out.add(st);
            }
        }
        return out;
    }

    /** Stops every compute (node shutdown). */
    @Override
    public void close() {
        computes.forEach((k, s) -> {
            synchronized (s) {
                try {
                    stopLocked(s, k);
                } catch (RuntimeException e) {
                    log.warn("stopping compute {} failed: {}", k, e.toString());
                }
            }
        });
    }
}
