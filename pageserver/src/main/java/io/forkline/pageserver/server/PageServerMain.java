package io.forkline.pageserver.server;

import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.CountDownLatch;

/**
 * Runs a {@link PageServer} in the foreground until SIGTERM/SIGINT, then stops its endpoints.
 * Arguments: {@code DATA_DIR PORT}. The CLI's {@code server} command does the same with option
 * parsing; this entry point lets tests run a server in a child JVM they can {@code kill -9}.
 */
public final class PageServerMain {
    private PageServerMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: PageServerMain DATA_DIR PORT");
            System.exit(2);
        }
        runUntilShutdown(Path.of(args[0]), Integer.parseInt(args[1]));
    }

    /** Starts the server and blocks until the JVM shuts down. */
    public static void runUntilShutdown(Path dataDir, int port) throws Exception {
        PageServer server = PageServer.start(dataDir, port, Clock.systemUTC());
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
            } finally {
                done.countDown();
            }
        }, "forkline-shutdown"));
        System.err.println("forkline server listening on http://127.0.0.1:" + server.port() + " (data "
                + dataDir.toAbsolutePath() + ")");
        done.await();
    }
}
