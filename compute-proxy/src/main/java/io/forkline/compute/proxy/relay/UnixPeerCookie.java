package io.forkline.compute.proxy.relay;

import io.forkline.compute.bpf.LinuxBpf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/**
 * The socket cookie of the OTHER end of a connected Unix-domain socket, through sock_diag
 * ({@code NETLINK_SOCK_DIAG}, {@code SOCK_DIAG_BY_FAMILY} for {@code AF_UNIX};
 * {@code include/uapi/linux/sock_diag.h}, {@code unix_diag.h}): first our socket with
 * {@code UDIAG_SHOW_PEER} gives the peer's inode, then the peer's own entry gives its
 * {@code udiag_cookie} (the same value as {@code SO_COOKIE} and {@code bpf_get_socket_cookie}).
 *
 * <p>Why: a Unix stream skb belongs to its SENDER's socket ({@code skb->sk}), so the relay program
 * sees the compute's end of the connection, not the proxy's, on bytes from the compute; it keys
 * that direction by the compute end's cookie. Our own socket's inode comes from
 * {@code /proc/self/fd/N} ({@code socket:[ino]}). Thread-safe (one netlink socket per call).
 */
final class UnixPeerCookie {
    private static final int AF_NETLINK = 16;
    private static final int SOCK_RAW = 3;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int NETLINK_SOCK_DIAG = 4;
    private static final short SOCK_DIAG_BY_FAMILY = 20;
    private static final short NLM_F_REQUEST = 1;
    private static final short NLMSG_ERROR = 2;
    private static final byte AF_UNIX = 1;
    private static final int UDIAG_SHOW_PEER = 4;
    private static final int UNIX_DIAG_PEER = 2;
    private static final int NLMSGHDR = 16;          // u32 len | u16 type | u16 flags | u32 seq | u32 pid
    private static final int UNIX_DIAG_REQ = 24;     // u8 family | u8 protocol | u16 pad | u32 states | u32 ino | u32 show | u32 cookie[2]
    private static final int UNIX_DIAG_MSG = 16;     // u8 family | u8 type | u8 state | u8 pad | u32 ino | u32 cookie[2]
    private static final Pattern SOCKET_LINK = Pattern.compile("socket:\\[(\\d+)]");

    private final MethodHandle socket;
    private final MethodHandle send;
    private final MethodHandle recv;
    private final LinuxBpf bpf;

    UnixPeerCookie(LinuxBpf bpf) {
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        socket = linker.downcallHandle(libc.find("socket").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
        send = linker.downcallHandle(libc.find("send").orElseThrow(), FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
        recv = linker.downcallHandle(libc.find("recv").orElseThrow(), FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
        this.bpf = bpf;
    }

    /**
     * The cookie of the socket connected to {@code fd} (a connected Unix-domain stream socket).
     *
     * @throws IllegalStateException naming the step when the kernel does not answer as expected
     */
    long peerCookie(int fd) {
        long ino = ownInode(fd);
        try (Arena arena = Arena.ofConfined()) {
            int nl;
            try {
                nl = (int) socket.invokeExact(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
            } catch (Throwable t) {
                throw new IllegalStateException("socket(AF_NETLINK): " + t, t);
            }
            if (nl < 0) {
                throw new IllegalStateException("socket(AF_NETLINK, NETLINK_SOCK_DIAG) failed");
            }
            try {
                MemorySegment answer = query(arena, nl, ino, UDIAG_SHOW_PEER);
                long peerIno = -1;
                int off = NLMSGHDR + UNIX_DIAG_MSG;
                int end = answer.get(JAVA_INT_UNALIGNED, 0);
                while (off + 4 <= end) {
                    int len = answer.get(JAVA_SHORT_UNALIGNED, off) & 0xffff;
                    int type = answer.get(JAVA_SHORT_UNALIGNED, off + 2) & 0xffff;
                    if (len < 4) {
                        break;
                    }
                    if (type == UNIX_DIAG_PEER) {
                        peerIno = answer.get(JAVA_INT_UNALIGNED, off + 4) & 0xffffffffL;
                    }
                    off += (len + 3) & ~3;
                }
                if (peerIno <= 0) {
                    throw new IllegalStateException("sock_diag: Unix socket " + ino + " has no peer");
                }
                MemorySegment peer = query(arena, nl, peerIno, 0);
                long lo = peer.get(JAVA_INT_UNALIGNED, NLMSGHDR + 8) & 0xffffffffL;
                long hi = peer.get(JAVA_INT_UNALIGNED, NLMSGHDR + 12) & 0xffffffffL;
                return lo | (hi << 32);
            } finally {
                bpf.close(nl);
            }
        }
    }

    private MemorySegment query(Arena arena, int nl, long ino, int show) {
        MemorySegment req = arena.allocate(NLMSGHDR + UNIX_DIAG_REQ, 8);
        req.set(JAVA_INT_UNALIGNED, 0, NLMSGHDR + UNIX_DIAG_REQ);
        req.set(JAVA_SHORT_UNALIGNED, 4, SOCK_DIAG_BY_FAMILY);
        req.set(JAVA_SHORT_UNALIGNED, 6, NLM_F_REQUEST);
        req.set(JAVA_BYTE, NLMSGHDR, AF_UNIX);
        req.set(JAVA_INT_UNALIGNED, NLMSGHDR + 4, -1);          // every state
        req.set(JAVA_INT_UNALIGNED, NLMSGHDR + 8, (int) ino);
        req.set(JAVA_INT_UNALIGNED, NLMSGHDR + 12, show);
        req.set(JAVA_INT_UNALIGNED, NLMSGHDR + 16, -1);         // INET_DIAG_NOCOOKIE: any cookie
        req.set(JAVA_INT_UNALIGNED, NLMSGHDR + 20, -1);
        MemorySegment buf = arena.allocate(8192, 8);
        try {
            long sent = (long) send.invokeExact(nl, req, (long) req.byteSize(), 0);
            if (sent != req.byteSize()) {
                throw new IllegalStateException("sock_diag: send returned " + sent);
            }
            long n = (long) recv.invokeExact(nl, buf, buf.byteSize(), 0);
            if (n < NLMSGHDR) {
                throw new IllegalStateException("sock_diag: recv returned " + n);
            }
        } catch (IllegalStateException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("sock_diag: " + t, t);
        }
        short type = buf.get(JAVA_SHORT_UNALIGNED, 4);
        if (type == NLMSG_ERROR) {
            throw new IllegalStateException("sock_diag: Unix socket " + ino + ": error " + -buf.get(JAVA_INT_UNALIGNED, NLMSGHDR));
        }
        if (type != SOCK_DIAG_BY_FAMILY || buf.get(JAVA_INT_UNALIGNED, 0) < NLMSGHDR + UNIX_DIAG_MSG) {
            throw new IllegalStateException("sock_diag: unexpected answer type " + type);
        }
        return buf;
    }

    private static long ownInode(int fd) {
        try {
            String link = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
            Matcher m = SOCKET_LINK.matcher(link);
            if (!m.matches()) {
                throw new IllegalStateException("fd " + fd + " is not a socket: " + link);
            }
            return Long.parseLong(m.group(1));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/self/fd/" + fd + ": " + e, e);
        }
    }
}
