package io.forkline.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;

/**
 * A command that talks to the admin API: gives it the {@link AdminClient} of the command line's
 * {@code FORKLINE_URL} and the writer its results go to. Not thread-safe (one run per instance).
 */
abstract class ApiCommand implements Runnable {
    @Spec
    CommandSpec spec;

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
}
