package io.forkline.pageserver.tenant;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.forkline.compute.endpoint.ComputeProcess;
import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.pageserver.api.ApiException;
import io.forkline.pageserver.endpoint.EndpointManager;
import io.forkline.pageserver.importer.InitdbImporter;
import io.forkline.storage.id.TenantId;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;
import io.forkline.storage.timeline.TimelineMetadata;
import io.forkline.wal.replication.WalReceiver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Tenants and their branches: the operations behind the admin API and the CLI.
 *
 * <p>A tenant is created from {@code initdb} (imported into its {@code main} timeline at the LSN of
 * initdb's shutdown checkpoint). A branch is a timeline with an ancestor and an ancestor LSN:
 * creating one writes metadata only. Tenants and branches are kept as JSON records in the page
 * store's metadata ({@code tenant/<name>}, {@code branch/<tenant>/<ref>}).
 *
 * <p>Thread-safe: operations on one tenant are serialized.
 */
public final class TenantService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TenantService.class);
    private static final Pattern REF = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/-]{0,63}");
    /** How long branch creation waits for ingest to reach the requested LSN. */
    static final Duration INGEST_WAIT = Duration.ofSeconds(30);

    private final PageStore store;
    private final PostgresInstallation pg;
    private final Path dataDir;
    private final EndpointManager endpoints;
    private final Clock clock;
    private final ObjectMapper json = new ObjectMapper();
    private final Map<String, Object> locks = new ConcurrentHashMap<>();

    public TenantService(PageStore store, PostgresInstallation pg, Path dataDir, Clock clock) {
        this.store = store;
        this.pg = pg;
        this.dataDir = dataDir;
        this.clock = clock;
        this.endpoints = new EndpointManager(store, pg, dataDir);
    }

    public EndpointManager endpoints() {
        return endpoints;
    }

    private Object lock(String tenant) {
        return locks.computeIfAbsent(tenant, t -> new Object());
    }

    // ------------------------------------------------------------------ tenants

    /**
     * Creates a tenant: runs {@code initdb}, imports the cluster into a new root timeline and
     * creates its {@code main} branch.
     *
     * @throws ApiException 400 for an invalid name, 409 when it exists
     */
    public TenantInfo createTenant(String name) {
        TenantId id = tenantId(name);
        synchronized (lock(name)) {
            if (store.getMetadata(tenantKey(name)) != null) {
                throw ApiException.conflict("tenant '" + name + "' already exists");
            }
            Path initdbDir = dataDir.resolve("tmp").resolve("initdb-" + name + "-" + System.nanoTime());
            try {
                pg.prepareDirectory(initdbDir.getParent());
                pg.prepareDirectory(initdbDir);
                pg.run(Duration.ofMinutes(5), "initdb", "-D", initdbDir.toString(), "-U", "postgres", "-A", "trust",
                        "-E", "UTF8", "--locale=C", "--no-sync");
                TimelineId tl = TimelineId.generate();
                long initLsn = InitdbImporter.importCluster(store, id, tl, initdbDir);
                Instant now = clock.instant();
                TenantInfo info = new TenantInfo(name, now.truncatedTo(ChronoUnit.MILLIS).toString(), Lsn.format(initLsn));
                putJson(tenantKey(name), info);
                putJson(branchKey(name, "main"), new BranchInfo("main", tl.toString(), null, null,
                        now.truncatedTo(ChronoUnit.MILLIS).toString()));
                log.info("tenant {} created: main timeline {} at {}", name, tl, Lsn.format(initLsn));
                return info;
            } finally {
                try {
                    deleteRecursively(initdbDir);
                } catch (IOException e) {
                    log.warn("cannot remove {}: {}", initdbDir, e.toString());
                }
            }
        }
    }

    /** All tenants, by name. */
    public List<TenantInfo> listTenants() {
        List<TenantInfo> out = new ArrayList<>();
        store.listMetadata("tenant/").values().forEach(v -> out.add(readJson(v, TenantInfo.class)));
        return out;
    }

    private TenantInfo tenant(String name) {
        tenantId(name);
        byte[] v = store.getMetadata(tenantKey(name));
        if (v == null) {
            throw ApiException.notFound("tenant '" + name + "' does not exist");
        }
        return readJson(v, TenantInfo.class);
    }

    // ------------------------------------------------------------------ branches

    /** A branch with its live state, as {@code branch list} shows it. */
    public record BranchView(BranchInfo info, long lastRecordLsn, String endpointState, String uri) {
    }

    /**
     * Creates branch {@code ref} of {@code tenant} from {@code parentRef} at an LSN ({@code X/Y}), a
     * timestamp (RFC 3339: the LSN just after the last commit at or before it), or the parent's last
     * record LSN when both are null. When the parent's endpoint is running, an LSN beyond its
     * compute's WAL insert position is refused at once; one at or below it waits up to 30 s for ingest.
     *
     * @throws ApiException 400 for bad values or an LSN outside the parent's range (the message gives
     *                      the range), 404 for an unknown tenant or parent, 409 when the ref exists
     */
    public BranchInfo createBranch(String tenant, String ref, String parentRef, String lsnText, String atText) {
        tenant(tenant);
        validateRef(ref);
        String parentName = parentRef == null || parentRef.isBlank() ? "main" : parentRef;
        if (lsnText != null && atText != null) {
            throw ApiException.badRequest("give either an LSN or a timestamp, not both (lsn '" + lsnText + "', at '" + atText + "')");
        }
        synchronized (lock(tenant)) {
            if (store.getMetadata(branchKey(tenant, ref)) != null) {
                throw ApiException.conflict("branch '" + ref + "' already exists in tenant '" + tenant + "'");
            }
            BranchInfo parent = branchRecord(tenant, parentName);
            TimelineId parentTl = TimelineId.parse(parent.timelineId());
            TimelineMetadata pmd = store.timeline(parentTl);
            long lsn;
            if (lsnText != null) {
                try {
                    lsn = Lsn.parse(lsnText);
                } catch (IllegalArgumentException e) {
                    throw ApiException.badRequest(e.getMessage());
                }
                lsn = checkReachable(tenant, parentName, parentTl, pmd, lsn);
            } else if (atText != null) {
                lsn = lsnForTimestamp(tenant, parentName, parentTl, pmd, atText);
            } else {
                lsn = store.lastRecordLsn(parentTl);
            }
            TimelineId tl = TimelineId.generate();
            Instant now = clock.instant();
            store.createTimeline(new TimelineMetadata(tl, new TenantId(tenant), parentTl, lsn, lsn, pmd.pgVersion(), now));
            BranchInfo info = new BranchInfo(ref, tl.toString(), parentName, Lsn.format(lsn),
                    now.truncatedTo(ChronoUnit.MILLIS).toString());
            putJson(branchKey(tenant, ref), info);
            log.info("branch {}/{} created from {} at {}", tenant, ref, parentName, Lsn.format(lsn));
            return info;
        }
    }

    private long checkReachable(String tenant, String parentName, TimelineId parentTl, TimelineMetadata pmd, long lsn) {
        long start = pmd.startLsn();
        if (Long.compareUnsigned(lsn, start) < 0) {
            throw ApiException.badRequest("LSN " + Lsn.format(lsn) + " is below the start of branch '" + parentName
                    + "': valid LSNs are " + Lsn.format(start) + " to " + Lsn.format(store.lastRecordLsn(parentTl)));
        }
        EndpointManager.Endpoint running = endpoints.get(tenant, parentName);
        WalReceiver r = running == null ? null : running.receiver();
        if (r != null) {
            long insert = computeInsertLsn(running);
            if (insert != 0 && Long.compareUnsigned(lsn, insert) > 0) {
                // beyond what the compute has written: refuse now rather than wait for WAL that may never come
                throw ApiException.badRequest("LSN " + Lsn.format(lsn) + " is beyond the end of WAL of branch '" + parentName
                        + "', whose endpoint is at " + Lsn.format(insert) + ": valid LSNs are " + Lsn.format(start)
                        + " to " + Lsn.format(insert));
            }
            if (awaitIngest(r, lsn)) {
                return lsn;
            }
            throw ApiException.badRequest("LSN " + Lsn.format(lsn) + " was not reached by branch '" + parentName
                    + "' within " + INGEST_WAIT.toSeconds() + " s: valid LSNs are " + Lsn.format(start) + " to "
                    + Lsn.format(r.receivedLsn()));
        }
        long last = store.lastRecordLsn(parentTl);
        if (Long.compareUnsigned(lsn, last) <= 0 || Long.compareUnsigned(lsn, afterPageHeader(last)) <= 0) {
            return lsn;
        }
        throw ApiException.badRequest("LSN " + Lsn.format(lsn) + " is beyond the end of branch '" + parentName
                + "', which has no running endpoint: valid LSNs are " + Lsn.format(start) + " to " + Lsn.format(last));
    }

    /** A record ending exactly on a WAL page boundary: the next insert position is after the page header. */
    private static long afterPageHeader(long lsn) {
        if (lsn % Lsn.WAL_PAGE_SIZE != 0) {
            return lsn;
        }
        return lsn + (lsn % Lsn.WAL_SEGMENT_SIZE == 0 ? 40 : 24);
    }

    private long lsnForTimestamp(String tenant, String parentName, TimelineId parentTl, TimelineMetadata pmd, String atText) {
        Instant at;
        try {
            // RFC 3339 section 5.6 lets applications separate date and time with a space instead of 'T'
            String iso = atText.length() > 10 && atText.charAt(10) == ' '
                    ? atText.substring(0, 10) + 'T' + atText.substring(11) : atText;
            at = OffsetDateTime.parse(iso).toInstant();
        } catch (DateTimeParseException e) {
            throw ApiException.badRequest("invalid timestamp '" + atText + "': expected RFC 3339, e.g. 2026-11-21T10:15:30Z");
        }
        if (at.isAfter(clock.instant())) {
            throw ApiException.badRequest("timestamp " + atText + " is in the future");
        }
        long micros = at.getEpochSecond() * 1_000_000L + at.getNano() / 1000;
        long lsn = store.lsnForTimestamp(parentTl, micros);
        if (lsn == 0 || Long.compareUnsigned(lsn, pmd.startLsn()) < 0) {
            throw ApiException.badRequest("no commit at or before " + atText + " on branch '" + parentName
                    + "' after its start at " + Lsn.format(pmd.startLsn()) + " (created " + pmd.createdAt() + ")");
        }
        return lsn;
    }

    /**
     * The running compute's WAL insert position ({@code pg_current_wal_insert_lsn()}), the highest LSN
     * a branch of it can name right now; 0 when it cannot be asked (then the caller waits for ingest).
     */
    private static long computeInsertLsn(EndpointManager.Endpoint e) {
        ComputeProcess c = e.compute();
        if (c == null) {
            return 0;
        }
        String url = "jdbc:postgresql://127.0.0.1:" + c.port() + "/postgres?user=postgres&connectTimeout=5&socketTimeout=10";
        try (Connection conn = DriverManager.getConnection(url); Statement st = conn.createStatement();
             ResultSet rs = st.executeQuery("SELECT pg_current_wal_insert_lsn()")) {
            return rs.next() ? Lsn.parse(rs.getString(1)) : 0;
        } catch (SQLException ex) {
            log.warn("cannot read the WAL insert LSN of the compute on port {}: {}", c.port(), ex.getMessage());
            return 0;
        }
    }

    private static boolean awaitIngest(WalReceiver r, long lsn) {
        return r.awaitLsn(lsn, INGEST_WAIT);
    }

    /** Branches of a tenant with live state, sorted by creation time. */
    public List<BranchView> listBranches(String tenant) {
        tenant(tenant);
        List<BranchView> out = new ArrayList<>();
        for (byte[] v : store.listMetadata("branch/" + tenant + "/").values()) {
            BranchInfo b = readJson(v, BranchInfo.class);
            TimelineId tl = TimelineId.parse(b.timelineId());
            EndpointManager.Endpoint e = endpoints.get(tenant, b.ref());
            out.add(new BranchView(b, store.lastRecordLsn(tl),
                    e == null ? "stopped" : e.state().apiName(), e == null ? null : e.uri()));
        }
        // by instant, not by text: Instant.toString() drops ".000", and "...:18Z" sorts after "...:18.5Z" as text
        out.sort(Comparator.comparing((BranchView v) -> Instant.parse(v.info().createdAt())).thenComparing(v -> v.info().ref()));
        return out;
    }

    /** One branch's record. @throws ApiException 400 for an invalid tenant name, 404 when the tenant or branch is unknown */
    public BranchInfo branch(String tenant, String ref) {
        tenant(tenant);
        return branchRecord(tenant, ref);
    }

    private BranchInfo branchRecord(String tenant, String ref) {
        byte[] v = store.getMetadata(branchKey(tenant, ref));
        if (v == null) {
            throw ApiException.notFound("branch '" + ref + "' does not exist in tenant '" + tenant + "'");
        }
        return readJson(v, BranchInfo.class);
    }

    /**
     * Deletes a branch: stops its endpoint, removes its timeline and every version it wrote.
     *
     * @throws ApiException 409 for {@code main} or a branch with children, 404 when unknown
     */
    public void deleteBranch(String tenant, String ref) {
        tenant(tenant);
        synchronized (lock(tenant)) {
            BranchInfo b = branchRecord(tenant, ref);
            if (b.parent() == null) {
                throw ApiException.conflict("branch '" + ref + "' is the tenant's root branch and cannot be deleted");
            }
            List<String> children = new ArrayList<>();
            for (byte[] v : store.listMetadata("branch/" + tenant + "/").values()) {
                BranchInfo c = readJson(v, BranchInfo.class);
                if (ref.equals(c.parent())) {
                    children.add(c.ref());
                }
            }
            if (!children.isEmpty()) {
                throw ApiException.conflict("branch '" + ref + "' has child branches " + children + "; delete them first");
            }
            endpoints.stop(tenant, ref);
            store.deleteMetadata(branchKey(tenant, ref));
            store.deleteTimeline(TimelineId.parse(b.timelineId()));
        }
    }

    // ------------------------------------------------------------------ endpoints

    /** Starts (or returns) the branch's endpoint; returns its libpq URI. */
    public String startEndpoint(String tenant, String ref) {
        BranchInfo b = branch(tenant, ref);
        return endpoints.start(tenant, ref, TimelineId.parse(b.timelineId()));
    }

    /** Stops the branch's endpoint; no-op when stopped. */
    public void stopEndpoint(String tenant, String ref) {
        branch(tenant, ref);
        endpoints.stop(tenant, ref);
    }

    @Override
    public void close() {
        endpoints.close();
    }

    // ------------------------------------------------------------------ helpers

    private static TenantId tenantId(String name) {
        try {
            return new TenantId(name);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage());
        }
    }

    static void validateRef(String ref) {
        if (ref == null || !REF.matcher(ref).matches()) {
            throw ApiException.badRequest("invalid branch ref '" + ref
                    + "': 1-64 characters, a letter or digit first, then A-Z a-z 0-9 . _ - /");
        }
    }

    private static String tenantKey(String name) {
        return "tenant/" + name;
    }

    private static String branchKey(String tenant, String ref) {
        return "branch/" + tenant + "/" + ref;
    }

    private void putJson(String key, Object value) {
        try {
            store.putMetadata(key, json.writeValueAsBytes(value));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private <T> T readJson(byte[] bytes, Class<T> type) {
        try {
            return json.readValue(bytes, type);
        } catch (IOException e) {
            throw new UncheckedIOException("corrupt metadata record", e);
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
