package io.forkline.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What one in-process CLI invocation ({@link Main#run(Map, PrintWriter, PrintWriter, String...)})
 * did: its exit code, stdout and stderr, with the assertions of the command-line contract.
 */
record CliResult(int code, String out, String err) {
    /** Runs {@code forkline args...} with {@code env} as its environment (e.g. {@code FORKLINE_URL}). */
    static CliResult run(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(env, new PrintWriter(out), new PrintWriter(err), args);
        return new CliResult(code, out.toString(), err.toString());
    }

    List<String> errLines() {
        return err.lines().toList();
    }

    /** The single stderr line of a failure (asserts there is exactly one, starting {@code forkline: }, and no stdout). */
    String errorLine() {
        assertThat(errLines()).as("stderr of a failure: %s", err).hasSize(1);
        assertThat(out).as("stdout of a failure").isEmpty();
        assertThat(errLines().get(0)).startsWith("forkline: ");
        return errLines().get(0);
    }

    /** {@link #errorLine()} of a failure that exited with {@code expectedCode}. */
    String errorLine(int expectedCode) {
        assertThat(code).as("exit code; stderr: %s", err).isEqualTo(expectedCode);
        return errorLine();
    }

    /** Asserts a success: exit code 0 and nothing on stderr. */
    CliResult ok() {
        assertThat(code).as("exit code; stderr: %s", err).isZero();
        assertThat(err).as("stderr of a success").isEmpty();
        return this;
    }

    /** Asserts exit code 0 (stderr may hold status lines, as for commands whose stdout is a URI). */
    CliResult succeeded() {
        assertThat(code).as("exit code; stderr: %s", err).isZero();
        return this;
    }
}
