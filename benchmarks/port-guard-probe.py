# Probe for issue 8's next step (docs/STATUS.md, issue 8 item 3, "Next: a default"): can a compute's
# TCP listener in the host's network namespace be guarded so that only the server's process connects?
# A BPF_PROG_TYPE_CGROUP_SOCK_ADDR program attached to the root cgroup v2 as BPF_CGROUP_INET4_CONNECT
# (BPF_F_ALLOW_MULTI) refuses connect(2) to a guarded port unless bpf_get_current_pid_tgid() >> 32 is
# the allowed tgid (a hash map: bpf_sock_addr.user_port as the ctx holds it -> tgid). Run as root:
#   python3 benchmarks/port-guard-probe.py
# Session 15 on Linux 6.18 (cgroup2 at /sys/fs/cgroup/unified): this process connects; another process
# gets EPERM; a v4-mapped IPv6 connect (::ffff:127.0.0.1) from another process is NOT refused by this
# program, so the product needs BPF_CGROUP_INET6_CONNECT too. A legacy BPF_PROG_ATTACH outlives the
# attaching process (BPF_PROG_QUERY lists it after the process exits; BPF_PROG_GET_FD_BY_ID +
# BPF_PROG_DETACH removes it), so a killed server's computes stay guarded and the next start can
# detach the stale program. Helpers (bpf(2), insn, ldmap, ...) come from kernel-relay-variants.py.
import sys, struct, ctypes, socket, os, subprocess
sys.argv = ['x', 'msg', '1', '1', '/tmp']
src = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'kernel-relay-variants.py')).read()
exec(src.split("mode, lport, pgport, sockdir")[0])
HASH = 1
guard = map_create(HASH, 4, 4, 64)  # key: user_port (u32 as the ctx holds it), value: allowed tgid
# r6 = ctx; r0 = ctx->user_port (off 24); *(u32*)(fp-4) = r0; r0 = lookup(guard, fp-4); if !r0 return 1;
# r7 = *(u32*)r0; call get_current_pid_tgid; r0 >>= 32; if r0 == r7 return 1; return 0
prog = (insn(0xbf, dst=6, src=1) + insn(0x61, dst=0, src=1, off=24) + insn(0x63, dst=10, src=0, off=-4)
        + ldmap(1, guard) + insn(0xbf, dst=2, src=10) + insn(0x07, dst=2, imm=-4) + insn(0x85, imm=1)
        + insn(0x55, dst=0, off=2, imm=0) + insn(0xb7, dst=0, imm=1) + insn(0x95)
        + insn(0x61, dst=7, src=0, off=0) + insn(0x85, imm=14) + insn(0x77, dst=0, imm=32)
        + insn(0x5d, dst=0, src=7, off=2)          # if r0 != r7 goto deny
        + insn(0xb7, dst=0, imm=1) + insn(0x95)
        + insn(0xb7, dst=0, imm=0) + insn(0x95))
fd = load(18, prog, 10)   # BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT (kernel-relay-variants.py)
cg = os.open('/sys/fs/cgroup/unified', os.O_RDONLY)
bpf(8, struct.pack('IIII', cg, fd, 10, 2) + b'\0' * 16)   # BPF_PROG_ATTACH, BPF_F_ALLOW_MULTI
try:
    ls = socket.socket(); ls.bind(('127.0.0.1', 0)); ls.listen(4); port = ls.getsockname()[1]
    k = ctypes.c_uint32(socket.htons(port)); v = ctypes.c_uint32(os.getpid())
    bpf(2, struct.pack('IIQQQ', guard, 0, ctypes.addressof(k), ctypes.addressof(v), 0) + b'\0' * 32)
    c = socket.create_connection(('127.0.0.1', port)); print("this process: connected"); c.close()
    r = subprocess.run([sys.executable, '-c', 'import socket;socket.create_connection(("127.0.0.1", %d))' % port], capture_output=True, text=True)
    print("another process:", r.returncode, r.stderr.strip().splitlines()[-1] if r.stderr else "connected")
    r = subprocess.run([sys.executable, '-c', 'import socket;s=socket.socket(socket.AF_INET6);s.connect(("::ffff:127.0.0.1", %d))' % port], capture_output=True, text=True)
    print("another process, v4-mapped IPv6:", r.returncode, r.stderr.strip().splitlines()[-1] if r.stderr else "connected")
finally:
    bpf(9, struct.pack('IIII', cg, fd, 10, 0) + b'\0' * 16)   # BPF_PROG_DETACH (attach_bpf_fd given)
    print("detached")
