package io.forkline.pageserver.server;

import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.compute.proxy.PgProxy;
import io.forkline.pageserver.access.ConnectionStrings;
import io.forkline.pageserver.proxy.BranchComputeDirectory;
import io.forkline.pageserver.api.AdminHttpServer;
import io.forkline.pageserver.api.OpenApiRoutes;
import io.forkline.pageserver.api.DiffRoutes;
import io.forkline.pageserver.diff.DiffService;
import io.forkline.pageserver.console.ConsoleAssets;
import io.forkline.pageserver.console.ConsoleRoutes;
import io.forkline.pageserver.console.ConsoleSessions;
import io.forkline.pageserver.api.BackupRoutes;
import io.forkline.pageserver.api.MetricsRoutes;
import io.forkline.pageserver.api.RetentionRoutes;
import io.forkline.pageserver.api.StatusRoutes;
import io.forkline.pageserver.api.TokenRoutes;
import io.forkline.pageserver.api.TenantRoutes;
import io.forkline.pageserver.auth.AuthMode;
import io.forkline.pageserver.auth.TokenAuthority;
import io.forkline.pageserver.auth.TokenVerifier;
import io.forkline.pageserver.backup.BackupService;
import io.forkline.pageserver.metrics.ServerMetrics;
import io.forkline.pageserver.pageservice.PageService;
import io.forkline.pageserver.pageservice.PageServiceConfig;
import io.forkline.pageserver.pageservice.TokenSessionAuthorizer;
import io.forkline.pageserver.retention.GcSettings;
import io.forkline.pageserver.retention.RetainedLsn;
import io.forkline.pageserver.retention.RetentionService;
import io.forkline.pageserver.tenant.TenantService;
import io.forkline.storage.store.PageStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;

/**
 * One Forkline server: the page store under {@code <dataDir>/store} (RocksDB), the tenants and
 * their endpoints, and the admin HTTP API on {@code 127.0.0.1:port} (with {@code GET /metrics},
 * {@link ServerMetrics}). {@link #close()} stops the API, then every endpoint, then the store.
 */
public final class PageServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PageServer.class);

    private final DataDirectoryLock dirLock;
    private final PageStore store;
    private final TenantService tenants;
    private final BackupService backups;
    private final RetentionService retention;
    private final ServerMetrics metrics;
    private final AdminHttpServer api;
    private final PageService pageService;
    private final TokenAuthority auth;
    private final BranchComputeDirectory computeDirectory;
    private final PgProxy pgProxy;

    private PageServer(DataDirectoryLock dirLock, PageStore store, TenantService tenants, BackupService backups,
                       RetentionService retention, ServerMetrics metrics, AdminHttpServer api, PageService pageService,
                       TokenAuthority auth, BranchComputeDirectory computeDirectory, PgProxy pgProxy) {
        this.dirLock = dirLock;
        this.pageService = pageService;
        this.auth = auth;
        this.store = store;
        this.tenants = tenants;
        this.backups = backups;
        this.retention = retention;
        this.metrics = metrics;
        this.api = api;
        this.computeDirectory = computeDirectory;
        this.pgProxy = pgProxy;
    }

    /**
     * What the Postgres proxy asks about endpoints: ids, password verifiers, wake on connect and
     * the sessions that drive scale to zero ({@link io.forkline.pageserver.proxy.BranchComputeDirectory}).
     */
    public BranchComputeDirectory computeDirectory() {
        return computeDirectory;
    }

    /**
     * The Postgres proxy: one port for every branch's compute, routing by endpoint id, checking the
     * branch's password, waking suspended computes ({@link PostgresProxySettings}).
     */
    public PgProxy pgProxy() {
        return pgProxy;
    }

    /** The Postgres proxy's TCP port (the one bound when configured with 0). */
    public int pgPort() {
        return pgProxy.port();
    }

    /**
     * Opens the data directory and starts serving.
     *
     * @param port admin API port; 0 picks a free one
     * @throws IOException when the port is in use, or {@link DataDirectoryLock.InUseException} when
     *                     another server holds {@code dataDir} (naming its PID)
     * @throws io.forkline.storage.store.StorageException when the store cannot be opened (e.g. another
     *                                                    server holds it)
     * @throws io.forkline.compute.postgres.PostgresException when PostgreSQL 15 is missing
     */
    public static PageServer start(Path dataDir, int port, Clock clock) throws IOException {
        return start(dataDir, port, PageServiceConfig.defaults(0), clock);
    }

    /**
     * Opens the data directory and starts serving: the admin API on {@code 127.0.0.1:port} and the
     * page service as {@code pageConfig} says (its port 0 picks a free one).
     *
     * @throws IOException when a port is in use (the message names it)
     * @throws io.forkline.storage.store.StorageException when the store cannot be opened
     * @throws io.forkline.compute.postgres.PostgresException when PostgreSQL 15 is missing
     */
    public static PageServer start(Path dataDir, int port, PageServiceConfig pageConfig, Clock clock)
            throws IOException {
        return start(dataDir, port, pageConfig, clock, AuthMode.ON);
    }

    /**
     * {@link #start(Path, int, PageServiceConfig, Clock)} with authentication on or off.
     *
     * @param authMode whether tokens are checked; the signing key and admin token under
     *                 {@code <dataDir>/auth/} are created at the first start either way
     *                 ({@link TokenAuthority}), and the admin token is written to the client token
     *                 file of the admin port
     */
    public static PageServer start(Path dataDir, int port, PageServiceConfig pageConfig, Clock clock, AuthMode authMode)
            throws IOException {
        PostgresInstallation pg = PostgresInstallation.detect();
        DataDirectoryLock dirLock = DataDirectoryLock.acquire(dataDir);
        PageStore store;
        try {
            store = PageStore.open(dataDir.resolve("store"));
        } catch (RuntimeException e) {
            dirLock.close();
            throw e;
        }
        TenantService tenants = null;
        BackupService backups = null;
        RetentionService retention = null;
        ServerMetrics metrics = null;
        PageService pages = null;
        BranchComputeDirectory computeDirectory = null;
        PgProxy pgProxy = null;
        try {
            TokenAuthority auth = TokenAuthority.open(dataDir, authMode, clock); // after the store: its lock is ours
            tenants = new TenantService(store, pg, dataDir, clock);
            backups = new BackupService(store, tenants, dataDir, clock);
            retention = new RetentionService(store, tenants, clock, GcSettings.fromSystem());
            registerRetention(tenants, backups, retention);
            pages = PageService.start(store, tenants, new TokenSessionAuthorizer(auth.verifier()), pageConfig);
            // computes' basebackup fetches: a token of their own tenant only, made per fetch, never written anywhere
            tenants.endpoints().usePageService(pageConfig.bindHost(), pages.port(),
                    tenant -> auth.issuer().tenantToken(tenant, java.util.Optional.empty()).token());
            // computes on a compute node (forkline compute-node, started with this server's admin token)
            var computeNode = io.forkline.pageserver.endpoint.RemoteComputeNode.configured();
            tenants.endpoints().useComputeNode(computeNode == null ? null : computeNode.url(),
                    computeNode == null ? null : computeNode.certificate(), auth.adminToken());
            // one Postgres port for every branch; printed connection strings point at it (set before the
            // admin API starts printing them)
            computeDirectory = new BranchComputeDirectory(tenants.branches(), tenants.endpoints());
            pgProxy = PgProxy.start(PostgresProxySettings.fromSystem(dataDir), computeDirectory);
            tenants.branches().access().useProxy(ConnectionStrings.configured().withPort(pgProxy.port()));
            metrics = new ServerMetrics(store, tenants, retention, pages);
            metrics.bindProxy(pgProxy);
            ConsoleSessions sessions = new ConsoleSessions(auth.issuer(), clock);
            AdminHttpServer api = AdminHttpServer.start(port, auth.verifier(), sessions,
                    new StatusRoutes(clock, auth.verifier(), pages.port()),
                    new TokenRoutes(auth.issuer(), tenants), new TenantRoutes(tenants), new BackupRoutes(backups),
                    new RetentionRoutes(retention, tenants, store), new MetricsRoutes(metrics),
                    new ConsoleRoutes(sessions, auth.verifier(), tenants, new ConsoleAssets()), new OpenApiRoutes(),
                    new DiffRoutes(new DiffService(tenants, pg)));
            // computes that ran when the server went down come back on their ports
            tenants.branches().resumeEndpoints();
            // mirrors of running primaries stream again from their slots
            tenants.resumeMirrors();
            retention.startBackground();
            backups.start(Duration.ofSeconds(1));
            auth.publishAdminToken(api.port(), System.getenv());
            log.info("forkline server on http://127.0.0.1:{} (page service {}:{}, Postgres proxy port {}) data {} auth {}",
                    api.port(), pageConfig.bindHost(), pages.port(), pgProxy.port(), dataDir.toAbsolutePath(),
                    authMode.name().toLowerCase(java.util.Locale.ROOT));
            return new PageServer(dirLock, store, tenants, backups, retention, metrics, api, pages, auth, computeDirectory, pgProxy);
        } catch (IOException | RuntimeException e) {
            if (pgProxy != null) {
                pgProxy.close();
            }
            if (computeDirectory != null) {
                computeDirectory.close();
            }
            if (pages != null) {
                pages.close();
            }
            if (metrics != null) {
                metrics.close();
            }
            if (retention != null) {
                retention.close();
            }
            if (backups != null) {
                backups.close();
            }
            if (tenants != null) {
                tenants.close();
            }
            store.close();
            dirLock.close();
            throw e;
        }
    }

    /**
     * What keeps history and timelines alive, registered in one place: backups and active LSN leases
     * pin their timelines against branch delete and reset ({@link TenantService#addTimelinePin}),
     * and their LSNs hold GC's cutoff (leases: by the retention service itself; backups: a
     * {@link io.forkline.pageserver.retention.RetainedLsnSource}).
     */
    private static void registerRetention(TenantService tenants, BackupService backups, RetentionService retention) {
        tenants.addTimelinePin(backups::pins);
        tenants.branches().addRenameListener(backups::branchRenamed);
        tenants.addTimelinePin(retention::pins);
        retention.addSource(t -> RetainedLsn.fromMap(backups.retainedLsns(t), "backup"));
    }

    /** Every route of the admin API (method, pattern, access): what {@code /v1/openapi.json} must describe. */
    public java.util.List<io.forkline.pageserver.api.Router.RouteInfo> routes() {
        return api.routes();
    }

    /** The admin API's TCP port on 127.0.0.1 (the one bound when {@link #start} was given 0). */
    public int port() {
        return api.port();
    }

    /** Tenants, branches and their endpoints: the operations behind the admin API. */
    public TenantService tenants() {
        return tenants;
    }

    /** Backups and their schedules (the scheduler thread ticks every second). */
    public BackupService backups() {
        return backups;
    }

    /** Retention settings, LSN leases and GC (background thread every {@link GcSettings#interval()}). */
    public RetentionService retention() {
        return retention;
    }

    /** The page service (Netty, page protocol): its port and counters. */
    public PageService pageService() {
        return pageService;
    }

    /** The page service's TCP port. */
    public int pagePort() {
        return pageService.port();
    }

    /** The page store under {@code <dataDir>/store}; closed by {@link #close()}. */
    public PageStore store() {
        return store;
    }

    /**
     * The gate of the admin API and the page service: {@link TokenVerifier#verify} turns a bearer
     * token into its {@link io.forkline.pageserver.auth.AuthScope}, or accepts anything as admin
     * when the server runs with {@code --auth off}.
     */
    public TokenVerifier tokenVerifier() {
        return auth.verifier();
    }

    /** The signing key's issuer, the admin token and its file ({@code <dataDir>/auth/}). */
    public TokenAuthority auth() {
        return auth;
    }

    /** The metrics behind {@code GET /metrics}. */
    public ServerMetrics metrics() {
        return metrics;
    }

    @Override
    public void close() {
        try {
            api.close();
        } finally {
            try {
                pgProxy.close(); // no new client sessions while computes stop
                computeDirectory.close();
                metrics.close();
                retention.close();
                backups.close();
                tenants.close(); // stops computes first: their ingest may still be in flight
                pageService.close();
            } finally {
                try {
                    store.close();
                } finally {
                    dirLock.close();
                }
            }
        }
    }
}
