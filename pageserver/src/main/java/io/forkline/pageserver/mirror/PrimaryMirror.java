package io.forkline.pageserver.mirror;

import io.forkline.storage.lsn.Lsn;
import io.forkline.wal.replication.ReceiverState;
import io.forkline.wal.replication.WalReceiver;
import io.forkline.wal.replication.WalReceiverException;
import org.postgresql.PGProperty;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayDeque;
import java.util.Properties;

/**
 * One running mirror: the {@link WalReceiver} that streams the primary's WAL from its slot into the
 * mirror timeline (asynchronously: the primary does not wait for it), and the lag poller's view of
 * the primary's flush position.
 *
 * <p>Lag: {@link #poll()} (every second, by {@link MirrorService}) asks the primary
 * {@code IDENTIFY_SYSTEM} over a replication connection of its own and records
 * {@code (flush LSN, when seen)}; lag bytes are the last flush LSN minus the receiver's durable
 * position, lag seconds the age of the oldest sample that is not durable here yet (PostgreSQL's
 * {@code LagTracker} idea seen from the standby side), both 0 when caught up. Thread-safe.
 */
final class PrimaryMirror implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PrimaryMirror.class);
    private static final int MAX_SAMPLES = 600;

    final MirrorRecord record;
    final PrimaryUri primary;
    final WalReceiver receiver;
    private final ArrayDeque<long[]> samples = new ArrayDeque<>();
    private Connection poll;
    private volatile long primaryFlush;
    private volatile boolean reachable;
    private volatile boolean closed;

    PrimaryMirror(MirrorRecord record, PrimaryUri primary, WalReceiver receiver) {
        this.record = record;
        this.primary = primary;
        this.receiver = receiver;
    }

    /** Asks the primary for its flush LSN; failures only mark it unreachable (the receiver reconnects on its own). */
    synchronized void poll() {
        if (closed) {
            return;
        }
        try {
            if (poll == null || poll.isClosed()) {
                poll = MirrorService.replicationConnection(primary, record.slot() + "_lag");
            }
            try (Statement st = poll.createStatement(); ResultSet rs = st.executeQuery("IDENTIFY_SYSTEM")) {
                rs.next();
                long flush = Lsn.parse(rs.getString(3));
                long now = System.nanoTime();
                primaryFlush = flush;
                reachable = true;
                long[] last = samples.peekLast();
                if (last == null || last[0] != flush) {
                    if (samples.size() >= MAX_SAMPLES) {
                        samples.pollFirst();
                    }
                    samples.addLast(new long[]{flush, now});
                }
                long durable = receiver.receivedLsn();
                while (samples.size() > 1 && Long.compareUnsigned(samples.peekFirst()[0], durable) <= 0) {
                    samples.pollFirst();
                }
            }
        } catch (SQLException | RuntimeException e) {
            if (reachable) {
                LOG.info("mirror {}: cannot poll the primary {} for its flush LSN: {}", record.tenant(), primary, e.toString());
            }
            reachable = false;
            closePoll();
        }
    }

    /** The status shown by the API. */
    synchronized MirrorStatus status() {
        ReceiverState st = receiver.state();
        WalReceiverException f = receiver.failure();
        long durable = receiver.receivedLsn();
        long flush = primaryFlush;
        Long lagBytes = null;
        Double lagSeconds = null;
        if (flush != 0) {
            lagBytes = Long.compareUnsigned(flush, durable) > 0 ? flush - durable : 0L;
            lagSeconds = 0.0;
            if (lagBytes > 0) {
                long now = System.nanoTime();
                for (long[] s : samples) {
                    if (Long.compareUnsigned(s[0], durable) > 0) {
                        lagSeconds = Math.max(0, now - s[1]) / 1e9;
                        break;
                    }
                }
            }
        }
        return new MirrorStatus(primary.display(), record.slot(), st.name().toLowerCase(java.util.Locale.ROOT),
                f == null ? null : f.getMessage(), record.consistentLsn(), Lsn.format(receiver.lastRecordLsn()),
                flush == 0 ? null : Lsn.format(flush), lagBytes, lagSeconds, reachable);
    }

    private void closePoll() {
        Connection c = poll;
        poll = null;
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // the connection is gone either way
            }
        }
    }

    /** Stops the receiver (committing what it ingested) and the poller's connection. */
    @Override
    public void close() {
        closed = true;
        try {
            receiver.close();
        } finally {
            synchronized (this) {
                closePoll();
            }
        }
    }

    static Properties properties(PrimaryUri primary, String applicationName, boolean replication) {
        Properties p = new Properties();
        PGProperty.USER.set(p, primary.user());
        if (primary.password() != null) {
            PGProperty.PASSWORD.set(p, primary.password());
        }
        if (replication) {
            PGProperty.REPLICATION.set(p, "true");
            PGProperty.ASSUME_MIN_SERVER_VERSION.set(p, "10");
            PGProperty.PREFER_QUERY_MODE.set(p, "simple");
        }
        PGProperty.APPLICATION_NAME.set(p, applicationName);
        PGProperty.CONNECT_TIMEOUT.set(p, 10);
        PGProperty.LOGIN_TIMEOUT.set(p, 10);
        PGProperty.SOCKET_TIMEOUT.set(p, 30);
        return p;
    }
}
