# Prototype kernel relays (issue 8, benchmarks/README.md 13f): a listener on 127.0.0.1:LPORT that
# connects every client to a PostgreSQL 15 (trust, listening on 127.0.0.1:PGPORT and in SOCKDIR) and
# pairs the sockets in eBPF sockhashes before any byte is relayed (no proxy login: a measurement tool,
# not the product; root, Linux 5.13+ for SK_SKB verdict, 5.6+ for pidfd_getfd).
#   python3 benchmarks/kernel-relay-variants.py MODE LPORT PGPORT SOCKDIR
# Modes:
#   skb-unix : client TCP A <-> proxy's Unix socket B to postgres; SK_SKB verdict both ways (= Forkline's relay)
#   skb-tcp  : same with B = TCP to postgres
#   msg      : B = TCP; A->B by SK_SKB (kworker); postgres' own socket P (pidfd_getfd) in a sockhash with an
#              SK_MSG program: postgres' sends are redirected to A's egress inside its sendmsg (no kworker)
#   msgi     : as msg, but A's bytes go with BPF_F_INGRESS straight into P's receive queue (kworker, no TCP send)
#   skbi-unix: B = Unix (as Forkline); A's bytes go by SK_SKB with BPF_F_INGRESS straight into the receive queue
#              of postgres' own Unix socket P (pidfd_getfd; kworker, no Unix send); postgres' answers as skb-unix
#   msgf     : msg, plus the stall fallback (session 15): a monitor thread reads each client socket's unsent bytes
#              (ioctl SIOCOUTQNSD) every MONITOR_MS and, once they pass half its SO_SNDBUF, removes P from its
#              sockhash for good; postgres' sends then go over P's own TCP to B, whose SK_SKB verdict forwards
#              them to A (the worker waits for A's write space: no busy retry). Order holds: an SK_MSG push is
#              all-or-EAGAIN inside postgres' send, so nothing of P's is in flight when it leaves the map.
#   msgif    : msgi with the same fallback; P stays in its sockhash (the target of A's ingress redirect) and
#              its SK_MSG program finds no peer once its remote-port entries are deleted, so it passes P's sends.
#   msgii    : msgif, and the client's own socket C inline too (session 17): a SOCK_OPS program on the cgroup v2
#              root (a bpf link: gone with this process) puts every IPv4 socket that connects to LPORT into a
#              sockhash keyed by its 4-tuple; that sockhash's SK_MSG program redirects the client's sends with
#              BPF_F_INGRESS straight into P's receive queue (a sockhash of routes, C's 4-tuple -> P), inside
#              the client's own sendmsg: no TCP send to A, no kworker in either direction.
import ctypes, struct, socket, os, sys, select, time, re, threading
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def sysc(n, *a):
    r = libc.syscall(n, *a)
    if r < 0:
        e = ctypes.get_errno(); raise OSError(e, "syscall %d: %s" % (n, os.strerror(e)))
    return r
def bpf(cmd, attr):
    buf = ctypes.create_string_buffer(attr, len(attr))
    return sysc(321, cmd, buf, len(attr))
def map_create(mtype, ks, vs, n, flags=0):
    return bpf(0, struct.pack('IIIII', mtype, ks, vs, n, flags) + b'\0' * 108)
def insn(code, dst=0, src=0, off=0, imm=0):
    return struct.pack('<BBhi', code, (src << 4) | dst, off, imm)
def ldmap(dst, fd):
    return insn(0x18, dst=dst, src=1, imm=fd) + insn(0)
def load(ptype, prog, attach_type):
    insns = ctypes.create_string_buffer(prog, len(prog)); lic = ctypes.create_string_buffer(b"GPL")
    log = ctypes.create_string_buffer(65536)
    attr = struct.pack('IIQQIIQII16sII', ptype, len(prog) // 8, ctypes.addressof(insns), ctypes.addressof(lic),
                       1, 65536, ctypes.addressof(log), 0, 0, b'proto', 0, attach_type) + b'\0' * 64
    try:
        return bpf(5, attr)
    except OSError:
        print(log.value.decode()[-3000:]); raise
def attach(map_fd, prog_fd, attach_type):
    bpf(8, struct.pack('IIII', map_fd, prog_fd, attach_type, 0) + b'\0' * 16)
def update(map_fd, key, val):
    k = ctypes.c_uint64(key); v = ctypes.c_uint64(val)
    bpf(2, struct.pack('IIQQQ', map_fd, 0, ctypes.addressof(k), ctypes.addressof(v), 0) + b'\0' * 32)
def delete(map_fd, key):
    k = ctypes.c_uint64(key)
    bpf(3, struct.pack('IIQ', map_fd, 0, ctypes.addressof(k)) + b'\0' * 40)
def update_bytes(map_fd, key, val):
    k = ctypes.create_string_buffer(key, len(key)); v = ctypes.c_uint64(val)
    bpf(2, struct.pack('IIQQQ', map_fd, 0, ctypes.addressof(k), ctypes.addressof(v), 0) + b'\0' * 32)
def lookup_bytes(map_fd, key):
    k = ctypes.create_string_buffer(key, len(key)); v = ctypes.c_uint64(0)
    try:
        bpf(1, struct.pack('IIQQQ', map_fd, 0, ctypes.addressof(k), ctypes.addressof(v), 0) + b'\0' * 32)
        return v.value
    except OSError:
        return None
def cookie(fd):
    v = ctypes.c_uint64(0); l = ctypes.c_uint32(8)
    if libc.getsockopt(fd, 1, 57, ctypes.byref(v), ctypes.byref(l)) != 0: raise OSError(ctypes.get_errno(), "SO_COOKIE")
    return v.value

mode, lport, pgport, sockdir = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
client_inline = mode == 'msgii'
fallback = mode in ('msgf', 'msgif', 'msgii')
if fallback:
    mode = 'msg' if mode == 'msgf' else 'msgi'
MONITOR_MS = int(os.environ.get('MONITOR_MS', '20'))
SOCKHASH, HASH = 18, 1
socks = map_create(SOCKHASH, 8, 8, 1024)          # A and B (SK_SKB verdict)
psocks = map_create(SOCKHASH, 8, 8, 1024)         # postgres' sockets P (SK_MSG verdict)
peers = map_create(HASH, 8, 8, 1024)              # cookie of skb's socket -> target cookie (in the redirect map)
mpeers = map_create(HASH, 8, 8, 1024)             # P's remote port -> A's cookie
redirect_map = psocks if mode == 'msgi' else socks
redirect_flags = 1 if mode == 'msgi' else 0       # BPF_F_INGRESS
def skb_prog(redirect_map, redirect_flags):
    return (insn(0xbf, dst=6, src=1) + insn(0x85, imm=46) + insn(0x7b, dst=10, src=0, off=-8)
            + ldmap(1, peers) + insn(0xbf, dst=2, src=10) + insn(0x07, dst=2, imm=-8) + insn(0x85, imm=1)
            + insn(0x55, dst=0, off=2, imm=0) + insn(0xb7, dst=0, imm=1) + insn(0x95)
            + insn(0xbf, dst=3, src=0) + insn(0xbf, dst=1, src=6) + ldmap(2, redirect_map)
            + insn(0xb7, dst=4, imm=redirect_flags) + insn(0x85, imm=72) + insn(0x95))
if mode == 'skbi-unix':
    # client sockets in their own sockhash, whose program sends into P's receive queue (psocks, BPF_F_INGRESS);
    # the proxy's Unix sockets in socks, whose program sends to the client socket's egress (csocks)
    csocks = map_create(SOCKHASH, 8, 8, 1024)
    attach(csocks, load(14, skb_prog(psocks, 1), 38), 38)
    attach(socks, load(14, skb_prog(csocks, 0), 38), 38)
else:
    sp = load(14, skb_prog(redirect_map, redirect_flags), 38); attach(socks, sp, 38)
bsocks = socks
if fallback and mode == 'msgi':
    # B carries P's bytes only after the fallback; they go to A's egress, not into a psock's ingress
    bsocks = map_create(SOCKHASH, 8, 8, 1024)
    attach(bsocks, load(14, skb_prog(socks, 0), 38), 38)
if mode in ('msg', 'msgi'):
    msg_prog = (insn(0xbf, dst=6, src=1) + insn(0x61, dst=0, src=1, off=60)      # r0 = msg->remote_port (u32)
                + insn(0x7b, dst=10, src=0, off=-8)
                + ldmap(1, mpeers) + insn(0xbf, dst=2, src=10) + insn(0x07, dst=2, imm=-8) + insn(0x85, imm=1)
                + insn(0x55, dst=0, off=2, imm=0) + insn(0xb7, dst=0, imm=1) + insn(0x95)
                + insn(0xbf, dst=3, src=0) + insn(0xbf, dst=1, src=6) + ldmap(2, socks)
                + insn(0xb7, dst=4, imm=0) + insn(0x85, imm=71) + insn(0x95))    # bpf_msg_redirect_hash, egress
    mp = load(16, msg_prog, 7); attach(psocks, mp, 7)

if client_inline:
    csocks = map_create(SOCKHASH, 16, 8, 1024)    # clients' own sockets C, by 4-tuple (SK_MSG verdict)
    routes = map_create(SOCKHASH, 16, 8, 1024)    # C's 4-tuple -> P (no program)
    JNE32, JNE = 0x56, 0x55
    raw_port = (socket.htons(lport) << 16) & 0xffffffff
    def key_loads(o_rip, o_lip, o_rport, o_lport):
        return (insn(0x61, dst=2, src=6, off=o_rip) + insn(0x63, dst=10, src=2, off=-16)
                + insn(0x61, dst=2, src=6, off=o_lip) + insn(0x63, dst=10, src=2, off=-12)
                + insn(0x61, dst=2, src=6, off=o_rport) + insn(0x63, dst=10, src=2, off=-8)
                + insn(0x61, dst=2, src=6, off=o_lport) + insn(0x63, dst=10, src=2, off=-4))
    sockops = (insn(0xbf, dst=6, src=1)
               + insn(0x61, dst=2, src=6, off=0) + insn(JNE32, dst=2, off=13, imm=4)        # op == ACTIVE_ESTABLISHED_CB
               + insn(0x61, dst=2, src=6, off=20) + insn(JNE32, dst=2, off=11, imm=2)       # family == AF_INET
               + insn(0x61, dst=2, src=6, off=64) + insn(JNE32, dst=2, off=9, imm=raw_port - (1 << 32) if raw_port >= 1 << 31 else raw_port)
               + key_loads(24, 28, 64, 68)                                                  # 8 insns
               + insn(0xbf, dst=1, src=6) + ldmap(2, csocks) + insn(0xbf, dst=3, src=10) + insn(0x07, dst=3, imm=-16)
               + insn(0xb7, dst=4, imm=0) + insn(0x85, imm=70)                              # bpf_sock_hash_update
               + insn(0xb7, dst=0, imm=1) + insn(0x95))
    # jump offsets above: from each JNE to the final 'r0 = 1'
    sockops = bytearray(sockops)
    # patch the three JNE offsets to land on 'r0 = 1' (index len-2)
    total = len(sockops) // 8
    for idx in (2, 4, 6):
        struct.pack_into('<h', sockops, idx * 8 + 2, total - 2 - (idx + 1))
    sockops = bytes(sockops)
    cmsg = (insn(0xbf, dst=6, src=1) + key_loads(20, 24, 60, 64)
            + insn(0xbf, dst=1, src=6) + ldmap(2, routes) + insn(0xbf, dst=3, src=10) + insn(0x07, dst=3, imm=-16)
            + insn(0xb7, dst=4, imm=1) + insn(0x85, imm=71)                                # bpf_msg_redirect_hash, ingress
            + insn(0xb7, dst=0, imm=1) + insn(0x95))
    attach(csocks, load(16, cmsg, 7), 7)
    sop = load(13, sockops, 0)
    cg = os.open(os.environ.get('CGROUP2', '/sys/fs/cgroup/unified'), os.O_RDONLY)
    link = bpf(28, struct.pack('IIII', sop, cg, 3, 0) + b'\0' * 48)           # BPF_LINK_CREATE, BPF_CGROUP_SOCK_OPS
    def c_key(A):
        (cip, cport), (lip, _) = A.getpeername(), A.getsockname()
        return socket.inet_aton(lip) + socket.inet_aton(cip) + struct.pack('<II', raw_port, cport)

def inode_of_fd(fd):
    return int(re.search(r'\[(\d+)\]', os.readlink('/proc/self/fd/%d' % fd)).group(1))
def tcp_peer_inode(local_port, remote_port):
    # the socket whose local port is local_port and remote port remote_port (/proc/net/tcp, hex ports)
    for line in open('/proc/net/tcp').readlines()[1:]:
        f = line.split()
        if int(f[1].split(':')[1], 16) == local_port and int(f[2].split(':')[1], 16) == remote_port:
            return int(f[9])
    return None
def grab(inode):
    # pidfd_getfd of the process holding socket:[inode] (postmaster or backend)
    target = 'socket:[%d]' % inode
    for pid in os.listdir('/proc'):
        if not pid.isdigit(): continue
        try:
            for fd in os.listdir('/proc/%s/fd' % pid):
                try:
                    if os.readlink('/proc/%s/fd/%s' % (pid, fd)) == target:
                        pfd = sysc(434, int(pid), 0)
                        try:
                            return sysc(438, pfd, int(fd), 0)
                        finally:
                            os.close(pfd)
                except OSError:
                    pass
        except OSError:
            pass
    return None

watched, watched_lock = [], threading.Lock()
SIOCOUTQNSD = 0x894B
def monitor():
    # the stall fallback of mode msgf: one ioctl per paired session per MONITOR_MS
    import fcntl, array
    while True:
        time.sleep(MONITOR_MS / 1000)
        with watched_lock:
            items = list(watched)
        for w in items:
            A, cpk, bport = w
            try:
                buf = array.array('i', [0])
                fcntl.ioctl(A.fileno(), SIOCOUTQNSD, buf, True)
                sndbuf = A.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
            except (OSError, ValueError):  # closed: fileno() is -1
                with watched_lock:
                    watched.remove(w)
                continue
            if buf[0] > sndbuf // 2:
                try:
                    if mode == 'msgi':
                        for key in (bport, socket.htons(bport), socket.htonl(bport), bport << 16):
                            delete(mpeers, key)
                    else:
                        delete(psocks, cpk)
                except OSError as e:
                    print("unpair failed:", e, flush=True)
                print("fallback: client socket holds %d unsent bytes (sndbuf %d); backend direction unpaired"
                      % (buf[0], sndbuf), flush=True)
                with watched_lock:
                    watched.remove(w)
if fallback:
    threading.Thread(target=monitor, daemon=True).start()
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); ls.bind(("127.0.0.1", lport)); ls.listen(128)
print("relay", mode, "on", lport, flush=True)
keep = []
def serve(A):
    A.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if mode in ('skb-unix', 'skbi-unix'):
        B = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); B.connect('%s/.s.PGSQL.%d' % (sockdir, pgport))
    else:
        B = socket.create_connection(("127.0.0.1", pgport)); B.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    ca, cb = cookie(A.fileno()), cookie(B.fileno())
    update(csocks if mode == 'skbi-unix' else socks, ca, A.fileno()); update(bsocks, cb, B.fileno())
    if mode in ('skb-unix', 'skbi-unix'):
        # the compute's end: its skbs carry ITS socket (Unix stream skbs belong to the sender), so key that
        # direction by its cookie: its inode from `ss -x` (the row of B names the peer's inode), the socket
        # itself through pidfd_getfd of whichever postgres process holds it, then SO_COOKIE
        peer = None
        for _ in range(2000):
            out = os.popen("ss -xpn 2>/dev/null | grep -w %d" % inode_of_fd(B.fileno())).read()
            cand = [int(x) for x in re.findall(r'\* (\d+)', out)]
            if cand:
                peer = grab(cand[-1]) if cand[-1] != inode_of_fd(B.fileno()) else None
                if peer is None:
                    peer = grab([c for c in cand if c != inode_of_fd(B.fileno())][0])
            if peer: break
            time.sleep(0.001)
        cp = cookie(peer)
        if mode == 'skbi-unix':
            update(psocks, cp, peer)
            update(peers, ca, cp)
        else:
            update(peers, ca, cb)
        update(peers, cp, ca)
        os.close(peer)
    elif mode == 'skb-tcp':
        update(peers, ca, cb); update(peers, cb, ca)
    else:
        bport = B.getsockname()[1]
        P = None
        for _ in range(5000):
            ino = tcp_peer_inode(pgport, bport)
            if ino:
                P = grab(ino)
                if P: break
            time.sleep(0.001)
        cpk = cookie(P)
        update(psocks, cpk, P)
        for key in (bport, socket.htons(bport), socket.htonl(bport), bport << 16):
            update(mpeers, key, ca)
        update(peers, ca, cpk if mode == 'msgi' else cb)
        if client_inline:
            k = c_key(A)
            if lookup_bytes(csocks, k) is not None:
                update_bytes(routes, k, P)
            else:
                print("client socket not in csocks: its bytes go by TCP and SK_SKB", flush=True)
        if fallback:
            update(peers, cb, ca)  # P's bytes that reach B (after the fallback) go on to A
            with watched_lock:
                watched.append([A, cpk, bport])
        os.close(P)
    # bytes the client sent before the pairing: forward them by hand (nothing else is in flight)
    A.setblocking(False)
    try:
        d = A.recv(65536)
        if d: B.sendall(d)
    except BlockingIOError:
        pass
    keep.append((A, B))
    # wait for EOF on either side, then close both
    p = select.poll(); p.register(A, select.POLLRDHUP | select.POLLHUP); p.register(B, select.POLLRDHUP | select.POLLHUP)
    p.poll()
    A.close(); B.close()
while True:
    A, _ = ls.accept()
    threading.Thread(target=serve, args=(A,), daemon=True).start()
