package io.forkline.compute.proxy.relay;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Locale;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The few Linux calls the kernel relay needs, through Java's FFM API (no JNI, no library of ours):
 * {@code syscall(SYS_bpf, cmd, &attr, size)} (bpf(2)), {@code getsockopt(fd, SOL_SOCKET, SO_COOKIE)}
 * and {@code close(fd)}. Constants are those of the kernel's uapi headers, named as there
 * ({@code include/uapi/linux/bpf.h}, {@code include/uapi/asm-generic/socket.h},
 * {@code arch/x86/entry/syscalls/syscall_64.tbl}, {@code include/uapi/asm-generic/unistd.h}).
 * Errors are {@link BpfException}s carrying errno. Thread-safe (stateless after loading).
 */
final class LinuxBpf {
    // bpf(2) commands (enum bpf_cmd)
    static final int BPF_MAP_CREATE = 0;
    static final int BPF_MAP_UPDATE_ELEM = 2;
    static final int BPF_MAP_DELETE_ELEM = 3;
    static final int BPF_PROG_LOAD = 5;
    static final int BPF_PROG_ATTACH = 8;
    // enum bpf_map_type
    static final int BPF_MAP_TYPE_HASH = 1;
    static final int BPF_MAP_TYPE_SOCKHASH = 18;
    // enum bpf_prog_type
    static final int BPF_PROG_TYPE_SK_SKB = 14;
    static final int BPF_PROG_TYPE_SK_MSG = 16;
    // enum bpf_attach_type (BPF_SK_SKB_VERDICT since Linux 5.13)
    static final int BPF_SK_MSG_VERDICT = 7;
    static final int BPF_SK_SKB_VERDICT = 38;
    // map_flags / update flags; BPF_F_INGRESS: flags of bpf_sk_redirect_hash / bpf_msg_redirect_hash
    static final int BPF_F_NO_PREALLOC = 1;
    static final int BPF_F_INGRESS = 1;
    static final long BPF_ANY = 0;
    static final long BPF_NOEXIST = 1;
    // errno values (include/uapi/asm-generic/errno-base.h)
    static final int ENOENT = 2;
    static final int EPERM = 1;
    // getsockopt: SOL_SOCKET, SO_COOKIE (include/uapi/asm-generic/socket.h)
    static final int SOL_SOCKET = 1;
    static final int SO_COOKIE = 57;
    static final int SO_SNDBUF = 7;
    /** Bytes of {@code union bpf_attr} passed; the kernel zero-extends shorter and checks a longer tail is zero. */
    static final int ATTR_SIZE = 144;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MemoryLayout STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private final long sysBpf;
    private final MethodHandle syscall;
    private final MethodHandle getsockopt;
    private final MethodHandle close;
    private final MethodHandle syscall3;
    private final MethodHandle ioctl;
    private final long sysPidfdOpen;
    private final long sysPidfdGetfd;

    private LinuxBpf(long sysBpf) {
        SymbolLookup libc = LINKER.defaultLookup();
        Linker.Option errno = Linker.Option.captureCallState("errno");
        // long syscall(long number, ...): every argument passed as a long (glibc reads them with va_arg(long))
        syscall = LINKER.downcallHandle(libc.find("syscall").orElseThrow(),
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG),
                Linker.Option.firstVariadicArg(1), errno);
        getsockopt = LINKER.downcallHandle(libc.find("getsockopt").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), errno);
        close = LINKER.downcallHandle(libc.find("close").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        syscall3 = LINKER.downcallHandle(libc.find("syscall").orElseThrow(),
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
                Linker.Option.firstVariadicArg(1), errno);
        // int ioctl(int fd, unsigned long request, ...): the argument is a pointer
        ioctl = LINKER.downcallHandle(libc.find("ioctl").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), Linker.Option.firstVariadicArg(2), errno);
        this.sysBpf = sysBpf;
        // pidfd_open and pidfd_getfd have the same numbers on x86_64 and in asm-generic (aarch64)
        this.sysPidfdOpen = 434;
        this.sysPidfdGetfd = 438;
    }

    /**
     * The calls of this machine.
     *
     * @throws UnsupportedOperationException naming the OS or architecture when bpf(2) is not reachable
     */
    static LinuxBpf load() {
        String os = System.getProperty("os.name", "");
        if (!os.toLowerCase(Locale.ROOT).startsWith("linux")) {
            throw new UnsupportedOperationException("not Linux (" + os + ")");
        }
        String arch = System.getProperty("os.arch", "");
        long nr = switch (arch) {
            case "amd64", "x86_64" -> 321;  // __NR_bpf, arch/x86/entry/syscalls/syscall_64.tbl
            case "aarch64" -> 280;          // __NR_bpf, include/uapi/asm-generic/unistd.h
            default -> throw new UnsupportedOperationException("no bpf(2) system call number known for " + arch);
        };
        return new LinuxBpf(nr);
    }

    /** A zeroed {@code union bpf_attr} in {@code arena}. */
    static MemorySegment attr(Arena arena) {
        return arena.allocate(ATTR_SIZE, 8);
    }

    /**
     * bpf(2).
     *
     * @return the call's non-negative result (a new fd for create/load)
     * @throws BpfException with errno when it fails
     */
    long bpf(int cmd, MemorySegment attr, String what) {
        return call(what, state -> (long) syscall.invokeExact(state, sysBpf, (long) cmd, attr, (long) ATTR_SIZE));
    }

    /** One downcall whose errno is captured in {@code state}; a negative result is a failure. */
    private interface Downcall {
        long invoke(MemorySegment state) throws Throwable;
    }

    /** Runs {@code call}: its non-negative result, or a {@link BpfException} naming {@code what} and errno. */
    private static long call(String what, Downcall call) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(STATE);
            long r = call.invoke(state);
            if (r < 0) {
                throw new BpfException(what, (int) ERRNO.get(state, 0L));
            }
            return r;
        } catch (BpfException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(what + ": " + t, t);
        }
    }

    /** The socket's cookie ({@code SO_COOKIE}, u64, unique for the socket's life, never 0). */
    long socketCookie(int fd) {
        return socketOption(fd, SO_COOKIE, 8, "SO_COOKIE");
    }

    /** {@code getsockopt(fd, SOL_SOCKET, SO_SNDBUF)}: the socket's send buffer now, bytes (TCP autotuning grows it). */
    int sendBuffer(int fd) {
        return (int) socketOption(fd, SO_SNDBUF, 4, "SO_SNDBUF");
    }

    /** {@code getsockopt(fd, SOL_SOCKET, option)} of a 4- or 8-byte value. */
    private long socketOption(int fd, int option, int bytes, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(JAVA_LONG);
            MemorySegment len = arena.allocate(JAVA_INT);
            len.set(JAVA_INT, 0, bytes);
            call("getsockopt(" + fd + ", " + name + ")",
                    state -> (int) getsockopt.invokeExact(state, fd, SOL_SOCKET, option, value, len));
            return bytes == 8 ? value.get(JAVA_LONG, 0) : value.get(JAVA_INT, 0);
        }
    }

    /**
     * A copy in this process of file descriptor {@code targetFd} of process {@code pid}
     * ({@code pidfd_open(pid, 0)} then {@code pidfd_getfd(pidfd, targetFd, 0)}, Linux 5.6+; needs
     * ptrace rights over the process, e.g. root). The caller closes it.
     *
     * @throws BpfException naming the call and errno (ESRCH: the process is gone; EPERM: no rights)
     */
    int takeFd(long pid, int targetFd) {
        int pidfd = (int) syscall(sysPidfdOpen, pid, 0, 0, "pidfd_open(" + pid + ")");
        try {
            return (int) syscall(sysPidfdGetfd, pidfd, targetFd, 0, "pidfd_getfd(" + pid + ", " + targetFd + ")");
        } finally {
            close(pidfd);
        }
    }

    private long syscall(long nr, long a, long b, long c, String what) {
        return call(what, state -> (long) syscall3.invokeExact(state, nr, a, b, c));
    }

    /** {@code ioctl(fd, SIOCOUTQNSD)}: bytes in a TCP socket's send queue not yet sent (linux/sockios.h 0x894B). */
    int unsentBytes(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(JAVA_INT);
            call("ioctl(" + fd + ", SIOCOUTQNSD)", state -> (int) ioctl.invokeExact(state, fd, 0x894BL, value));
            return value.get(JAVA_INT, 0);
        }
    }

    /** close(2), errors ignored. */
    void close(int fd) {
        try {
            int ignored = (int) close.invokeExact(fd);
        } catch (Throwable t) {
            // nothing to do: the fd is the relay's own and is not used after this
        }
    }

    /** Writes a {@code u64} in native byte order. */
    static void putLong(MemorySegment s, long offset, long v) {
        s.set(ValueLayout.JAVA_LONG_UNALIGNED, offset, v);
    }

    /** Writes a {@code u32} in native byte order. */
    static void putInt(MemorySegment s, long offset, int v) {
        s.set(ValueLayout.JAVA_INT_UNALIGNED, offset, v);
    }

    /** A failed Linux call and its errno. */
    static final class BpfException extends RuntimeException {
        final int errno;

        BpfException(String what, int errno) {
            super(what + " failed: errno " + errno + (errno == EPERM ? " (EPERM: needs root or CAP_BPF + CAP_NET_ADMIN)" : ""));
            this.errno = errno;
        }
    }
}
