package io.forkline.compute.proxy.relay;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteOrder;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The pieces of {@link ClientSockets} that need no kernel: the kernel-release check, and the 4-tuple key
 * as both programs read it from their contexts (network-order addresses, the remote port word, the local
 * port in host order). The kernel side is exercised by ProxyRelayIT.
 */
class ClientSocketsTest {
    @Test
    void kernelReleasesAreComparedByMajorAndMinor() {
        assertThat(ClientSockets.atLeast("6.18.44-fc-v1272", 5, 16)).isTrue();
        assertThat(ClientSockets.atLeast("5.16.0", 5, 16)).isTrue();
        assertThat(ClientSockets.atLeast("5.15.133-generic", 5, 16)).isFalse();
        assertThat(ClientSockets.atLeast("4.19.0", 5, 16)).isFalse();
        assertThat(ClientSockets.atLeast("", 5, 16)).isFalse();
        assertThat(ClientSockets.atLeast("unknown", 5, 16)).isFalse();
    }

    @Test
    void theKeyIsTheClientSocketsFourTupleAsItsContextHoldsIt() throws Exception {
        InetSocketAddress client = new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), 0xA1B2);
        InetSocketAddress proxy = new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, 2}), 55432);
        byte[] key = ClientMsgProgram.key(client, proxy);
        assertThat(key).hasSize(ClientMsgProgram.KEY_BYTES);
        // remote IPv4 (the proxy's), local IPv4 (the client's), network byte order as in memory
        assertThat(java.util.Arrays.copyOfRange(key, 0, 8)).containsExactly(127, 0, 0, 2, 127, 0, 0, 1);
        if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            // remote_port reads htons(port) << 16: the port's bytes in network order at offsets 10, 11
            assertThat(java.util.Arrays.copyOfRange(key, 8, 12)).containsExactly(0, 0, (byte) (55432 >> 8), (byte) 55432);
            // local_port in host order
            assertThat(java.util.Arrays.copyOfRange(key, 12, 16)).containsExactly((byte) 0xB2, (byte) 0xA1, 0, 0);
        }
        // an IPv4-mapped IPv6 address keys like its IPv4 one; a pure IPv6 address has no key
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        mapped[12] = 127;
        mapped[15] = 1;
        InetSocketAddress mappedClient = new InetSocketAddress(java.net.Inet6Address.getByAddress(null, mapped, null), 0xA1B2);
        assertThat(ClientMsgProgram.key(mappedClient, proxy)).isEqualTo(key);
        assertThat(ClientMsgProgram.key(new InetSocketAddress(InetAddress.getByName("::1"), 0xA1B2), proxy)).isNull();
    }
}
