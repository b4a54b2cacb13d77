package io.forkline.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;

/**
 * {@code forkline}: the command line. {@code server} and {@code quickstart} run locally; every
 * other command talks to the admin API at {@code $FORKLINE_URL} (default
 * {@code http://127.0.0.1:9898}). Exit code 0 on success; on failure 1 (2 for bad usage) and one
 * line on stderr that names the bad value.
 */
@Command(name = "forkline", mixinStandardHelpOptions = true, version = "forkline 0.1.0",
        description = "Copy-on-write branches and point-in-time recovery for PostgreSQL 15.",
        subcommands = {ServerCommand.class, TenantCommand.class, BranchCommand.class, EndpointCommand.class,
                QuickstartCommand.class})
public final class Main {
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command line and returns the exit code (for tests). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (ex instanceof CliException || ex instanceof IllegalArgumentException) {
                cmd.getErr().println("forkline: " + ex.getMessage());
            } else {
                cmd.getErr().println("forkline: " + ex);
            }
            return 1;
        });
        cl.setParameterExceptionHandler((ex, args2) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("forkline: " + ex.getMessage());
            return 2;
        });
        return cl.execute(args);
    }
}
