package io.forkline.compute.endpoint;

import io.forkline.compute.netns.NetNamespace;
import io.forkline.compute.postgres.PostgresInstallation;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Comparator;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A real PostgreSQL 15 compute started in a network namespace of its own
 * ({@link ComputeProcess#start(PostgresInstallation, Path, int, ComputeSize, Path, NetNamespace, Duration, boolean)}):
 * its TCP listener on 127.0.0.1 answers from inside the namespace and refuses from this machine's own,
 * its Unix-domain socket works as for every compute, and the postmaster is in the namespace. Root only.
 */
class ComputeNetNamespaceIT {
    private Path dir;
    private Path data;
    private NetNamespace ns;
    private ComputeProcess compute;

    @BeforeAll
    static void needsNamespaces() {
        assumeTrue(NetNamespace.available(), "network namespaces need root");
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (compute != null) {
            compute.stopNow();
        }
        if (data != null) {
            ComputeProcess.killPostmaster(data);
        }
        if (ns != null) {
            ns.close();
        }
        if (dir != null && Files.exists(dir)) {
            try (var paths = Files.walk(dir)) {
                for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    @Test
    void theTcpListenerAnswersOnlyInsideTheNamespace() throws Exception {
        PostgresInstallation pg = PostgresInstallation.detect();
        dir = Path.of("target", "it", "ComputeNetNamespaceIT-" + UUID.randomUUID().toString().substring(0, 8))
                .toAbsolutePath();
        pg.prepareDirectory(dir);
        data = dir.resolve("data");
        Path sock = dir.resolve("sock");
        pg.prepareDirectory(sock);
        pg.run(Duration.ofSeconds(120), "initdb", "-D", data.toString(), "-U", "postgres", "--no-sync",
                "--auth-local=trust", "--auth-host=trust");
        int port = ComputeProcess.freePort();
        ns = NetNamespace.create("compute-it");
        compute = ComputeProcess.start(pg, data, port, ComputeSize.DEFAULT, sock, ns, Duration.ofSeconds(60), false);

        long pid = ComputeProcess.postmasterPid(data).orElseThrow();
        assertThat(Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/net")).toString())
                .as("the postmaster's network namespace").isEqualTo(ns.identity());

        // inside: a TCP session on 127.0.0.1
        String addr = ns.call(() -> {
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres",
                    "postgres", ""); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT inet_server_addr()::text, current_setting('listen_addresses')")) {
                rs.next();
                return rs.getString(1) + " " + rs.getString(2);
            }
        });
        assertThat(addr).isEqualTo("127.0.0.1/32 127.0.0.1");

        // outside: nothing listens on that port
        assertThatThrownBy(() -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            }
        }).isInstanceOf(ConnectException.class);

        // the private Unix-domain socket, as for every local compute
        String out = pg.run(Duration.ofSeconds(30), "psql", "-h", sock.toString(), "-p", Integer.toString(port),
                "-U", "postgres", "-d", "postgres", "-Atc", "SELECT 40 + 2");
        assertThat(out.strip()).isEqualTo("42");
    }

    @Test
    void aNamespaceNeedsASocketDirectory() throws Exception {
        PostgresInstallation pg = PostgresInstallation.detect();
        ns = NetNamespace.create("compute-it");
        assertThatThrownBy(() -> ComputeProcess.start(pg, Path.of("/nonexistent"), 5432, ComputeSize.DEFAULT, null, ns,
                Duration.ofSeconds(1), false)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("compute-it");
    }
}
