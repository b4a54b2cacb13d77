package io.forkline.wal.replication;

import org.postgresql.copy.CopyDual;
import org.postgresql.copy.CopyOperation;
import org.postgresql.core.BaseConnection;
import org.postgresql.core.PGStream;
import org.postgresql.core.QueryExecutor;
import org.postgresql.core.QueryExecutorBase;
import org.postgresql.core.VisibleBufferedInputStream;
import org.postgresql.replication.LogSequenceNumber;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * The CopyBoth stream of {@code START_REPLICATION SLOT s PHYSICAL X/Y} on a pgjdbc replication
 * connection, read and answered message by message (PostgreSQL's streaming replication protocol,
 * "Streaming Replication Protocol" in the docs; {@code walsender.c}: {@code XLogSendPhysical},
 * {@code WalSndKeepalive}, {@code ProcessStandbyReplyMessage}).
 *
 * <p>Why not pgjdbc's {@code PGReplicationStream} (42.7.14, {@code V3PGReplicationStream}): it
 * costs every commit of a compute several milliseconds, measured with {@code strace -T} (benchmarks
 * README 9d):
 * <ul>
 *   <li>{@code readPending()} asks {@code PGStream.hasMessagePending()}, which, when nothing is
 *       buffered, waits for a byte with a 1 ms socket timeout; on a Unix-domain socket that is
 *       {@code SO_RCVTIMEO}, rounded up to the kernel's tick (4 ms at {@code HZ=250}): p50 6.3 ms
 *       per "nothing more pending?" before each commit;</li>
 *   <li>{@code forceUpdateStatus()} always sets {@code replyRequested}, so the walsender answers
 *       every acknowledgement with a keepalive, and {@code readPending()} swallows keepalives and
 *       asks again (another wait);</li>
 *   <li>it does not expose the message's {@code walEnd}, which says whether the walsender had
 *       more WAL to send.</li>
 * </ul>
 * This class reads whole messages with pgjdbc's public {@link CopyDual} and tells whether a message
 * is already waiting without any wait ({@link #readable()}: bytes in pgjdbc's input buffer or in the
 * socket, the first test of {@code hasMessagePending()}, read through pgjdbc's private fields
 * {@code QueryExecutorBase.pgStream} and {@code PGStream.pgInput}; if those cannot be read, e.g.
 * after a pgjdbc upgrade renamed them, it answers {@code false}, which commits earlier but is
 * never wrong).
 *
 * <p>Not thread-safe: one thread reads and writes; {@link Connection#abort} from another thread
 * ends a blocked {@link #read()} with an {@link SQLException}.
 */
final class PhysicalStream {
    private static final Logger LOG = LoggerFactory.getLogger(PhysicalStream.class);
    /** Microseconds from the Unix epoch to PostgreSQL's epoch, 2000-01-01 UTC. */
    private static final long PG_EPOCH_MICROS = 946_684_800_000_000L;
    private static final Field PG_STREAM = field(QueryExecutorBase.class, "pgStream");
    private static final Field PG_INPUT = field(PGStream.class, "pgInput");

    /** One {@code XLogData} message: WAL bytes {@code [start, start + length)} in {@code buf[offset...]}. */
    record XLogData(long start, long walEnd, byte[] buf, int offset, int length) {
        /** End of the chunk's WAL, bytes. */
        long end() {
            return start + length;
        }

        /**
         * Whether the walsender had sent all the WAL it had flushed when it sent this message
         * ({@code walEnd}, its {@code SendRqstPtr}, is the chunk's end: {@code WalSndCaughtUp}).
         * When not, it is sending more right now.
         */
        boolean caughtUp() {
            return Long.compareUnsigned(start + length, walEnd) >= 0;
        }
    }

    private final CopyDual copy;
    private final VisibleBufferedInputStream input;
    private final long statusIntervalNanos;
    private long lastStatusNanos;
    private long written;
    private long flushed;
    private long serverWalEnd;
    private boolean ended;

    private PhysicalStream(CopyDual copy, VisibleBufferedInputStream input, long statusIntervalNanos) {
        this.copy = copy;
        this.input = input;
        this.statusIntervalNanos = statusIntervalNanos;
        this.lastStatusNanos = System.nanoTime();
    }

    /**
     * Sends {@code START_REPLICATION SLOT slot PHYSICAL startLsn} and returns the stream.
     *
     * @param connection     a pgjdbc connection opened with {@code replication=true}
     * @param statusInterval nanoseconds between status updates sent while WAL keeps arriving (each
     *                       {@link #acknowledge} sends one at once anyway), at least 1
     * @throws SQLException when the walsender refuses (e.g. the start LSN is ahead of its WAL)
     */
    static PhysicalStream start(Connection connection, String slot, long startLsn, long statusInterval)
            throws SQLException {
        QueryExecutor executor = connection.unwrap(BaseConnection.class).getQueryExecutor();
        String sql = "START_REPLICATION SLOT " + slot + " PHYSICAL " + LogSequenceNumber.valueOf(startLsn).asString();
        CopyOperation op = executor.startCopy(sql, true);
        if (!(op instanceof CopyDual dual)) {
            throw new SQLException("START_REPLICATION did not start a CopyBoth stream: " + op, "08P01");
        }
        PhysicalStream s = new PhysicalStream(dual, inputOf(executor), statusInterval);
        s.written = startLsn;
        return s;
    }

    /**
     * Whether a message (or part of one) is already buffered in pgjdbc or the socket, so that
     * {@link #read()} will not wait for the walsender. Never blocks.
     */
    boolean readable() {
        if (input == null) {
            return false;
        }
        try {
            return input.available() > 0;
        } catch (IOException e) {
            return true; // let read() meet the error
        }
    }

    /**
     * Reads the next message, blocking until one arrives: an {@code XLogData} is returned; a
     * keepalive is answered when it asks for a reply and {@code null} returned (so the caller can
     * commit); {@code null} also when the walsender ended the stream ({@link #ended()}).
     *
     * @throws SQLException when the connection fails or is aborted
     */
    XLogData read() throws SQLException {
        byte[] m = copy.readFromCopy(true);
        if (m == null) {
            if (!copy.isActive()) {
                ended = true;
            }
            return null;
        }
        if (m.length == 0) {
            throw new SQLException("empty CopyData message on the replication stream", "08P01");
        }
        ByteBuffer b = ByteBuffer.wrap(m);
        byte kind = b.get();
        switch (kind) {
            case 'w' -> {
                if (m.length < 25) {
                    throw new SQLException("XLogData message of " + m.length + " bytes (at least 25)", "08P01");
                }
                long start = b.getLong();
                long walEnd = b.getLong();
                b.getLong(); // sendTime
                XLogData d = new XLogData(start, walEnd, m, 25, m.length - 25);
                if (Long.compareUnsigned(d.end(), written) > 0) {
                    written = d.end();
                }
                serverWalEnd = walEnd;
                if (System.nanoTime() - lastStatusNanos >= statusIntervalNanos) {
                    sendStatus(false);
                }
                return d;
            }
            case 'k' -> {
                if (m.length < 18) {
                    throw new SQLException("keepalive message of " + m.length + " bytes (at least 18)", "08P01");
                }
                serverWalEnd = b.getLong();
                b.getLong(); // sendTime
                if (b.get() != 0) {
                    sendStatus(false);
                }
                return null;
            }
            default -> throw new SQLException("unexpected replication message '" + (char) kind + "' (" + m.length
                    + " bytes)", "08P01");
        }
    }

    /** Whether the walsender ended the stream (CopyDone). */
    boolean ended() {
        return ended;
    }

    /**
     * The walsender's end of WAL (its flush pointer) when it sent the last message, bytes: the
     * {@code walEnd} of an {@code XLogData} or keepalive; 0 before the first.
     */
    long serverWalEnd() {
        return serverWalEnd;
    }

    /**
     * Reports {@code durableLsn} as flushed and applied (and the end of the WAL received as
     * written) in a status update sent at once, without asking for a reply.
     */
    void acknowledge(long durableLsn) throws SQLException {
        flushed = durableLsn;
        sendStatus(false);
    }

    /**
     * Standby status update ({@code 'r'}): write, flush, apply positions, send time in microseconds
     * since 2000-01-01, reply requested (PostgreSQL {@code ProcessStandbyReplyMessage}).
     */
    private void sendStatus(boolean replyRequested) throws SQLException {
        ByteBuffer b = ByteBuffer.allocate(34);
        b.put((byte) 'r');
        b.putLong(Long.compareUnsigned(written, flushed) >= 0 ? written : flushed);
        b.putLong(flushed);
        b.putLong(flushed);
        b.putLong(System.currentTimeMillis() * 1000 - PG_EPOCH_MICROS);
        b.put((byte) (replyRequested ? 1 : 0));
        copy.writeToCopy(b.array(), 0, b.capacity());
        copy.flushCopy();
        lastStatusNanos = System.nanoTime();
    }

    private static VisibleBufferedInputStream inputOf(QueryExecutor executor) {
        if (PG_STREAM == null || PG_INPUT == null || !(executor instanceof QueryExecutorBase)) {
            return null;
        }
        try {
            Object stream = PG_STREAM.get(executor);
            return stream == null ? null : (VisibleBufferedInputStream) PG_INPUT.get(stream);
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.debug("pgjdbc's input buffer is not readable ({}); commits will not wait for queued WAL", e.toString());
            return null;
        }
    }

    private static Field field(Class<?> c, String name) {
        try {
            Field f = c.getDeclaredField(name);
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.debug("pgjdbc field {}.{} not accessible: {}", c.getName(), name, e.toString());
            return null;
        }
    }

    /** Whether {@link #readable()} can see pgjdbc's buffer (for tests: false would mean a pgjdbc change). */
    boolean probes() {
        return input != null;
    }
}
