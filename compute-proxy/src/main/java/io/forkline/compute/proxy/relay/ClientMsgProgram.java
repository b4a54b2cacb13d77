package io.forkline.compute.proxy.relay;

import io.forkline.compute.bpf.BpfAssembler;
import io.forkline.compute.bpf.LinuxBpf;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static io.forkline.compute.bpf.BpfAsm.*;

/**
 * The SK_MSG verdict program of {@link ClientSockets}, attached to the sockhash of the clients' own
 * sockets: it runs inside the client's {@code sendmsg} and, for a session the proxy routed, puts what
 * the client writes straight into the receive queue of the backend's socket ({@code BPF_F_INGRESS}),
 * with no TCP send to the proxy and no kernel worker. The context is {@code struct sk_msg_md}
 * ({@code include/uapi/linux/bpf.h}): {@code remote_ip4} 20, {@code local_ip4} 24, {@code remote_port}
 * 60, {@code local_port} 64, {@code size} 68.
 *
 * <p>The kernel bounds nothing here (the backend's receive buffer is not checked on this path), so
 * each session has a byte budget: {@code usage} (key → {@code {u64 sent; u64 fallen}}, written only
 * by this program, which runs under the client socket's lock) and {@code limits} (key → u64, written
 * only by the proxy, {@link ClientSockets#refill}):
 *
 * <pre>
 *   key = {remote_ip4, local_ip4, remote_port, local_port}          // the client socket's 4-tuple
 *   u = bpf_map_lookup_elem(&amp;usage, &amp;key)                            // helper 1
 *   if (!u || u->fallen) return SK_PASS                               // not routed, or fallen back
 *   limit = bpf_map_lookup_elem(&amp;limits, &amp;key)
 *   if (limit &amp;&amp; u->sent + msg->size &lt;= *limit) {
 *       u->sent += msg->size
 *       if (bpf_msg_redirect_hash(msg, &amp;routes, &amp;key, BPF_F_INGRESS) == SK_PASS) return SK_PASS   // helper 71
 *   }
 *   u->fallen = 1                                                     // for good
 *   return SK_PASS                                                    // plain TCP to the proxy's socket
 * </pre>
 *
 * A message that once goes by TCP ends the direct path for good, so no later message can overtake
 * it: the TCP path reaches the same receive queue after everything pushed before. Immutable.
 */
final class ClientMsgProgram {
    /** Bytes of a key: remote IPv4, local IPv4, remote port word, local port word (as the contexts hold them). */
    static final int KEY_BYTES = 16;
    /** Bytes of a {@code usage} value: {@code u64 sent; u64 fallen}. */
    static final int USAGE_BYTES = 16;
    static final int OFF_REMOTE_IP4 = 20;
    static final int OFF_LOCAL_IP4 = 24;
    static final int OFF_REMOTE_PORT = 60;
    static final int OFF_LOCAL_PORT = 64;
    static final int OFF_SIZE = 68;

    private ClientMsgProgram() {
    }

    /**
     * The key of the client socket connected from {@code client} to {@code proxy}, as both programs
     * compute it from the socket's context, or {@code null} for an address that is not IPv4 (nor
     * IPv4-mapped IPv6).
     *
     * @param client the client socket's own address (the proxy socket's remote address)
     * @param proxy  the address it connected to (the proxy socket's local address)
     */
    static byte[] key(InetSocketAddress client, InetSocketAddress proxy) {
        byte[] clientIp = ipv4(client.getAddress());
        byte[] proxyIp = ipv4(proxy.getAddress());
        if (clientIp == null || proxyIp == null) {
            return null;
        }
        ByteBuffer b = ByteBuffer.allocate(KEY_BYTES).order(ByteOrder.nativeOrder());
        b.put(proxyIp).put(clientIp).putInt(remotePortWord(proxy.getPort())).putInt(client.getPort());
        return b.array();
    }

    /** {@code remote_port} as a 32-bit context load reads it: {@code htons(port) << 16} on little-endian hosts. */
    static int remotePortWord(int port) {
        return ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN
                ? (Short.toUnsignedInt(Short.reverseBytes((short) port)) << 16) : port;
    }

    private static byte[] ipv4(InetAddress a) {
        if (a instanceof Inet4Address) {
            return a.getAddress();
        }
        if (a instanceof Inet6Address) {
            byte[] b = a.getAddress();
            for (int i = 0; i < 10; i++) {
                if (b[i] != 0) {
                    return null;
                }
            }
            if (b[10] == (byte) 0xff && b[11] == (byte) 0xff) {
                return new byte[] {b[12], b[13], b[14], b[15]};
            }
        }
        return null;
    }

    /** Stores the key at {@code fp - KEY_BYTES} from the context in r6 (the four u32 fields' offsets). */
    static void storeKey(BpfAssembler a, int remoteIp4, int localIp4, int remotePort, int localPort) {
        int[] offsets = {remoteIp4, localIp4, remotePort, localPort};
        for (int i = 0; i < offsets.length; i++) {
            a.op(BPF_LDX_MEM_W, R2, R6, offsets[i], 0);
            a.op(BPF_STX_MEM_W, R10, R2, -KEY_BYTES + 4 * i, 0);
        }
    }

    /**
     * @param usageFd  hash: key → {@code {u64 sent; u64 fallen}}
     * @param limitsFd hash: key → u64 limit of {@code sent}
     * @param routesFd sockhash: key → the backend's socket
     */
    static byte[] instructions(int usageFd, int limitsFd, int routesFd) {
        BpfAssembler a = new BpfAssembler();
        a.op(BPF_ALU64_MOV_X, R6, R1, 0, 0);                                   // r6 = msg
        storeKey(a, OFF_REMOTE_IP4, OFF_LOCAL_IP4, OFF_REMOTE_PORT, OFF_LOCAL_PORT);
        a.ldMapFd(R1, usageFd);
        a.op(BPF_ALU64_MOV_X, R2, R10, 0, 0);
        a.op(BPF_ALU64_ADD_K, R2, 0, 0, -KEY_BYTES);
        a.op(BPF_JMP_CALL, 0, 0, 0, BPF_FUNC_MAP_LOOKUP_ELEM);                 // r0 = &usage or NULL
        a.jump(BPF_JMP_JEQ_K, R0, 0, "pass");
        a.op(BPF_ALU64_MOV_X, R7, R0, 0, 0);                                   // r7 = &usage
        a.op(BPF_LDX_MEM_DW, R1, R7, 8, 0);
        a.jump(BPF_JMP_JNE_K, R1, 0, "pass");                                  // fallen back
        a.ldMapFd(R1, limitsFd);
        a.op(BPF_ALU64_MOV_X, R2, R10, 0, 0);
        a.op(BPF_ALU64_ADD_K, R2, 0, 0, -KEY_BYTES);
        a.op(BPF_JMP_CALL, 0, 0, 0, BPF_FUNC_MAP_LOOKUP_ELEM);                 // r0 = &limit or NULL
        a.jump(BPF_JMP_JEQ_K, R0, 0, "fall");
        a.op(BPF_LDX_MEM_DW, R8, R0, 0, 0);                                    // r8 = limit
        a.op(BPF_LDX_MEM_W, R2, R6, OFF_SIZE, 0);                              // r2 = msg->size
        a.op(BPF_LDX_MEM_DW, R3, R7, 0, 0);                                    // r3 = sent
        a.op(BPF_ALU64_ADD_X, R3, R2, 0, 0);
        a.jump(BPF_JMP_JGT_X, R3, R8, "fall");                                 // over budget
        a.op(BPF_STX_MEM_DW, R7, R3, 0, 0);                                    // sent += size
        a.op(BPF_ALU64_MOV_X, R1, R6, 0, 0);
        a.ldMapFd(R2, routesFd);
        a.op(BPF_ALU64_MOV_X, R3, R10, 0, 0);
        a.op(BPF_ALU64_ADD_K, R3, 0, 0, -KEY_BYTES);
        a.op(BPF_ALU64_MOV_K, R4, 0, 0, LinuxBpf.BPF_F_INGRESS);
        a.op(BPF_JMP_CALL, 0, 0, 0, BPF_FUNC_MSG_REDIRECT_HASH);
        a.jump(BPF_JMP_JEQ_K, R0, SK_PASS, "pass");                            // redirected
        a.label("fall");
        a.op(BPF_ALU64_MOV_K, R1, 0, 0, 1);
        a.op(BPF_STX_MEM_DW, R7, R1, 8, 0);                                    // fallen = 1
        a.label("pass");
        a.op(BPF_ALU64_MOV_K, R0, 0, 0, SK_PASS);
        a.op(BPF_JMP_EXIT, 0, 0, 0, 0);
        return a.bytes();
    }
}
