package io.forkline.compute.proxy.relay;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static io.forkline.compute.bpf.BpfAsm.BPF_ALU64_ADD_K;
import static io.forkline.compute.bpf.BpfAsm.BPF_ALU64_MOV_K;
import static io.forkline.compute.bpf.BpfAsm.BPF_ALU64_MOV_X;
import static io.forkline.compute.bpf.BpfAsm.BPF_FUNC_MAP_LOOKUP_ELEM;
import static io.forkline.compute.bpf.BpfAsm.BPF_JMP_CALL;
import static io.forkline.compute.bpf.BpfAsm.BPF_JMP_EXIT;
import static io.forkline.compute.bpf.BpfAsm.BPF_JMP_JNE_K;
import static io.forkline.compute.bpf.BpfAsm.BPF_STX_MEM_DW;
import static io.forkline.compute.bpf.BpfAsm.R0;
import static io.forkline.compute.bpf.BpfAsm.R1;
import static io.forkline.compute.bpf.BpfAsm.R2;
import static io.forkline.compute.bpf.BpfAsm.R3;
import static io.forkline.compute.bpf.BpfAsm.R4;
import static io.forkline.compute.bpf.BpfAsm.R6;
import static io.forkline.compute.bpf.BpfAsm.R10;
import static io.forkline.compute.bpf.BpfAsm.SK_PASS;
import static io.forkline.compute.bpf.BpfAsm.insn;
import static io.forkline.compute.bpf.BpfAsm.ldMapFd;

/**
 * The SK_MSG verdict program of {@link MsgRelay}, attached to the sockhash of backend sockets: it
 * runs inside the backend's own {@code sendmsg} and sends what PostgreSQL writes straight to the
 * client socket's egress. Instructions as {@link RelayProgram} ({@code struct bpf_insn}, uapi
 * {@code linux/bpf.h}); {@code struct sk_msg_md} offsets: {@code remote_port} 60 (network byte order
 * in the upper 16 bits on a little-endian host: {@code htons(port) << 16}), {@code local_port} 64
 * (host byte order). An SK_MSG program may not call {@code bpf_get_socket_cookie} (Linux 6.18's
 * verifier refuses it), so a session is keyed by its ports:
 *
 * <pre>
 *   key    = (u64) msg->local_port &lt;&lt; 32 | msg->remote_port   // the compute's port, the proxy socket's
 *   client = bpf_map_lookup_elem(&amp;msgPeers, &amp;key)              // helper 1: the client socket's cookie
 *   if (!client) return SK_PASS                                   // unpaired or fallen back: plain TCP to the proxy
 *   return bpf_msg_redirect_hash(msg, &amp;clients, client, 0)       // helper 71: to the client's egress
 * </pre>
 *
 * Ports are unique per running compute on the server and per connection within a compute's network
 * namespace, so a key names one session. Immutable.
 */
final class MsgRelayProgram {
    private static final int BPF_ALU64_LSH_K = 0x67;  // BPF_ALU64 | BPF_LSH | BPF_K: dst <<= imm
    private static final int BPF_ALU64_OR_X = 0x4f;   // BPF_ALU64 | BPF_OR | BPF_X: dst |= src
    private static final int BPF_LDX_MEM_W = 0x61;    // BPF_LDX | BPF_MEM | BPF_W: dst = *(u32 *)(src + off)
    private static final int BPF_FUNC_MSG_REDIRECT_HASH = 71;
    /** {@code offsetof(struct sk_msg_md, remote_port)} and {@code local_port}. */
    static final int REMOTE_PORT_OFFSET = 60;
    static final int LOCAL_PORT_OFFSET = 64;
    private static final int R7 = 7;

    private MsgRelayProgram() {
    }

    /**
     * The map key of a session: what the program computes from the backend socket's ports.
     *
     * @param computePort the compute's TCP port (the backend socket's local port)
     * @param proxyPort   the proxy socket's local port (the backend socket's remote port)
     */
    static long key(int computePort, int proxyPort) {
        long remote = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN
                ? (Short.toUnsignedLong(Short.reverseBytes((short) proxyPort)) << 16) : proxyPort;
        return ((long) computePort << 32) | remote;
    }

    /**
     * @param clientsFd  the sockhash of client sockets (key: cookie)
     * @param msgPeersFd the hash from {@link #key} to the client socket's cookie
     */
    static byte[] instructions(int clientsFd, int msgPeersFd) {
        ByteBuffer b = ByteBuffer.allocate(22 * 8).order(ByteOrder.nativeOrder());
        insn(b, BPF_ALU64_MOV_X, R6, R1, 0, 0);                              // r6 = msg
        insn(b, BPF_LDX_MEM_W, R7, R1, LOCAL_PORT_OFFSET, 0);                // r7 = msg->local_port
        insn(b, BPF_ALU64_LSH_K, R7, 0, 0, 32);                              // r7 <<= 32
        insn(b, BPF_LDX_MEM_W, R0, R1, REMOTE_PORT_OFFSET, 0);               // r0 = msg->remote_port
        insn(b, BPF_ALU64_OR_X, R0, R7, 0, 0);                               // r0 |= r7: the key
        insn(b, BPF_STX_MEM_DW, R10, R0, -8, 0);                             // *(u64 *)(fp - 8) = key
        ldMapFd(b, R1, msgPeersFd);                                          // r1 = &msgPeers
        insn(b, BPF_ALU64_MOV_X, R2, R10, 0, 0);
        insn(b, BPF_ALU64_ADD_K, R2, 0, 0, -8);                              // r2 = &key
        insn(b, BPF_JMP_CALL, 0, 0, 0, BPF_FUNC_MAP_LOOKUP_ELEM);            // r0 = &client cookie or NULL
        insn(b, BPF_JMP_JNE_K, R0, 0, 2, 0);                                 // if r0 != NULL skip 2
        insn(b, BPF_ALU64_MOV_K, R0, 0, 0, SK_PASS);
        insn(b, BPF_JMP_EXIT, 0, 0, 0, 0);                                   // return SK_PASS
        insn(b, BPF_ALU64_MOV_X, R3, R0, 0, 0);                              // r3 = &client cookie
        insn(b, BPF_ALU64_MOV_X, R1, R6, 0, 0);                              // r1 = msg
        ldMapFd(b, R2, clientsFd);                                           // r2 = &clients
        insn(b, BPF_ALU64_MOV_K, R4, 0, 0, 0);                               // r4 = 0: egress
        insn(b, BPF_JMP_CALL, 0, 0, 0, BPF_FUNC_MSG_REDIRECT_HASH);          // r0 = SK_PASS or SK_DROP
        insn(b, BPF_JMP_EXIT, 0, 0, 0, 0);
        return java.util.Arrays.copyOf(b.array(), b.position());
    }
}
