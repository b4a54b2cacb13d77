package io.forkline.wal.replication;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The Linux scheduling priority (nice value, -20..19) of single threads, through Java's FFM API:
 * {@code gettid()} and {@code setpriority(PRIO_PROCESS, tid, nice)} of glibc (on Linux a thread id
 * names one thread: setpriority(2), "BUGS"), the current value read from field 19 of
 * {@code /proc/self/task/<tid>/stat} (proc(5)); and the scheduling policy of one thread,
 * {@code sched_setscheduler(tid, SCHED_IDLE | SCHED_OTHER, &param)} (sched(7): a {@code SCHED_IDLE}
 * thread runs only when no other thread wants the CPU, and a waking normal thread preempts it at
 * once, {@code check_preempt_wakeup_fair()} in {@code kernel/sched/fair.c}).
 *
 * <p>Raising a nice value is always allowed; lowering it again needs {@code CAP_SYS_NICE} or a
 * {@code RLIMIT_NICE} that permits it (setpriority(2), {@code can_nice()} in the kernel's
 * {@code kernel/sched/syscalls.c}). {@link #available()} is true only where both work, checked once
 * on a scratch thread, so a caller that lowers a thread's priority can always restore it.
 * Thread-safe.
 */
public final class ThreadPriority {
    private static final Logger LOG = LoggerFactory.getLogger(ThreadPriority.class);
    /** {@code which} of setpriority(2): a process, or on Linux one thread by its id ({@code sys/resource.h}). */
    private static final int PRIO_PROCESS = 0;
    private static final MemoryLayout STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final AtomicBoolean WARNED = new AtomicBoolean();

    private final MethodHandle gettid;
    private final MethodHandle setpriority;
    private final MethodHandle schedSetscheduler;
    /** Policies of sched_setscheduler(2) ({@code include/uapi/linux/sched.h}). */
    private static final int SCHED_OTHER = 0;
    private static final int SCHED_IDLE = 5;

    private ThreadPriority(MethodHandle gettid, MethodHandle setpriority, MethodHandle schedSetscheduler) {
        this.gettid = gettid;
        this.setpriority = setpriority;
        this.schedSetscheduler = schedSetscheduler;
    }

    private static final class Holder {
        static final ThreadPriority INSTANCE = load();
    }

    /**
     * The calls of this machine, or {@code null} where thread priorities cannot be both lowered and
     * restored (not Linux, no native access, no {@code CAP_SYS_NICE}); the reason is logged once at INFO.
     */
    public static ThreadPriority available() {
        return Holder.INSTANCE;
    }

    private static ThreadPriority load() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        if (!os.contains("linux")) {
            LOG.info("thread priorities: not on Linux ({}); ingest runs at the server's priority", os);
            return null;
        }
        ThreadPriority p;
        try {
            Linker linker = Linker.nativeLinker();
            SymbolLookup libc = linker.defaultLookup();
            Linker.Option errno = Linker.Option.captureCallState("errno");
            MethodHandle gettid = linker.downcallHandle(libc.find("gettid").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT));
            // int setpriority(int which, id_t who, int prio): id_t is a 32-bit unsigned int on Linux
            MethodHandle setpriority = linker.downcallHandle(libc.find("setpriority").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), errno);
            // int sched_setscheduler(pid_t pid, int policy, const struct sched_param *param): param is one int
            MethodHandle schedSetscheduler = linker.downcallHandle(libc.find("sched_setscheduler").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), errno);
            p = new ThreadPriority(gettid, setpriority, schedSetscheduler);
        } catch (RuntimeException | Error e) {
            LOG.info("thread priorities: native calls unavailable ({}); ingest runs at the server's priority", e.toString());
            return null;
        }
        String problem = p.probe();
        if (problem != null) {
            LOG.info("thread priorities: {}; ingest runs at the server's priority", problem);
            return null;
        }
        return p;
    }

    /** Lowers and restores the priority of a scratch thread: null when both work, else why not. */
    private String probe() {
        String[] problem = {"the probe thread did not run"};
        Thread t = new Thread(() -> {
            try {
                int tid = currentThreadId();
                int nice = nice(tid);
                int lower = Math.min(19, nice + 1);
                if (lower == nice) {
                    problem[0] = "the server already runs at nice 19";
                    return;
                }
                set(tid, lower);
                set(tid, nice);
                setIdle(tid, true);
                setIdle(tid, false);
                problem[0] = null;
            } catch (RuntimeException e) {
                problem[0] = e.getMessage();
            }
        }, "forkline-priority-probe");
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while probing";
        }
        return problem[0];
    }

    /** The calling thread's Linux thread id ({@code gettid(2)}). */
    public int currentThreadId() {
        try {
            return (int) gettid.invokeExact();
        } catch (Throwable e) {
            throw new IllegalStateException("gettid failed: " + e, e);
        }
    }

    /**
     * Sets the nice value of thread {@code tid} of this process.
     *
     * @param tid  a Linux thread id ({@link #currentThreadId()} of that thread)
     * @param nice -20..19
     * @throws IllegalArgumentException when {@code nice} is outside -20..19
     * @throws IllegalStateException    naming the thread, the value and errno when the kernel refuses
     *                                  (EPERM/EACCES: no permission; ESRCH: no such thread)
     */
    public void set(int tid, int nice) {
        if (nice < -20 || nice > 19) {
            throw new IllegalArgumentException("nice value " + nice + " is outside -20..19");
        }
        int rc;
        int errno;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(STATE);
            rc = (int) setpriority.invokeExact(state, PRIO_PROCESS, tid, nice);
            errno = (int) ERRNO.get(state, 0L);
        } catch (Throwable e) {
            throw new IllegalStateException("setpriority of thread " + tid + " to " + nice + " failed: " + e, e);
        }
        if (rc != 0) {
            throw new IllegalStateException("setpriority of thread " + tid + " to nice " + nice + " refused: errno "
                    + errno + (errno == 1 || errno == 13 ? " (no permission: lowering a nice value needs CAP_SYS_NICE)"
                    : errno == 3 ? " (no such thread)" : ""));
        }
    }

    /**
     * Puts thread {@code tid} of this process under {@code SCHED_IDLE} ({@code idle}) or back under
     * {@code SCHED_OTHER}, whose nice value is what it was before.
     *
     * @throws IllegalStateException naming the thread, the policy and errno when the kernel refuses
     *                               (EPERM: leaving SCHED_IDLE needs CAP_SYS_NICE; ESRCH: no such thread)
     */
    public void setIdle(int tid, boolean idle) {
        int policy = idle ? SCHED_IDLE : SCHED_OTHER;
        int rc;
        int errno;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(STATE);
            MemorySegment param = arena.allocate(JAVA_INT); // struct sched_param { int sched_priority = 0; }
            rc = (int) schedSetscheduler.invokeExact(state, tid, policy, param);
            errno = (int) ERRNO.get(state, 0L);
        } catch (Throwable e) {
            throw new IllegalStateException("sched_setscheduler of thread " + tid + " failed: " + e, e);
        }
        if (rc != 0) {
            throw new IllegalStateException("sched_setscheduler of thread " + tid + " to "
                    + (idle ? "SCHED_IDLE" : "SCHED_OTHER") + " refused: errno " + errno
                    + (errno == 1 ? " (no permission: leaving SCHED_IDLE needs CAP_SYS_NICE)"
                    : errno == 3 ? " (no such thread)" : ""));
        }
    }

    /** Like {@link #setIdle}, logging a refusal as {@link #trySet} does. @return whether it was set */
    public boolean trySetIdle(int tid, boolean idle) {
        return bestEffort(() -> setIdle(tid, idle));
    }

    /**
     * Whether thread {@code tid} of this process runs under {@code SCHED_IDLE}: field 41
     * ({@code policy}) of {@code /proc/self/task/<tid>/stat}.
     *
     * @throws IllegalStateException naming the file when it cannot be read or parsed
     */
    public static boolean isIdle(int tid) {
        return statField(tid, 41) == SCHED_IDLE;
    }

    /**
     * Like {@link #set}, logging a refusal (once per process at WARN, then at DEBUG) instead of
     * throwing: for callers that change a priority on a best-effort basis.
     *
     * @return whether the value was set
     */
    public boolean trySet(int tid, int nice) {
        return bestEffort(() -> set(tid, nice));
    }

    private static boolean bestEffort(Runnable change) {
        try {
            change.run();
            return true;
        } catch (IllegalStateException e) {
            if (WARNED.compareAndSet(false, true)) {
                LOG.warn("{}", e.getMessage());
            } else {
                LOG.debug("{}", e.getMessage());
            }
            return false;
        }
    }

    /**
     * The nice value of thread {@code tid} of this process: field 19 of
     * {@code /proc/self/task/<tid>/stat} (proc(5); fields counted after the parenthesized command).
     *
     * @throws IllegalStateException naming the file when it cannot be read or parsed
     */
    public static int nice(int tid) {
        return (int) statField(tid, 19);
    }

    private static long statField(int tid, int field) {
        Path stat = Path.of("/proc/self/task/" + tid + "/stat");
        try {
            String s = Files.readString(stat);
            // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so count after the last ')'
            String[] f = s.substring(s.lastIndexOf(')') + 2).trim().split(" ");
            return Long.parseLong(f[field - 3]); // f[0] is field 3 (state)
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("cannot read field " + field + " of thread " + tid + " from " + stat + ": "
                    + e, e);
        }
    }
}
