package io.forkline.compute.node;

import io.forkline.compute.postgres.PostgresInstallation;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code forkline compute-node --pageserver HOST:PORT --token TOKEN --data-dir DIR [--listen HOST] [--port PORT]}:
 * runs computes (lazy FUSE data directories and stock PostgreSQL 15) for a Forkline server that
 * may be on another machine, in the foreground until SIGTERM/SIGINT (which stops its computes).
 * Its class path has the page-service client, jfuse and the PostgreSQL launcher, no store. The
 * launcher runs it on {@code compute-node/target}; the server is pointed at it with
 * {@code forkline server --compute-node https://HOST:PORT --compute-node-cert FILE}, FILE a copy of the
 * node's certificate ({@code DIR/tls/compute.crt}, printed at start with its SHA-256 fingerprint), which
 * the server pins for the node's API and its computes.
 */
@Command(name = "forkline compute-node", mixinStandardHelpOptions = true,
        description = "Run computes for a Forkline server: their data directories come from its page service.")
public final class ComputeNodeMain implements Callable<Integer> {
    @Option(names = "--pageserver", required = true, paramLabel = "HOST:PORT", description = "the server's page service")
    String pageserver;

    @Option(names = "--token", required = true, paramLabel = "TOKEN",
            description = "the server's admin token (its data directory's auth/admin.token): presented to the page "
                    + "service, and required from the server on this node's API")
    String token;

    @Option(names = "--data-dir", required = true, paramLabel = "DIR", description = "this node's own directory")
    Path dataDir;

    @Option(names = "--listen", defaultValue = "127.0.0.1", paramLabel = "HOST",
            description = "address of the API and of the computes, which accept only TLS with the server's client certificate (default 127.0.0.1)")
    String listen;

    @Option(names = "--port", defaultValue = "9899", paramLabel = "PORT", description = "API port (default 9899; 0: any free port)")
    int port;

    public static void main(String[] args) {
        if (System.getProperty("logback.configurationFile") == null) {
            // a name of its own: the server's class path has this jar and its own logback.xml
            System.setProperty("logback.configurationFile", "forkline-compute-node-logback.xml");
        }
        CommandLine cl = new CommandLine(new ComputeNodeMain());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("forkline: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            return 1;
        });
        cl.setParameterExceptionHandler((ex, a) -> {
            ex.getCommandLine().getErr().println("forkline: " + ex.getMessage());
            return 2;
        });
        int code = cl.execute(args);
        if (code != 0) {
            System.exit(code);
        }
    }

    @Override
    public Integer call() throws Exception {
        int colon = pageserver.lastIndexOf(':');
        int pagePort;
        try {
            pagePort = colon > 0 ? Integer.parseInt(pageserver.substring(colon + 1)) : -1;
        } catch (NumberFormatException e) {
            pagePort = -1;
        }
        if (pagePort <= 0 || pagePort > 65535) {
            throw new IllegalArgumentException("invalid --pageserver '" + pageserver + "': expected HOST:PORT");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("invalid --port " + port + ": expected 0..65535");
        }
        if (token.isBlank()) {
            throw new IllegalArgumentException("invalid --token: empty");
        }
        PostgresInstallation pg = PostgresInstallation.detect();
        ComputeNode node = new ComputeNode(pg, pageserver.substring(0, colon), pagePort, token.strip(), dataDir, listen);
        ComputeNodeApi api;
        try {
            api = ComputeNodeApi.start(node, token.strip(), listen, port);
        } catch (Exception e) {
            node.close();
            throw e;
        }
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                api.close();
                node.close();
            } finally {
                done.countDown();
            }
        }, "forkline-compute-node-shutdown"));
        java.security.cert.X509Certificate cert = io.forkline.compute.proxy.tls.PemFiles.certificate(node.certificate());
        System.err.println("forkline compute node listening on https://" + listen + ":" + api.port() + " (page service "
                + pageserver + ", data " + dataDir.toAbsolutePath() + ")");
        System.err.println("its certificate: " + node.certificate().toAbsolutePath() + " (SHA-256 "
                + io.forkline.compute.proxy.tls.PemFiles.sha256Fingerprint(cert) + "): give it to the server as "
                + "--compute-node-cert");
        done.await();
        return 0;
    }
}
