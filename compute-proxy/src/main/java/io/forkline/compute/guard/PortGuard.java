package io.forkline.compute.guard;

import io.forkline.compute.bpf.Cgroup2;
import io.forkline.compute.bpf.LinuxBpf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Lets exactly one process, the server, connect to a local compute's TCP listener on 127.0.0.1 of
 * the host's network namespace. A compute trusts every connection it accepts (the proxy
 * authenticates clients), so that listener must be out of reach of every other process on the machine,
 * including other computes' backends; the proxy's kernel relay needs it (the SK_MSG shape takes the
 * backend's TCP socket), the server's own tools keep the compute's private Unix-domain socket.
 *
 * <p>How: one {@link PortGuardProgram} per address family, attached to the root of the cgroup v2
 * hierarchy ({@code BPF_PROG_ATTACH} with {@code BPF_F_ALLOW_MULTI}, so other programs there keep
 * running) as {@code BPF_CGROUP_INET4_CONNECT} and {@code BPF_CGROUP_INET6_CONNECT}, refuses with
 * {@code EPERM} any {@code connect(2)} to a guarded port of 127.0.0.0/8 or 0.0.0.0 whose process
 * ({@code bpf_get_current_pid_tgid() >> 32}) is not the owner. Guarded ports live in a hash map the
 * owner keeps ({@link #protect}). The programs are named {@code fl_guard<owner pid>}.
 *
 * <p>A legacy attachment outlives its process, on purpose: when the server is killed, its computes
 * stay guarded (their owner is gone, so nobody connects) until a server start kills them. Each
 * {@link #open} then detaches the programs of owners that are gone (or whose pid now names a later
 * process) and whose ports no longer listen
 * ({@link #detachStale}). A clean {@link #close} with no port protected detaches its own.
 *
 * <p>Needs root (or CAP_BPF + CAP_NET_ADMIN), a cgroup v2 mount, Linux 5.1+ (32-bit jumps), and this
 * process in the initial PID namespace (the kernel compares global tgids). Thread-safe.
 */
public final class PortGuard implements AutoCloseable {
    /** Prefix of the programs' names ({@code BPF_OBJ_NAME_LEN} 16: the prefix and up to 7 pid digits). */
    public static final String PROGRAM_PREFIX = "fl_guard";
    /** {@code /proc/self/ns/pid} of the initial PID namespace ({@code PROC_PID_INIT_INO}, include/linux/proc_ns.h). */
    static final String INIT_PID_NAMESPACE = "pid:[4026531836]";
    private static final int MAX_PORTS = 4096;
    /** How long the shutdown hook waits for the computes' ports to be released before it closes, ms. */
    private static final long SHUTDOWN_WAIT_MILLIS = 15_000;
    private static final int[] ATTACH_TYPES = {LinuxBpf.BPF_CGROUP_INET4_CONNECT, LinuxBpf.BPF_CGROUP_INET6_CONNECT};
    private static final Logger log = LoggerFactory.getLogger(PortGuard.class);

    private static PortGuard shared;
    private static String sharedRefused;

    private final LinuxBpf bpf;
    private final Path cgroup;
    private final int cgroupFd;
    private final int portsFd;
    private final int[] progFds;
    private final long owner;
    /** Port → the protection that holds it now. */
    private final Map<Integer, Protection> held = new HashMap<>();
    private boolean closed;

    private PortGuard(LinuxBpf bpf, Path cgroup, int cgroupFd, int portsFd, int[] progFds, long owner) {
        this.bpf = bpf;
        this.cgroup = cgroup;
        this.cgroupFd = cgroupFd;
        this.portsFd = portsFd;
        this.progFds = progFds;
        this.owner = owner;
    }

    /**
     * This process's guard, opened at the first call; {@code null} where it cannot be (the reason is
     * logged once and kept in {@link #unavailableReason()}). Stays attached for the process's life; a
     * shutdown hook {@link #close()}s it once the computes' ports are released (up to 15 s).
     */
    public static synchronized PortGuard shared() {
        if (shared == null && sharedRefused == null) {
            try {
                shared = open(ProcessHandle.current().pid());
                PortGuard g = shared;
                // the server's own hook stops its computes meanwhile: give their ports time to be released
                Runtime.getRuntime().addShutdownHook(new Thread(() -> g.closeWhenReleased(SHUTDOWN_WAIT_MILLIS),
                        "forkline-port-guard-close"));
                log.info("port guard on: local computes listen on 127.0.0.1 ports only this process (pid {}) may connect to"
                        + " (cgroup {} connect hooks)", shared.owner, shared.cgroup);
            } catch (RuntimeException | LinkageError e) {
                sharedRefused = e.getMessage();
                log.info("port guard unavailable, local computes listen on their Unix-domain socket only: {}", sharedRefused);
            }
        }
        return shared;
    }

    /** Why {@link #shared()} is null, else null. */
    public static synchronized String unavailableReason() {
        return sharedRefused;
    }

    /**
     * Loads the programs for {@code owner}, detaches stale ones of gone owners, and attaches them.
     *
     * @param owner the only tgid (global pid) allowed to connect to a guarded port
     * @throws UnsupportedOperationException not Linux, no cgroup v2 mount, or not in the initial PID namespace
     * @throws LinuxBpf.BpfException a refused bpf(2) call, with errno (EPERM: not root)
     */
    static PortGuard open(long owner) {
        String ns = pidNamespace();
        if (!INIT_PID_NAMESPACE.equals(ns)) {
            throw new UnsupportedOperationException("this process is in PID namespace " + ns
                    + ", not the initial one: the kernel's tgids are not ours");
        }
        Path cgroup = Cgroup2.root();
        LinuxBpf bpf = LinuxBpf.load();
        int cg = bpf.openReadOnly(cgroup);
        int ports = -1;
        int[] progs = {-1, -1};
        try {
            detachStale(bpf, cg);
            ports = bpf.createMap(LinuxBpf.BPF_MAP_TYPE_HASH, 4, 4, MAX_PORTS, LinuxBpf.BPF_F_NO_PREALLOC, "fl_guard_ports");
            String name = PROGRAM_PREFIX + owner;
            for (int i = 0; i < 2; i++) {
                progs[i] = bpf.loadProgram(PortGuardProgram.instructions(ports, i == 1),
                        LinuxBpf.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, ATTACH_TYPES[i], name);
            }
            bpf.attach(cg, progs[0], ATTACH_TYPES[0], LinuxBpf.BPF_F_ALLOW_MULTI);
            try {
                bpf.attach(cg, progs[1], ATTACH_TYPES[1], LinuxBpf.BPF_F_ALLOW_MULTI);
            } catch (RuntimeException e) {
                bpf.detach(cg, progs[0], ATTACH_TYPES[0]);
                throw e;
            }
            return new PortGuard(bpf, cgroup, cg, ports, progs, owner);
        } catch (RuntimeException e) {
            for (int fd : progs) {
                if (fd >= 0) {
                    bpf.close(fd);
                }
            }
            if (ports >= 0) {
                bpf.close(ports);
            }
            bpf.close(cg);
            throw e;
        }
    }

    /**
     * Guards {@code port}: from now on only the owner connects to 127.0.0.1:{@code port}. Call before
     * the listener exists; a later {@code protect} of the same port takes it over (a compute restarted
     * on its port), and the earlier protection's {@link Protection#close()} then leaves it guarded.
     *
     * @param port 1..65535
     * @throws IllegalArgumentException a port out of range
     * @throws IllegalStateException    the guard is closed
     * @throws LinuxBpf.BpfException    the map refused it (full: {@value #MAX_PORTS} ports)
     */
    public synchronized Protection protect(int port) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        if (closed) {
            throw new IllegalStateException("the port guard is closed");
        }
        bpf.putU32(portsFd, key(port), (int) owner, LinuxBpf.BPF_ANY, "guard port " + port);
        Protection p = new Protection(port);
        held.put(port, p);
        return p;
    }

    /** Whether {@code port} is guarded now. */
    public synchronized boolean protects(int port) {
        return held.containsKey(port);
    }

    /** The process allowed to connect to guarded ports. */
    public long owner() {
        return owner;
    }

    private synchronized void release(Protection p) {
        if (held.get(p.port) != p) {
            return;
        }
        held.remove(p.port);
        if (!closed) {
            bpf.deleteU32(portsFd, key(p.port), "unguard port " + p.port);
        }
        notifyAll();
    }

    /** {@link #close()} once no port is guarded, or after {@code millis} whatever is still guarded. */
    synchronized void closeWhenReleased(long millis) {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        try {
            while (!held.isEmpty() && System.nanoTime() < deadline) {
                wait(Math.max(1, (deadline - System.nanoTime()) / 1_000_000L));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        close();
    }

    /**
     * Detaches the programs when no port is guarded; with ports still guarded (their computes may
     * outlive this process) leaves them attached for the next {@link #open} to detach once those ports
     * stop listening.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (held.isEmpty()) {
            for (int i = 0; i < 2; i++) {
                try {
                    bpf.detach(cgroupFd, progFds[i], ATTACH_TYPES[i]);
                } catch (RuntimeException e) {
                    log.warn("port guard: {}", e.getMessage());
                }
            }
        } else {
            log.info("port guard: {} port(s) still guarded {}; the programs stay attached", held.size(), held.keySet());
        }
        for (int fd : progFds) {
            bpf.close(fd);
        }
        bpf.close(portsFd);
        bpf.close(cgroupFd);
    }

    /** One guarded port; {@link #close()} lifts the guard unless a later protection took the port over. */
    public final class Protection implements AutoCloseable {
        private final int port;

        private Protection(int port) {
            this.port = port;
        }

        /** The guarded port. */
        public int port() {
            return port;
        }

        @Override
        public void close() {
            release(this);
        }
    }

    /** {@link #detachStale(LinuxBpf, int)} on the cgroup v2 root. */
    static int detachStale() {
        LinuxBpf bpf = LinuxBpf.load();
        int cg = bpf.openReadOnly(Cgroup2.root());
        try {
            return detachStale(bpf, cg);
        } finally {
            bpf.close(cg);
        }
    }

    /**
     * Detaches from the cgroup {@code cgroupFd} every {@code fl_guard<pid>} program whose process is
     * gone and none of whose ports listens on 127.0.0.1 any more (a killed server's, after its computes
     * were stopped). Problems are logged, not thrown: a stale program refuses only connects to its own
     * ports.
     *
     * @return how many programs were detached
     */
    static int detachStale(LinuxBpf bpf, int cgroupFd) {
        int detached = 0;
        Set<Integer> listening = null;
        for (int type : ATTACH_TYPES) {
            int[] ids;
            try {
                ids = bpf.attachedPrograms(cgroupFd, type);
            } catch (RuntimeException e) {
                log.warn("port guard: cannot list the cgroup's connect programs: {}", e.getMessage());
                return detached;
            }
            for (int id : ids) {
                int fd = -1;
                try {
                    fd = bpf.programFd(id);
                    LinuxBpf.ProgramInfo info = bpf.programInfo(fd);
                    long pid = ownerOf(info.name());
                    if (pid < 0 || !ownerGone(pid, info.loadTimeNanos())) {
                        continue;
                    }
                    if (listening == null) {
                        listening = listeningLoopbackPorts();
                    }
                    List<Integer> ports = info.mapIds().length == 0 ? List.of() : portsOf(bpf, info.mapIds()[0]);
                    Set<Integer> still = new HashSet<>(ports);
                    still.retainAll(listening);
                    if (!still.isEmpty()) {
                        log.info("port guard: {} of gone pid {} still guards listening port(s) {}; kept", info.name(), pid, still);
                        continue;
                    }
                    bpf.detach(cgroupFd, fd, type);
                    detached++;
                    log.info("port guard: detached {} (pid {} is gone, none of its ports {} listens)", info.name(), pid, ports);
                } catch (RuntimeException e) {
                    log.warn("port guard: cannot check program {}: {}", id, e.getMessage());
                } finally {
                    if (fd >= 0) {
                        bpf.close(fd);
                    }
                }
            }
        }
        return detached;
    }

    /**
     * Whether the process that loaded a program at {@code loadTimeNanos} (since boot) as {@code pid} is
     * gone: no process {@code pid}, or one started after the load (the pid was reused;
     * {@code /proc/PID/stat} field 22, clock ticks since boot, {@code USER_HZ} = 100).
     */
    static boolean ownerGone(long pid, long loadTimeNanos) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long startNanos = Long.parseLong(f[19]) * 10_000_000L; // field 22 is the 20th after "(comm) "
            return startNanos > loadTimeNanos + 10_000_000L;
        } catch (IOException | RuntimeException e) {
            return true; // no such process
        }
    }

    /** The pid in a program name {@code fl_guard<pid>}, else -1. */
    static long ownerOf(String programName) {
        if (!programName.startsWith(PROGRAM_PREFIX) || programName.length() == PROGRAM_PREFIX.length()) {
            return -1;
        }
        try {
            return Long.parseLong(programName.substring(PROGRAM_PREFIX.length()));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static List<Integer> portsOf(LinuxBpf bpf, int mapId) {
        int fd = bpf.mapFd(mapId);
        try {
            return bpf.keysU32(fd, MAX_PORTS).stream().map(PortGuard::portOf).toList();
        } finally {
            bpf.close(fd);
        }
    }

    /** The map key of {@code port}: {@code bpf_sock_addr.user_port} as a u32 load reads it (network order, low 16 bits). */
    static int key(int port) {
        return Short.toUnsignedInt(Short.reverseBytes((short) port));
    }

    /** The port of a map {@link #key}. */
    static int portOf(int key) {
        return Short.toUnsignedInt(Short.reverseBytes((short) key));
    }

    /**
     * Ports listening on 127.0.0.1 or 0.0.0.0, also through IPv6 sockets ({@code ::ffff:127.0.0.1},
     * {@code ::}): {@code /proc/net/tcp} and {@code tcp6}, state 0A = TCP_LISTEN.
     */
    static Set<Integer> listeningLoopbackPorts() {
        Set<Integer> out = new HashSet<>();
        Set<String> loopbackOrAny = Set.of("0100007F", "00000000", "0000000000000000FFFF00000100007F",
                "00000000000000000000000000000000");
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            try {
                for (String line : Files.readAllLines(Path.of(table))) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length < 4 || !f[3].equals("0A")) {
                        continue;
                    }
                    int colon = f[1].indexOf(':');
                    if (loopbackOrAny.contains(f[1].substring(0, colon))) {
                        out.add(Integer.parseInt(f[1].substring(colon + 1), 16));
                    }
                }
            } catch (IOException | RuntimeException e) {
                log.warn("port guard: cannot read {}: {}", table, e.toString());
            }
        }
        return out;
    }

    private static String pidNamespace() {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }
}
