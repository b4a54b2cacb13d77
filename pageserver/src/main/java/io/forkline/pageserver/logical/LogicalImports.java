package io.forkline.pageserver.logical;

import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.compute.proxy.ComputeAddress;
import io.forkline.pageserver.access.SecretBox;
import io.forkline.pageserver.api.ApiException;
import io.forkline.pageserver.endpoint.ComputeConnections;
import io.forkline.pageserver.metadata.MetadataRecords;
import io.forkline.pageserver.mirror.MirrorService;
import io.forkline.pageserver.mirror.PrimaryUri;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Logical import of a database whose server allows no external physical replication (managed
 * services): {@code tenant import NAME --from-publication URI --publication PUB} (ARCHITECTURE.md,
 * "Logical imports").
 *
 * <p>Steps ({@link #check}, then {@link #copySchemaAndSubscribe} on {@code main}'s running compute):
 * the source must be PostgreSQL 10+ with {@code wal_level = logical} and have the publication; the
 * database is created on {@code main} when it is not {@code postgres}; its schema is copied with
 * {@code pg_dump --schema-only --no-owner --no-privileges} and {@code psql}; then
 * {@code CREATE SUBSCRIPTION forkline_<tenant> ... WITH (disable_on_error = true, synchronous_commit = on)}
 * on {@code main} copies every table of the publication and follows it (PostgreSQL's logical
 * replication: the compute is the subscriber, its WAL flows into Forkline like any other). The
 * subscription's workers commit synchronously (a subscription's default is {@code off}), so what
 * {@code main} shows is durable in Forkline and a branch "now" holds it. DDL on the source is not
 * replicated by PostgreSQL: the first change that does not fit {@code main}'s tables stops the
 * apply worker with an error and PostgreSQL disables the subscription; {@link #status} reports it
 * with what to do.
 *
 * <p>Branches of such a tenant hold the same subscription in their catalogs; their computes run
 * with {@code max_logical_replication_workers = 0} ({@link #computeSettings}), so only {@code main}'s
 * compute ever consumes the source's slot. Thread-safe.
 */
public final class LogicalImports implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LogicalImports.class);
    /** How often {@link #status} is refreshed. */
    public static final Duration POLL_INTERVAL = Duration.ofSeconds(2);
    private static final Duration TOOL_TIMEOUT = Duration.ofHours(1);

    private final MetadataRecords records;
    private final SecretBox box;
    private final PostgresInstallation pg;
    private final Path tmpDir;
    private final Function<String, ComputeAddress> mainCompute;
    private final Map<String, LogicalImportRecord> known = new ConcurrentHashMap<>();
    private final Map<String, LogicalImportStatus> statuses = new ConcurrentHashMap<>();
    private final Map<String, Map<String, Long>> syncedSequences = new ConcurrentHashMap<>();
    private final Map<String, long[]> copyStarts = new ConcurrentHashMap<>();
    private final ScheduledExecutorService poller;

    /** A checked source: its parsed URI, the URI as given, and the publication. */
    public record Source(PrimaryUri uri, String text, String publication) {
    }

    /**
     * @param mainCompute the address of a tenant's running {@code main} compute, or null when it
     *                    does not run
     */
    public LogicalImports(MetadataRecords records, SecretBox box, PostgresInstallation pg, Path dataDir,
                          Function<String, ComputeAddress> mainCompute) {
        this.records = records;
        this.box = box;
        this.pg = pg;
        this.tmpDir = dataDir.resolve("tmp");
        this.mainCompute = mainCompute;
        for (LogicalImportRecord r : records.list(LogicalImportRecord.PREFIX, LogicalImportRecord.class)) {
            known.put(r.tenant(), r);
        }
        this.poller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "forkline-logical-import");
            t.setDaemon(true);
            return t;
        });
        poller.scheduleWithFixedDelay(this::pollAll, POLL_INTERVAL.toMillis(), POLL_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The subscription (and source slot) name of a tenant: {@code forkline_} + the name, as {@link MirrorService#slotName}. */
    public static String subscriptionName(String tenant) {
        return MirrorService.slotName(tenant);
    }

    /**
     * Checks the source before anything is created: reachable with the given role, PostgreSQL 10 or
     * later, {@code wal_level = logical}, the publication exists in the URI's database, and no slot
     * of this tenant's name is there yet.
     *
     * @throws ApiException 400 naming what is wrong (the source's own words for a refused login),
     *                      409 when the slot exists
     */
    public Source check(String tenant, String uriText, String publication) {
        PrimaryUri uri = PrimaryUri.parse(uriText, "from_publication");
        if (publication == null || publication.isBlank()) {
            throw ApiException.badRequest("publication is missing: give the name of a publication on the source"
                    + " (CREATE PUBLICATION forkline FOR ALL TABLES)");
        }
        if (publication.length() > 63 || publication.indexOf('\0') >= 0) {
            throw ApiException.badRequest("publication '" + publication + "' is not a PostgreSQL name (at most 63 bytes)");
        }
        String slot = subscriptionName(tenant);
        try (Connection c = connectSource(uri)) {
            int version = c.unwrap(org.postgresql.core.BaseConnection.class).getQueryExecutor().getServerVersionNum();
            if (version < 100000) {
                throw ApiException.badRequest("source " + uri + " runs PostgreSQL " + version
                        + ": logical replication needs PostgreSQL 10 or later");
            }
            String walLevel = single(c, "SHOW wal_level");
            if (!"logical".equals(walLevel)) {
                throw ApiException.badRequest("source " + uri + " has wal_level = " + walLevel
                        + ": a logical import needs wal_level = logical (set it and restart the source)");
            }
            if (!exists(c, "SELECT 1 FROM pg_publication WHERE pubname = ?", publication)) {
                throw ApiException.badRequest("publication '" + publication + "' does not exist in database '"
                        + uri.dbname() + "' of " + uri + " (CREATE PUBLICATION " + SqlQuote.ident(publication)
                        + " FOR ALL TABLES)");
            }
            if (exists(c, "SELECT 1 FROM pg_replication_slots WHERE slot_name = ?", slot)) {
                throw ApiException.conflict("replication slot " + slot + " already exists on " + uri
                        + ": another Forkline server imports this source as '" + tenant + "', or an import was"
                        + " interrupted; drop it on the source with SELECT pg_drop_replication_slot('" + slot
                        + "') and import again");
            }
        } catch (SQLException e) {
            throw ApiException.badRequest("cannot check the source " + uri + ": " + e.getMessage());
        }
        return new Source(uri, uriText, publication);
    }

    /**
     * Copies the source's schema into {@code main}'s compute at {@code main} and creates the
     * subscription there; returns when PostgreSQL has created it (the table copies then run in
     * the background, see {@link #status}).
     *
     * @throws ApiException 400 with pg_dump's, psql's or PostgreSQL's words when a step fails
     */
    public void copySchemaAndSubscribe(String tenant, Source s, ComputeAddress main) {
        String db = s.uri().dbname();
        if (!"postgres".equals(db)) {
            try (Connection c = ComputeConnections.connect(main, "postgres", new Properties());
                 Statement st = c.createStatement()) {
                st.execute("CREATE DATABASE " + SqlQuote.ident(db));
            } catch (SQLException e) {
                throw ApiException.badRequest("cannot create database '" + db + "' on main: " + e.getMessage());
            }
        }
        Path schema = null;
        try {
            Files.createDirectories(tmpDir);
            schema = Files.createTempFile(tmpDir, "logical-import-" + tenant + "-", ".sql");
            List<String> dump = new ArrayList<>(List.of(pg.bin("pg_dump").toString(), "--schema-only", "--no-owner",
                    "--no-privileges", "--no-publications", "--no-subscriptions", "--no-tablespaces",
                    "-h", s.uri().host(), "-p", Integer.toString(s.uri().port()), "-U", s.uri().user(), "-d", db,
                    "-f", schema.toString()));
            run(dump, s.uri().password(), "pg_dump --schema-only of " + s.uri());
            run(List.of(pg.bin("psql").toString(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d",
                    main.libpqConnInfo("postgres", db), "-f", schema.toString()), null,
                    "restoring the schema of " + s.uri() + " on main");
        } catch (IOException e) {
            throw ApiException.unavailable("cannot copy the schema of " + s.uri() + ": " + e.getMessage());
        } finally {
            if (schema != null) {
                try {
                    Files.deleteIfExists(schema);
                } catch (IOException e) {
                    LOG.warn("cannot delete {}: {}", schema, e.toString());
                }
            }
        }
        String sub = subscriptionName(tenant);
        String sql = "CREATE SUBSCRIPTION " + SqlQuote.ident(sub) + " CONNECTION "
                + SqlQuote.literal(conninfo(s.uri(), sub)) + " PUBLICATION "
                + SqlQuote.ident(s.publication()) + " WITH (disable_on_error = true, synchronous_commit = 'on')";
        try (Connection c = ComputeConnections.connect(main, db, new Properties()); Statement st = c.createStatement()) {
            st.execute(sql);
        } catch (SQLException e) {
            throw ApiException.badRequest("cannot subscribe main to publication '" + s.publication() + "' of " + s.uri()
                    + ": " + e.getMessage());
        }
    }

    /** The record of a finished import, the source sealed. */
    public LogicalImportRecord record(String tenant, Source s, Instant now) {
        String key = LogicalImportRecord.key(tenant);
        return new LogicalImportRecord(tenant, box.seal(s.text(), key), s.uri().display(), s.uri().dbname(),
                s.publication(), subscriptionName(tenant), MetadataRecords.timestamp(now));
    }

    /** Starts reporting on a tenant whose record was written. */
    public void register(LogicalImportRecord r) {
        known.put(r.tenant(), r);
    }

    /** Whether the tenant's {@code main} follows a publication. */
    public boolean isImported(String tenant) {
        return known.containsKey(tenant);
    }

    /**
     * Settings for the compute of (tenant, ref): {@code max_logical_replication_workers = 0} on every
     * branch but {@code main} of a logically imported tenant (their catalogs hold {@code main}'s
     * subscription, whose slot only {@code main} may consume); none otherwise.
     */
    public Map<String, String> computeSettings(String tenant, String ref) {
        return known.containsKey(tenant) && !"main".equals(ref) ? Map.of("max_logical_replication_workers", "0") : Map.of();
    }

    /**
     * Before the tenant is deleted: drops the subscription on {@code main}'s compute when it runs,
     * which drops its slot on the source (so the source stops keeping WAL for it); when it cannot,
     * says how to drop the slot by hand.
     */
    public void forget(String tenant) {
        LogicalImportRecord r = known.remove(tenant);
        statuses.remove(tenant);
        syncedSequences.remove(tenant);
        copyStarts.remove(tenant);
        if (r == null) {
            return;
        }
        ComputeAddress main = mainCompute.apply(tenant);
        if (main != null) {
            try {
                dropSubscription(tenant, r.database(), main);
                LOG.info("tenant {}: subscription {} dropped with its slot on {}", tenant, r.subscription(), r.display());
                return;
            } catch (SQLException e) {
                LOG.warn("tenant {}: cannot drop subscription {}: {}", tenant, r.subscription(), e.getMessage());
            }
        }
        LOG.warn("tenant {}: the logical replication slot {} stays on {}; drop it there with SELECT"
                + " pg_drop_replication_slot('{}')", tenant, r.subscription(), r.display(), r.subscription());
    }

    /**
     * {@code DROP SUBSCRIPTION IF EXISTS forkline_<tenant>} in {@code database} of the compute at
     * {@code main}; PostgreSQL drops its slot on the source with it.
     *
     * @throws SQLException as PostgreSQL reports it (e.g. the source cannot be reached to drop the slot)
     */
    public static void dropSubscription(String tenant, String database, ComputeAddress main) throws SQLException {
        try (Connection c = ComputeConnections.connect(main, database, new Properties()); Statement st = c.createStatement()) {
            st.execute("DROP SUBSCRIPTION IF EXISTS " + SqlQuote.ident(subscriptionName(tenant)));
        }
    }

    /** The last polled status of the tenant's import, or null when it has none. */
    public LogicalImportStatus status(String tenant) {
        LogicalImportRecord r = known.get(tenant);
        if (r == null) {
            return null;
        }
        LogicalImportStatus s = statuses.get(tenant);
        return s != null ? s : new LogicalImportStatus(r.display(), r.publication(), r.subscription(), "unknown", null, 0, 0, null);
    }

    /** Polls one tenant now (also what the background poller does). */
    public LogicalImportStatus poll(String tenant) {
        LogicalImportRecord r = known.get(tenant);
        if (r == null) {
            return null;
        }
        LogicalImportStatus s = pollOne(r);
        if (known.containsKey(tenant)) {
            statuses.put(tenant, s);
        }
        return s;
    }

    private void pollAll() {
        for (String t : known.keySet()) {
            try {
                poll(t);
            } catch (RuntimeException e) {
                LOG.debug("tenant {}: logical import poll failed: {}", t, e.toString());
            }
        }
    }

    private LogicalImportStatus pollOne(LogicalImportRecord r) {
        Long lag = null;
        Long sourceBytes = null;
        Map<String, Long> sourceSequences = null;
        String sourceError = null;
        try (Connection c = connectSource(PrimaryUri.parse(box.open(r.source(), LogicalImportRecord.key(r.tenant())),
                "from_publication"))) {
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)"
                    + "::bigint FROM pg_replication_slots WHERE slot_name = ?")) {
                ps.setString(1, r.subscription());
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        long v = rs.getLong(1);
                        lag = rs.wasNull() ? null : Math.max(0, v);
                    } else {
                        sourceError = "the replication slot " + r.subscription() + " is gone from " + r.display()
                                + ": main no longer follows the source; import it again into a new tenant";
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT coalesce(sum(pg_table_size(format('%I.%I', schemaname,"
                    + " tablename)::regclass)), 0)::bigint FROM pg_publication_tables WHERE pubname = ?")) {
                ps.setString(1, r.publication());
                try (ResultSet rs = ps.executeQuery()) {
                    sourceBytes = rs.next() ? rs.getLong(1) : null;
                }
            } catch (SQLException e) {
                LOG.debug("tenant {}: sizes of the published tables not read: {}", r.tenant(), e.getMessage());
            }
            sourceSequences = sequences(r, c);
        } catch (SQLException | RuntimeException e) {
            sourceError = "the source " + r.display() + " is not reachable: " + e.getMessage();
        }
        ComputeAddress main = mainCompute.apply(r.tenant());
        if (main == null) {
            return new LogicalImportStatus(r.display(), r.publication(), r.subscription(), "compute stopped",
                    "main's compute does not run, so nothing is followed: start it (forkline endpoint start main)",
                    0, 0, lag);
        }
        Properties p = new Properties();
        p.setProperty("connectTimeout", "5");
        p.setProperty("ApplicationName", "forkline_status");
        try (Connection c = ComputeConnections.connect(main, r.database(), p);
             PreparedStatement ps = c.prepareStatement("""
                     SELECT s.subenabled,
                       (SELECT count(*) FROM pg_subscription_rel x WHERE x.srsubid = s.oid),
                       (SELECT count(*) FROM pg_subscription_rel x WHERE x.srsubid = s.oid AND x.srsubstate = 'r'),
                       (SELECT coalesce(sum(pg_table_size(x.srrelid)), 0)::bigint FROM pg_subscription_rel x
                         WHERE x.srsubid = s.oid)
                     FROM pg_subscription s WHERE s.subname = ?""")) {
            ps.setString(1, r.subscription());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return new LogicalImportStatus(r.display(), r.publication(), r.subscription(), "disabled",
                            "subscription " + r.subscription() + " was dropped on main; import the source again into a new"
                                    + " tenant", 0, 0, lag);
                }
                boolean enabled = rs.getBoolean(1);
                long total = rs.getLong(2);
                long ready = rs.getLong(3);
                if (!enabled) {
                    String ident = SqlQuote.ident(r.subscription());
                    return new LogicalImportStatus(r.display(), r.publication(), r.subscription(), "disabled",
                            "an apply error disabled subscription " + r.subscription() + " (usually DDL on the source,"
                                    + " which logical replication does not carry; forkline endpoint logs main shows it):"
                                    + " run the same DDL on main, then ALTER SUBSCRIPTION " + ident + " ENABLE on main;"
                                    + " or import the source again into a new tenant", ready, total, lag);
                }
                if (ready == total && sourceError == null && sourceSequences != null) {
                    syncSequences(r, sourceSequences, c);
                    copyStarts.remove(r.tenant());
                }
                LogicalImportStatus.CopyProgress copy = ready < total ? copyProgress(r.tenant(), rs.getLong(4), sourceBytes) : null;
                return new LogicalImportStatus(r.display(), r.publication(), r.subscription(),
                        ready < total ? "copying" : "streaming", sourceError, ready, total, lag, copy);
            }
        } catch (SQLException e) {
            return new LogicalImportStatus(r.display(), r.publication(), r.subscription(), "unknown",
                    "cannot ask main's compute: " + e.getMessage(), 0, 0, lag);
        }
    }

    /** Copy progress from the bytes on main now, the source's total and when the copy was first seen. */
    private LogicalImportStatus.CopyProgress copyProgress(String tenant, long done, Long total) {
        long now = System.nanoTime();
        long[] start = copyStarts.computeIfAbsent(tenant, k -> new long[]{now, done});
        io.forkline.pageserver.importer.ImportProgress.Estimate e =
                io.forkline.pageserver.importer.ImportProgress.estimate(done, start[1], total, (now - start[0]) / 1e9);
        return new LogicalImportStatus.CopyProgress(done, total, e.percent(), e.rateBytesPerSecond(), e.etaSeconds());
    }

    /**
     * Logical replication does not carry sequences: copies the source's sequence positions
     * ({@code pg_sequences.last_value}) of the imported database to {@code main} with
     * {@code setval} when they moved since the last poll, so branches of {@code main} do not hand out
     * keys the source already used. Sequences missing on either side, or unreadable with the
     * import's role, are skipped.
     */
    /**
     * The source's sequence positions ({@code pg_sequences.last_value}, by {@code schema.name}
     * quoted as {@code %I.%I}) that the import's role may read, or null when they cannot be read.
     */
    private static Map<String, Long> sequences(LogicalImportRecord r, Connection source) {
        Map<String, Long> out = new java.util.HashMap<>();
        try (Statement st = source.createStatement();
             ResultSet rs = st.executeQuery("SELECT format('%I.%I', schemaname, sequencename), last_value FROM pg_sequences"
                     + " WHERE last_value IS NOT NULL AND has_sequence_privilege(format('%I.%I', schemaname, sequencename),"
                     + " 'SELECT')")) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getLong(2));
            }
            return out;
        } catch (SQLException e) {
            LOG.debug("tenant {}: sequences not read from the source: {}", r.tenant(), e.toString());
            return null;
        }
    }

    private void syncSequences(LogicalImportRecord r, Map<String, Long> source, Connection main) {
        Map<String, Long> synced = syncedSequences.computeIfAbsent(r.tenant(), k -> new ConcurrentHashMap<>());
        for (Map.Entry<String, Long> e : source.entrySet()) {
            if (e.getValue().equals(synced.get(e.getKey()))) {
                continue;
            }
            try (PreparedStatement ps = main.prepareStatement("SELECT setval(to_regclass(?), ?, true)"
                    + " WHERE to_regclass(?) IS NOT NULL")) {
                ps.setString(1, e.getKey());
                ps.setLong(2, e.getValue());
                ps.setString(3, e.getKey());
                ps.execute();
                synced.put(e.getKey(), e.getValue());
            } catch (SQLException ex) {
                LOG.debug("tenant {}: sequence {} not synced: {}", r.tenant(), e.getKey(), ex.getMessage());
            }
        }
    }

    /**
     * libpq conninfo of the source for the subscription: {@code key='value'} pairs, values quoted as
     * libpq's {@code conninfo_parse} reads them (backslash before {@code '} and {@code \}).
     */
    static String conninfo(PrimaryUri u, String applicationName) {
        StringBuilder sb = new StringBuilder();
        pair(sb, "host", u.host());
        pair(sb, "port", Integer.toString(u.port()));
        pair(sb, "user", u.user());
        if (u.password() != null) {
            pair(sb, "password", u.password());
        }
        pair(sb, "dbname", u.dbname());
        pair(sb, "application_name", applicationName);
        pair(sb, "connect_timeout", "10");
        return sb.toString();
    }

    private static void pair(StringBuilder sb, String key, String value) {
        if (!sb.isEmpty()) {
            sb.append(' ');
        }
        sb.append(key).append("='").append(value.replace("\\", "\\\\").replace("'", "\\'")).append('\'');
    }

    private void run(List<String> cmd, String password, String what) {
        ProcessBuilder b = new ProcessBuilder(cmd).redirectErrorStream(true);
        b.environment().put("PGCONNECT_TIMEOUT", "10");
        if (password != null) {
            b.environment().put("PGPASSWORD", password);
        }
        try {
            Process p = b.start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(TOOL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw ApiException.unavailable(what + " did not finish within " + TOOL_TIMEOUT.toMinutes() + " minutes");
            }
            if (p.exitValue() != 0) {
                String text = new String(out, StandardCharsets.UTF_8).strip();
                throw ApiException.badRequest(what + " failed (exit " + p.exitValue() + "): "
                        + (text.length() > 2000 ? text.substring(0, 2000) + "..." : text));
            }
        } catch (IOException e) {
            throw ApiException.unavailable(what + " could not run: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiException.unavailable(what + " was interrupted");
        }
    }

    private static Connection connectSource(PrimaryUri uri) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", uri.user());
        if (uri.password() != null) {
            p.setProperty("password", uri.password());
        }
        p.setProperty("connectTimeout", "10");
        p.setProperty("socketTimeout", "30");
        p.setProperty("ApplicationName", "forkline_import");
        return DriverManager.getConnection(uri.jdbcUrl(), p);
    }

    private static String single(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    private static boolean exists(Connection c, String sql, String arg) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, arg);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    @Override
    public void close() {
        poller.shutdownNow();
    }

    /** SQL quoting (PostgreSQL's {@code quote_ident} always-quote form and standard string literals). */
    static final class SqlQuote {
        private SqlQuote() {
        }

        static String ident(String name) {
            return "\"" + name.replace("\"", "\"\"") + "\"";
        }

        static String literal(String text) {
            return "'" + text.replace("'", "''") + "'";
        }
    }
}
