package io.forkline.wal.replication;

import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Pattern;

/**
 * How a {@link WalReceiver} reaches its compute and how it batches and retries.
 *
 * @param host                 compute host name or address (IPv6 literals without brackets), or, as in libpq,
 *                             the directory of its Unix-domain socket ({@code <host>/.s.PGSQL.<port>}) when it starts with {@code /}
 * @param port                 compute TCP port, 1..65535
 * @param user                 role to connect as; needs the {@code REPLICATION} attribute (or superuser)
 * @param password             password, or {@code null} (computes use {@code trust} on loopback)
 * @param standbyName          sent as {@code application_name}; the compute must name it in
 *                             {@code synchronous_standby_names} so that its commits wait for our
 *                             flush acknowledgement (see PostgreSQL {@code src/backend/replication/syncrep.c})
 * @param slotName             physical replication slot, created if missing, so the compute keeps
 *                             the WAL not yet acknowledged; lower-case letters, digits and underscores,
 *                             at most 63 characters ({@code ReplicationSlotValidateName} in
 *                             {@code src/backend/replication/slot.c})
 * @param statusInterval       the longest time between standby status updates while WAL arrives (every
 *                             commit of a batch sends one at once; an idle receiver answers the
 *                             walsender's keepalives, which it sends every {@code wal_sender_timeout / 2});
 *                             at least 1 ms
 * @param commitIntervalBytes  WAL bytes after which a burst is committed (fsync) and acknowledged even
 *                             if more messages are waiting; at least 1
 * @param maxCommitDelay       longest time ingested records stay uncommitted while messages keep coming
 * @param connectTimeout       TCP connect and login timeout; whole seconds, at least 1 s
 * @param initialBackoff       first wait before reconnecting after a lost connection
 * @param maxBackoff           the wait doubles up to this
 * @param dataChecksums        whether the compute's cluster has data checksums ({@code pg_control}'s
 *                             {@code data_checksum_version != 0}); ingest then recomputes {@code pd_checksum}
 * @param createSlot           create the slot when it is missing (computes); {@code false} for a mirrored
 *                             primary, whose slot was created at import: a missing slot then fails ingest
 *                             (WAL may be gone), naming the slot
 * @param expectedSystemId     the system identifier the server must report in {@code IDENTIFY_SYSTEM}
 *                             (unsigned), or 0 for no check
 * @param expectedTimeline     the PostgreSQL timeline the server must be on ({@code IDENTIFY_SYSTEM}), or 0
 *                             for no check; a primary that switched timeline fails ingest, naming both
 * @param sslCertificate       a TLS client certificate (PEM) to connect with ({@code sslmode=require}), or
 *                             {@code null}: pgjdbc's default {@code sslmode=prefer} without one (a compute
 *                             node's computes accept TCP connections only with the server's certificate)
 * @param sslKey               its PKCS#8 DER key (pgjdbc's {@code sslkey}); set with {@code sslCertificate}
 * @param sslRootCertificate   the server's certificate or its CA (PEM, pgjdbc's {@code sslrootcert}): the
 *                             connection then uses {@code sslmode=verify-ca} and refuses a server whose
 *                             certificate does not chain to it; {@code null}: not verified ({@code require})
 */
public record WalReceiverConfig(String host, int port, String user, String password, String standbyName,
                                String slotName, Duration statusInterval, long commitIntervalBytes,
                                Duration maxCommitDelay, Duration connectTimeout, Duration initialBackoff,
                                Duration maxBackoff, boolean dataChecksums, boolean createSlot,
                                long expectedSystemId, int expectedTimeline, Path sslCertificate, Path sslKey, Path sslRootCertificate) {
    /**
     * Default standby and slot name, as written into a compute's {@code synchronous_standby_names}.
     * Must equal compute-proxy's {@code ComputeSettings.INGEST_STANDBY_NAME}, which writes that setting
     * (wal-ingest's main code does not depend on compute-proxy; {@code WalReceiverConfigTest} checks
     * the two agree).
     */
    public static final String DEFAULT_STANDBY_NAME = "forkline_ingest";
    /** Default batch size of a commit: 8 MiB of WAL. */
    public static final long DEFAULT_COMMIT_INTERVAL_BYTES = 8L * 1024 * 1024;

    private static final Pattern SLOT_NAME = Pattern.compile("[a-z0-9_]{1,63}");

    /**
     * Validates every field.
     *
     * @throws IllegalArgumentException naming the field and the offending value
     */
    public WalReceiverConfig {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("host is missing: '" + host + "'");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is outside 1..65535");
        }
        if (user == null || user.isBlank()) {
            throw new IllegalArgumentException("user is missing: '" + user + "'");
        }
        if (standbyName == null || standbyName.isBlank()) {
            throw new IllegalArgumentException("standby name is missing: '" + standbyName + "'");
        }
        if (slotName == null || !SLOT_NAME.matcher(slotName).matches()) {
            throw new IllegalArgumentException("replication slot name '" + slotName
                    + "' is invalid: use 1..63 lower-case letters, digits and underscores");
        }
        requirePositive("statusInterval", statusInterval);
        requirePositive("maxCommitDelay", maxCommitDelay);
        requirePositive("initialBackoff", initialBackoff);
        requirePositive("maxBackoff", maxBackoff);
        requirePositive("connectTimeout", connectTimeout);
        if (connectTimeout.toSeconds() < 1) {
            throw new IllegalArgumentException("connectTimeout " + connectTimeout + " is below the 1 s pgjdbc resolution");
        }
        if (commitIntervalBytes < 1) {
            throw new IllegalArgumentException("commitIntervalBytes " + commitIntervalBytes + " must be at least 1");
        }
        if ((sslCertificate == null) != (sslKey == null)) {
            throw new IllegalArgumentException("a TLS client certificate needs both files: certificate " + sslCertificate
                    + ", key " + sslKey);
        }
        if (maxBackoff.compareTo(initialBackoff) < 0) {
            throw new IllegalArgumentException("maxBackoff " + maxBackoff + " is below initialBackoff " + initialBackoff);
        }
    }

    private static void requirePositive(String name, Duration d) {
        if (d == null || d.isNegative() || d.isZero() || d.toMillis() < 1) {
            throw new IllegalArgumentException(name + " " + d + " must be at least 1 ms");
        }
    }

    /**
     * Defaults: no password, standby and slot name {@value #DEFAULT_STANDBY_NAME}, status every 10 s,
     * commit every 8 MiB or 100 ms of continuous input, 10 s connect timeout, reconnect backoff
     * 100 ms doubling to 5 s, no data checksums.
     */
    public static WalReceiverConfig of(String host, int port, String user) {
        return new WalReceiverConfig(host, port, user, null, DEFAULT_STANDBY_NAME, DEFAULT_STANDBY_NAME,
                Duration.ofSeconds(10), DEFAULT_COMMIT_INTERVAL_BYTES, Duration.ofMillis(100),
                Duration.ofSeconds(10), Duration.ofMillis(100), Duration.ofSeconds(5), false, true, 0, 0, null, null, null);
    }

    /** A copy with another password ({@code null} for none). */
    public WalReceiverConfig withPassword(String newPassword) {
        return new WalReceiverConfig(host, port, user, newPassword, standbyName, slotName, statusInterval,
                commitIntervalBytes, maxCommitDelay, connectTimeout, initialBackoff, maxBackoff, dataChecksums, createSlot, expectedSystemId, expectedTimeline, sslCertificate, sslKey, sslRootCertificate);
    }

    /** A copy that connects over TLS with a client certificate (PEM) and its PKCS#8 DER key, not verifying the server. */
    public WalReceiverConfig withClientCertificate(Path newSslCertificate, Path newSslKey) {
        return withClientCertificate(newSslCertificate, newSslKey, null);
    }

    /**
     * A copy that connects over TLS with a client certificate (PEM) and its PKCS#8 DER key, and
     * verifies the server's certificate against {@code rootCertificate} (PEM; {@code null}: not verified).
     */
    public WalReceiverConfig withClientCertificate(Path newSslCertificate, Path newSslKey, Path rootCertificate) {
        return new WalReceiverConfig(host, port, user, password, standbyName, slotName, statusInterval,
                commitIntervalBytes, maxCommitDelay, connectTimeout, initialBackoff, maxBackoff, dataChecksums, createSlot,
                expectedSystemId, expectedTimeline, newSslCertificate, newSslKey, rootCertificate);
    }

    /** A copy with another {@code application_name}. */
    public WalReceiverConfig withStandbyName(String newStandbyName) {
        return new WalReceiverConfig(host, port, user, password, newStandbyName, slotName, statusInterval,
                commitIntervalBytes, maxCommitDelay, connectTimeout, initialBackoff, maxBackoff, dataChecksums, createSlot, expectedSystemId, expectedTimeline, sslCertificate, sslKey, sslRootCertificate);
    }

    /** A copy with another replication slot. */
    public WalReceiverConfig withSlotName(String newSlotName) {
        return new WalReceiverConfig(host, port, user, password, standbyName, newSlotName, statusInterval,
                commitIntervalBytes, maxCommitDelay, connectTimeout, initialBackoff, maxBackoff, dataChecksums, createSlot, expectedSystemId, expectedTimeline, sslCertificate, sslKey, sslRootCertificate);
    }

    /** A copy with another batch size (bytes) and commit delay. */
    public WalReceiverConfig withCommitInterval(long newCommitIntervalBytes, Duration newMaxCommitDelay) {
        return new WalReceiverConfig(host, port, user, password, standbyName, slotName, statusInterval,
                newCommitIntervalBytes, newMaxCommitDelay, connectTimeout, initialBackoff, maxBackoff, dataChecksums, createSlot, expectedSystemId, expectedTimeline, sslCertificate, sslKey, sslRootCertificate);
    }

    /** A copy with another reconnect backoff range. */
    public WalReceiverConfig withBackoff(Duration newInitialBackoff, Duration newMaxBackoff) {
        return new WalReceiverConfig(host, port, user, password, standbyName, slotName, statusInterval,
                commitIntervalBytes, maxCommitDelay, connectTimeout, newInitialBackoff, newMaxBackoff, dataChecksums, createSlot, expectedSystemId, expectedTimeline, sslCertificate, sslKey, sslRootCertificate);
    }

    /** A copy with another status interval. */
    public WalReceiverConfig withStatusInterval(Duration newStatusInterval) {
        return new WalReceiverConfig(host, port, user, password, standbyName, slotName, newStatusInterval,
                commitIntervalBytes, maxCommitDelay, connectTimeout, initialBackoff, maxBackoff, dataChecksums, createSlot, expectedSystemId, expectedTimeline, sslCertificate, sslKey, sslRootCertificate);
    }

    /** A copy that says whether the cluster has data checksums. */
    public WalReceiverConfig withDataChecksums(boolean newDataChecksums) {
        return new WalReceiverConfig(host, port, user, password, standbyName, slotName, statusInterval,
                commitIntervalBytes, maxCommitDelay, connectTimeout, initialBackoff, maxBackoff, newDataChecksums, createSlot, expectedSystemId, expectedTimeline, sslCertificate, sslKey, sslRootCertificate);
    }

    /**
     * A copy for a mirrored primary: an existing slot only (never created), and the primary's system
     * identifier and timeline checked at every connect.
     *
     * @param systemId the primary's system identifier (from the imported base backup's pg_control)
     * @param timeline the primary's PostgreSQL timeline at import
     */
    public WalReceiverConfig forMirror(long systemId, int timeline) {
        return new WalReceiverConfig(host, port, user, password, standbyName, slotName, statusInterval,
                commitIntervalBytes, maxCommitDelay, connectTimeout, initialBackoff, maxBackoff, dataChecksums, false,
                systemId, timeline, sslCertificate, sslKey, sslRootCertificate);
    }

    /** Password is never printed. */
    @Override
    public String toString() {
        return "WalReceiverConfig[" + user + "@" + host + ":" + port + ", standby=" + standbyName + ", slot="
                + slotName + ", statusInterval=" + statusInterval + ", commitIntervalBytes=" + commitIntervalBytes
                + ", maxCommitDelay=" + maxCommitDelay + ", connectTimeout=" + connectTimeout + ", backoff="
                + initialBackoff + ".." + maxBackoff + ", dataChecksums=" + dataChecksums + (createSlot ? "" : ", existing slot only")
                + (expectedSystemId == 0 ? "" : ", systemId=" + Long.toUnsignedString(expectedSystemId))
                + (expectedTimeline == 0 ? "" : ", timeline=" + expectedTimeline)
                + (sslCertificate == null ? "" : ", clientCertificate=" + sslCertificate) + "]";
    }
}
