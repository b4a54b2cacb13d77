package io.forkline.compute.guard;

import io.forkline.compute.bpf.Cgroup2;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link PortGuard} on this machine's kernel: real cgroup connect hooks, real listeners, other
 * processes ({@code bash}'s {@code /dev/tcp}) as the ones to refuse. Root only (bpf(2) and cgroup
 * attach need it; CI runs as root).
 */
class PortGuardTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    @BeforeAll
    static void needsTheGuard() {
        assumeTrue(PortGuard.shared() != null, "port guard unavailable: " + PortGuard.unavailableReason());
    }

    /**
     * A guarded port refuses every other process, by 127.0.0.1, another 127/8 address, 0.0.0.0 and
     * IPv4-mapped IPv6, and lets this process in; after the protection is closed everyone connects.
     */
    @Test
    void onlyTheOwnerConnectsToAGuardedPort() throws Exception {
        PortGuard guard = PortGuard.shared();
        try (ServerSocket listener = new ServerSocket()) {
            listener.bind(new InetSocketAddress(LOOPBACK, 0));
            int port = listener.getLocalPort();
            assertThat(otherProcessConnects("127.0.0.1", port)).as("before the guard").isEqualTo("connected");
            try (PortGuard.Protection p = guard.protect(port)) {
                assertThat(guard.protects(port)).isTrue();
                assertThat(otherProcessConnects("127.0.0.1", port)).contains("Operation not permitted");
                assertThat(otherProcessConnects("0.0.0.0", port)).contains("Operation not permitted");
                assertThat(otherProcessConnects("::ffff:127.0.0.1", port)).contains("Operation not permitted");
                assertThat(otherProcessConnects("127.0.0.2", port)).as("a listener on 127.0.0.1 refuses 127.0.0.2 itself")
                        .doesNotContain("connected");
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(LOOPBACK, port), 2000);
                    assertThat(s.isConnected()).as("the owner connects").isTrue();
                }
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(InetAddress.getByName("::ffff:127.0.0.1"), port), 2000);
                    assertThat(s.isConnected()).as("the owner connects over IPv4-mapped IPv6").isTrue();
                }
            }
            assertThat(guard.protects(port)).isFalse();
            assertThat(otherProcessConnects("127.0.0.1", port)).as("after the guard").isEqualTo("connected");
        }
    }

    /** Other ports, and guarded ports on other hosts' addresses, are not touched. */
    @Test
    void otherPortsAreNotTouched() throws Exception {
        try (ServerSocket guarded = new ServerSocket(0, 50, LOOPBACK); ServerSocket open = new ServerSocket(0, 50, LOOPBACK);
             PortGuard.Protection p = PortGuard.shared().protect(guarded.getLocalPort())) {
            assertThat(otherProcessConnects("127.0.0.1", open.getLocalPort())).isEqualTo("connected");
        }
    }

    /** A compute restarted on its port takes the port over: the old protection's close leaves it guarded. */
    @Test
    void aLaterProtectionOfThePortSurvivesTheEarliersClose() throws Exception {
        PortGuard guard = PortGuard.shared();
        try (ServerSocket listener = new ServerSocket(0, 50, LOOPBACK)) {
            int port = listener.getLocalPort();
            PortGuard.Protection first = guard.protect(port);
            try (PortGuard.Protection second = guard.protect(port)) {
                first.close();
                assertThat(guard.protects(port)).isTrue();
                assertThat(otherProcessConnects("127.0.0.1", port)).contains("Operation not permitted");
            }
            assertThat(guard.protects(port)).isFalse();
        }
    }

    /**
     * A guard whose owner is gone keeps its ports guarded against everyone (a killed server's
     * computes) while they listen; once none listens, the next start detaches it.
     */
    @Test
    void aGoneOwnersGuardStaysWhileItsPortsListenThenIsDetached() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        assertThat(gone.waitFor(10, TimeUnit.SECONDS)).isTrue();
        ServerSocket listener = new ServerSocket(0, 50, LOOPBACK);
        int port = listener.getLocalPort();
        PortGuard orphan = PortGuard.open(gone.pid());
        try {
            orphan.protect(port);
            orphan.close(); // a port still guarded: the programs stay attached, as after a kill
            assertThat(otherProcessConnects("127.0.0.1", port)).contains("Operation not permitted");
            assertThat(PortGuard.detachStale()).as("its port still listens").isZero();
            assertThat(otherProcessConnects("127.0.0.1", port)).contains("Operation not permitted");
        } finally {
            listener.close();
        }
        assertThat(PortGuard.detachStale()).as("nothing listens on its port any more").isEqualTo(2);
        try (ServerSocket again = new ServerSocket(port, 50, LOOPBACK)) {
            assertThat(otherProcessConnects("127.0.0.1", port)).isEqualTo("connected");
        }
    }

    /**
     * At shutdown the guard waits for its computes' ports to be released (the server stops them
     * meanwhile), then detaches its programs; a guard closed with a port still guarded keeps them.
     */
    @Test
    void closeWhenReleasedWaitsForThePortsThenDetaches() throws Exception {
        long me = ProcessHandle.current().pid();
        int before = attachedNamed(PortGuard.PROGRAM_PREFIX + me);
        PortGuard g = PortGuard.open(me);
        assertThat(attachedNamed(PortGuard.PROGRAM_PREFIX + me)).isEqualTo(before + 2);
        PortGuard.Protection p = g.protect(40_000);
        Thread releaser = new Thread(() -> {
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                return;
            }
            p.close();
        });
        releaser.start();
        long t0 = System.nanoTime();
        g.closeWhenReleased(10_000);
        assertThat((System.nanoTime() - t0) / 1_000_000).as("waited for the release, not the bound").isBetween(250L, 5_000L);
        assertThat(attachedNamed(PortGuard.PROGRAM_PREFIX + me)).as("detached").isEqualTo(before);
    }

    /** How many programs named {@code name} are attached to the cgroup v2 root (both connect hooks). */
    private static int attachedNamed(String name) {
        io.forkline.compute.bpf.LinuxBpf bpf = io.forkline.compute.bpf.LinuxBpf.load();
        int cg = bpf.openReadOnly(Cgroup2.root());
        int n = 0;
        try {
            for (int type : new int[]{io.forkline.compute.bpf.LinuxBpf.BPF_CGROUP_INET4_CONNECT,
                    io.forkline.compute.bpf.LinuxBpf.BPF_CGROUP_INET6_CONNECT}) {
                for (int id : bpf.attachedPrograms(cg, type)) {
                    int fd = bpf.programFd(id);
                    try {
                        if (bpf.programInfo(fd).name().equals(name)) {
                            n++;
                        }
                    } finally {
                        bpf.close(fd);
                    }
                }
            }
        } finally {
            bpf.close(cg);
        }
        return n;
    }

    @Test
    void keysAreThePortInNetworkOrderAsTheContextHoldsIt() {
        assertThat(PortGuard.key(5432)).isEqualTo(0x3815); // 5432 = 0x1538: bytes 15 38 read as a little-endian u32
        assertThat(PortGuard.portOf(PortGuard.key(65535))).isEqualTo(65535);
        assertThat(PortGuard.ownerOf("fl_guard1234")).isEqualTo(1234);
        assertThat(PortGuard.ownerOf("fl_relay")).isEqualTo(-1);
        assertThat(PortGuard.ownerOf("fl_guard")).isEqualTo(-1);
    }

    /** "connected", or the other process's error: a bash {@code /dev/tcp} connect from a process of its own. */
    private static String otherProcessConnects(String host, int port) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("bash", "-c", "exec 3<>/dev/tcp/" + host + "/" + port + " && echo connected")
                .redirectErrorStream(true).start();
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    }
}
