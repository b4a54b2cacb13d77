package io.forkline.compute.netns;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link NetNamespace} on this machine's kernel (root only: creating a network namespace needs
 * {@code CAP_SYS_ADMIN}; CI runs as root).
 */
class NetNamespaceTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    @BeforeAll
    static void needsNamespaces() {
        assumeTrue(NetNamespace.available(), "network namespaces need root");
    }

    /**
     * A listener on 127.0.0.1 inside the namespace is reached from inside it and not from this
     * process's own namespace, whose same port is a different, free port.
     */
    @Test
    void aLoopbackListenerInsideIsReachableOnlyFromInside() throws Exception {
        try (NetNamespace ns = NetNamespace.create("test")) {
            ServerSocket inside = ns.call(() -> new ServerSocket(0, 50, LOOPBACK));
            try (inside) {
                int port = inside.getLocalPort();
                // from inside (loopback is up): connects and is accepted
                try (Socket c = ns.call(() -> new Socket(LOOPBACK, port)); Socket accepted = inside.accept()) {
                    c.getOutputStream().write(42);
                    assertThat(accepted.getInputStream().read()).isEqualTo(42);
                }
                // from outside: nothing listens on that port here
                assertThatThrownBy(() -> {
                    try (Socket s = new Socket()) {
                        s.connect(new InetSocketAddress(LOOPBACK, port), 2000);
                    }
                }).isInstanceOf(ConnectException.class);
                // and the host may bind the same port itself: a separate port space
                try (ServerSocket host = new ServerSocket(port, 50, LOOPBACK)) {
                    assertThat(host.getLocalPort()).isEqualTo(port);
                }
            }
        }
    }

    /** A process started inside is in the namespace; this JVM's threads are not moved. */
    @Test
    void processesStartedInsideAreInTheNamespaceAndTheCallerIsNot() throws Exception {
        String mine = Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString();
        try (NetNamespace ns = NetNamespace.create("test")) {
            String identity = ns.identity();
            assertThat(identity).startsWith("net:[").isNotEqualTo(mine);
            Process p = ns.call(() -> new ProcessBuilder("sleep", "30").start());
            try {
                assertThat(Files.readSymbolicLink(Path.of("/proc/" + p.pid() + "/ns/net")).toString())
                        .isEqualTo(identity);
            } finally {
                p.destroyForcibly().waitFor();
            }
            assertThat(Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString()).isEqualTo(mine);
        }
    }

    /** Work that throws reaches the caller as itself; a closed namespace refuses work, naming itself. */
    @Test
    void failuresReachTheCaller() {
        NetNamespace ns = NetNamespace.create("closing");
        assertThatThrownBy(() -> ns.call(() -> {
            throw new IOException("boom");
        })).isInstanceOf(IllegalStateException.class).hasMessageContaining("boom");
        assertThatThrownBy(() -> ns.call(() -> {
            throw new IllegalArgumentException("bad");
        })).isInstanceOf(IllegalArgumentException.class).hasMessage("bad");
        ns.close();
        ns.close();
        assertThatThrownBy(() -> ns.call(() -> 1)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closing").hasMessageContaining("closed");
    }
}
