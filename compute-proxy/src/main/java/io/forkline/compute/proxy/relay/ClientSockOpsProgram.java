package io.forkline.compute.proxy.relay;

import io.forkline.compute.bpf.BpfAssembler;

import static io.forkline.compute.bpf.BpfAsm.*;

/**
 * The {@code BPF_PROG_TYPE_SOCK_OPS} program of {@link ClientSockets}, attached to the cgroup v2 root
 * ({@code BPF_CGROUP_SOCK_OPS}): the kernel runs it at TCP events of every process's sockets, and at
 * {@code BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB} (4: the connecting side's handshake completed) it puts a
 * socket connected to the proxy's port into the sockhash {@code clients} under its 4-tuple, where
 * {@link ClientMsgProgram} then runs inside that socket's own {@code sendmsg}. IPv4 sockets and
 * IPv4-mapped IPv6 ones only (a pure IPv6 client keeps plain TCP). Its context is {@code struct
 * bpf_sock_ops} ({@code include/uapi/linux/bpf.h}): {@code op} 0, {@code family} 20, {@code remote_ip4}
 * 24 and {@code local_ip4} 28 (network byte order), {@code remote_ip6[4]} 32, {@code remote_port} 64
 * ({@code htons(port) << 16} on a little-endian host), {@code local_port} 68 (host byte order):
 *
 * <pre>
 *   if (op != ACTIVE_ESTABLISHED_CB || remote_port != the proxy's) return 1
 *   if (family != AF_INET &amp;&amp; !(family == AF_INET6 &amp;&amp; remote_ip6 is ::ffff:a.b.c.d)) return 1
 *   key = {remote_ip4, local_ip4, remote_port, local_port}                  // {@link ClientMsgProgram#key}
 *   bpf_sock_hash_update(ctx, &amp;clients, &amp;key, BPF_ANY)                      // helper 70
 *   return 1
 * </pre>
 * Immutable.
 */
final class ClientSockOpsProgram {
    static final int OFF_OP = 0;
    static final int OFF_FAMILY = 20;
    static final int OFF_REMOTE_IP4 = 24;
    static final int OFF_LOCAL_IP4 = 28;
    static final int OFF_REMOTE_IP6 = 32;
    static final int OFF_REMOTE_PORT = 64;
    static final int OFF_LOCAL_PORT = 68;
    /** {@code enum bpf_sock_ops_cb}: the active (connecting) side is established. */
    static final int BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB = 4;
    static final int AF_INET = 2;
    static final int AF_INET6 = 10;
    /** {@code ::ffff:0:0/96}'s third word as a little-endian load of bytes 00 00 ff ff. */
    private static final int V4_MAPPED_WORD = 0xffff0000;

    private ClientSockOpsProgram() {
    }

    /**
     * @param clientsFd the sockhash of client sockets (16-byte key: {@link ClientMsgProgram#key})
     * @param proxyPort the proxy's TCP port
     */
    static byte[] instructions(int clientsFd, int proxyPort) {
        BpfAssembler a = new BpfAssembler();
        a.op(BPF_ALU64_MOV_X, R6, R1, 0, 0);                                   // r6 = ctx
        a.op(BPF_LDX_MEM_W, R2, R6, OFF_OP, 0);
        a.jump(BPF_JMP32_JNE_K, R2, BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB, "out");
        a.op(BPF_LDX_MEM_W, R2, R6, OFF_REMOTE_PORT, 0);
        a.jump(BPF_JMP32_JNE_K, R2, ClientMsgProgram.remotePortWord(proxyPort), "out");
        a.op(BPF_LDX_MEM_W, R2, R6, OFF_FAMILY, 0);
        a.jump(BPF_JMP_JEQ_K, R2, AF_INET, "key");
        a.jump(BPF_JMP_JNE_K, R2, AF_INET6, "out");
        a.op(BPF_LDX_MEM_W, R2, R6, OFF_REMOTE_IP6, 0);                        // remote_ip6[0]
        a.jump(BPF_JMP_JNE_K, R2, 0, "out");
        a.op(BPF_LDX_MEM_W, R2, R6, OFF_REMOTE_IP6 + 4, 0);                    // remote_ip6[1]
        a.jump(BPF_JMP_JNE_K, R2, 0, "out");
        a.op(BPF_LDX_MEM_W, R2, R6, OFF_REMOTE_IP6 + 8, 0);                    // remote_ip6[2]
        a.jump(BPF_JMP32_JNE_K, R2, V4_MAPPED_WORD, "out");
        a.label("key");
        ClientMsgProgram.storeKey(a, OFF_REMOTE_IP4, OFF_LOCAL_IP4, OFF_REMOTE_PORT, OFF_LOCAL_PORT);
        a.op(BPF_ALU64_MOV_X, R1, R6, 0, 0);                                   // r1 = ctx
        a.ldMapFd(R2, clientsFd);                                              // r2 = &clients
        a.op(BPF_ALU64_MOV_X, R3, R10, 0, 0);
        a.op(BPF_ALU64_ADD_K, R3, 0, 0, -ClientMsgProgram.KEY_BYTES);          // r3 = &key
        a.op(BPF_ALU64_MOV_K, R4, 0, 0, 0);                                    // BPF_ANY
        a.op(BPF_JMP_CALL, 0, 0, 0, BPF_FUNC_SOCK_HASH_UPDATE);
        a.label("out");
        a.op(BPF_ALU64_MOV_K, R0, 0, 0, 1);
        a.op(BPF_JMP_EXIT, 0, 0, 0, 0);
        return a.bytes();
    }
}
