package io.forkline.compute.proxy.relay;

import io.forkline.compute.bpf.Cgroup2;
import io.forkline.compute.bpf.LinuxBpf;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The client's direction of {@link MsgRelay} without a kernel worker: for a client process on this
 * host, its own TCP socket C (not only the proxy's end A) gets an SK_MSG program, which puts what the
 * client sends straight into the receive queue of the backend's socket P inside the client's own
 * {@code sendmsg}. The SK_SKB verdict on A can only queue each message to P's worker
 * ({@code sk_psock_backlog}), a kernel thread hop per message (benchmarks/README.md 13f, 13j); the
 * prototype without it carried {@code pgbench -S} at 0.967x the direct connection against 0.871x
 * (13k).
 *
 * <p>How: a {@link ClientSockOpsProgram} on the cgroup v2 root, attached through a bpf link (so it
 * goes away with this process, however it ends), puts every socket that connects to the proxy's port
 * into the sockhash {@code clients}, keyed by its 4-tuple, whose {@link ClientMsgProgram} redirects
 * with {@code BPF_F_INGRESS} through the sockhash {@code routes} (4-tuple → P) once {@link #route} has
 * named the session's backend socket. Until then, and for every other client socket, the program
 * passes: the bytes take TCP to the proxy as before.
 *
 * <p><b>Budget.</b> Nothing in the kernel bounds P's receive queue on this path (its receive buffer is
 * checked only for bytes that arrive by TCP or an SK_SKB redirect), so a client that writes faster
 * than its backend reads (a big {@code COPY FROM STDIN} into a slow table) would queue kernel memory
 * without limit. Each session may therefore send {@link #BUDGET_BYTES} more than the proxy last saw
 * its backend had read: {@link #refill} (every check of the session, on the client's event loop)
 * raises the limit to {@code sent + BUDGET_BYTES} whenever P's receive queue is empty. A message over
 * the limit takes TCP to A, and so does everything after it, for good (order: the TCP path reaches
 * P's queue behind everything pushed before), where A's receive buffer and TCP's window hold the
 * client back.
 *
 * <p>Needs root (or CAP_BPF + CAP_NET_ADMIN, and ptrace rights over the backends for {@link #refill}),
 * a cgroup v2 mount, Linux 5.16+ (an SK_MSG program's queue seen by {@code poll}). Thread-safe: each
 * call is a few bpf(2) calls.
 */
public final class ClientSockets implements AutoCloseable {
    /** System property: {@code false} leaves the client's direction on the SK_SKB verdict (benchmarks). */
    public static final String PROPERTY = "forkline.proxy.kernelRelay.clientMsg";
    /** Bytes a session may send past what its backend was last seen to have read. */
    public static final long BUDGET_BYTES = 4L << 20;
    private static final Logger log = LoggerFactory.getLogger(ClientSockets.class);

    private final LinuxBpf bpf;
    private final int clientsFd;
    private final int usageFd;
    private final int limitsFd;
    private final int routesFd;
    private final int msgProg;
    private final int opsProg;
    private final int link;
    private final AtomicBoolean closed = new AtomicBoolean();

    /** Where a session's client direction stands after {@link #refill}. */
    public enum Budget {
        /** The client's bytes still go straight into the backend's receive queue. */
        DIRECT,
        /** They take TCP to the proxy's socket, for good (over budget, or the route is gone). */
        FELL_BACK
    }

    private ClientSockets(LinuxBpf bpf, int[] fds) {
        this.bpf = bpf;
        this.clientsFd = fds[0];
        this.usageFd = fds[1];
        this.limitsFd = fds[2];
        this.routesFd = fds[3];
        this.msgProg = fds[4];
        this.opsProg = fds[5];
        this.link = fds[6];
    }

    /** Whether {@link #PROPERTY} asks for it (on unless {@code false}). */
    public static boolean requested() {
        return !"false".equalsIgnoreCase(System.getProperty(PROPERTY, "true").trim());
    }

    /**
     * Creates the maps, loads both programs and links the sock_ops program to the cgroup v2 root.
     *
     * @param proxyPort the proxy's TCP port (clients connecting to it are captured)
     * @throws UnsupportedOperationException no cgroup v2 mount, or a kernel before 5.16 (naming its release)
     * @throws LinuxBpf.BpfException         a refused bpf(2) call, with errno and the verifier's log
     */
    static ClientSockets open(LinuxBpf bpf, int proxyPort) {
        String kernel = System.getProperty("os.version", "");
        if (!atLeast(kernel, 5, 16)) {
            // before 5.16 poll(2) does not see a psock's queue (sk_msg_is_readable), so refill could not tell a
            // drained backend from a full one and the budget would not bound anything
            throw new UnsupportedOperationException("needs Linux 5.16 or later (poll sees SK_MSG queues), this is " + kernel);
        }
        int[] fds = {-1, -1, -1, -1, -1, -1, -1};
        int cgroup = -1;
        try {
            int n = KernelRelay.MAX_SOCKETS;
            int keyBytes = ClientMsgProgram.KEY_BYTES;
            fds[0] = bpf.createMap(LinuxBpf.BPF_MAP_TYPE_SOCKHASH, keyBytes, 8, n, 0, "fl_cli_socks");
            fds[1] = bpf.createMap(LinuxBpf.BPF_MAP_TYPE_HASH, keyBytes, ClientMsgProgram.USAGE_BYTES, n,
                    LinuxBpf.BPF_F_NO_PREALLOC, "fl_cli_usage");
            fds[2] = bpf.createMap(LinuxBpf.BPF_MAP_TYPE_HASH, keyBytes, 8, n, LinuxBpf.BPF_F_NO_PREALLOC, "fl_cli_limits");
            fds[3] = bpf.createMap(LinuxBpf.BPF_MAP_TYPE_SOCKHASH, keyBytes, 8, n, 0, "fl_cli_routes");
            fds[4] = bpf.loadProgram(ClientMsgProgram.instructions(fds[1], fds[2], fds[3]),
                    LinuxBpf.BPF_PROG_TYPE_SK_MSG, LinuxBpf.BPF_SK_MSG_VERDICT, "fl_cli_msg");
            bpf.attach(fds[0], fds[4], LinuxBpf.BPF_SK_MSG_VERDICT, 0);
            fds[5] = bpf.loadProgram(ClientSockOpsProgram.instructions(fds[0], proxyPort),
                    LinuxBpf.BPF_PROG_TYPE_SOCK_OPS, 0, "fl_cli_ops");
            cgroup = bpf.openReadOnly(Cgroup2.root());
            fds[6] = bpf.linkCreate(fds[5], cgroup, LinuxBpf.BPF_CGROUP_SOCK_OPS);
            return new ClientSockets(bpf, fds);
        } catch (RuntimeException e) {
            for (int i = fds.length - 1; i >= 0; i--) {
                if (fds[i] >= 0) {
                    bpf.close(fds[i]);
                }
            }
            throw e;
        } finally {
            if (cgroup >= 0) {
                bpf.close(cgroup);
            }
        }
    }

    /** Whether a kernel release string ({@code os.version}, e.g. {@code 6.18.44-fc}) is at least major.minor. */
    static boolean atLeast(String release, int major, int minor) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^(\\d+)\\.(\\d+)").matcher(release);
        if (!m.find()) {
            return false;
        }
        int ma = Integer.parseInt(m.group(1));
        int mi = Integer.parseInt(m.group(2));
        return ma > major || (ma == major && mi >= minor);
    }

    /**
     * Routes the client socket connected from {@code client} to {@code proxy} into the backend socket
     * {@code backendFd} (already in a sockhash of {@link MsgRelay}), with a fresh budget. Call it while
     * the client can have nothing in flight (before it sees ReadyForQuery).
     *
     * @return the session's key for {@link #refill} and {@link #unroute}, or {@code null} when the client
     *         socket was not captured (another host, a pure IPv6 address, a client connected before the
     *         hook was linked): its bytes keep taking TCP
     * @throws LinuxBpf.BpfException a refused map update (a full map); nothing is left routed
     */
    byte[] route(InetSocketAddress client, InetSocketAddress proxy, int backendFd) {
        byte[] key = ClientMsgProgram.key(client, proxy);
        if (key == null || closed.get() || bpf.lookup(clientsFd, key, 8, "look up a client socket") == null) {
            return null;
        }
        try {
            bpf.update(limitsFd, key, u64s(BUDGET_BYTES), LinuxBpf.BPF_ANY, "set a client's budget");
            bpf.update(usageFd, key, u64s(0, 0), LinuxBpf.BPF_ANY, "start a client's usage");
            bpf.update(routesFd, key, u64s(backendFd), LinuxBpf.BPF_ANY, "route a client to its backend's socket");
            return key;
        } catch (RuntimeException e) {
            unroute(key);
            throw e;
        }
    }

    /** Forgets a session's route (idempotent); its client's bytes take TCP from the next message on. */
    void unroute(byte[] key) {
        if (closed.get()) {
            return;
        }
        try {
            bpf.delete(usageFd, key, "forget a client's usage"); // first: the program then passes
            bpf.delete(routesFd, key, "forget a client's route");
            bpf.delete(limitsFd, key, "forget a client's budget");
        } catch (RuntimeException e) {
            log.warn("kernel relay: {}", e.getMessage());
        }
    }

    /**
     * Raises the session's limit to {@code sent + BUDGET_BYTES} when its backend socket's receive queue
     * is empty (everything sent so far was read). The backend socket is looked at through a copy taken
     * with {@code pidfd_getfd} and closed at once, so the proxy never keeps a backend's connection open.
     *
     * @param key            {@link #route}'s answer
     * @param backendPid     the backend process
     * @param backendFd      the backend socket's descriptor number in that process
     * @param backendCookie  the backend socket's cookie (a reused descriptor number is not refilled)
     */
    Budget refill(byte[] key, long backendPid, int backendFd, long backendCookie) {
        if (closed.get()) {
            return Budget.FELL_BACK;
        }
        byte[] usage = bpf.lookup(usageFd, key, ClientMsgProgram.USAGE_BYTES, "read a client's usage");
        if (usage == null) {
            return Budget.FELL_BACK;
        }
        ByteBuffer u = ByteBuffer.wrap(usage).order(ByteOrder.nativeOrder());
        long sent = u.getLong(0);
        if (u.getLong(8) != 0) {
            return Budget.FELL_BACK;
        }
        int fd = -1;
        boolean drained;
        try {
            fd = bpf.takeFd(backendPid, backendFd);
            if (bpf.socketCookie(fd) != backendCookie) {
                return Budget.DIRECT; // the backend is past its session; the proxy will see it close
            }
            drained = !bpf.readable(fd);
        } catch (LinuxBpf.BpfException e) {
            return Budget.DIRECT; // the backend is gone (ESRCH, EBADF); the proxy will see it close
        } finally {
            if (fd >= 0) {
                bpf.close(fd);
            }
        }
        if (drained) {
            bpf.update(limitsFd, key, u64s(sent + BUDGET_BYTES), LinuxBpf.BPF_ANY, "refill a client's budget");
        }
        return Budget.DIRECT;
    }

    private static byte[] u64s(long... values) {
        ByteBuffer b = ByteBuffer.allocate(8 * values.length).order(ByteOrder.nativeOrder());
        for (long v : values) {
            b.putLong(v);
        }
        return b.array();
    }

    /** Unlinks the sock_ops program and closes the programs and maps (captured sockets leave them). */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            for (int fd : new int[] {link, opsProg, msgProg, routesFd, limitsFd, usageFd, clientsFd}) {
                bpf.close(fd);
            }
        }
    }
}
