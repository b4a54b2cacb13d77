package io.forkline.compute.guard;

import io.forkline.compute.bpf.BpfAssembler;

import static io.forkline.compute.bpf.BpfAsm.*;

/**
 * The port guard's {@code BPF_PROG_TYPE_CGROUP_SOCK_ADDR} program, run by the kernel on every
 * {@code connect(2)} of every process of the cgroup it is attached to ({@code BPF_CGROUP_INET4_CONNECT},
 * or {@code BPF_CGROUP_INET6_CONNECT} for IPv4-mapped IPv6 addresses). Its context is
 * {@code struct bpf_sock_addr} ({@code include/uapi/linux/bpf.h}): {@code user_ip4} at offset 4 and
 * {@code user_ip6[4]} at 8 (network byte order), {@code user_port} at 24 (network byte order in its
 * low 16 bits):
 *
 * <pre>
 *   if destination is not 127.0.0.0/8 or 0.0.0.0 (or ::ffff: of those) return 1    // allow
 *   owner = bpf_map_lookup_elem(&amp;ports, &amp;ctx->user_port)                           // helper 1
 *   if (!owner) return 1                                                           // not guarded
 *   if (bpf_get_current_pid_tgid() >> 32 == *owner) return 1                       // helper 14
 *   return 0                                                                       // EPERM
 * </pre>
 *
 * 0.0.0.0 counts because Linux connects it to the local host. Immutable.
 */
final class PortGuardProgram {
    private static final int OFF_USER_IP4 = 4;
    private static final int OFF_USER_IP6 = 8;
    private static final int OFF_USER_PORT = 24;
    /** {@code ::ffff:0:0/96}'s third word as a little-endian load of bytes 00 00 ff ff. */
    private static final int V4_MAPPED_WORD = 0xffff0000;

    private PortGuardProgram() {
    }

    /**
     * The program's instructions for {@code BPF_PROG_LOAD}.
     *
     * @param portsFd the hash map u32 {@code user_port} (as the context holds it) → u32 allowed tgid
     * @param ipv6    for {@code BPF_CGROUP_INET6_CONNECT} (checks IPv4-mapped destinations), else IPv4
     */
    static byte[] instructions(int portsFd, boolean ipv6) {
        BpfAssembler a = new BpfAssembler();
        a.op(BPF_ALU64_MOV_X, R6, R1, 0, 0);                         // r6 = ctx
        if (ipv6) {
            a.op(BPF_LDX_MEM_W, R2, R6, OFF_USER_IP6, 0);             // r2 = user_ip6[0]
            a.jump(BPF_JMP_JNE_K, R2, 0, "allow");
            a.op(BPF_LDX_MEM_W, R2, R6, OFF_USER_IP6 + 4, 0);         // r2 = user_ip6[1]
            a.jump(BPF_JMP_JNE_K, R2, 0, "allow");
            a.op(BPF_LDX_MEM_W, R2, R6, OFF_USER_IP6 + 8, 0);         // r2 = user_ip6[2]
            a.jump(BPF_JMP32_JNE_K, R2, V4_MAPPED_WORD, "allow");     // not ::ffff:a.b.c.d
            a.op(BPF_LDX_MEM_W, R2, R6, OFF_USER_IP6 + 12, 0);        // r2 = the IPv4 address
        } else {
            a.op(BPF_LDX_MEM_W, R2, R6, OFF_USER_IP4, 0);             // r2 = user_ip4
        }
        a.op(BPF_ALU64_MOV_X, R3, R2, 0, 0);
        a.op(BPF_ALU64_AND_K, R3, 0, 0, 0xff);                        // r3 = first octet
        a.jump(BPF_JMP_JEQ_K, R3, 127, "check");                      // 127.0.0.0/8
        a.jump(BPF_JMP_JEQ_K, R2, 0, "check");                        // 0.0.0.0
        a.jump(BPF_JMP_JA, 0, 0, "allow");
        a.label("check");
        a.op(BPF_LDX_MEM_W, R2, R6, OFF_USER_PORT, 0);                // r2 = user_port
        a.op(BPF_STX_MEM_W, R10, R2, -4, 0);                          // *(u32 *)(fp - 4) = r2
        a.ldMapFd(R1, portsFd);                                       // r1 = &ports
        a.op(BPF_ALU64_MOV_X, R2, R10, 0, 0);
        a.op(BPF_ALU64_ADD_K, R2, 0, 0, -4);                          // r2 = &key
        a.op(BPF_JMP_CALL, 0, 0, 0, BPF_FUNC_MAP_LOOKUP_ELEM);        // r0 = &owner tgid or NULL
        a.jump(BPF_JMP_JEQ_K, R0, 0, "allow");                        // not a guarded port
        a.op(BPF_LDX_MEM_W, R7, R0, 0, 0);                            // r7 = owner tgid
        a.op(BPF_JMP_CALL, 0, 0, 0, BPF_FUNC_GET_CURRENT_PID_TGID);   // r0 = tgid << 32 | pid
        a.op(BPF_ALU64_RSH_K, R0, 0, 0, 32);                          // r0 = tgid
        a.jump(BPF_JMP_JEQ_X, R0, R7, "allow");
        a.op(BPF_ALU64_MOV_K, R0, 0, 0, 0);                           // refuse: connect(2) fails with EPERM
        a.op(BPF_JMP_EXIT, 0, 0, 0, 0);
        a.label("allow");
        a.op(BPF_ALU64_MOV_K, R0, 0, 0, 1);
        a.op(BPF_JMP_EXIT, 0, 0, 0, 0);
        return a.bytes();
    }
}
