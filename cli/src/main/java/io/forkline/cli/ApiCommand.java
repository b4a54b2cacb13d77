package io.forkline.cli;

import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;

/**
 * A command that talks to the admin API: gives it the {@link AdminClient} of the command line's
 * {@code FORKLINE_URL} and the writer its results go to. Not thread-safe (one run per instance).
 */
abstract class ApiCommand implements Runnable, CliCommand {
    /** This command's model, set by {@link #command}. */
    CommandSpec spec;

    /** Starts this command's model ({@link Specs#command}) and keeps it for {@link #client()} and {@link #out()}. */
    final CommandSpec command(String... description) {
        spec = Specs.command(this, description);
        return spec;
    }

    /** Made on first use, then reused: one HTTP client (and its connections) per command run. */
    private AdminClient client;

    /**
     * The admin API client ({@code FORKLINE_URL} of the command line's environment); the same
     * instance on every call of one run.
     *
     * @throws CliException when {@code FORKLINE_URL} is not an {@code http(s)://HOST[:PORT]} URL
     */
    final AdminClient client() {
        if (client == null) {
            client = Main.client(spec);
        }
        return client;
    }

    /** Where the command prints its results (stdout, or what a test injected). */
    final PrintWriter out() {
        return Main.out(spec);
    }

    /**
     * Where a command that prints a URI as its result prints its status lines (stderr, or what a test
     * injected), so {@code URI=$(forkline ...)} captures exactly the URI.
     */
    final PrintWriter err() {
        return spec.commandLine().getErr();
    }

    /**
     * Prints {@code status}, and the endpoint URI of branch {@code b} when its compute runs: then the
     * URI is the only line on stdout and the status goes to stderr.
     */
    final void report(String status, com.fasterxml.jackson.databind.JsonNode b) {
        com.fasterxml.jackson.databind.JsonNode uri = b.path("endpoint").path("uri");
        if (uri.isTextual()) {
            err().println(status);
            err().flush();
            out().println(uri.asText());
        } else {
            out().println(status);
        }
    }
}
