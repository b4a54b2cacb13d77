package io.forkline.compute.proxy.relay;

import io.forkline.compute.bpf.LinuxBpf;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The kernel relay's SK_MSG shape, for a compute whose backend socket is TCP (a local compute on a
 * host port only the server may connect to, {@code io.forkline.compute.guard.PortGuard}, or in a
 * network namespace of its own, {@code io.forkline.compute.netns.NetNamespace}). Each direction is
 * pushed inside the sender's own {@code sendmsg}, with no kernel worker and no proxy wake-up, and each
 * is bounded: where the kernel would queue without limit, the direction falls back, for good, to TCP
 * and the proxy's user-space relay ({@code Splice}, which stops reading a side whose peer cannot take
 * more), never to an SK_SKB redirect (whose per-socket worker queue has no bound, see below).
 * <ul>
 *   <li><b>Backend → client.</b> The backend's own socket P, taken from the backend process with
 *       {@code pidfd_getfd}, sits in the sockhash {@code backends} with {@link MsgRelayProgram}: inside
 *       postgres' send, its bytes go to the egress of the proxy's client socket A (in {@code clients},
 *       a sockhash without programs; {@code msgPeers}: the session's ports → cookie(A)). A full A makes
 *       the push fail inside postgres' send while P still polls writable, so postgres would retry at
 *       once, spinning: {@link #fallBackIfStalled} (called every few milliseconds per session) unmaps
 *       the session's ports once A holds more than half its send buffer unsent, and from then on
 *       postgres' bytes take P's TCP to the proxy's socket B, which the proxy relays in user space.
 *       Order holds: a push is done (or refused) inside postgres' send, so nothing of P's is in
 *       flight when the entry goes.</li>
 *   <li><b>Client → backend.</b> With {@link #captureClients} (after the proxy has bound its port), a
 *       client on this host gets the same treatment: {@link ClientSockets} puts its own socket C into a
 *       sockhash whose SK_MSG program sends what it writes straight into P's receive queue, within a
 *       byte budget; over it, C's bytes take TCP to A and the proxy relays them to B, after everything
 *       pushed before (P reads its pushed messages before its TCP queue). A client whose socket was not
 *       captured (another host, IPv6) is relayed in user space in this direction.</li>
 * </ul>
 * Why no SK_SKB redirect: an SK_SKB verdict takes each skb off its socket's receive queue (uncharged:
 * that socket's TCP window stays open) and queues it for the target's worker, which retries as long
 * as the target cannot take it; nothing bounds that queue. Measured (ProxyRelayIT): a client writing
 * 128 MB of COPY data into a backend asleep for 3 s had all of it taken within 0.4 s, none of it
 * counted as TCP memory. Both directions of session 15's shape had this (A's verdict into P, and B's
 * after a stalled client's fallback).
 *
 * <p>Thread-safe: every call is a few bpf(2) calls, which the kernel serializes per map.
 */
public final class MsgRelay implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MsgRelay.class);
    private final LinuxBpf bpf;
    private final int clientsFd;
    private final int backendsFd;
    private final int msgPeersFd;
    private final int msgProg;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** The client sockets' hook, or null before {@link #captureClients} or where it did not load. */
    private volatile ClientSockets clientSockets;

    private MsgRelay(LinuxBpf bpf, int clientsFd, int backendsFd, int msgPeersFd, int msgProg) {
        this.bpf = bpf;
        this.clientsFd = clientsFd;
        this.backendsFd = backendsFd;
        this.msgPeersFd = msgPeersFd;
        this.msgProg = msgProg;
    }

    /**
     * Creates the maps and loads and attaches the backends' SK_MSG program (root, Linux 5.13+).
     *
     * @throws UnsupportedOperationException not Linux or an unknown architecture
     * @throws LinuxBpf.BpfException         a refused bpf(2) call, with errno and the verifier's log
     */
    static MsgRelay open(LinuxBpf bpf) {
        int[] maps = {-1, -1, -1};
        try {
            maps[0] = KernelRelay.createMap(bpf, LinuxBpf.BPF_MAP_TYPE_SOCKHASH, 0, KernelRelay.MAX_SOCKETS, "fl_msg_clients");
            maps[1] = KernelRelay.createMap(bpf, LinuxBpf.BPF_MAP_TYPE_SOCKHASH, 0, KernelRelay.MAX_SOCKETS, "fl_msg_backends");
            maps[2] = KernelRelay.createMap(bpf, LinuxBpf.BPF_MAP_TYPE_HASH, LinuxBpf.BPF_F_NO_PREALLOC,
                    KernelRelay.MAX_SOCKETS, "fl_msg_ports");
            int msgProg = bpf.loadProgram(MsgRelayProgram.instructions(maps[0], maps[2]),
                    LinuxBpf.BPF_PROG_TYPE_SK_MSG, LinuxBpf.BPF_SK_MSG_VERDICT, "fl_msg_backend");
            KernelRelay.attach(bpf, maps[1], msgProg, LinuxBpf.BPF_SK_MSG_VERDICT);
            return new MsgRelay(bpf, maps[0], maps[1], maps[2], msgProg);
        } catch (RuntimeException e) {
            for (int m : maps) {
                if (m >= 0) {
                    bpf.close(m);
                }
            }
            throw e;
        }
    }

    /**
     * Captures the own sockets of clients on this host that connect to {@code proxyPort}
     * ({@link ClientSockets}), unless {@link ClientSockets#PROPERTY} is false; logs one line why not
     * where it cannot load.
     *
     * @return whether sessions from now on may route their clients' bytes straight into the backend
     */
    public boolean captureClients(int proxyPort) {
        if (!ClientSockets.requested() || closed.get()) {
            return false;
        }
        try {
            ClientSockets c = ClientSockets.open(bpf, proxyPort);
            ClientSockets old = clientSockets;
            clientSockets = c;
            if (old != null) {
                old.close();
            }
            return true;
        } catch (RuntimeException e) {
            log.info("kernel relay: clients' own sockets are not captured (their bytes reach the backend through a"
                    + " kernel worker): {}", e.getMessage());
            return false;
        }
    }

    /** Whether {@link #captureClients} is in effect. */
    public boolean capturesClients() {
        return clientSockets != null;
    }

    /**
     * Relays a session through the kernel from now on: the backend's own socket, taken from process
     * {@code backendPid} (BackendKeyData's pid), pushes into the client socket {@code fdA}; a captured
     * client socket pushes into the backend's. Call it when no byte can be in flight (before the client
     * sees the first ReadyForQuery). The proxy keeps reading both of its sockets: they receive bytes
     * only after a direction fell back to TCP.
     *
     * @param fdA         the client's TCP socket (descriptor of the proxy's channel)
     * @param proxyPort   the local port of the proxy's TCP socket to the compute (the backend socket's remote port)
     * @param backendPid  the backend process (BackendKeyData's pid)
     * @param computePort the compute's TCP port (the backend socket's local port)
     * @param client      {@code fdA}'s remote address (the client socket's own), or null
     * @param proxy       {@code fdA}'s local address (where the client connected), or null
     * @return the pair, for {@link #unpair} and {@link #fallBackIfStalled}
     * @throws LinuxBpf.BpfException  a refused call (no ptrace rights over the backend, a full map)
     * @throws IllegalStateException  the backend's socket was not found; nothing is left in the maps
     */
    public Pair pair(int fdA, int proxyPort, long backendPid, int computePort, InetSocketAddress client,
                     InetSocketAddress proxy) {
        BackendSocket backend = backendSocket(backendPid, computePort, proxyPort);
        int p = backend.fd();
        long a = bpf.socketCookie(fdA);
        Pair pair = null;
        long key = MsgRelayProgram.key(computePort, proxyPort);
        try {
            long cp = bpf.socketCookie(p);
            // the ports key names one session: refused (EEXIST) while another session holds it (two computes
            // given the same port number whose proxy sockets got the same port), so no byte can go astray
            KernelRelay.update(bpf, msgPeersFd, key, a, LinuxBpf.BPF_NOEXIST, "claim the session's ports key");
            pair = new Pair(a, cp, key, null, backendPid, backend.number());
            KernelRelay.update(bpf, clientsFd, a, fdA, "add the client socket to fl_msg_clients");
            KernelRelay.update(bpf, backendsFd, cp, p, "add the backend's socket to fl_msg_backends");
            ClientSockets captured = clientSockets;
            if (captured != null && client != null && proxy != null) {
                try {
                    byte[] clientKey = captured.route(client, proxy, p);
                    if (clientKey != null) {
                        pair = new Pair(a, cp, key, clientKey, backendPid, backend.number());
                    }
                } catch (RuntimeException e) {
                    log.debug("kernel relay: a client's own socket stays on TCP: {}", e.getMessage());
                }
            }
            return pair;
        } catch (RuntimeException e) {
            if (pair != null) {
                unpair(pair);
                KernelRelay.delete(bpf, backendsFd, pair.cookieBackend());
            }
            KernelRelay.delete(bpf, clientsFd, a);
            throw e;
        } finally {
            bpf.close(p); // the sockhash holds the socket itself; our descriptor is not needed
        }
    }

    /** Forgets {@code pair} (idempotent); sockets leave the sockhashes when closed. */
    public void unpair(Pair pair) {
        ClientSockets captured = clientSockets;
        if (pair.clientKey() != null && captured != null) {
            captured.unroute(pair.clientKey());
        }
        if (!closed.get()) {
            KernelRelay.delete(bpf, msgPeersFd, pair.portsKey());
        }
    }

    /**
     * Sends postgres' bytes of {@code pair} by TCP to the proxy's socket from now on (idempotent), where
     * the proxy relays them in user space.
     */
    public void fallBack(Pair pair) {
        if (!closed.get()) {
            KernelRelay.delete(bpf, msgPeersFd, pair.portsKey());
        }
    }

    /**
     * {@link #fallBack} when the client socket {@code fdA} holds more than half of its send buffer
     * unsent ({@code SIOCOUTQNSD} against {@code SO_SNDBUF}, read each time: TCP autotuning grows it).
     *
     * @return -1 when it fell back (the caller stops asking), else the bytes {@code fdA} holds unsent
     * @throws LinuxBpf.BpfException when {@code fdA} cannot be read (e.g. closed); the caller then falls back
     */
    public int fallBackIfStalled(Pair pair, int fdA) {
        int unsent = bpf.unsentBytes(fdA);
        if (unsent == 0) {
            return 0;
        }
        int sendBufferBytes = bpf.sendBuffer(fdA);
        if (unsent <= sendBufferBytes / 2) {
            return unsent;
        }
        fallBack(pair);
        log.debug("kernel relay: the client holds {} unsent bytes of a {}-byte send buffer; the backend's bytes take"
                + " TCP and the proxy from now on", unsent, sendBufferBytes);
        return -1;
    }

    /**
     * For a session whose client socket is routed straight into the backend's ({@link Pair#clientKey}):
     * refills its byte budget when the backend has read everything ({@link ClientSockets#refill}).
     *
     * @return {@link ClientSockets.Budget#FELL_BACK} once its client's bytes take TCP for good (the
     *         caller stops asking), else {@link ClientSockets.Budget#DIRECT}
     */
    public ClientSockets.Budget refillClientBudget(Pair pair) {
        ClientSockets captured = clientSockets;
        if (pair.clientKey() == null || captured == null) {
            return ClientSockets.Budget.FELL_BACK;
        }
        return captured.refill(pair.clientKey(), pair.backendPid(), pair.backendFd(), pair.cookieBackend());
    }

    /** The backend's socket copied into this process, and its descriptor number in the backend. */
    private record BackendSocket(int fd, int number) {
    }

    /**
     * The descriptor, in process {@code pid}, of its TCP socket from 127.0.0.1:{@code computePort} to
     * port {@code proxyPort} ({@code /proc/PID/net/tcp}, that process's namespace's table, gives the
     * inode; {@code /proc/PID/fd} the descriptor), copied into this process with {@code pidfd_getfd}.
     */
    private BackendSocket backendSocket(long pid, int computePort, int proxyPort) {
        long inode = -1;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/net/tcp"))) {
                String[] f = line.trim().split("\\s+");
                if (f.length < 10 || !f[1].contains(":") || f[0].equals("sl")) {
                    continue;
                }
                int local = Integer.parseInt(f[1].substring(f[1].indexOf(':') + 1), 16);
                int remote = Integer.parseInt(f[2].substring(f[2].indexOf(':') + 1), 16);
                if (local == computePort && remote == proxyPort) {
                    inode = Long.parseLong(f[9]);
                    break;
                }
            }
            if (inode > 0) {
                String target = "socket:[" + inode + "]";
                try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/" + pid + "/fd"))) {
                    for (Path fd : fds) {
                        try {
                            if (Files.readSymbolicLink(fd).toString().equals(target)) {
                                int number = Integer.parseInt(fd.getFileName().toString());
                                return new BackendSocket(bpf.takeFd(pid, number), number);
                            }
                        } catch (IOException e) {
                            // closed meanwhile
                        }
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof LinuxBpf.BpfException be) {
                throw be;
            }
            throw new IllegalStateException("cannot find backend " + pid + "'s socket to port " + proxyPort + ": " + e, e);
        }
        throw new IllegalStateException("backend " + pid + " has no TCP socket from port " + computePort + " to port "
                + proxyPort + (inode > 0 ? " open (inode " + inode + ")" : ""));
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            ClientSockets captured = clientSockets;
            if (captured != null) {
                captured.close();
            }
            bpf.close(msgProg);
            for (int m : new int[] {msgPeersFd, backendsFd, clientsFd}) {
                bpf.close(m);
            }
        }
    }

    /**
     * A session relayed by the SK_MSG shape.
     *
     * @param cookieA       the client socket's cookie
     * @param cookieBackend the backend socket's cookie
     * @param portsKey      the session's {@link MsgRelayProgram#key}
     * @param clientKey     the client socket's key in {@link ClientSockets} when its bytes go straight into
     *                      the backend's socket, else null (they take A's SK_SKB redirect)
     * @param backendPid    the backend process
     * @param backendFd     the backend socket's descriptor number in that process
     */
    public record Pair(long cookieA, long cookieBackend, long portsKey, byte[] clientKey, long backendPid,
                       int backendFd) {
        /** Whether the client's own socket sends straight into the backend's. */
        public boolean clientDirect() {
            return clientKey != null;
        }
    }
}
