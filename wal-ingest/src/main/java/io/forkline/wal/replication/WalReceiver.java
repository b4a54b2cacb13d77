package io.forkline.wal.replication;

import io.forkline.storage.id.TimelineId;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;
import io.forkline.wal.record.WalRecord;
import org.postgresql.PGProperty;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The physical replication client of one timeline: streams WAL from a running compute (stock
 * PostgreSQL 15) over {@code START_REPLICATION SLOT s PHYSICAL X/Y}, ingests it into the timeline
 * and acknowledges it only once durable, so that a compute listing {@link WalReceiverConfig#standbyName()}
 * in {@code synchronous_standby_names} never reports a commit Forkline could lose.
 *
 * <p>Protocol (PostgreSQL {@code src/backend/replication/walsender.c}, {@code StartReplication},
 * {@code XLogSendPhysical}, {@code ProcessStandbyReplyMessage}; messages read and written by
 * {@link PhysicalStream} over pgjdbc 42.7.14's CopyBoth):
 * <ol>
 *   <li>connect with {@code replication=true} (a physical walsender), {@code application_name} =
 *       the standby name; {@code CREATE_REPLICATION_SLOT slot PHYSICAL RESERVE_WAL} unless the slot
 *       exists, so the compute keeps WAL we have not acknowledged;</li>
 *   <li>start at the WAL page holding {@code max(startLsn, durable last record LSN)} (see
 *       {@link TimelineWalSink#streamStart}); records the timeline already holds are skipped;</li>
 *   <li>read {@code XLogData} messages (chunk start, the walsender's end of WAL, bytes); feed,
 *       decode, ingest;</li>
 *   <li>commit the batch (fsync) and send a status update whose flush and apply positions are
 *       {@link #receivedLsn()} (the durable last record LSN, or past it only over page
 *       headers/padding that hold no record; never past a record that is not durable) as soon as
 *       the walsender had sent all its flushed WAL with the last message and no further message
 *       has arrived (a test that never waits: what PostgreSQL's walreceiver does before its
 *       {@code XLogWalRcvFlush}), or when {@link WalReceiverConfig#commitIntervalBytes()} were fed,
 *       or {@link WalReceiverConfig#maxCommitDelay()} passed while messages kept coming. This is a
 *       commit's round trip for a compute: its backend waits in {@code SyncRepWaitForLSN} for this
 *       status update;</li>
 *   <li>when idle and everything is acknowledged, block reading; keepalives that ask for a reply
 *       (the walsender's {@code wal_sender_timeout / 2}) are answered, and a status update goes out
 *       at least every {@link WalReceiverConfig#statusInterval()} while WAL arrives.</li>
 * </ol>
 *
 * <p>Failures: a lost connection (SQLSTATE class 08, 57P0x shutdown, 53xxx, a slot still held by
 * the previous walsender) commits what was ingested and reconnects with exponential backoff,
 * resuming from the durable LSN; the receiver keeps trying until {@link #close()}. Corrupt WAL, an
 * ingest error, a storage error, or a compute that refuses the stream (e.g. the start LSN is ahead
 * of its WAL, or the WAL was removed) stop this timeline's ingest: state {@link ReceiverState#FAILED},
 * {@link #failure()} names the timeline and LSN; nothing is thrown into other threads.
 *
 * <p>Priority: started with a {@link BackgroundIngest} policy (computes whose commits do not wait for
 * the store), the thread streams at a lower OS priority; it runs ahead of the computes (nice
 * {@link #WAITED_NICE}) while anyone waits in {@link #awaitLsn} / {@link #awaitLastRecordLsn} and once
 * the stream has been behind past the policy's bounds until it catches up, and at the server's priority
 * while closing; {@link #inBackground()} says whether it is in the background.
 *
 * <p>Thread-safety: the receiver runs on its own thread, named {@code wal-receiver-<timeline>};
 * every public method may be called from any thread. Only one receiver may run per timeline.
 */
public final class WalReceiver implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WalReceiver.class);
    private static final Duration CLOSE_JOIN_TIMEOUT = Duration.ofSeconds(60);

    private final PageStore store;
    private final TimelineId timeline;
    private final long startLsn;
    private final WalReceiverConfig config;
    private final Consumer<WalRecord> observer;
    private final Thread thread;
    private final Object progress = new Object();
    private final CountDownLatch closeSignal = new CountDownLatch(1);

    private volatile boolean closing;
    private volatile boolean computeStopping;
    private volatile Connection connection;
    private volatile ReceiverState state = ReceiverState.CONNECTING;
    private volatile WalReceiverException failure;
    private volatile long lastRecordLsn;
    private volatile long receivedLsn;
    private volatile int connects;
    /** End of the last WAL chunk received from the compute, bytes (0 before the first). */
    private volatile long receivedEnd;
    /**
     * Arrival times of received WAL not yet durable, oldest first: {@code {chunkEnd, System.nanoTime()}}
     * per chunk (PostgreSQL's {@code LagTracker} idea, walsender.c). Bounded: when full, the newest
     * sample's end moves forward, so the reported lag errs on the high side. Guarded by itself.
     */
    private final java.util.ArrayDeque<long[]> arrivals = new java.util.ArrayDeque<>();
    private static final int MAX_ARRIVALS = 1024;
    /** The walsender's end of WAL in its last message, bytes (0 before the first). */
    private volatile long serverWalEnd;

    /** The thread's OS priority under a background policy (every method a no-op without one). */
    private final ReceiverPriority priority;
    /** Receiver thread only: when the last batch was committed (System.nanoTime()). */
    private long lastCommitNanos = System.nanoTime() - Long.MAX_VALUE / 2;

    private WalReceiver(PageStore store, TimelineId timeline, long startLsn, WalReceiverConfig config,
                        Consumer<WalRecord> observer, BackgroundIngest background) {
        this.store = store;
        this.priority = new ReceiverPriority(timeline, background, () -> state == ReceiverState.STREAMING,
                () -> closing, () -> receivedLsn);
        this.timeline = timeline;
        this.startLsn = startLsn;
        this.config = config;
        this.observer = observer;
        this.lastRecordLsn = store.lastRecordLsn(timeline);
        this.receivedLsn = lastRecordLsn;
        this.thread = new Thread(this::run, "wal-receiver-" + timeline);
        this.thread.setDaemon(true);
    }

    /**
     * Starts streaming with {@link WalReceiverConfig#of(String, int, String)} defaults, the given
     * standby name, and slot {@value WalReceiverConfig#DEFAULT_STANDBY_NAME}.
     *
     * <p><b>Not for production use:</b> this convenience overload always ingests as if the cluster had
     * no data checksums ({@link WalReceiverConfig#dataChecksums()} {@code false}), so pages of a
     * checksummed cluster would be stored with stale {@code pd_checksum}s. Production callers use
     * {@link #start(PageStore, TimelineId, long, WalReceiverConfig)} with
     * {@link WalReceiverConfig#withDataChecksums(boolean)} taken from the compute's {@code pg_control}.
     *
     * @see #start(PageStore, TimelineId, long, WalReceiverConfig)
     */
    public static WalReceiver start(PageStore store, TimelineId timeline, String host, int port, String user,
                                    String standbyName, long startLsn) {
        return start(store, timeline, startLsn, WalReceiverConfig.of(host, port, user).withStandbyName(standbyName));
    }

    /**
     * Starts streaming into {@code timeline} on a new thread.
     *
     * @param store    the page store holding the timeline
     * @param timeline the timeline to ingest into; no other writer may be active on it
     * @param startLsn where the compute's WAL begins, bytes: for a fresh compute the start of its
     *                 first WAL segment (the synthesized checkpoint's segment); on resume anything
     *                 up to the timeline's durable last record LSN (the later of the two is used)
     * @param config   connection, batching and retry settings; {@link WalReceiverConfig#dataChecksums()}
     *                 is handed to ingest ({@link io.forkline.wal.ingest.WalIngest}), which then
     *                 recomputes {@code pd_checksum} of every stored page
     * @return the running receiver
     * @throws IllegalArgumentException when the timeline does not exist or {@code startLsn} is 0
     */
    public static WalReceiver start(PageStore store, TimelineId timeline, long startLsn, WalReceiverConfig config) {
        return start(store, timeline, startLsn, config, null);
    }

    /**
     * Like {@link #start(PageStore, TimelineId, long, WalReceiverConfig)}, calling {@code observer}
     * on the receiver thread after each record is staged (before it is durable). Records come in WAL
     * order; across receivers of a timeline each record is staged once, since records already durable
     * are skipped (a record can repeat only after an ingest or storage failure discarded its batch).
     * An exception from the observer fails the timeline's ingest.
     */
    public static WalReceiver start(PageStore store, TimelineId timeline, long startLsn, WalReceiverConfig config,
                                    Consumer<WalRecord> observer) {
        return start(store, timeline, startLsn, config, observer, null);
    }

    /**
     * Like {@link #start(PageStore, TimelineId, long, WalReceiverConfig, Consumer)}, the thread
     * yielding the CPU to computes as {@code background} says while it streams ({@code null}, or
     * {@link ThreadPriority#available()} null: the server's priority throughout). Only for a compute
     * whose commits do not wait for this receiver ({@code synchronous_commit = local}): a commit that
     * waits for the store would wait for a thread that yields.
     */
    public static WalReceiver start(PageStore store, TimelineId timeline, long startLsn, WalReceiverConfig config,
                                    Consumer<WalRecord> observer, BackgroundIngest background) {
        if (startLsn == Lsn.INVALID) {
            throw new IllegalArgumentException("start LSN of timeline " + timeline + " is invalid: " + Lsn.format(startLsn));
        }
        if (store.timeline(timeline) == null) {
            throw new IllegalArgumentException("timeline " + timeline + " does not exist");
        }
        WalReceiver r = new WalReceiver(store, timeline, startLsn, config, observer, background);
        r.thread.start();
        return r;
    }

    /** The timeline this receiver writes. */
    public TimelineId timeline() {
        return timeline;
    }

    /** Current state. */
    public ReceiverState state() {
        return state;
    }

    /** Why ingest stopped when {@link #state()} is {@link ReceiverState#FAILED}, else {@code null}. */
    public WalReceiverException failure() {
        return failure;
    }

    /** Durable last record LSN: end of the last record whose versions are committed (fsync'd), bytes. */
    public long lastRecordLsn() {
        return lastRecordLsn;
    }

    /**
     * Stream position received and fully processed, bytes: every complete record that ends at or
     * below it is durable. At least {@link #lastRecordLsn()}; beyond it when the WAL after the last
     * record is only page headers or padding.
     */
    public long receivedLsn() {
        return receivedLsn;
    }

    /**
     * Ingest lag in bytes: how much of its compute's WAL this receiver knows of and does not hold
     * durably yet ({@code max(end of the last chunk received, the walsender's end of WAL in its last
     * message) - receivedLsn()}), 0 when caught up. The compute's walsender sends WAL as soon as the
     * compute flushed it, so this is the compute's flushed WAL that Forkline does not hold durably
     * yet, as of the last message read (a receiver in the background reads late: see
     * {@link BackgroundIngest}).
     */
    public long lagBytes() {
        long end = receivedEnd;
        long server = serverWalEnd;
        if (Long.compareUnsigned(server, end) > 0) {
            end = server;
        }
        long durable = receivedLsn;
        return Long.compareUnsigned(end, durable) > 0 ? end - durable : 0;
    }

    /**
     * Ingest lag in seconds: the age of the oldest received WAL byte that is not durable yet (now
     * minus when its chunk arrived), 0 when everything received is durable. Like PostgreSQL's
     * {@code flush_lag} of {@code pg_stat_replication}, seen from this side.
     */
    public double lagSeconds() {
        long durable = receivedLsn;
        synchronized (arrivals) {
            for (long[] a : arrivals) {
                if (Long.compareUnsigned(a[0], durable) > 0) {
                    return Math.max(0, System.nanoTime() - a[1]) / 1e9;
                }
            }
        }
        return 0;
    }

    /** How many times {@code START_REPLICATION} succeeded (1 + reconnects). */
    public int connects() {
        return connects;
    }

    /** Whether ingest stopped on an error ({@link ReceiverState#FAILED}); {@link #failure()} says why. */
    public boolean isFailed() {
        return state == ReceiverState.FAILED;
    }

    /**
     * Waits until {@link #receivedLsn()} reaches {@code lsn}: every record ending at or below it is
     * durable (branch creation at {@code lsn}).
     *
     * @param lsn     WAL position, bytes
     * @param timeout the longest wait
     * @return true when reached; false on timeout, when the calling thread is interrupted (its
     *         interrupt flag is set again), or at once when the receiver is FAILED or STOPPED below
     *         {@code lsn}
     */
    public boolean awaitLsn(long lsn, Duration timeout) {
        return await(lsn, timeout, false);
    }

    /**
     * Waits until {@link #lastRecordLsn()} reaches {@code lsn}, e.g. {@code checkpointLsn + 1} to wait
     * for a compute's shutdown checkpoint record to be durable.
     *
     * @param lsn     WAL position, bytes
     * @param timeout the longest wait
     * @return as {@link #awaitLsn(long, Duration)}
     */
    public boolean awaitLastRecordLsn(long lsn, Duration timeout) {
        return await(lsn, timeout, true);
    }

    private boolean await(long lsn, Duration timeout, boolean durableRecord) {
        long deadline = System.nanoTime() + timeout.toNanos();
        // someone waits for the store: the receiver leaves the background at once (set from this thread)
        priority.waiterEntered();
        try {
            return awaitProgress(lsn, deadline, durableRecord);
        } finally {
            priority.waiterLeft();
        }
    }

    private boolean awaitProgress(long lsn, long deadline, boolean durableRecord) {
        synchronized (progress) {
            while (Long.compareUnsigned(durableRecord ? lastRecordLsn : receivedLsn, lsn) < 0) {
                if (state == ReceiverState.FAILED || state == ReceiverState.STOPPED) {
                    return false;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(progress, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return true;
        }
    }

    /**
     * Tells the receiver that its compute is being shut down on purpose, so the loss of the
     * replication connection that follows is expected and logged at INFO, not WARN. The receiver
     * keeps ingesting what arrives (the shutdown checkpoint) until {@link #close()}.
     */
    public void computeStopping() {
        computeStopping = true;
    }

    /**
     * Stops the receiver: closes the replication connection, commits the records already ingested,
     * and waits for the thread to end. After it returns no further writes happen. Idempotent.
     *
     * @throws IllegalStateException when the thread does not end within 60 s
     */
    @Override
    public void close() {
        closing = true;
        priority.apply(); // the last commit at the server's priority
        closeSignal.countDown();
        abortConnection();
        if (Thread.currentThread() == thread) {
            return;
        }
        boolean interrupted = false;
        long deadline = System.nanoTime() + CLOSE_JOIN_TIMEOUT.toNanos();
        while (thread.isAlive()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new IllegalStateException("WAL receiver of timeline " + timeline + " did not stop within "
                        + CLOSE_JOIN_TIMEOUT);
            }
            try {
                thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void abortConnection() {
        Connection c = connection;
        if (c != null) {
            try {
                // Closes the socket without the connection lock, waking a thread blocked in read().
                c.abort(Runnable::run);
            } catch (SQLException | RuntimeException e) {
                LOG.debug("timeline {}: aborting the replication connection failed: {}", timeline, e.toString());
            }
        }
    }

    // ------------------------------------------------------------------ receiver thread

    private void run() {
        long backoffMs = config.initialBackoff().toMillis();
        int failuresInARow = 0;
        priority.threadStarted();
        try {
            while (!closing) {
                setState(ReceiverState.CONNECTING);
                int before = connects;
                try {
                    streamOnce();
                    if (!closing) {
                        LOG.info("timeline {}: compute {}:{} ended the replication stream at {}; reconnecting",
                                timeline, config.host(), config.port(), Lsn.format(receivedLsn));
                    }
                } catch (SQLException e) {
                    if (closing) {
                        break;
                    }
                    if (!config.createSlot() && "42704".equals(e.getSQLState())) {
                        throw new WalReceiverException(timeline, receivedLsn, "replication slot " + config.slotName()
                                + " does not exist on " + config.host() + ":" + config.port()
                                + " (dropped?): the WAL after " + Lsn.format(receivedLsn)
                                + " may be gone, so ingest stops here; import the primary again (SQLSTATE 42704: "
                                + e.getMessage() + ")", e);
                    }
                    if (!isRetryable(e)) {
                        throw new WalReceiverException(timeline, receivedLsn, "compute " + config.host() + ":"
                                + config.port() + " refused replication (SQLSTATE " + e.getSQLState() + "): "
                                + e.getMessage(), e);
                    }
                    failuresInARow = connects != before ? 1 : failuresInARow + 1;
                    // The first failure after streaming, then every 20th, at WARN: a stopped compute is
                    // retried until close() without flooding the log.
                    boolean loud = failuresInARow == 1 || failuresInARow % 20 == 0;
                    String msg = "timeline {}: replication connection to {}:{} failed at {} (SQLSTATE {}: {}; attempt {});"
                            + " reconnecting in {} ms";
                    Object[] args = {timeline, config.host(), config.port(), Lsn.format(receivedLsn), e.getSQLState(),
                            e.getMessage(), failuresInARow, backoffMs};
                    if (computeStopping) {
                        LOG.info(msg, args);
                    } else if (loud) {
                        LOG.warn(msg, args);
                    } else {
                        LOG.debug(msg, args);
                    }
                }
                if (connects != before) {
                    backoffMs = config.initialBackoff().toMillis();
                }
                if (closing || closeSignal.await(backoffMs, TimeUnit.MILLISECONDS)) {
                    break;
                }
                if (connects == before) {
                    backoffMs = Math.min(backoffMs * 2, config.maxBackoff().toMillis());
                }
            }
        } catch (WalReceiverException e) {
            fail(e);
        } catch (InterruptedException e) {
            fail(new WalReceiverException(timeline, receivedLsn, "receiver thread interrupted", e));
        } catch (RuntimeException | Error e) {
            fail(new WalReceiverException(timeline, receivedLsn, "unexpected error: " + e, e));
        } finally {
            priority.threadEnded();
            if (state != ReceiverState.FAILED) {
                setState(ReceiverState.STOPPED);
                LOG.info("timeline {}: WAL receiver stopped at last record {}", timeline, Lsn.format(lastRecordLsn));
            }
        }
    }

    private void fail(WalReceiverException e) {
        failure = e;
        LOG.error("timeline {}: WAL ingest FAILED at {}: {}", timeline, Lsn.format(e.lsn()), e.getMessage(), e);
        setState(ReceiverState.FAILED);
    }

    /**
     * One connection: connect, create the slot, stream until the server ends the stream, the
     * connection fails, or close. Ingested records are committed on every way out except an
     * ingest/storage failure.
     */
    private void streamOnce() throws SQLException {
        long durable = store.lastRecordLsn(timeline);
        long streamStart = TimelineWalSink.streamStart(startLsn, durable);
        try (TimelineWalSink sink = new TimelineWalSink(store, timeline, streamStart, config.dataChecksums(),
                observer)) {
            try {
                streamInto(sink, durable, streamStart);
            } finally {
                if (!sink.isBroken()) {
                    publish(sink.commit());
                    publishReceived(sink);
                }
            }
        } finally {
            Connection c = connection;
            connection = null;
            if (c != null) {
                try {
                    c.close();
                } catch (SQLException e) {
                    LOG.debug("timeline {}: closing the replication connection: {}", timeline, e.toString());
                }
            }
        }
    }

    private void streamInto(TimelineWalSink sink, long durable, long streamStart) throws SQLException {
        Connection c = connect();
        connection = c;
        if (closing) {
            return;
        }
        checkServer(c);
        if (config.createSlot()) {
            ensureSlot(c);
        }
        PhysicalStream stream = PhysicalStream.start(c, config.slotName(), streamStart,
                config.statusInterval().toNanos());
        connects++;
        long acked = durable;
        if (Long.compareUnsigned(durable, streamStart) >= 0) {
            // Tell the compute at once what is durable (a fresh compute's WAL starts after it: nothing to say).
            stream.acknowledge(acked);
        }
        priority.streamStarted();
        setState(ReceiverState.STREAMING);
        LOG.info("timeline {}: streaming WAL from {}:{} at {} (slot {}, standby {}, durable last record {})", timeline,
                config.host(), config.port(), Lsn.format(streamStart), config.slotName(), config.standbyName(),
                Lsn.format(durable));
        long maxDelayNanos = config.maxCommitDelay().toNanos();
        long batchStartNanos = System.nanoTime();
        // Whether the walsender had sent all the WAL it had flushed with its last message: when not,
        // more is on its way and the batch waits for it (bulk loads commit per batch, not per message).
        boolean caughtUp = true;
        while (!closing) {
            if (sink.hasUncommitted() && caughtUp && !stream.readable()) {
                // Nothing more has arrived (no wait: PostgreSQL's walreceiver does the same before its flush),
                // unless no commit waits for this batch and the last commit was recent: then it gathers
                // what comes within the group commit window.
                if (moreForTheBatch(stream)) {
                    continue;
                }
                acked = commitAndAcknowledge(sink, stream, acked);
                continue;
            }
            PhysicalStream.XLogData d = stream.read();
            if (d == null) {
                if (stream.ended()) {
                    return;
                }
                // A keepalive: the walsender says where its WAL ends.
                serverWalEnd = stream.serverWalEnd();
                caughtUp = Long.compareUnsigned(sink.expectedLsn(), stream.serverWalEnd()) >= 0;
                priority.noteBehind(caughtUp, sink.receivedLsn(), serverWalEnd);
                continue;
            }
            if (!sink.hasUncommitted()) {
                batchStartNanos = System.nanoTime();
            }
            caughtUp = d.caughtUp();
            serverWalEnd = d.walEnd();
            noteArrival(d.end());
            priority.noteBehind(caughtUp, receivedLsn, serverWalEnd);
            sink.accept(d.start(), d.buf(), d.offset(), d.length());
            if (sink.bytesSinceCommit() >= config.commitIntervalBytes()
                    || System.nanoTime() - batchStartNanos >= maxDelayNanos) {
                acked = commitAndAcknowledge(sink, stream, acked);
            }
        }
    }

    /**
     * In the background (no commit of the compute waits for this receiver, nobody waits for the
     * store): when the last store commit is less than {@link BackgroundIngest#groupCommit()} old,
     * polls every {@value #GROUP_COMMIT_POLL_NANOS} ns for more WAL until it is, so that while WAL
     * keeps coming one store commit (a synced RocksDB write, a status update) covers many of the
     * compute's commits; WAL that comes after a quiet stretch is committed at once (a lone
     * {@code synchronous_commit = on} commit does not wait).
     *
     * @return true when more WAL arrived in time (read it into the batch), false to commit now
     */
    private boolean moreForTheBatch(PhysicalStream stream) {
        if (!priority.mayGroupCommit()) {
            return false;
        }
        long deadline = lastCommitNanos + priority.policy().groupCommit().toNanos();
        while (deadline - System.nanoTime() > 0) {
            if (!priority.mayGroupCommit()) {
                return false;
            }
            if (stream.readable()) {
                return true;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(GROUP_COMMIT_POLL_NANOS);
        }
        return false;
    }

    /** The receiver thread's nice value while someone waits for the store (needs CAP_SYS_NICE, as the background does). */
    static final int WAITED_NICE = ReceiverPriority.WAITED_NICE;

    /** How often a batch gathering more WAL in the background looks for it. */
    private static final long GROUP_COMMIT_POLL_NANOS = 500_000;

    /**
     * Whether the receiver thread runs in the background now ({@link BackgroundIngest}): false
     * without a policy, while anyone waits for the store, and while the stream is behind past the
     * policy's bounds.
     */
    public boolean inBackground() {
        return priority.inBackground();
    }

    /** The receiver thread's Linux thread id while it runs with a background policy, else 0 (for tests). */
    int threadId() {
        return priority.threadId();
    }

    /** How many times the stream stayed behind past the policy's bounds and left the background (for tests). */
    int boundsPassed() {
        return priority.boundsPassed();
    }

    /** Pretends the stream has been behind since {@code nanoTime} (for tests of the watchdog). */
    void behindSince(long nanoTime) {
        priority.behindSince(nanoTime);
    }

    /** Seconds the receiver thread has run in the background so far (0 without a policy). */
    public double backgroundSeconds() {
        return priority.backgroundSeconds();
    }

    private void noteArrival(long chunkEnd) {
        if (Long.compareUnsigned(chunkEnd, receivedEnd) <= 0) {
            return;
        }
        receivedEnd = chunkEnd;
        synchronized (arrivals) {
            long[] last = arrivals.peekLast();
            if (arrivals.size() >= MAX_ARRIVALS && last != null) {
                last[0] = chunkEnd;
            } else {
                arrivals.addLast(new long[]{chunkEnd, System.nanoTime()});
            }
        }
    }

    /**
     * Commits the batch and acknowledges {@link TimelineWalSink#receivedLsn()}: the durable last
     * record LSN, or beyond it only over page headers and padding that hold no record (so that a
     * walsender whose flush pointer stops there, e.g. at shutdown, sees itself caught up).
     */
    private long commitAndAcknowledge(TimelineWalSink sink, PhysicalStream stream, long acked) throws SQLException {
        publish(sink.commit());
        lastCommitNanos = System.nanoTime();
        publishReceived(sink);
        long ack = sink.receivedLsn();
        if (ack != acked) {
            stream.acknowledge(ack);
        }
        return ack;
    }

    private void publish(long durable) {
        synchronized (progress) {
            if (Long.compareUnsigned(durable, lastRecordLsn) > 0) {
                lastRecordLsn = durable;
            }
            progress.notifyAll();
        }
    }

    private void publishReceived(TimelineWalSink sink) {
        long r = sink.receivedLsn();
        synchronized (progress) {
            if (Long.compareUnsigned(r, receivedLsn) > 0) {
                receivedLsn = r;
            }
            progress.notifyAll();
        }
        synchronized (arrivals) {
            while (!arrivals.isEmpty() && Long.compareUnsigned(arrivals.peekFirst()[0], r) <= 0) {
                arrivals.pollFirst();
            }
        }
    }

    private void setState(ReceiverState s) {
        synchronized (progress) {
            state = s;
            progress.notifyAll();
        }
        priority.apply(); // streaming: into the background (with a policy); anything else: out of it
    }

    private Connection connect() throws SQLException {
        Properties p = new Properties();
        PGProperty.USER.set(p, config.user());
        if (config.password() != null) {
            PGProperty.PASSWORD.set(p, config.password());
        }
        PGProperty.REPLICATION.set(p, "true");
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(p, "15");
        PGProperty.PREFER_QUERY_MODE.set(p, "simple");
        PGProperty.APPLICATION_NAME.set(p, config.standbyName());
        PGProperty.CONNECT_TIMEOUT.set(p, (int) Math.max(1, config.connectTimeout().toSeconds()));
        PGProperty.LOGIN_TIMEOUT.set(p, (int) Math.max(1, config.connectTimeout().toSeconds()));
        PGProperty.TCP_KEEP_ALIVE.set(p, true);
        if (config.sslCertificate() != null) {
            PGProperty.SSL_MODE.set(p, config.sslRootCertificate() == null ? "require" : "verify-ca");
            PGProperty.SSL_CERT.set(p, config.sslCertificate().toString());
            PGProperty.SSL_KEY.set(p, config.sslKey().toString());
            if (config.sslRootCertificate() != null) {
                PGProperty.SSL_ROOT_CERT.set(p, config.sslRootCertificate().toString());
            }
        }
        String host = config.host().indexOf(':') >= 0 ? "[" + config.host() + "]" : config.host();
        if (config.host().startsWith("/")) {
            // libpq's convention: a host that starts with '/' is the directory of the Unix-domain socket
            PGProperty.SOCKET_FACTORY.set(p, "org.newsclub.net.unix.AFUNIXSocketFactory$FactoryArg");
            PGProperty.SOCKET_FACTORY_ARG.set(p, config.host() + "/.s.PGSQL." + config.port());
            PGProperty.TCP_KEEP_ALIVE.set(p, false);
            host = "localhost";
        }
        String url = "jdbc:postgresql://" + host + ":" + config.port() + "/postgres";
        Connection c = new org.postgresql.Driver().connect(url, p);
        if (c == null) {
            throw new SQLException("pgjdbc does not accept URL " + url, "08001");
        }
        return c;
    }

    /**
     * Checks the server before streaming: PostgreSQL {@value #SUPPORTED_MAJOR} (the WAL format Forkline
     * decodes), and, when configured ({@link WalReceiverConfig#expectedSystemId()},
     * {@link WalReceiverConfig#expectedTimeline()}), the system identifier and timeline that
     * {@code IDENTIFY_SYSTEM} reports.
     *
     * @throws WalReceiverException naming the expected and the found value (ingest stops)
     */
    private void checkServer(Connection c) throws SQLException {
        int versionNum = c.unwrap(org.postgresql.core.BaseConnection.class).getQueryExecutor().getServerVersionNum();
        String problem = serverVersionProblem(versionNum);
        if (problem != null) {
            throw new WalReceiverException(timeline, receivedLsn, config.host() + ":" + config.port() + " " + problem, null);
        }
        if (config.expectedSystemId() == 0 && config.expectedTimeline() == 0) {
            return;
        }
        try (Statement st = c.createStatement(); java.sql.ResultSet rs = st.executeQuery("IDENTIFY_SYSTEM")) {
            if (!rs.next()) {
                throw new SQLException("IDENTIFY_SYSTEM returned no row", "08P01");
            }
            long systemId = Long.parseUnsignedLong(rs.getString(1));
            int tli = rs.getInt(2);
            if (config.expectedSystemId() != 0 && systemId != config.expectedSystemId()) {
                throw new WalReceiverException(timeline, receivedLsn, config.host() + ":" + config.port()
                        + " is another cluster: system identifier " + Long.toUnsignedString(systemId) + ", the mirror was"
                        + " imported from " + Long.toUnsignedString(config.expectedSystemId()) + "; ingest stops here", null);
            }
            if (config.expectedTimeline() != 0 && tli != config.expectedTimeline()) {
                throw new WalReceiverException(timeline, receivedLsn, config.host() + ":" + config.port()
                        + " switched from PostgreSQL timeline " + config.expectedTimeline() + " to " + tli
                        + " (promoted or restored from a backup): the mirror keeps what it holds up to "
                        + Lsn.format(receivedLsn) + " and stops; import the primary again", null);
            }
        }
    }

    /** The only PostgreSQL major version whose WAL Forkline decodes. */
    public static final int SUPPORTED_MAJOR = 15;

    /**
     * Why a server of {@code server_version_num} {@code versionNum} (e.g. 150014) cannot be streamed
     * from, or {@code null} when it can (PostgreSQL 15).
     */
    public static String serverVersionProblem(int versionNum) {
        int major = versionNum / 10000;
        if (major == SUPPORTED_MAJOR) {
            return null;
        }
        return "runs PostgreSQL " + (major >= 10 ? Integer.toString(major) : (versionNum / 10000) + "." + (versionNum / 100 % 100))
                + " (server_version_num " + versionNum + "); Forkline reads the WAL of PostgreSQL " + SUPPORTED_MAJOR + " only";
    }

    /** {@code CREATE_REPLICATION_SLOT slot PHYSICAL RESERVE_WAL}; an existing slot (42710) is fine. */
    private void ensureSlot(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("CREATE_REPLICATION_SLOT " + config.slotName() + " PHYSICAL RESERVE_WAL");
            LOG.info("timeline {}: created physical replication slot {} on {}:{}", timeline, config.slotName(),
                    config.host(), config.port());
        } catch (SQLException e) {
            if (!"42710".equals(e.getSQLState())) {
                throw e;
            }
        }
    }

    /**
     * Whether an SQL error means "connection lost or compute restarting" (retry) rather than "the
     * compute refuses this stream" (fail): SQLSTATE class 08 (connection exception), 57P01..57P03
     * (shutdown, starting up), class 53 (too many connections, max_wal_senders), 55006 (slot still
     * active for the previous walsender), 42704 (slot dropped meanwhile: recreated on reconnect),
     * or no SQLSTATE at all (pgjdbc I/O errors).
     */
    static boolean isRetryable(SQLException e) {
        String s = e.getSQLState();
        if (s == null) {
            return true;
        }
        return s.startsWith("08") || s.startsWith("57P") || s.startsWith("53") || s.equals("55006")
                || s.equals("42704");
    }
}
