package io.forkline.cli.local;

import io.forkline.cli.LocalRuntime;
import io.forkline.compute.endpoint.ComputeProcess;
import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.pageserver.auth.AuthMode;
import io.forkline.pageserver.server.PageServerMain;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * {@link LocalRuntime} over the server's code: {@link PageServerMain}, {@link PostgresInstallation}
 * and {@link ComputeProcess}. Registered in {@code META-INF/services}; stateless, thread-safe.
 */
public final class PageServerRuntime implements LocalRuntime {
    @Override
    public void runServer(Path dataDir, int port, int pagePort, boolean auth) throws Exception {
        PageServerMain.runUntilShutdown(dataDir, port, pagePort, auth ? AuthMode.ON : AuthMode.OFF);
    }

    /** @throws io.forkline.compute.postgres.PostgresException when no PostgreSQL 15 is installed */
    @Override
    public Path postgresProgram(String name) {
        return PostgresInstallation.detect().bin(name);
    }

    /** @throws io.forkline.compute.postgres.PostgresException when the command fails or times out */
    @Override
    public String runCommand(Duration timeout, List<String> command) {
        return PostgresInstallation.runCommand(timeout, command);
    }

    @Override
    public void killPostmaster(Path dataDir) {
        ComputeProcess.killPostmaster(dataDir);
    }
}
