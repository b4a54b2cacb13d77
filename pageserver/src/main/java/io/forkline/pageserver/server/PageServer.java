package io.forkline.pageserver.server;

import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.pageserver.api.AdminHttpServer;
import io.forkline.pageserver.tenant.TenantService;
import io.forkline.storage.store.PageStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;

/**
 * One Forkline server: the page store under {@code <dataDir>/store} (RocksDB), the tenants and
 * their endpoints, and the admin HTTP API on {@code 127.0.0.1:port}. {@link #close()} stops every
 * endpoint, then the API, then the store.
 */
public final class PageServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PageServer.class);

    private final PageStore store;
    private final TenantService tenants;
    private final AdminHttpServer api;

    private PageServer(PageStore store, TenantService tenants, AdminHttpServer api) {
        this.store = store;
        this.tenants = tenants;
        this.api = api;
    }

    /**
     * Opens the data directory and starts serving.
     *
     * @param port admin API port; 0 picks a free one
     * @throws IOException when the port is in use
     * @throws io.forkline.storage.store.StorageException when the store cannot be opened (e.g. another
     *                                                    server holds it)
     * @throws io.forkline.compute.postgres.PostgresException when PostgreSQL 15 is missing
     */
    public static PageServer start(Path dataDir, int port, Clock clock) throws IOException {
        PostgresInstallation pg = PostgresInstallation.detect();
        PageStore store = PageStore.open(dataDir.resolve("store"));
        TenantService tenants = null;
        try {
            tenants = new TenantService(store, pg, dataDir, clock);
            AdminHttpServer api = AdminHttpServer.start(port, tenants);
            log.info("forkline server on http://127.0.0.1:{} data {}", api.port(), dataDir.toAbsolutePath());
            return new PageServer(store, tenants, api);
        } catch (IOException | RuntimeException e) {
            if (tenants != null) {
                tenants.close();
            }
            store.close();
            throw e;
        }
    }

    public int port() {
        return api.port();
    }

    public TenantService tenants() {
        return tenants;
    }

    public PageStore store() {
        return store;
    }

    @Override
    public void close() {
        try {
            api.close();
        } finally {
            try {
                tenants.close();
            } finally {
                store.close();
            }
        }
    }
}
