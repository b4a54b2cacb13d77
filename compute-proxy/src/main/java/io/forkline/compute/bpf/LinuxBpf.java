package io.forkline.compute.bpf;

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

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The few Linux calls the proxy's kernel relay and the compute port guard need, through Java's FFM API (no JNI, no library of ours):
 * {@code syscall(SYS_bpf, cmd, &attr, size)} (bpf(2)), {@code getsockopt(fd, SOL_SOCKET, SO_COOKIE)}
 * and {@code close(fd)}. Constants are those of the kernel's uapi headers, named as there
 * ({@code include/uapi/linux/bpf.h}, {@code include/uapi/asm-generic/socket.h},
 * {@code arch/x86/entry/syscalls/syscall_64.tbl}, {@code include/uapi/asm-generic/unistd.h}).
 * Errors are {@link BpfException}s carrying errno. Thread-safe (stateless after loading).
 */
public final class LinuxBpf {
    // bpf(2) commands (enum bpf_cmd)
    public static final int BPF_MAP_CREATE = 0;
    public static final int BPF_MAP_LOOKUP_ELEM = 1;
    public static final int BPF_MAP_UPDATE_ELEM = 2;
    public static final int BPF_MAP_DELETE_ELEM = 3;
    public static final int BPF_PROG_LOAD = 5;
    public static final int BPF_PROG_ATTACH = 8;
    public static final int BPF_PROG_DETACH = 9;
    public static final int BPF_MAP_GET_NEXT_KEY = 4;
    public static final int BPF_PROG_GET_FD_BY_ID = 13;
    public static final int BPF_MAP_GET_FD_BY_ID = 14;
    public static final int BPF_OBJ_GET_INFO_BY_FD = 15;
    public static final int BPF_PROG_QUERY = 16;
    public static final int BPF_LINK_CREATE = 28;
    // enum bpf_map_type
    public static final int BPF_MAP_TYPE_HASH = 1;
    public static final int BPF_MAP_TYPE_SOCKHASH = 18;
    // enum bpf_prog_type
    public static final int BPF_PROG_TYPE_SOCK_OPS = 13;
    public static final int BPF_PROG_TYPE_SK_SKB = 14;
    public static final int BPF_PROG_TYPE_SK_MSG = 16;
    public static final int BPF_PROG_TYPE_CGROUP_SOCK_ADDR = 18;
    // enum bpf_attach_type (BPF_SK_SKB_VERDICT since Linux 5.13)
    public static final int BPF_CGROUP_SOCK_OPS = 3;
    public static final int BPF_SK_MSG_VERDICT = 7;
    public static final int BPF_SK_SKB_VERDICT = 38;
    public static final int BPF_CGROUP_INET4_CONNECT = 10;
    public static final int BPF_CGROUP_INET6_CONNECT = 11;
    // map_flags / update flags; BPF_F_INGRESS: flags of bpf_sk_redirect_hash / bpf_msg_redirect_hash
    public static final int BPF_F_NO_PREALLOC = 1;
    public static final int BPF_F_INGRESS = 1;
    /** attach_flags of BPF_PROG_ATTACH to a cgroup: several programs per hook, all run */
    public static final int BPF_F_ALLOW_MULTI = 2;
    public static final long BPF_ANY = 0;
    public static final long BPF_NOEXIST = 1;
    // errno values (include/uapi/asm-generic/errno-base.h)
    public static final int ENOENT = 2;
    public static final int EPERM = 1;
    // getsockopt: SOL_SOCKET, SO_COOKIE (include/uapi/asm-generic/socket.h)
    public static final int SOL_SOCKET = 1;
    public static final int SO_COOKIE = 57;
    public static final int SO_SNDBUF = 7;
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
    private final MethodHandle open;
    private final MethodHandle poll;
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
        // int open(const char *path, int flags, ...)
        open = LINKER.downcallHandle(libc.find("open").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), errno);
        // int poll(struct pollfd *fds, nfds_t nfds, int timeout)
        poll = LINKER.downcallHandle(libc.find("poll").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), errno);
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
    public static LinuxBpf load() {
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
    public static MemorySegment attr(Arena arena) {
        return arena.allocate(ATTR_SIZE, 8);
    }

    /**
     * bpf(2).
     *
     * @return the call's non-negative result (a new fd for create/load)
     * @throws BpfException with errno when it fails
     */
    public long bpf(int cmd, MemorySegment attr, String what) {
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
    public long socketCookie(int fd) {
        return socketOption(fd, SO_COOKIE, 8, "SO_COOKIE");
    }

    /** {@code getsockopt(fd, SOL_SOCKET, SO_SNDBUF)}: the socket's send buffer now, bytes (TCP autotuning grows it). */
    public int sendBuffer(int fd) {
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
    public int takeFd(long pid, int targetFd) {
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
    public int unsentBytes(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(JAVA_INT);
            call("ioctl(" + fd + ", SIOCOUTQNSD)", state -> (int) ioctl.invokeExact(state, fd, 0x894BL, value));
            return value.get(JAVA_INT, 0);
        }
    }

    /**
     * Whether {@code fd} polls readable now ({@code poll(2)} with timeout 0, {@code POLLIN}): for a TCP
     * socket in a sockhash with an SK_MSG program this includes the messages other sockets' programs
     * redirected into its receive queue ({@code tcp_poll} → {@code sk_msg_is_readable}, Linux 5.16+).
     *
     * @throws BpfException naming the fd and errno when poll fails
     */
    public boolean readable(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            // struct pollfd { int fd; short events; short revents; }
            MemorySegment pfd = arena.allocate(8, 4);
            pfd.set(JAVA_INT, 0, fd);
            pfd.set(ValueLayout.JAVA_SHORT, 4, (short) 1); // POLLIN
            call("poll(" + fd + ")", state -> (int) poll.invokeExact(state, pfd, 1L, 0));
            return (pfd.get(ValueLayout.JAVA_SHORT, 6) & 1) != 0;
        }
    }

    /**
     * {@code open(path, O_RDONLY | O_CLOEXEC)}: e.g. a cgroup directory's fd for {@link #attach}; the
     * caller closes it.
     *
     * @throws BpfException naming the path and errno
     */
    public int openReadOnly(java.nio.file.Path path) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocateFrom(path.toString());
            return (int) call("open(" + path + ")", state -> (int) open.invokeExact(state, p, 0x80000));
        }
    }

    /** close(2), errors ignored. */
    public void close(int fd) {
        try {
            int ignored = (int) close.invokeExact(fd);
        } catch (Throwable t) {
            // nothing to do: the fd is the relay's own and is not used after this
        }
    }

    /** Bytes of the verifier's log buffer passed to {@code BPF_PROG_LOAD}. */
    private static final int LOG_SIZE = 1 << 16;

    /**
     * {@code BPF_MAP_CREATE}.
     *
     * @param type       {@code enum bpf_map_type}
     * @param keySize    bytes of a key
     * @param valueSize  bytes of a value
     * @param maxEntries capacity
     * @param flags      {@code map_flags} (e.g. {@link #BPF_F_NO_PREALLOC})
     * @param name       up to 15 ASCII characters (longer is cut), shown by {@code bpftool map}
     * @return the map's fd
     * @throws BpfException with errno when refused
     */
    public int createMap(int type, int keySize, int valueSize, int maxEntries, int flags, String name) {
        try (Arena arena = Arena.ofConfined()) {
            // struct { u32 map_type; u32 key_size; u32 value_size; u32 max_entries; u32 map_flags;
            //          u32 inner_map_fd; u32 numa_node; char map_name[16]; } (BPF_MAP_CREATE)
            MemorySegment a = attr(arena);
            putInt(a, 0, type);
            putInt(a, 4, keySize);
            putInt(a, 8, valueSize);
            putInt(a, 12, maxEntries);
            putInt(a, 16, flags);
            MemorySegment.copy(name.getBytes(StandardCharsets.US_ASCII), 0, a, ValueLayout.JAVA_BYTE, 28,
                    Math.min(15, name.length()));
            return (int) bpf(BPF_MAP_CREATE, a, "BPF_MAP_CREATE " + name);
        }
    }

    /**
     * {@code BPF_PROG_LOAD} of {@code insns} (license GPL: {@code bpf_sk_redirect_hash} is GPL-only).
     *
     * @param insns      {@code struct bpf_insn}s, 8 bytes each ({@link BpfAsm})
     * @param progType   {@code enum bpf_prog_type}
     * @param attachType {@code expected_attach_type}
     * @param progName   up to 15 ASCII characters, shown by {@code bpftool prog} and {@link #programName}
     * @return the program's fd
     * @throws BpfException with errno and the end of the verifier's log when refused
     */
    public int loadProgram(byte[] insns, int progType, int attachType, String progName) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment code = arena.allocate(insns.length, 8);
            MemorySegment.copy(insns, 0, code, ValueLayout.JAVA_BYTE, 0, insns.length);
            MemorySegment license = arena.allocateFrom("GPL");
            MemorySegment verifierLog = arena.allocate(LOG_SIZE);
            // struct { u32 prog_type; u32 insn_cnt; u64 insns; u64 license; u32 log_level; u32 log_size;
            //          u64 log_buf; u32 kern_version; u32 prog_flags; char prog_name[16]; u32 prog_ifindex;
            //          u32 expected_attach_type; } (BPF_PROG_LOAD)
            MemorySegment a = attr(arena);
            putInt(a, 0, progType);
            putInt(a, 4, insns.length / 8);
            putLong(a, 8, code.address());
            putLong(a, 16, license.address());
            putInt(a, 24, 1);
            putInt(a, 28, LOG_SIZE);
            putLong(a, 32, verifierLog.address());
            byte[] name = progName.getBytes(StandardCharsets.US_ASCII);
            MemorySegment.copy(name, 0, a, ValueLayout.JAVA_BYTE, 48, Math.min(15, name.length));
            putInt(a, 68, attachType);
            try {
                return (int) bpf(BPF_PROG_LOAD, a, "BPF_PROG_LOAD (" + progName + ")");
            } catch (BpfException e) {
                String text = verifierLog.getString(0).strip();
                throw text.isEmpty() ? e : new BpfException(e.getMessage() + "; verifier: "
                        + text.substring(Math.max(0, text.length() - 400)).replace('\n', ' '), e.errno);
            }
        }
    }

    /**
     * {@code BPF_PROG_ATTACH} of {@code prog} to {@code target} (a sockhash's fd, or a cgroup
     * directory's fd) as {@code attachType} with {@code flags} (e.g. {@link #BPF_F_ALLOW_MULTI}).
     *
     * @throws BpfException with errno when refused
     */
    public void attach(int target, int prog, int attachType, int flags) {
        attachOrDetach(BPF_PROG_ATTACH, target, prog, attachType, flags, "BPF_PROG_ATTACH");
    }

    /** {@code BPF_PROG_DETACH} of {@code prog} from {@code target} as {@code attachType}. */
    public void detach(int target, int prog, int attachType) {
        attachOrDetach(BPF_PROG_DETACH, target, prog, attachType, 0, "BPF_PROG_DETACH");
    }

    private void attachOrDetach(int cmd, int target, int prog, int attachType, int flags, String what) {
        try (Arena arena = Arena.ofConfined()) {
            // struct { u32 target_fd; u32 attach_bpf_fd; u32 attach_type; u32 attach_flags; } (BPF_PROG_ATTACH/DETACH)
            MemorySegment a = attr(arena);
            putInt(a, 0, target);
            putInt(a, 4, prog);
            putInt(a, 8, attachType);
            putInt(a, 12, flags);
            bpf(cmd, a, what + " (attach type " + attachType + ")");
        }
    }

    /**
     * {@code BPF_LINK_CREATE}: attaches {@code prog} to {@code target} (a cgroup directory's fd) as
     * {@code attachType} through a link (Linux 5.7+ for cgroups). The link, and with it the attachment,
     * lasts until the returned fd is closed, by {@link #close} or by this process's exit: unlike
     * {@link #attach}, nothing is left behind by a process that dies. Links on a cgroup always allow
     * other programs beside them.
     *
     * @return the link's fd
     * @throws BpfException with errno when refused
     */
    public int linkCreate(int prog, int target, int attachType) {
        try (Arena arena = Arena.ofConfined()) {
            // struct { u32 prog_fd; u32 target_fd; u32 attach_type; u32 flags; } (BPF_LINK_CREATE)
            MemorySegment a = attr(arena);
            putInt(a, 0, prog);
            putInt(a, 4, target);
            putInt(a, 8, attachType);
            return (int) bpf(BPF_LINK_CREATE, a, "BPF_LINK_CREATE (attach type " + attachType + ")");
        }
    }

    /**
     * {@code BPF_PROG_QUERY}: the ids of the programs attached to {@code target} (a cgroup
     * directory's fd) as {@code attachType}, at most 64 ({@code BPF_CGROUP_MAX_PROGS}).
     *
     * @throws BpfException with errno when refused
     */
    public int[] attachedPrograms(int target, int attachType) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ids = arena.allocate(JAVA_INT, 64);
            // struct { u32 target_fd; u32 attach_type; u32 query_flags; u32 attach_flags; u64 prog_ids;
            //          u32 prog_cnt; } (BPF_PROG_QUERY)
            MemorySegment a = attr(arena);
            putInt(a, 0, target);
            putInt(a, 4, attachType);
            putLong(a, 16, ids.address());
            putInt(a, 24, 64);
            bpf(BPF_PROG_QUERY, a, "BPF_PROG_QUERY (attach type " + attachType + ")");
            int n = Math.min(64, a.get(JAVA_INT, 24));
            int[] out = new int[n];
            for (int i = 0; i < n; i++) {
                out[i] = ids.getAtIndex(JAVA_INT, i);
            }
            return out;
        }
    }

    /** {@code BPF_PROG_GET_FD_BY_ID}: an fd of the loaded program {@code id}; the caller closes it (ENOENT: gone). */
    public int programFd(int id) {
        return fdById(BPF_PROG_GET_FD_BY_ID, id, "BPF_PROG_GET_FD_BY_ID " + id);
    }

    /** {@code BPF_MAP_GET_FD_BY_ID}: an fd of the map {@code id}; the caller closes it (ENOENT: gone). */
    public int mapFd(int id) {
        return fdById(BPF_MAP_GET_FD_BY_ID, id, "BPF_MAP_GET_FD_BY_ID " + id);
    }

    private int fdById(int cmd, int id, String what) {
        try (Arena arena = Arena.ofConfined()) {
            // struct { u32 prog_id / map_id; u32 next_id; u32 open_flags; } (BPF_*_GET_FD_BY_ID)
            MemorySegment a = attr(arena);
            putInt(a, 0, id);
            return (int) bpf(cmd, a, what);
        }
    }

    /**
     * The name and map ids of the program {@code progFd} ({@code BPF_OBJ_GET_INFO_BY_FD}, {@code struct
     * bpf_prog_info}: {@code load_time} at 40, {@code nr_map_ids} at 52, {@code map_ids} at 56, {@code name[16]} at 64).
     */
    public ProgramInfo programInfo(int progFd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mapIds = arena.allocate(JAVA_INT, 16);
            MemorySegment info = arena.allocate(256, 8);
            info.set(JAVA_INT, 52, 16);
            info.set(JAVA_LONG, 56, mapIds.address());
            // struct { u32 bpf_fd; u32 info_len; u64 info; } (BPF_OBJ_GET_INFO_BY_FD)
            MemorySegment a = attr(arena);
            putInt(a, 0, progFd);
            putInt(a, 4, 256);
            putLong(a, 8, info.address());
            bpf(BPF_OBJ_GET_INFO_BY_FD, a, "BPF_OBJ_GET_INFO_BY_FD " + progFd);
            int n = Math.min(16, info.get(JAVA_INT, 52));
            int[] ids = new int[n];
            for (int i = 0; i < n; i++) {
                ids[i] = mapIds.getAtIndex(JAVA_INT, i);
            }
            return new ProgramInfo(info.asSlice(64, 16).getString(0, StandardCharsets.US_ASCII), ids, info.get(JAVA_LONG, 40));
        }
    }

    /**
     * A loaded program's name, the ids of the maps it uses, and when it was loaded
     * ({@code load_time}, ns since boot, {@code CLOCK_BOOTTIME}).
     */
    public record ProgramInfo(String name, int[] mapIds, long loadTimeNanos) {
    }

    /**
     * {@code BPF_MAP_UPDATE_ELEM} of u32 {@code key} → u32 {@code value} in a map of 4-byte keys and
     * values ({@code struct { u32 map_fd; u64 key (at 8); u64 value (at 16); u64 flags (at 24); }}).
     *
     * @param flags {@link #BPF_ANY} or {@link #BPF_NOEXIST}
     * @param what  names the call in the error
     * @throws BpfException with errno when refused (E2BIG: the map is full; EEXIST with BPF_NOEXIST)
     */
    public void putU32(int mapFd, int key, int value, long flags, String what) {
        update(mapFd, u32(key), u32(value), flags, what);
    }

    /** A u32 in the host's byte order, as a map key or value. */
    private static byte[] u32(int v) {
        return java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.nativeOrder()).putInt(v).array();
    }

    /**
     * {@code BPF_MAP_UPDATE_ELEM} of {@code key} → {@code value}, byte arrays as the map's key and value
     * sizes (for a sockhash the value is the socket's fd as a u32 or u64).
     *
     * @param flags {@link #BPF_ANY} or {@link #BPF_NOEXIST}
     * @param what  names the call in the error
     * @throws BpfException with errno when refused (E2BIG: the map is full; EEXIST with BPF_NOEXIST)
     */
    public void update(int mapFd, byte[] key, byte[] value, long flags, String what) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment k = arena.allocateFrom(ValueLayout.JAVA_BYTE, key);
            MemorySegment v = arena.allocateFrom(ValueLayout.JAVA_BYTE, value);
            MemorySegment a = attr(arena);
            putInt(a, 0, mapFd);
            putLong(a, 8, k.address());
            putLong(a, 16, v.address());
            putLong(a, 24, flags);
            bpf(BPF_MAP_UPDATE_ELEM, a, what);
        }
    }

    /**
     * {@code BPF_MAP_LOOKUP_ELEM} of {@code key}: a copy of its value ({@code valueSize} bytes; a
     * sockhash of 8-byte values answers the socket's cookie), or {@code null} when absent.
     *
     * @throws BpfException with errno when refused for another reason than ENOENT
     */
    public byte[] lookup(int mapFd, byte[] key, int valueSize, String what) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment k = arena.allocateFrom(ValueLayout.JAVA_BYTE, key);
            MemorySegment v = arena.allocate(valueSize, 8);
            // struct { u32 map_fd; u64 key (at 8); u64 value (at 16); u64 flags (at 24); } (BPF_MAP_LOOKUP_ELEM)
            MemorySegment a = attr(arena);
            putInt(a, 0, mapFd);
            putLong(a, 8, k.address());
            putLong(a, 16, v.address());
            try {
                bpf(BPF_MAP_LOOKUP_ELEM, a, what);
            } catch (BpfException e) {
                if (e.errno == ENOENT) {
                    return null;
                }
                throw e;
            }
            return v.toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /** {@code BPF_MAP_DELETE_ELEM} of {@code key} from {@code mapFd}; whether it was there. */
    public boolean delete(int mapFd, byte[] key, String what) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment k = arena.allocateFrom(ValueLayout.JAVA_BYTE, key);
            MemorySegment a = attr(arena);
            putInt(a, 0, mapFd);
            putLong(a, 8, k.address());
            try {
                bpf(BPF_MAP_DELETE_ELEM, a, what);
                return true;
            } catch (BpfException e) {
                if (e.errno == ENOENT) {
                    return false;
                }
                throw e;
            }
        }
    }

    /** {@code BPF_MAP_DELETE_ELEM} of u32 {@code key} from {@code mapFd}; whether it was there. */
    public boolean deleteU32(int mapFd, int key, String what) {
        return delete(mapFd, u32(key), what);
    }

    /** Every u32 key of {@code mapFd} ({@code BPF_MAP_GET_NEXT_KEY} from none), at most {@code limit}. */
    public java.util.List<Integer> keysU32(int mapFd, int limit) {
        java.util.List<Integer> keys = new java.util.ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment k = arena.allocate(JAVA_INT);
            MemorySegment next = arena.allocate(JAVA_INT);
            boolean first = true;
            // struct { u32 map_fd; u64 key (at 8, NULL: the first); u64 next_key (at 16); } (BPF_MAP_GET_NEXT_KEY)
            MemorySegment a = attr(arena);
            putInt(a, 0, mapFd);
            while (keys.size() < limit) {
                putLong(a, 8, first ? 0 : k.address());
                putLong(a, 16, next.address());
                try {
                    bpf(BPF_MAP_GET_NEXT_KEY, a, "BPF_MAP_GET_NEXT_KEY");
                } catch (BpfException e) {
                    if (e.errno == ENOENT) {
                        break;
                    }
                    throw e;
                }
                keys.add(next.get(JAVA_INT, 0));
                k.set(JAVA_INT, 0, next.get(JAVA_INT, 0));
                first = false;
            }
        }
        return keys;
    }

    /** Writes a {@code u64} in native byte order. */
    public static void putLong(MemorySegment s, long offset, long v) {
        s.set(ValueLayout.JAVA_LONG_UNALIGNED, offset, v);
    }

    /** Writes a {@code u32} in native byte order. */
    public static void putInt(MemorySegment s, long offset, int v) {
        s.set(ValueLayout.JAVA_INT_UNALIGNED, offset, v);
    }

    /** A failed Linux call and its errno. */
    public static final class BpfException extends RuntimeException {
        public final int errno;

        public BpfException(String what, int errno) {
            super(what + " failed: errno " + errno + (errno == EPERM ? " (EPERM: needs root or CAP_BPF + CAP_NET_ADMIN)" : ""));
            this.errno = errno;
        }
    }
}
