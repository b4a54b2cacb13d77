package io.forkline.compute.proxy.relay;

import io.forkline.compute.bpf.LinuxBpf;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Relays spliced sessions inside the Linux kernel: an eBPF sockmap ({@code BPF_MAP_TYPE_SOCKHASH}
 * "socks", keyed by socket cookie) whose SK_SKB verdict program ({@link RelayProgram}) sends every
 * byte arriving on a paired socket straight to its peer's egress, found through a
 * {@code BPF_MAP_TYPE_HASH} "peers" (cookie → peer cookie). The proxy then never wakes for a
 * message; it still sees EOF and errors on both sockets (the verdict runs on data only), and any
 * byte the program passes (an unpaired socket) reaches user space as before.
 *
 * <p>{@link #open()} creates the two maps and loads and attaches the one program (root, or
 * CAP_BPF + CAP_NET_ADMIN; Linux 5.13+ for {@code BPF_SK_SKB_VERDICT}); {@link #pair} adds two
 * connected sockets; {@link #unpair} forgets a pair (a closed socket leaves the sockhash by itself).
 * Thread-safe: every call is one bpf(2) call or a few, the kernel serializes map updates.
 */
public final class KernelRelay implements AutoCloseable {
    /** System property that switches the kernel relay off ({@code false}) or on ({@code true}). */
    public static final String PROPERTY = "forkline.proxy.kernelRelay";
    /** Sockets the sockhash holds at most (two per session); a full map leaves new sessions in user space. */
    static final int MAX_SOCKETS = 1 << 16;
    private static final Logger log = LoggerFactory.getLogger(KernelRelay.class);

    private final LinuxBpf bpf;
    private final int socksFd;
    private final int peersFd;
    private final int progFd;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final UnixPeerCookie unixPeers;
    /** The SK_MSG shape for computes whose backend sockets are TCP, or null where it cannot load. */
    private final MsgRelay msg;

    private KernelRelay(LinuxBpf bpf, int socksFd, int peersFd, int progFd, MsgRelay msg) {
        this.bpf = bpf;
        this.msg = msg;
        this.socksFd = socksFd;
        this.peersFd = peersFd;
        this.progFd = progFd;
        this.unixPeers = new UnixPeerCookie(bpf);
    }

    /**
     * Whether the property asks for the kernel relay: on unless {@code forkline.proxy.kernelRelay=false}.
     * On a quiet machine it carried {@code pgbench -S} at 0.89x the compute's own TCP port against the
     * user-space relay's 0.41x, with ~1 µs of proxy CPU per transaction instead of ~70 µs
     * (benchmarks/README.md 13e); on a loaded one it did worse than user space (13d: the kernel sends
     * each redirected message from a worker thread, {@code sk_psock_backlog}, which waits for a core).
     */
    public static boolean requested() {
        return !"false".equalsIgnoreCase(System.getProperty(PROPERTY, "true").trim());
    }

    /**
     * System property: {@code true} relays sessions that cannot take the SK_MSG shape (a compute on its Unix
     * socket) with this class's SK_SKB verdict; off by default, since nothing bounds what an SK_SKB
     * redirect queues for a receiver that does not keep up ({@link MsgRelay}, "Why no SK_SKB redirect").
     */
    public static final String SKB_PROPERTY = "forkline.proxy.kernelRelay.skb";

    /** Whether {@link #SKB_PROPERTY} asks for the SK_SKB shape (off unless {@code true}). */
    public static boolean skbShapeRequested() {
        return "true".equalsIgnoreCase(System.getProperty(SKB_PROPERTY, "false").trim());
    }

    /** System property: {@code false} leaves TCP computes in user space too ({@link #msgRelay()} null). */
    public static final String MSG_PROPERTY = "forkline.proxy.kernelRelay.msg";

    /** Whether {@link #MSG_PROPERTY} asks for the SK_MSG shape (on unless {@code false}). */
    public static boolean msgRelayRequested() {
        return msgRequested();
    }

    static boolean msgRequested() {
        return !"false".equalsIgnoreCase(System.getProperty(MSG_PROPERTY, "true").trim());
    }

    /**
     * The SK_MSG shape ({@link MsgRelay}) for local computes whose backend sockets are TCP (on a guarded
     * host port or inside their own network namespace), or {@code null} where it did not load or {@link #MSG_PROPERTY} is false.
     */
    public MsgRelay msgRelay() {
        return msg;
    }

    /**
     * The kernel relay, or {@code null} after logging one line why not (not Linux, no bpf(2) rights,
     * a kernel without sockhash or SK_SKB verdict programs, FFM not usable).
     */
    public static KernelRelay openOrNull() {
        try {
            KernelRelay r = open();
            log.info("kernel relay on: spliced sessions are relayed by an eBPF sockmap (SK_SKB verdict{})",
                    r.msg != null ? "; SK_MSG for local computes on loopback TCP" : "");
            return r;
        } catch (RuntimeException | LinkageError e) {
            log.info("kernel relay unavailable, the proxy relays in user space: {}", e.getMessage());
            return null;
        }
    }

    /**
     * Creates the maps and loads and attaches the program.
     *
     * @throws UnsupportedOperationException not Linux or an unknown architecture
     * @throws LinuxBpf.BpfException         a refused bpf(2) call, with errno (and the verifier's log)
     */
    static KernelRelay open() {
        LinuxBpf bpf = LinuxBpf.load();
        int socks = -1, peers = -1;
        try {
            socks = createMap(bpf, LinuxBpf.BPF_MAP_TYPE_SOCKHASH, 0, MAX_SOCKETS, "fl_relay_socks");
            peers = createMap(bpf, LinuxBpf.BPF_MAP_TYPE_HASH, LinuxBpf.BPF_F_NO_PREALLOC, MAX_SOCKETS, "fl_relay_peers");
            int prog = loadProgram(bpf, RelayProgram.instructions(socks, peers));
            attach(bpf, socks, prog, LinuxBpf.BPF_SK_SKB_VERDICT);
            MsgRelay msg = null;
            if (msgRequested()) {
                try {
                    msg = MsgRelay.open(bpf);
                } catch (RuntimeException e) {
                    log.info("kernel relay: the SK_MSG shape is unavailable, TCP computes use the SK_SKB one: {}",
                            e.getMessage());
                }
            }
            return new KernelRelay(bpf, socks, peers, prog, msg);
        } catch (RuntimeException e) {
            if (socks >= 0) {
                bpf.close(socks);
            }
            if (peers >= 0) {
                bpf.close(peers);
            }
            throw e;
        }
    }

    /** Attaches {@code prog} to the sockhash {@code map} (BPF_PROG_ATTACH); closes the program if refused. */
    static void attach(LinuxBpf bpf, int map, int prog, int attachType) {
        try {
            bpf.attach(map, prog, attachType, 0);
        } catch (RuntimeException e) {
            bpf.close(prog);
            throw e;
        }
    }

    /** A map of u64 keys and u64 values (socket cookies; for a sockhash, sockets) of {@code type}. */
    static int createMap(LinuxBpf bpf, int type, int flags, int maxEntries, String name) {
        return bpf.createMap(type, 8, 8, maxEntries, flags, name);
    }

    static int loadProgram(LinuxBpf bpf, byte[] insns) {
        return bpf.loadProgram(insns, LinuxBpf.BPF_PROG_TYPE_SK_SKB, LinuxBpf.BPF_SK_SKB_VERDICT, "fl_relay");
    }

    /**
     * Relays {@code fdA} (a TCP socket) and {@code fdB} (TCP or, with {@code bIsUnix}, a Unix-domain
     * stream socket) through the kernel from now on: both go into the sockhash, then both peers
     * entries are written. The program looks up the cookie of the skb's socket: for TCP the
     * receiving socket, for a Unix stream the SENDING one (the other end of {@code fdB}, found with
     * {@link UnixPeerCookie}), so B's direction is keyed by that end's cookie. Call it when
     * neither side can have bytes in flight that user space must see first.
     *
     * @return the pair, for {@link #unpair}
     * @throws LinuxBpf.BpfException when the kernel refuses (the map is full, a socket type it cannot
     *                               hold); nothing of the pair is left in the maps then
     */
    public Pair pair(int fdA, int fdB, boolean bIsUnix) {
        long a = bpf.socketCookie(fdA);
        long b = bpf.socketCookie(fdB);
        long fromB = bIsUnix ? unixPeers.peerCookie(fdB) : b;
        Pair pair = new Pair(a, fromB);
        try {
            update(bpf, socksFd, a, fdA, "add socket A to the sockhash");
            update(bpf, socksFd, b, fdB, "add socket B to the sockhash");
            update(bpf, peersFd, a, b, "pair A with B");
            update(bpf, peersFd, fromB, a, "pair B with A");
            return pair;
        } catch (RuntimeException e) {
            unpair(pair);
            delete(bpf, socksFd, a);
            delete(bpf, socksFd, b);
            throw e;
        }
    }

    /** Forgets {@code pair}: its bytes reach user space again (idempotent). */
    public void unpair(Pair pair) {
        if (!closed.get()) {
            delete(bpf, peersFd, pair.cookieA());
            delete(bpf, peersFd, pair.cookieB());
        }
    }

    static void update(LinuxBpf bpf, int mapFd, long key, long value, String what) {
        update(bpf, mapFd, key, value, LinuxBpf.BPF_ANY, what);
    }

    /** BPF_MAP_UPDATE_ELEM with {@code flags} ({@code BPF_ANY}, {@code BPF_NOEXIST}: refused with EEXIST when present). */
    static void update(LinuxBpf bpf, int mapFd, long key, long value, long flags, String what) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment k = arena.allocate(8, 8);
            MemorySegment v = arena.allocate(8, 8);
            LinuxBpf.putLong(k, 0, key);
            LinuxBpf.putLong(v, 0, value);
            // struct { u32 map_fd; u64 key (aligned at 8); u64 value; u64 flags; } (BPF_MAP_*_ELEM)
            MemorySegment a = LinuxBpf.attr(arena);
            LinuxBpf.putInt(a, 0, mapFd);
            LinuxBpf.putLong(a, 8, k.address());
            LinuxBpf.putLong(a, 16, v.address());
            LinuxBpf.putLong(a, 24, flags);
            bpf.bpf(LinuxBpf.BPF_MAP_UPDATE_ELEM, a, what);
        }
    }

    static void delete(LinuxBpf bpf, int mapFd, long key) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment k = arena.allocate(8, 8);
            LinuxBpf.putLong(k, 0, key);
            MemorySegment a = LinuxBpf.attr(arena);
            LinuxBpf.putInt(a, 0, mapFd);
            LinuxBpf.putLong(a, 8, k.address());
            bpf.bpf(LinuxBpf.BPF_MAP_DELETE_ELEM, a, "BPF_MAP_DELETE_ELEM");
        } catch (LinuxBpf.BpfException e) {
            if (e.errno != LinuxBpf.ENOENT) {
                log.warn("kernel relay: {}", e.getMessage());
            }
        }
    }

    /** Detaches by closing the maps and the program (sockets still in the sockhash leave it). */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            if (msg != null) {
                msg.close();
            }
            bpf.close(progFd);
            bpf.close(peersFd);
            bpf.close(socksFd);
        }
    }

    /**
     * Two sockets relayed by the kernel: the keys of their peers entries.
     *
     * @param cookieA the first socket's {@code SO_COOKIE}
     * @param cookieB the cookie B's bytes carry (B's own for TCP, its other end's for a Unix socket)
     */
    public record Pair(long cookieA, long cookieB) {
    }
}
