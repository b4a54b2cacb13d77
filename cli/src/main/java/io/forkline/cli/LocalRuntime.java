package io.forkline.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.ServiceLoader;

/**
 * What the two commands that run Forkline on this machine ({@code server}, {@code quickstart}) need
 * from the server's code. It lives on the server's class path (module {@code cli-local},
 * {@code io.forkline.cli.local.PageServerRuntime}) and is found with {@link ServiceLoader}, so this
 * module compiles without the server and every other command runs on picocli, Jackson and the
 * JDK's HTTP client alone. The launcher {@code ./forkline} starts {@code server} and
 * {@code quickstart} on the server's class path.
 */
public interface LocalRuntime {
    /**
     * Runs the server with its data in {@code dataDir}, the admin API on {@code 127.0.0.1:port} and
     * the page service on {@code pagePort} (0: a free one), and blocks until the JVM shuts down
     * (SIGTERM/SIGINT).
     *
     * @param auth whether tokens are checked ({@code --auth on})
     * @throws java.io.IOException when a port is in use (the message names it) or the data
     *                             directory cannot be used
     */
    void runServer(Path dataDir, int port, int pagePort, boolean auth) throws Exception;

    /**
     * The absolute path of a PostgreSQL 15 program, e.g. {@code pgbench}.
     *
     * @throws RuntimeException naming the directory when no PostgreSQL 15 installation is found
     */
    Path postgresProgram(String name);

    /**
     * Runs a command line to completion and returns its standard output.
     *
     * @throws RuntimeException with the exit code and standard error when it fails or exceeds {@code timeout}
     */
    String runCommand(Duration timeout, List<String> command);

    /** Kills the postmaster whose {@code postmaster.pid} is in {@code dataDir}, if it still runs. */
    void killPostmaster(Path dataDir);

    /**
     * The runtime on the class path.
     *
     * @throws CliException when the server's class path is not there (the command was not started
     *                      through {@code ./forkline})
     */
    static LocalRuntime load() {
        return ServiceLoader.load(LocalRuntime.class).findFirst().orElseThrow(() -> new CliException(
                "the server's code is not on the class path (module cli-local); run this command as ./forkline "
                        + "server or ./forkline quickstart"));
    }
}
