package io.forkline.wal.replication;

import io.forkline.storage.id.TimelineId;
import io.forkline.storage.lsn.Lsn;

import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OS priority of one {@link WalReceiver}'s thread under a {@link BackgroundIngest} policy: in the
 * background while it streams; at nice {@link #WAITED_NICE}, ahead of the computes, while anyone waits
 * for the store and once the stream has been behind the walsender past the policy's bounds until it
 * catches up (so the backlog stays bounded); at the thread's own (the server's) priority while closing
 * and while not streaming. The bounds are checked by the
 * receiver thread per message ({@link #noteBehind}) and, for a receiver starved of CPU that does not
 * get to read the message that would tell it, by a shared watchdog thread every second.
 *
 * <p>Without a policy, or where {@link ThreadPriority#available()} is null (no {@code CAP_SYS_NICE}),
 * every method is a no-op and {@link #inBackground()} stays false.
 *
 * <p>Thread-safety: {@link #threadStarted()}, {@link #threadEnded()}, {@link #streamStarted()} and
 * {@link #noteBehind} run on the receiver thread; the rest on any thread. Priority changes are made
 * under one lock, so the thread's priority always matches {@link #inBackground()} once a change
 * returns.
 */
final class ReceiverPriority {
    private static final Logger LOG = LoggerFactory.getLogger(ReceiverPriority.class);

    /** The receiver thread's nice value while someone waits for the store (needs CAP_SYS_NICE, as the background does). */
    static final int WAITED_NICE = -20;

    private final TimelineId timeline;
    /** Null: the server's priority throughout. */
    private final BackgroundIngest policy;
    /** Null without a policy or without CAP_SYS_NICE. */
    private final ThreadPriority priorities;
    /**
     * Cgroups that make the priorities count against the computes where autogroup would not
     * ({@link CpuGroups}); null where not needed, not possible, or not wanted by the policy. Set to null
     * under lock after a move failed.
     */
    private CpuGroups groups;
    /** Whether the receiver streams now (state STREAMING). */
    private final BooleanSupplier streaming;
    /** Whether the receiver is closing. */
    private final BooleanSupplier closing;
    /** The receiver's received LSN, for log lines. */
    private final LongSupplier receivedLsn;

    /** Guards the thread's priority, {@link #tid}, {@link #inBackground} and {@link #urgent} changes. */
    private final Object lock = new Object();
    /** Linux thread id of the receiver thread while it runs, else 0. Written under lock. */
    private volatile int tid;
    /** The receiver thread's nice value when it started: what it returns to. */
    private volatile int foregroundNice;
    private volatile boolean inBackground;
    /** Whether the thread runs at {@link #WAITED_NICE} for a waiter now. Guarded by lock. */
    private boolean urgent;
    /** Set when the stream stayed behind past the policy's bounds; cleared when caught up. */
    private volatile boolean overBound;
    /** How many times the stream passed the policy's bounds. */
    private final AtomicInteger boundsPassed = new AtomicInteger();
    /** Threads waiting for the store (WalReceiver's awaitLsn / awaitLastRecordLsn). */
    private final AtomicInteger waiters = new AtomicInteger();
    /** Since when the stream is behind the walsender (System.nanoTime()), 0 when caught up. */
    private volatile long behindSinceNanos;
    /** Nanoseconds spent in the background in earlier stretches, and when the current one began (0: not in one). */
    private final AtomicLong backgroundNanos = new AtomicLong();
    private volatile long backgroundSinceNanos;

    /**
     * @param timeline    the receiver's timeline, for log lines
     * @param policy      the background policy, or null for the server's priority throughout
     * @param streaming   whether the receiver streams now
     * @param closing     whether the receiver is closing
     * @param receivedLsn the receiver's received LSN, bytes (for log lines)
     */
    ReceiverPriority(TimelineId timeline, BackgroundIngest policy, BooleanSupplier streaming, BooleanSupplier closing,
                     LongSupplier receivedLsn) {
        this.timeline = timeline;
        this.policy = policy;
        this.priorities = policy == null ? null : ThreadPriority.available();
        this.groups = priorities == null || !policy.cpuGroups() ? null : CpuGroups.available();
        this.streaming = streaming;
        this.closing = closing;
        this.receivedLsn = receivedLsn;
    }

    /** The policy, or null. */
    BackgroundIngest policy() {
        return policy;
    }

    /** Receiver thread, first thing: records its thread id and nice value and puts it under the watchdog. */
    void threadStarted() {
        if (priorities == null) {
            return;
        }
        synchronized (lock) {
            try {
                int t = priorities.currentThreadId();
                foregroundNice = ThreadPriority.nice(t);
                tid = t;
                WATCHED.add(this);
            } catch (IllegalStateException e) { // tid stays 0: the server's priority throughout
                LOG.warn("timeline {}: ingest stays at the server's priority: {}", timeline, e.getMessage());
            }
        }
    }

    /** Receiver thread, last thing: no priority change reaches its (reusable) thread id from now on. */
    void threadEnded() {
        if (priorities == null) {
            return;
        }
        synchronized (lock) {
            tid = 0;
            WATCHED.remove(this);
            leaveBackgroundClock();
        }
    }

    /** Receiver thread: a new stream starts, not behind. */
    void streamStarted() {
        behindSinceNanos = 0;
        overBound = false;
    }

    /** A thread begins to wait for the store: the receiver leaves the background at once. */
    void waiterEntered() {
        if (policy == null) {
            return;
        }
        waiters.incrementAndGet();
        apply();
    }

    /** A waiter of {@link #waiterEntered()} is done. */
    void waiterLeft() {
        if (policy == null) {
            return;
        }
        waiters.decrementAndGet();
        apply();
    }

    /** Whether a batch may wait for more WAL before its commit: in the background, nobody waiting. */
    boolean mayGroupCommit() {
        return policy != null && inBackground && waiters.get() == 0 && !closing.getAsBoolean();
    }

    /**
     * Receiver thread, per message: tracks how long and how far the stream is behind the walsender,
     * and leaves the background once either passes the policy's bound (until caught up).
     *
     * @param caughtUp     whether the walsender had sent all the WAL it had with this message
     * @param durable      what the receiver holds, bytes
     * @param serverWalEnd the walsender's end of WAL in this message, bytes
     */
    void noteBehind(boolean caughtUp, long durable, long serverWalEnd) {
        if (policy == null) {
            return;
        }
        if (caughtUp) {
            behindSinceNanos = 0;
            if (overBound) {
                overBound = false;
                LOG.info("timeline {}: ingest caught up with the compute at {}; back in the background", timeline,
                        Lsn.format(durable));
            }
        } else if (!overBound) {
            long now = System.nanoTime();
            if (behindSinceNanos == 0) {
                behindSinceNanos = now;
            }
            long behindBytes = serverWalEnd - durable;
            if (now - behindSinceNanos > policy.maxBehind().toNanos() || behindBytes > policy.maxLagBytes()) {
                overBound = true;
                boundsPassed.incrementAndGet();
                LOG.info("timeline {}: ingest {} behind the compute ({} bytes of WAL, {} s): ahead of the computes"
                                + " until it catches up", timeline, Lsn.format(durable), behindBytes,
                        String.format(Locale.ROOT, "%.1f", (now - behindSinceNanos) / 1e9));
            }
        }
        if (inBackground != wantsBackground()) {
            apply();
        }
    }

    /** Watchdog thread: the time bound of {@link #noteBehind}, for a receiver that does not get to check it. */
    private void watch() {
        long since = behindSinceNanos;
        if (!inBackground || overBound || since == 0 || System.nanoTime() - since <= policy.maxBehind().toNanos()) {
            return;
        }
        overBound = true;
        boundsPassed.incrementAndGet();
        LOG.info("timeline {}: ingest {} behind the compute for over {}: ahead of the computes until it"
                + " catches up", timeline, Lsn.format(receivedLsn.getAsLong()), policy.maxBehind());
        apply();
    }

    private boolean wantsBackground() {
        return streaming.getAsBoolean() && !closing.getAsBoolean() && !overBound && waiters.get() == 0;
    }

    /** Any thread: sets the receiver thread's priority to what the state says, if it changed. */
    void apply() {
        if (priorities == null) {
            return;
        }
        synchronized (lock) {
            int t = tid;
            boolean want = wantsBackground();
            // a waiter, or a stream past its bounds: ahead of the computes, or the backlog could keep growing
            boolean wantUrgent = !want && (waiters.get() > 0 || (overBound && streaming.getAsBoolean()))
                    && !closing.getAsBoolean();
            if (t == 0 || (want == inBackground && wantUrgent == urgent)) {
                return;
            }
            // a waiter's catch-up runs ahead of the computes that keep writing (nice WAITED_NICE), else it
            // could take as long as the backlog took to build
            int fore = wantUrgent ? Math.min(foregroundNice, WAITED_NICE) : foregroundNice;
            boolean set;
            if (policy.schedIdle()) {
                set = want ? priorities.trySet(t, foregroundNice) && priorities.trySetIdle(t, true)
                        : priorities.trySetIdle(t, false) && priorities.trySet(t, fore);
            } else {
                set = priorities.trySet(t, want ? policy.nice() : fore);
            }
            if (set && groups != null) {
                place(t, want, wantUrgent ? fore : 0);
            }
            if (set) {
                urgent = wantUrgent;
                if (want == inBackground) {
                    return;
                }
                inBackground = want;
                if (want) {
                    backgroundSinceNanos = System.nanoTime();
                } else {
                    leaveBackgroundClock();
                }
            }
        }
    }

    /**
     * Under lock: moves thread {@code t} into the cpu group that matches its priority (the idle group or
     * the policy's nice value in the background, {@code urgentNice}'s group ahead of the computes, else this
     * process's own cgroup). A refused move is logged, the thread goes home, and this receiver stops
     * using groups (its thread priorities stay).
     *
     * @param urgentNice the nice value for a waiter or a stream past its bounds, 0 otherwise
     */
    private void place(int t, boolean background, int urgentNice) {
        try {
            if (background) {
                if (policy.schedIdle()) {
                    groups.toIdle(t);
                } else {
                    groups.toNice(t, policy.nice());
                }
            } else if (urgentNice != 0) {
                groups.toNice(t, urgentNice);
            } else {
                groups.toHome(t);
            }
        } catch (IllegalStateException e) {
            LOG.warn("timeline {}: {}; the receiver keeps its thread priorities only", timeline, e.getMessage());
            CpuGroups g = groups;
            groups = null;
            try {
                g.toHome(t);
            } catch (IllegalStateException again) {
                LOG.warn("timeline {}: {}", timeline, again.getMessage());
            }
        }
    }

    /** Under lock: ends the current background stretch in {@link #backgroundNanos}. */
    private void leaveBackgroundClock() {
        long since = backgroundSinceNanos;
        if (since != 0) {
            backgroundNanos.addAndGet(System.nanoTime() - since);
            backgroundSinceNanos = 0;
        }
    }

    /** Whether the receiver thread runs in the background now. */
    boolean inBackground() {
        return inBackground;
    }

    /** Seconds the receiver thread has run in the background so far (0 without a policy). */
    double backgroundSeconds() {
        long since = backgroundSinceNanos;
        return (backgroundNanos.get() + (since == 0 ? 0 : System.nanoTime() - since)) / 1e9;
    }

    /** The receiver thread's Linux thread id while it runs with a policy, else 0. */
    int threadId() {
        return tid;
    }

    /** How many times the stream stayed behind past the policy's bounds and left the background. */
    int boundsPassed() {
        return boundsPassed.get();
    }

    /** Pretends the stream has been behind since {@code nanoTime} (for tests of the watchdog). */
    void behindSince(long nanoTime) {
        behindSinceNanos = nanoTime;
    }

    /**
     * Receivers running with a policy, watched every second from a thread of the server's priority: a
     * receiver starved of CPU may not read the messages that would tell it it passed
     * {@link BackgroundIngest#maxBehind()}.
     */
    private static final Set<ReceiverPriority> WATCHED = ConcurrentHashMap.newKeySet();
    private static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("forkline-ingest-watchdog").daemon().factory());

    static {
        WATCHDOG.scheduleWithFixedDelay(ReceiverPriority::watchAll, 1, 1, TimeUnit.SECONDS);
    }

    private static void watchAll() {
        for (ReceiverPriority p : WATCHED) {
            try {
                p.watch();
            } catch (RuntimeException e) {
                LOG.warn("timeline {}: watching background ingest failed: {}", p.timeline, e.toString());
            }
        }
    }
}
