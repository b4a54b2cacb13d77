package io.forkline.compute.proxy.relay;

import io.forkline.compute.bpf.LinuxBpf;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The kernel relay's SK_MSG shape, for a compute whose backend socket is TCP (a local compute on a
 * host port only the server may connect to, {@code io.forkline.compute.guard.PortGuard}, or in a
 * network namespace of its own, {@code io.forkline.compute.netns.NetNamespace}): one kernel worker
 * hop per round trip instead of {@link KernelRelay}'s two (benchmarks/README.md 13f, 13h: 0.91-0.93x
 * the direct connection's TPS against 0.82x). Three sockhashes and two hashes:
 * <ul>
 *   <li>{@code clients} (the client's TCP socket A) with {@link RelayProgram} redirecting, with
 *       {@code BPF_F_INGRESS}, into {@code backends}: the client's bytes go straight into the receive
 *       queue of the backend's own socket P ({@code peers}: cookie(A) → cookie(P));</li>
 *   <li>{@code backends} (P, taken from the backend process with {@code pidfd_getfd}) with
 *       {@link MsgRelayProgram}: inside postgres' own {@code send}, its bytes go to A's egress
 *       ({@code msgPeers}: the session's ports → cookie(A));</li>
 *   <li>{@code relays} (the proxy's own socket B to the compute) with {@link RelayProgram} to A's
 *       egress ({@code peers}: cookie(B) → cookie(A)): after a {@link #fallBack}, postgres' bytes
 *       take P's TCP to B and arrive here.</li>
 * </ul>
 * <b>Stalled clients</b>: when A's send buffer is full the SK_MSG push fails inside postgres' send
 * while P still polls writable, so postgres would retry at once, spinning. {@link #fallBackIfStalled}
 * (called every few milliseconds per session by the proxy) unmaps the session's ports once A holds
 * more than half its send buffer unsent: from then on postgres' bytes go by TCP to B, whose verdict
 * forwards them through the kernel worker that waits for A's write space. Order holds: a push is
 * done (or refused) inside postgres' send, so nothing of P's is in flight when the entry goes.
 *
 * <p>Thread-safe: every call is a few bpf(2) calls, which the kernel serializes per map.
 */
public final class MsgRelay implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MsgRelay.class);
    private final LinuxBpf bpf;
    private final int clientsFd;
    private final int backendsFd;
    private final int relaysFd;
    private final int peersFd;
    private final int msgPeersFd;
    private final List<Integer> progs;
    private final AtomicBoolean closed = new AtomicBoolean();

    private MsgRelay(LinuxBpf bpf, int clientsFd, int backendsFd, int relaysFd, int peersFd, int msgPeersFd,
                     List<Integer> progs) {
        this.bpf = bpf;
        this.clientsFd = clientsFd;
        this.backendsFd = backendsFd;
        this.relaysFd = relaysFd;
        this.peersFd = peersFd;
        this.msgPeersFd = msgPeersFd;
        this.progs = progs;
    }

    /**
     * Creates the maps and loads and attaches the three programs (root, Linux 5.13+).
     *
     * @throws UnsupportedOperationException not Linux or an unknown architecture
     * @throws LinuxBpf.BpfException         a refused bpf(2) call, with errno and the verifier's log
     */
    static MsgRelay open(LinuxBpf bpf) {
        int[] maps = {-1, -1, -1, -1, -1};
        java.util.ArrayList<Integer> progs = new java.util.ArrayList<>();
        try {
            maps[0] = KernelRelay.createMap(bpf, LinuxBpf.BPF_MAP_TYPE_SOCKHASH, 0, KernelRelay.MAX_SOCKETS, "fl_msg_clients");
            maps[1] = KernelRelay.createMap(bpf, LinuxBpf.BPF_MAP_TYPE_SOCKHASH, 0, KernelRelay.MAX_SOCKETS, "fl_msg_backends");
            maps[2] = KernelRelay.createMap(bpf, LinuxBpf.BPF_MAP_TYPE_SOCKHASH, 0, KernelRelay.MAX_SOCKETS, "fl_msg_relays");
            maps[3] = KernelRelay.createMap(bpf, LinuxBpf.BPF_MAP_TYPE_HASH, LinuxBpf.BPF_F_NO_PREALLOC,
                    KernelRelay.MAX_SOCKETS, "fl_msg_peers");
            maps[4] = KernelRelay.createMap(bpf, LinuxBpf.BPF_MAP_TYPE_HASH, LinuxBpf.BPF_F_NO_PREALLOC,
                    KernelRelay.MAX_SOCKETS, "fl_msg_ports");
            int clientProg = bpf.loadProgram(RelayProgram.instructions(maps[1], maps[3], LinuxBpf.BPF_F_INGRESS),
                    LinuxBpf.BPF_PROG_TYPE_SK_SKB, LinuxBpf.BPF_SK_SKB_VERDICT, "fl_msg_client");
            KernelRelay.attach(bpf, maps[0], clientProg, LinuxBpf.BPF_SK_SKB_VERDICT);
            progs.add(clientProg);
            int relayProg = bpf.loadProgram(RelayProgram.instructions(maps[0], maps[3], 0),
                    LinuxBpf.BPF_PROG_TYPE_SK_SKB, LinuxBpf.BPF_SK_SKB_VERDICT, "fl_msg_relay");
            KernelRelay.attach(bpf, maps[2], relayProg, LinuxBpf.BPF_SK_SKB_VERDICT);
            progs.add(relayProg);
            int msgProg = bpf.loadProgram(MsgRelayProgram.instructions(maps[0], maps[4]),
                    LinuxBpf.BPF_PROG_TYPE_SK_MSG, LinuxBpf.BPF_SK_MSG_VERDICT, "fl_msg_backend");
            KernelRelay.attach(bpf, maps[1], msgProg, LinuxBpf.BPF_SK_MSG_VERDICT);
            progs.add(msgProg);
            return new MsgRelay(bpf, maps[0], maps[1], maps[2], maps[3], maps[4], List.copyOf(progs));
        } catch (RuntimeException e) {
            progs.forEach(bpf::close);
            for (int m : maps) {
                if (m >= 0) {
                    bpf.close(m);
                }
            }
            throw e;
        }
    }

    /**
     * Relays a session through the kernel from now on: the client's TCP socket {@code fdA}, the proxy's
     * TCP socket {@code fdB} to the compute (local port {@code proxyPort}), and the backend's own
     * socket, taken from process {@code backendPid} (BackendKeyData's pid). Call it when no byte can be
     * in flight (before the client sees the first ReadyForQuery).
     *
     * @param fdA         the client's TCP socket (descriptor of the proxy's channel)
     * @param fdB         the proxy's TCP socket to the compute
     * @param proxyPort   {@code fdB}'s local port (the backend socket's remote port)
     * @param backendPid  the backend process (BackendKeyData's pid)
     * @param computePort the compute's TCP port (the backend socket's local port)
     * @return the pair, for {@link #unpair} and {@link #fallBackIfStalled}
     * @throws LinuxBpf.BpfException  a refused call (no ptrace rights over the backend, a full map)
     * @throws IllegalStateException  the backend's socket was not found; nothing is left in the maps
     */
    public Pair pair(int fdA, int fdB, int proxyPort, long backendPid, int computePort) {
        int p = backendSocket(backendPid, computePort, proxyPort);
        long a = bpf.socketCookie(fdA);
        long b = bpf.socketCookie(fdB);
        Pair pair = null;
        long key = MsgRelayProgram.key(computePort, proxyPort);
        try {
            long cp = bpf.socketCookie(p);
            // the ports key names one session: refused (EEXIST) while another session holds it (two computes
            // given the same port number whose proxy sockets got the same port), so no byte can go astray
            KernelRelay.update(bpf, msgPeersFd, key, a, LinuxBpf.BPF_NOEXIST, "claim the session's ports key");
            pair = new Pair(a, b, cp, key);
            KernelRelay.update(bpf, clientsFd, a, fdA, "add the client socket to fl_msg_clients");
            KernelRelay.update(bpf, relaysFd, b, fdB, "add the proxy's compute socket to fl_msg_relays");
            KernelRelay.update(bpf, backendsFd, cp, p, "add the backend's socket to fl_msg_backends");
            KernelRelay.update(bpf, peersFd, a, cp, "pair the client with the backend");
            KernelRelay.update(bpf, peersFd, b, a, "pair the proxy's socket with the client");
            return pair;
        } catch (RuntimeException e) {
            if (pair != null) {
                unpair(pair);
                KernelRelay.delete(bpf, backendsFd, pair.cookieBackend());
            }
            KernelRelay.delete(bpf, clientsFd, a);
            KernelRelay.delete(bpf, relaysFd, b);
            throw e;
        } finally {
            bpf.close(p); // the sockhash holds the socket itself; our descriptor is not needed
        }
    }

    /** Forgets {@code pair} (idempotent); sockets leave the sockhashes when closed. */
    public void unpair(Pair pair) {
        if (!closed.get()) {
            KernelRelay.delete(bpf, msgPeersFd, pair.portsKey());
            KernelRelay.delete(bpf, peersFd, pair.cookieA());
            KernelRelay.delete(bpf, peersFd, pair.cookieB());
        }
    }

    /** Sends postgres' bytes of {@code pair} by TCP to the proxy's socket from now on (idempotent). */
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
        log.debug("kernel relay: the client holds {} unsent bytes of a {}-byte send buffer; the backend's bytes go"
                + " through the worker that waits for it from now on", unsent, sendBufferBytes);
        return -1;
    }

    /**
     * The descriptor, in process {@code pid}, of its TCP socket from 127.0.0.1:{@code computePort} to
     * port {@code proxyPort} ({@code /proc/PID/net/tcp}, that process's namespace's table, gives the
     * inode; {@code /proc/PID/fd} the descriptor), copied into this process with {@code pidfd_getfd}.
     */
    private int backendSocket(long pid, int computePort, int proxyPort) {
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
                                return bpf.takeFd(pid, Integer.parseInt(fd.getFileName().toString()));
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
            progs.forEach(bpf::close);
            for (int m : new int[] {msgPeersFd, peersFd, relaysFd, backendsFd, clientsFd}) {
                bpf.close(m);
            }
        }
    }

    /**
     * A session relayed by the SK_MSG shape.
     *
     * @param cookieA       the client socket's cookie
     * @param cookieB       the proxy's compute socket's cookie
     * @param cookieBackend the backend socket's cookie
     * @param portsKey      the session's {@link MsgRelayProgram#key}
     */
    public record Pair(long cookieA, long cookieB, long cookieBackend, long portsKey) {
    }
}
