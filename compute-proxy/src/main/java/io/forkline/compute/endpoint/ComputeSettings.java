package io.forkline.compute.endpoint;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code postgresql.conf} settings a compute runs with (ARCHITECTURE.md, "Compute endpoints").
 *
 * <ul>
 *   <li>{@code wal_consistency_checking = ''}
 *       ({@link #CONSISTENCY_CHECKING_NATIVE_REDO}): the setting names the resource managers whose
 *       records must carry a post-image of every block they register (how Forkline would obtain their
 *       page versions without redo), and none is left: Heap, Heap2, Btree, Hash, Gin, Gist, Sequence,
 *       SPGist, BRIN and Generic records are redone in Java at ingest
 *       (wal-ingest {@code io.forkline.wal.redo}) and carry only the images PostgreSQL needs itself.
 *       In redo verify mode (system property {@code forkline.redo.verify=true} or env
 *       {@code FORKLINE_REDO_VERIFY=1}, on in every test) it is {@code all}, so ingest can compare
 *       its redo with PostgreSQL's post-images. A compute picks the setting up at its next start;
 *       WAL written with either setting ingests the same way.</li>
 *   <li>{@code wal_compression = lz4}: the cheapest of the three here;</li>
 *   <li>{@code synchronous_standby_names} names the ingest client, so a commit returns only after
 *       Forkline has made it durable;</li>
 *   <li>{@code fsync = off}: a compute is stateless — it is rebuilt from the page store on every
 *       start, so its own files need not survive a crash.</li>
 *   <li>A compute of the server's own machine overrides the last two ({@link #commitSettings()}):
 *       {@code fsync = on} and {@code synchronous_commit = local}, so a commit returns once the
 *       compute's own WAL is fsync'd, as on stock PostgreSQL, and its WAL streams to the store
 *       asynchronously; its {@code pg_wal} is the durable copy until the store holds it (the server
 *       ingests what is left there before a compute's files are deleted). A session that sets
 *       {@code synchronous_commit = on} still waits for the store.</li>
 *   <li>{@code shared_buffers}, {@code max_connections}, {@code work_mem} come from the
 *       {@link ComputeSize}: xs = 64MB / 20 / 4MB, s = 128MB / 100 / 4MB (default),
 *       m = 512MB / 200 / 8MB, l = 2GB / 400 / 16MB.</li>
 * </ul>
 */
public final class ComputeSettings {
    /**
     * {@code application_name} of the ingest connection, listed in {@code synchronous_standby_names}.
     * Must equal wal-ingest's {@code WalReceiverConfig.DEFAULT_STANDBY_NAME} (compute-proxy cannot
     * refer to it: wal-ingest is not a dependency of this module; a wal-ingest test checks the two agree).
     */
    public static final String INGEST_STANDBY_NAME = "forkline_ingest";

    /**
     * {@code wal_consistency_checking} outside verify mode: the resource managers with page masks
     * whose records Forkline does not redo natively; empty since Gin, Gist and SPGist are redone too.
     */
    public static final String CONSISTENCY_CHECKING_NATIVE_REDO = "''";

    /**
     * File beside a compute's data directory ({@code <endpoint dir>/compute-extra.conf}) with settings
     * the server adds for that endpoint; {@code postgresql.conf} ends with {@code include_if_exists}
     * of it (a path relative to the data directory), so a missing file adds nothing.
     */
    public static final String EXTRA_SETTINGS_FILE = "compute-extra.conf";

    private ComputeSettings() {
    }

    /**
     * The compute's {@code wal_consistency_checking}: system property
     * {@code forkline.compute.walConsistencyChecking} when set (a benchmark knob to measure the
     * image-only setup, e.g. {@code all}), else {@code 'all'} in redo verify mode, else
     * {@link #CONSISTENCY_CHECKING_NATIVE_REDO}.
     */
    public static String walConsistencyChecking() {
        String override = System.getProperty("forkline.compute.walConsistencyChecking");
        if (override != null && !override.isBlank()) {
            return "'" + override.replace("'", "") + "'";
        }
        return redoVerifyMode() ? "'all'" : CONSISTENCY_CHECKING_NATIVE_REDO;
    }

    /** Whether redo verify mode is on: system property {@code forkline.redo.verify} or env {@code FORKLINE_REDO_VERIFY}. */
    public static boolean redoVerifyMode() {
        String p = System.getProperty("forkline.redo.verify");
        if (p == null) {
            p = System.getenv("FORKLINE_REDO_VERIFY");
        }
        return p != null && (p.equalsIgnoreCase("true") || p.equals("1") || p.equalsIgnoreCase("on"));
    }

    /**
     * Settings for a compute of the default size ({@link ComputeSize#DEFAULT}) listening on
     * 127.0.0.1:{@code port}.
     *
     * @param port TCP port, 1..65535
     * @return ordered name → value (values already quoted where postgresql.conf needs it)
     * @throws IllegalArgumentException when the port is out of range
     */
    public static Map<String, String> forPort(int port) {
        return forPort(port, ComputeSize.DEFAULT);
    }

    /**
     * Settings for a compute of {@code size} listening on 127.0.0.1:{@code port}.
     *
     * @param port TCP port, 1..65535
     * @param size memory and connection class
     * @return ordered name → value (values already quoted where postgresql.conf needs it)
     * @throws IllegalArgumentException when the port is out of range
     */
    public static Map<String, String> forPort(int port, ComputeSize size) {
        return forPort(port, size, null);
    }

    /**
     * Settings for a compute of {@code size} listening, when {@code socketDirectory} is given, only on
     * the Unix-domain socket {@code <socketDirectory>/.s.PGSQL.<port>} (a directory only the
     * compute's OS user may enter, so only that user and root can connect: no TCP listener, so
     * nobody else on the machine reaches its {@code trust} authentication), else on
     * 127.0.0.1:{@code port}.
     *
     * @param socketDirectory where the Unix-domain socket goes; {@code null}: none
     * @throws IllegalArgumentException when the port is out of range or the directory name holds a quote
     */
    public static Map<String, String> forPort(int port, ComputeSize size, java.nio.file.Path socketDirectory) {
        return forPort(port, size, socketDirectory, false);
    }

    /**
     * As {@link #forPort(int, ComputeSize, java.nio.file.Path)}; with {@code loopbackTcp} the compute also
     * listens on 127.0.0.1:{@code port}: only for a compute whose listener nobody else reaches
     * ({@link ComputeTcp}): started in a network namespace of its own
     * ({@code io.forkline.compute.netns.NetNamespace}), or on a port of the host that
     * {@code io.forkline.compute.guard.PortGuard} guards.
     */
    public static Map<String, String> forPort(int port, ComputeSize size, java.nio.file.Path socketDirectory,
                                              boolean loopbackTcp) {
        if (socketDirectory != null && socketDirectory.toString().contains("'")) {
            throw new IllegalArgumentException("socket directory " + socketDirectory + " contains a quote");
        }
        if (port <= 0 || port > 65535) {
            throw new IllegalArgumentException("invalid port " + port + ": expected 1..65535");
        }
        Map<String, String> s = new LinkedHashMap<>();
        // a compute of the server's own process tree is reached only through its private socket
        // (the proxy, the WAL receiver, the server's own clients); one without a socket (a compute
        // node's) listens on loopback TCP
        s.put("listen_addresses", socketDirectory == null || loopbackTcp ? "'127.0.0.1'" : "''");
        s.put("port", Integer.toString(port));
        s.put("unix_socket_directories", socketDirectory == null ? "''" : "'" + socketDirectory.toAbsolutePath() + "'");
        s.put("unix_socket_permissions", "0700");
        s.put("max_connections", Integer.toString(size.maxConnections()));
        s.put("shared_buffers", size.sharedBuffers());
        s.put("work_mem", size.workMem());
        s.put("wal_level", "replica");
        s.put("wal_consistency_checking", walConsistencyChecking());
        s.put("wal_compression", "lz4");
        s.put("full_page_writes", "on");
        s.put("max_wal_senders", "10");
        s.put("max_replication_slots", "10");
        s.put("synchronous_standby_names", "'" + INGEST_STANDBY_NAME + "'");
        s.put("synchronous_commit", "on");
        s.put("fsync", "off");
        s.put("max_wal_size", "1GB");
        s.put("max_prepared_transactions", "10");
        s.put("log_line_prefix", "'%m [%p] '");
        benchmarkOverrides(s);
        // per-endpoint settings of the server, beside the data directory (later lines win)
        s.put("include_if_exists", "'../" + EXTRA_SETTINGS_FILE + "'");
        return s;
    }

    /**
     * Applies the benchmark knob {@code forkline.compute.settings}: comma-separated
     * {@code name=value} pairs that replace or add settings (e.g.
     * {@code fsync=on,synchronous_commit=local}), for side-by-side measurements of other commit
     * setups; unset in production.
     *
     * @throws IllegalArgumentException naming the pair when one has no {@code =} or a quote
     */
    static void benchmarkOverrides(Map<String, String> s) {
        String knob = System.getProperty("forkline.compute.settings");
        if (knob == null || knob.isBlank()) {
            return;
        }
        for (String pair : knob.split(",")) {
            int eq = pair.indexOf('=');
            if (eq < 1 || pair.contains("'")) {
                throw new IllegalArgumentException("forkline.compute.settings: '" + pair
                        + "' is not name=value (no quotes)");
            }
            s.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
        }
    }

    /**
     * Whether computes of the server's own machine acknowledge commits once their own WAL is
     * fsync'd (the default) rather than once the store holds it: system property
     * {@code forkline.compute.commitDurability}, {@code local} (default) or {@code store}.
     *
     * @throws IllegalArgumentException naming the value when it is neither
     */
    public static boolean commitsAcknowledgedLocally() {
        String v = System.getProperty("forkline.compute.commitDurability", "local").trim();
        return switch (v) {
            case "local" -> true;
            case "store" -> false;
            default -> throw new IllegalArgumentException("forkline.compute.commitDurability '" + v
                    + "': expected local or store");
        };
    }

    /**
     * The commit settings of a compute of the server's own machine, written into its
     * {@link #EXTRA_SETTINGS_FILE} after anything else: {@code fsync = on},
     * {@code synchronous_commit = local} when {@link #commitsAcknowledgedLocally()}, else none (the
     * defaults of {@link #forPort}: commits wait for the store).
     */
    public static Map<String, String> commitSettings() {
        if (!commitsAcknowledgedLocally()) {
            return Map.of();
        }
        Map<String, String> s = new LinkedHashMap<>();
        s.put("fsync", "on");
        s.put("synchronous_commit", "local");
        return s;
    }

    /** Renders settings as postgresql.conf lines. */
    public static String render(Map<String, String> settings) {
        StringBuilder sb = new StringBuilder("# written by Forkline for this compute\n");
        settings.forEach((k, v) -> sb.append(k).append(" = ").append(v).append('\n'));
        return sb.toString();
    }
}
