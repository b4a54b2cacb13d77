package io.forkline.pageserver.server;

import io.forkline.pageserver.auth.AuthMode;
import io.forkline.pageserver.pageservice.PageServiceConfig;

import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.CountDownLatch;

/**
 * Runs a {@link PageServer} in the foreground until SIGTERM/SIGINT, then stops its endpoints.
 * Arguments: {@code DATA_DIR PORT [PAGE_PORT [on|off]]} (the last one: authentication, default on). The CLI's {@code server} command does the same with option
 * parsing; this entry point lets tests run a server in a child JVM they can {@code kill -9}.
 */
public final class PageServerMain {
    private PageServerMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2 || args.length > 4) {
            System.err.println("usage: PageServerMain DATA_DIR PORT [PAGE_PORT [on|off]]");
            System.exit(2);
        }
        runUntilShutdown(Path.of(args[0]), Integer.parseInt(args[1]), args.length >= 3 ? Integer.parseInt(args[2]) : 0,
                args.length == 4 ? AuthMode.parse(args[3]) : AuthMode.ON);
    }

    /**
     * Starts the server (admin API on {@code port}, page service on {@code pagePort}; 0 picks a
     * free one) and blocks until the JVM shuts down.
     */
    public static void runUntilShutdown(Path dataDir, int port, int pagePort) throws Exception {
        runUntilShutdown(dataDir, port, pagePort, AuthMode.ON);
    }

    /** {@link #runUntilShutdown(Path, int, int)} with authentication on or off. */
    public static void runUntilShutdown(Path dataDir, int port, int pagePort, AuthMode authMode) throws Exception {
        PageServer server = PageServer.start(dataDir, port, PageServiceConfig.defaults(pagePort), Clock.systemUTC(),
                authMode);
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
            } finally {
                done.countDown();
            }
        }, "forkline-shutdown"));
        System.err.println("forkline server listening on http://127.0.0.1:" + server.port() + ", page service on "
                + server.pageService().host() + ":" + server.pagePort() + ", Postgres proxy on port " + server.pgPort()
                + " (data " + dataDir.toAbsolutePath() + ", auth "
                + (authMode == AuthMode.ON ? "on, admin token in " + server.auth().adminTokenFile()
                : "OFF: every client is admin") + ")");
        done.await();
    }
}
