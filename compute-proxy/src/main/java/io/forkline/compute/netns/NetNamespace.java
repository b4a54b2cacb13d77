package io.forkline.compute.netns;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A Linux network namespace of its own (network_namespaces(7)): its own loopback interface, brought
 * up at creation, and its own port space. A process started inside it ({@link #call} around
 * {@code ProcessBuilder.start()}) and every socket created inside it belong to it; a TCP listener
 * there on 127.0.0.1 is reachable only from inside, i.e. by what this process runs there and by root
 * entering it ({@code setns(2)} needs {@code CAP_SYS_ADMIN}). For a compute's TCP listener that only
 * the server may reach (the kernel relay's SK_MSG shape needs the compute's backend socket to be TCP:
 * benchmarks/README.md 13f, 13h).
 *
 * <p>How: a fresh platform thread calls {@code unshare(CLONE_NEWNET)} (network namespaces are per
 * thread, so only that thread moves), sets {@code IFF_UP} on {@code lo} ({@code SIOCGIFFLAGS} /
 * {@code SIOCSIFFLAGS}, netdevice(7)) and opens {@code /proc/thread-self/ns/net}, whose descriptor
 * keeps the namespace alive; {@link #call} runs work on another fresh thread that first enters it
 * with {@code setns(fd, CLONE_NEWNET)}. Threads are never returned to a pool, so no thread of the JVM
 * stays in a namespace it did not start in. Calls through Java's FFM API; constants from the kernel's
 * uapi headers ({@code include/uapi/linux/sched.h}, {@code include/uapi/linux/sockios.h},
 * {@code include/uapi/linux/if.h}, {@code include/uapi/asm-generic/fcntl.h}).
 *
 * <p>Thread-safe. {@link #close()} closes the descriptor: the namespace ends once no process (a
 * compute started in it) and no socket is left in it.
 */
public final class NetNamespace implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NetNamespace.class);
    static final int CLONE_NEWNET = 0x40000000;
    static final int O_RDONLY = 0;
    static final int O_CLOEXEC = 0x80000;
    static final int AF_INET = 2;
    static final int SOCK_DGRAM = 2;
    static final int SIOCGIFFLAGS = 0x8913;
    static final int SIOCSIFFLAGS = 0x8914;
    static final short IFF_UP = 0x1;
    /** {@code struct ifreq}: {@code char ifr_name[IFNAMSIZ=16]}, then a 24-byte union whose first member is {@code short ifr_flags}. */
    static final int IFREQ_BYTES = 40;
    static final int IFR_FLAGS_OFFSET = 16;

    private static final AtomicInteger THREADS = new AtomicInteger();
    private static volatile Boolean available;

    private final String name;
    private final int fd;
    private volatile boolean closed;

    private NetNamespace(String name, int fd) {
        this.name = name;
        this.fd = fd;
    }

    /**
     * Whether this process may create and enter network namespaces (Linux, {@code CAP_SYS_ADMIN}):
     * probed once by creating one and closing it; the reason it may not is logged once.
     */
    public static boolean available() {
        Boolean a = available;
        if (a == null) {
            synchronized (NetNamespace.class) {
                a = available;
                if (a == null) {
                    try {
                        create("probe").close();
                        a = true;
                    } catch (RuntimeException | LinkageError e) {
                        log.info("network namespaces unavailable: {}", e.toString());
                        a = false;
                    }
                    available = a;
                }
            }
        }
        return a;
    }

    /**
     * Creates a network namespace with its loopback interface up.
     *
     * @param name for messages and thread names (e.g. the endpoint)
     * @throws UnsupportedOperationException not Linux
     * @throws IllegalStateException         a refused call, naming it and its errno (EPERM without
     *                                       {@code CAP_SYS_ADMIN})
     */
    public static NetNamespace create(String name) {
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux")) {
            throw new UnsupportedOperationException("network namespaces need Linux, not " + System.getProperty("os.name"));
        }
        Libc libc = Libc.INSTANCE;
        int nsFd = onFreshThread("netns-create-" + name, () -> {
            libc.unshare(CLONE_NEWNET);
            bringLoopbackUp(libc);
            return libc.open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        });
        return new NetNamespace(name, nsFd);
    }

    private static void bringLoopbackUp(Libc libc) {
        int sock = libc.socket(AF_INET, SOCK_DGRAM, 0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifreq = arena.allocate(IFREQ_BYTES, 8);
            byte[] lo = "lo".getBytes(StandardCharsets.US_ASCII);
            MemorySegment.copy(lo, 0, ifreq, ValueLayout.JAVA_BYTE, 0, lo.length);
            libc.ioctl(sock, SIOCGIFFLAGS, ifreq, "ioctl(lo, SIOCGIFFLAGS)");
            short flags = ifreq.get(ValueLayout.JAVA_SHORT, IFR_FLAGS_OFFSET);
            ifreq.set(ValueLayout.JAVA_SHORT, IFR_FLAGS_OFFSET, (short) (flags | IFF_UP));
            libc.ioctl(sock, SIOCSIFFLAGS, ifreq, "ioctl(lo, SIOCSIFFLAGS IFF_UP)");
        } finally {
            libc.close(sock);
        }
    }

    /**
     * Runs {@code work} on a fresh thread inside this namespace and returns its result: sockets it
     * creates and processes it starts belong to the namespace (a socket keeps its namespace for life,
     * whichever thread uses it later).
     *
     * @throws IllegalStateException when closed or the namespace cannot be entered (names errno)
     * @throws RuntimeException      what {@code work} threw (checked exceptions wrapped)
     */
    public <T> T call(Callable<T> work) {
        if (closed) {
            throw new IllegalStateException("network namespace " + name + " is closed");
        }
        Libc libc = Libc.INSTANCE;
        return onFreshThread("netns-" + name, () -> {
            libc.setns(fd, CLONE_NEWNET, name);
            return work.call();
        });
    }

    /** The namespace's name, as given to {@link #create}. */
    public String name() {
        return name;
    }

    /**
     * The namespace's identity as the kernel names it ({@code net:[INODE]}, the target of
     * {@code /proc/PID/ns/net} for every process inside it).
     */
    public String identity() {
        return call(() -> java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/thread-self/ns/net"))
                .toString());
    }

    /** Closes the descriptor (idempotent); the namespace lives on while a process or socket is in it. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Libc.INSTANCE.close(fd);
        }
    }

    @Override
    public String toString() {
        return "network namespace " + name;
    }

    private static <T> T onFreshThread(String threadName, Callable<T> work) {
        java.util.concurrent.CompletableFuture<T> result = new java.util.concurrent.CompletableFuture<>();
        Thread t = Thread.ofPlatform().daemon().name(threadName + "-" + THREADS.incrementAndGet()).unstarted(() -> {
            try {
                result.complete(work.call());
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        });
        t.start();
        try {
            return result.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(threadName + ": interrupted", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException r) {
                throw r;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(threadName + ": " + c, c);
        }
    }

    /**
     * The libc calls, through FFM; each returns its non-negative result or throws an
     * {@link IllegalStateException} naming the call and the errno it captured.
     */
    static final class Libc {
        private static final Linker LINKER = Linker.nativeLinker();
        private static final MemoryLayout STATE = Linker.Option.captureStateLayout();
        private static final VarHandle ERRNO = STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
        /** After the fields above, which its constructor reads. */
        static final Libc INSTANCE = new Libc();
        private final MethodHandle unshare;
        private final MethodHandle setns;
        private final MethodHandle open;
        private final MethodHandle socket;
        private final MethodHandle ioctl;
        private final MethodHandle close;

        private Libc() {
            SymbolLookup libc = LINKER.defaultLookup();
            Linker.Option errno = Linker.Option.captureCallState("errno");
            unshare = LINKER.downcallHandle(libc.find("unshare").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT), errno);
            setns = LINKER.downcallHandle(libc.find("setns").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), errno);
            open = LINKER.downcallHandle(libc.find("open").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), errno);
            socket = LINKER.downcallHandle(libc.find("socket").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), errno);
            // int ioctl(int fd, unsigned long request, ...): the argument is a pointer
            ioctl = LINKER.downcallHandle(libc.find("ioctl").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), Linker.Option.firstVariadicArg(2), errno);
            close = LINKER.downcallHandle(libc.find("close").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        }

        void unshare(int flags) {
            invoke("unshare(CLONE_NEWNET)", state -> (int) unshare.invokeExact(state, flags));
        }

        void setns(int fd, int nstype, String name) {
            invoke("setns(" + name + ", CLONE_NEWNET)", state -> (int) setns.invokeExact(state, fd, nstype));
        }

        int open(String path, int flags) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment p = arena.allocateFrom(path);
                return invoke("open(" + path + ")", state -> (int) open.invokeExact(state, p, flags));
            }
        }

        int socket(int domain, int type, int protocol) {
            return invoke("socket(" + domain + ", " + type + ")",
                    state -> (int) socket.invokeExact(state, domain, type, protocol));
        }

        void ioctl(int fd, long request, MemorySegment arg, String what) {
            invoke(what, state -> (int) ioctl.invokeExact(state, fd, request, arg));
        }

        void close(int fd) {
            try {
                int r = (int) close.invokeExact(fd);
                if (r != 0) {
                    log.debug("close({}) failed", fd);
                }
            } catch (Throwable t) {
                log.debug("close({}): {}", fd, t.toString());
            }
        }

        private interface Call {
            int run(MemorySegment state) throws Throwable;
        }

        /** {@code call}'s non-negative result, else an exception naming {@code what} and the captured errno. */
        private int invoke(String what, Call call) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment state = arena.allocate(STATE);
                int r = call.run(state);
                if (r < 0) {
                    int e = (int) ERRNO.get(state, 0L);
                    throw new IllegalStateException(what + " failed: errno " + e
                            + (e == 1 ? " (EPERM: needs CAP_SYS_ADMIN, i.e. root)" : ""));
                }
                return r;
            } catch (RuntimeException e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(t.toString(), t);
            }
        }
    }
}
