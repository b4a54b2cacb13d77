package io.forkline.compute.proxy.relay;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static io.forkline.compute.bpf.BpfAsm.*;

/**
 * The one SK_SKB verdict program every kernel-relayed session shares, as eBPF instructions
 * ({@code struct bpf_insn}: {@code u8 code | u4 dst_reg, u4 src_reg | s16 off | s32 imm}; opcodes,
 * helper ids and return codes from the kernel's {@code include/uapi/linux/bpf.h} and
 * {@code bpf_common.h}). For every skb arriving on a socket in the sockhash:
 *
 * <pre>
 *   key  = bpf_get_socket_cookie(skb)                   // helper 46: the receiving socket
 *   peer = bpf_map_lookup_elem(&amp;peers, &amp;key)            // helper 1: the other side's cookie
 *   if (!peer) return SK_PASS                           // not (or no longer) paired: to user space
 *   return bpf_sk_redirect_hash(skb, &amp;socks, peer, 0)  // helper 72: to the peer's egress (flags 0)
 * </pre>
 *
 * so the kernel moves the bytes from one socket's receive queue to the other's send path without
 * waking the proxy. Immutable.
 */
final class RelayProgram {
    private static final int BPF_FUNC_GET_SOCKET_COOKIE = 46;
    private static final int BPF_FUNC_SK_REDIRECT_HASH = 72;

    private RelayProgram() {
    }

    /**
     * The program's instructions (8 bytes each, little-endian as the host), for {@code BPF_PROG_LOAD}.
     *
     * @param socksFd the sockhash (key: socket cookie u64, value: socket)
     * @param peersFd the peers hash (key: socket cookie u64, value: the peer socket's cookie u64)
     */
    static byte[] instructions(int socksFd, int peersFd) {
        return instructions(socksFd, peersFd, 0);
    }

    /**
     * As {@link #instructions(int, int)}, redirecting into the sockhash {@code targetFd} with
     * {@code flags}: 0 sends to the peer's egress, {@code BPF_F_INGRESS} puts the bytes into the peer's
     * receive queue as if it had received them (the SK_MSG relay's client side, {@link MsgRelay}).
     */
    static byte[] instructions(int targetFd, int peersFd, int flags) {
        int socksFd = targetFd;
        ByteBuffer b = ByteBuffer.allocate(18 * 8).order(ByteOrder.nativeOrder());
        insn(b, BPF_ALU64_MOV_X, R6, R1, 0, 0);                          // r6 = skb
        insn(b, BPF_JMP_CALL, 0, 0, 0, BPF_FUNC_GET_SOCKET_COOKIE);       // r0 = cookie(skb)
        insn(b, BPF_STX_MEM_DW, R10, R0, -8, 0);                          // *(u64 *)(fp - 8) = r0
        ldMapFd(b, R1, peersFd);                                          // r1 = &peers
        insn(b, BPF_ALU64_MOV_X, R2, R10, 0, 0);                          // r2 = fp
        insn(b, BPF_ALU64_ADD_K, R2, 0, 0, -8);                           // r2 = fp - 8 (&key)
        insn(b, BPF_JMP_CALL, 0, 0, 0, BPF_FUNC_MAP_LOOKUP_ELEM);         // r0 = &peer cookie or NULL
        insn(b, BPF_JMP_JNE_K, R0, 0, 2, 0);                              // if r0 != NULL skip 2
        insn(b, BPF_ALU64_MOV_K, R0, 0, 0, SK_PASS);                      // r0 = SK_PASS
        insn(b, BPF_JMP_EXIT, 0, 0, 0, 0);                                // return
        insn(b, BPF_ALU64_MOV_X, R3, R0, 0, 0);                           // r3 = &peer cookie (key)
        insn(b, BPF_ALU64_MOV_X, R1, R6, 0, 0);                           // r1 = skb
        ldMapFd(b, R2, socksFd);                                          // r2 = &socks
        insn(b, BPF_ALU64_MOV_K, R4, 0, 0, flags);                        // r4 = flags (0: the peer's egress)
        insn(b, BPF_JMP_CALL, 0, 0, 0, BPF_FUNC_SK_REDIRECT_HASH);        // r0 = SK_PASS or SK_DROP
        insn(b, BPF_JMP_EXIT, 0, 0, 0, 0);                                // return r0
        return b.array();
    }
}
