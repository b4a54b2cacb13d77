package io.forkline.pageserver.proxy;

import io.forkline.compute.proxy.ComputeAddress;
import io.forkline.compute.proxy.ComputeDirectory;
import io.forkline.compute.proxy.ScramVerifier;
import io.forkline.pageserver.access.SuspendAfter;
import io.forkline.pageserver.api.ApiException;
import io.forkline.pageserver.branch.BranchAccess;
import io.forkline.pageserver.branch.BranchService;
import io.forkline.pageserver.endpoint.EndpointManager;
import io.forkline.pageserver.endpoint.EndpointState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The server's side of the Postgres proxy ({@link ComputeDirectory}): endpoint ids to branches and
 * their password verifiers, wake on connect and scale to zero.
 *
 * <ul>
 *   <li>{@link #wake}: starts the branch's compute ({@link BranchService#startEndpoint}, quotas
 *   applied) on a bounded pool of {@value #WAKERS} threads (queue {@value #WAKE_QUEUE}), never on the
 *   caller's thread; concurrent wakes of one endpoint share one start; each wake is bounded at
 *   {@link #WAKE_BOUND} (60 s). A running compute answers at once; one being suspended (still
 *   reading RUNNING while it shuts down) is waited for and started again. Suspended and explicitly stopped
 *   endpoints both wake (Neon's behaviour).</li>
 *   <li>{@link #sessionOpened}/{@link #sessionClosed}: count client sessions per endpoint. When the
 *   count drops to 0 (or a wake completes with no session), a timer of the branch's
 *   {@code suspend_after} (default 5m, {@code 0} = never) starts; a new session cancels it; when it
 *   fires with still no session, the compute is suspended ({@link BranchService#suspendEndpoint}: the
 *   shutdown checkpoint ingested, state {@code suspended}, kept across a server restart).</li>
 *   <li>Every compute gets its timer when it starts, however it was started ({@code endpoint start},
 *   {@code branch create --start}, resumed at server start, a wake), so one nobody connects to
 *   suspends too.</li>
 *   <li>Before suspending, the compute itself is asked for client sessions that did not come
 *   through the proxy (a connection of root or of the compute's OS user on its private socket,
 *   {@code pg_stat_activity} rows of {@code backend_type = 'client backend'}): while there are any,
 *   the timer starts again instead.</li>
 * </ul>
 * Thread-safe; {@link #close} stops the pool and timers (computes keep running).
 */
public final class BranchComputeDirectory implements ComputeDirectory, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BranchComputeDirectory.class);
    /** The longest a wake waits for a compute. */
    public static final Duration WAKE_BOUND = Duration.ofSeconds(60);
    static final int WAKERS = 4;
    static final int WAKE_QUEUE = 256;

    private final BranchService branches;
    private final EndpointManager endpoints;
    private final ThreadPoolExecutor wakers;
    private final ScheduledExecutorService timers;
    private final Map<String, CompletableFuture<ComputeAddress>> waking = new ConcurrentHashMap<>();
    private final Map<String, Sessions> sessions = new ConcurrentHashMap<>();
    /** Endpoints whose suspend is under way: their compute still reads RUNNING but is shutting down. */
    private final java.util.Set<String> suspending = ConcurrentHashMap.newKeySet();
    private final AtomicLong starts = new AtomicLong();
    private final AtomicLong suspends = new AtomicLong();

    /** Sessions of one endpoint and its pending suspend timer; guarded by itself. */
    private static final class Sessions {
        int open;
        ScheduledFuture<?> timer;
    }

    /** A directory over {@code branches} and their {@code endpoints}. */
    public BranchComputeDirectory(BranchService branches, EndpointManager endpoints) {
        this.branches = branches;
        this.endpoints = endpoints;
        this.wakers = new ThreadPoolExecutor(WAKERS, WAKERS, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(WAKE_QUEUE),
                Thread.ofPlatform().name("endpoint-wake-", 0).daemon().factory());
        this.wakers.allowCoreThreadTimeOut(true);
        this.timers = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("endpoint-suspend").daemon().factory());
        branches.onSuspendAfterChanged(this::suspendAfterChanged);
        endpoints.onRunning(this::computeRunning);
    }

    /** A compute of (tenant, ref) is running: arm its suspend timer when it has no session (off the caller's thread). */
    void computeRunning(String tenant, String ref) {
        try {
            timers.execute(() -> {
                try {
                    String id = branches.get(tenant, ref).endpointId();
                    if (id != null) {
                        armIfIdle(id);
                    }
                } catch (RuntimeException ex) {
                    log.debug("endpoint {}/{}: no suspend timer armed: {}", tenant, ref, ex.toString());
                }
            });
        } catch (RejectedExecutionException ex) {
            // closed: the server is stopping
        }
    }

    /**
     * The branch of {@code endpointId} has a new {@code suspend_after}: when its running compute has
     * no session, its suspend timer starts again with the new setting (an idle compute then suspends
     * that long after the change; {@code 0} cancels the timer).
     */
    void suspendAfterChanged(String endpointId) {
        EndpointManager.Endpoint e = null;
        BranchAccess.Located l = branches.access().find(endpointId);
        if (l != null) {
            e = endpoints.get(l.tenant(), l.ref());
        }
        Sessions s = sessions.computeIfAbsent(endpointId, k -> new Sessions());
        synchronized (s) {
            if (s.open == 0 && e != null && e.active()) {
                arm(endpointId, s);
            }
        }
    }

    @Override
    public Endpoint lookup(String endpointId) {
        BranchAccess.Located l = branches.access().find(endpointId);
        if (l == null) {
            return null;
        }
        ScramVerifier v = branches.access().verifier(l.branch());
        return v == null ? null : new Endpoint(endpointId, l.tenant(), l.ref(), v);
    }

    @Override
    public CompletableFuture<ComputeAddress> wake(String endpointId) {
        BranchAccess.Located l = branches.access().find(endpointId);
        if (l == null) {
            return CompletableFuture.failedFuture(new WakeException("endpoint '" + endpointId + "' does not exist"));
        }
        EndpointManager.Endpoint e = endpoints.get(l.tenant(), l.ref());
        // a compute being suspended still reads RUNNING but refuses connections ("the database system
        // is shutting down"): such a wake waits for the suspend (the start takes the same locks) and starts it again
        ComputeAddress running = e != null && e.state() == EndpointState.RUNNING && !suspending.contains(endpointId)
                ? e.proxyAddress() : null;
        if (running != null) {
            armIfIdle(endpointId);
            return CompletableFuture.completedFuture(running);
        }
        CompletableFuture<ComputeAddress> f = new CompletableFuture<>();
        CompletableFuture<ComputeAddress> shared = waking.putIfAbsent(endpointId, f);
        if (shared != null) {
            return shared.copy();
        }
        f.whenComplete((a, t) -> waking.remove(endpointId, f));
        ScheduledFuture<?> bound = timers.schedule(() -> f.completeExceptionally(new WakeException("the compute of endpoint '"
                + endpointId + "' (branch '" + l.ref() + "') did not start within " + WAKE_BOUND.toSeconds() + " s")),
                WAKE_BOUND.toMillis(), TimeUnit.MILLISECONDS);
        f.whenComplete((a, t) -> bound.cancel(false));
        try {
            wakers.execute(() -> start(endpointId, l, f));
        } catch (RejectedExecutionException ex) {
            f.completeExceptionally(new WakeException("the server is waking too many computes; try again"));
        }
        return f.copy();
    }

    private void start(String endpointId, BranchAccess.Located l, CompletableFuture<ComputeAddress> f) {
        if (f.isDone()) {
            return;
        }
        try {
            long t0 = System.nanoTime();
            while (suspending.contains(endpointId) && !f.isDone()) {
                Thread.sleep(5); // let the suspend finish (else it could stop the compute this wake returns)
            }
            branches.startEndpoint(l.tenant(), l.ref(), null);
            starts.incrementAndGet();
            EndpointManager.Endpoint e = endpoints.get(l.tenant(), l.ref());
            ComputeAddress a = e == null ? null : e.proxyAddress();
            if (a == null) {
                throw new WakeException("the compute of endpoint '" + endpointId + "' stopped right after it started");
            }
            log.info("endpoint {} ({}/{}) woken in {} ms", endpointId, l.tenant(), l.ref(), (System.nanoTime() - t0) / 1_000_000);
            f.complete(a);
            armIfIdle(endpointId);
        } catch (WakeException ex) {
            f.completeExceptionally(ex);
        } catch (ApiException ex) {
            f.completeExceptionally(new WakeException("cannot wake endpoint '" + endpointId + "': " + ex.getMessage(), ex));
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            f.completeExceptionally(new WakeException("the server is shutting down"));
        } catch (RuntimeException ex) {
            log.warn("endpoint {}: wake failed", endpointId, ex);
            f.completeExceptionally(new WakeException("cannot wake endpoint '" + endpointId + "': " + ex, ex));
        }
    }

    @Override
    public void sessionOpened(String endpointId) {
        Sessions s = sessions.computeIfAbsent(endpointId, k -> new Sessions());
        synchronized (s) {
            s.open++;
            cancelTimer(s);
        }
    }

    @Override
    public void sessionClosed(String endpointId) {
        Sessions s = sessions.computeIfAbsent(endpointId, k -> new Sessions());
        synchronized (s) {
            s.open = Math.max(0, s.open - 1);
            if (s.open == 0) {
                arm(endpointId, s);
            }
        }
    }

    /** Open sessions of {@code endpointId}. */
    public int openSessions(String endpointId) {
        Sessions s = sessions.get(endpointId);
        if (s == null) {
            return 0;
        }
        synchronized (s) {
            return s.open;
        }
    }

    /** Computes started by wakes since this directory was made. */
    public long wakeStarts() {
        return starts.get();
    }

    /** Computes suspended by timers since this directory was made. */
    public long suspends() {
        return suspends.get();
    }

    private void armIfIdle(String endpointId) {
        Sessions s = sessions.computeIfAbsent(endpointId, k -> new Sessions());
        synchronized (s) {
            if (s.open == 0 && s.timer == null) {
                arm(endpointId, s);
            }
        }
    }

    private static void cancelTimer(Sessions s) {
        if (s.timer != null) {
            s.timer.cancel(false);
            s.timer = null;
        }
    }

    /** Starts the suspend timer of an endpoint without sessions; called holding {@code s}. */
    private void arm(String endpointId, Sessions s) {
        cancelTimer(s);
        BranchAccess.Located l = branches.access().find(endpointId);
        if (l == null) {
            return;
        }
        Duration after = SuspendAfter.effective(l.branch().suspendAfter());
        if (after.isZero()) {
            return;
        }
        ScheduledFuture<?>[] self = new ScheduledFuture<?>[1];
        synchronized (self) {
            self[0] = timers.schedule(() -> {
                synchronized (s) {
                    synchronized (self) {
                        if (s.timer != self[0] || s.open > 0) {
                            return; // cancelled or re-armed meanwhile
                        }
                    }
                    s.timer = null;
                }
                try {
                    wakers.execute(() -> suspendIfIdle(endpointId, s));
                } catch (RejectedExecutionException ex) {
                    log.warn("endpoint {}: suspend not run (the pool is busy or closed)", endpointId);
                }
            }, after.toMillis(), TimeUnit.MILLISECONDS);
            s.timer = self[0];
        }
    }

    private void suspendIfIdle(String endpointId, Sessions s) {
        synchronized (s) {
            if (s.open > 0 || s.timer != null || waking.containsKey(endpointId)) {
                return;
            }
        }
        BranchAccess.Located l = branches.access().find(endpointId);
        if (l == null) {
            return;
        }
        EndpointManager.Endpoint e = endpoints.get(l.tenant(), l.ref());
        ComputeAddress address = e == null ? null : e.address();
        int direct = address == null ? 0 : clientSessions(address);
        if (direct > 0) {
            log.debug("endpoint {} ({}/{}): {} client session(s) on its socket; not suspended", endpointId, l.tenant(),
                    l.ref(), direct);
            synchronized (s) {
                if (s.open == 0 && s.timer == null) {
                    arm(endpointId, s);
                }
            }
            return;
        }
        synchronized (s) {
            if (s.open > 0 || s.timer != null || waking.containsKey(endpointId)) {
                return; // a session came meanwhile
            }
            suspending.add(endpointId); // before the lock is released: a session opened from now on wakes afresh
        }
        try {
            if (branches.suspendEndpoint(l.tenant(), l.ref())) {
                suspends.incrementAndGet();
            }
        } catch (RuntimeException ex) {
            log.warn("endpoint {} ({}/{}): suspend failed: {}", endpointId, l.tenant(), l.ref(), ex.toString());
        } finally {
            suspending.remove(endpointId);
        }
    }

    /**
     * Client backends of the compute at {@code address} other than this query's own (PostgreSQL's
     * {@code pg_stat_activity}, {@code backend_type = 'client backend'}: walsenders and background
     * workers are not counted); 0 when it cannot be asked (it is going away anyway).
     */
    static int clientSessions(ComputeAddress address) {
        java.util.Properties p = new java.util.Properties();
        p.setProperty("connectTimeout", "5");
        p.setProperty("socketTimeout", "10");
        p.setProperty("ApplicationName", "forkline_idle_check");
        try (java.sql.Connection c = io.forkline.pageserver.endpoint.ComputeConnections.connect(address, "postgres", p);
             java.sql.Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity "
                     + "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")) {
            return rs.next() ? rs.getInt(1) : 0;
        } catch (java.sql.SQLException ex) {
            log.debug("idle check of the compute at {} failed: {}", address, ex.toString());
            return 0;
        }
    }

    @Override
    public void close() {
        endpoints.onRunning(null);
        timers.shutdownNow();
        wakers.shutdownNow();
        for (CompletableFuture<ComputeAddress> f : waking.values()) {
            f.completeExceptionally(new WakeException("the server is shutting down"));
        }
    }
}
