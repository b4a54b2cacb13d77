package io.forkline.compute.postgres;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs the machine's {@code pgbench} (PostgreSQL 15) as a client against a libpq URI. The client
 * needs no special user, so it runs as this JVM's user.
 */
public final class Pgbench {
    private Pgbench() {
    }

    /**
     * {@code pgbench -i -s scale -q URI}: drops and recreates the pgbench tables (default steps
     * {@code dtgvp}: drop, create, client-side generate with COPY, vacuum, primary keys).
     *
     * @param libpqUri target database, e.g. {@code postgresql://postgres@127.0.0.1:5432/bench}
     * @param scale    scale factor; 100 000 accounts rows (~15 MB of table and index) each
     * @return wall-clock time of the run, nanoseconds
     * @throws PostgresException when pgbench fails or runs longer than {@code timeout}
     */
    public static long initialize(PostgresInstallation pg, String libpqUri, int scale, Duration timeout) {
        List<String> cmd = new ArrayList<>(List.of(pg.bin("pgbench").toString(), "-i", "-s", Integer.toString(scale), "-q",
                libpqUri));
        long t0 = System.nanoTime();
        // pgbench -i reports its steps on stderr: run it through sh to see them.
        List<String> withStderr = new ArrayList<>(List.of("sh", "-c", "\"$@\" 2>&1", "pgbench"));
        withStderr.addAll(cmd);
        String out = PostgresInstallation.runCommand(timeout, withStderr);
        long elapsed = System.nanoTime() - t0;
        // pgbench's own step times ("done in 9.87 s (drop tables 0.00 s, ..., client-side generate ...)").
        out.lines().filter(l -> l.startsWith("done in")).forEach(l -> System.out.println("  pgbench -i: " + l));
        return elapsed;
    }

    /** What a {@code pgbench} run reports: transactions processed and TPS (without connection time). */
    public record Run(long transactions, double tps) {
    }

    /**
     * {@code pgbench -c clients -j jobs -T seconds URI} (TPC-B-like builtin script).
     *
     * @return transactions processed and TPS parsed from pgbench's summary
     * @throws PostgresException when pgbench fails or runs longer than {@code timeout}
     * @throws IllegalStateException when the summary lacks the two lines
     */
    public static Run tpcb(PostgresInstallation pg, String libpqUri, int clients, int jobs, int seconds,
                           Duration timeout) {
        return run(pg, libpqUri, false, clients, jobs, seconds, timeout);
    }

    /**
     * {@code pgbench [-S] -c clients -j jobs -T seconds URI}: the builtin select-only script when
     * {@code selectOnly}, else TPC-B-like.
     *
     * @return transactions processed and TPS parsed from pgbench's summary
     * @throws PostgresException when pgbench fails or runs longer than {@code timeout}
     * @throws IllegalStateException when the summary lacks the two lines
     */
    public static Run run(PostgresInstallation pg, String libpqUri, boolean selectOnly, int clients, int jobs,
                          int seconds, Duration timeout) {
        List<String> cmd = new ArrayList<>(List.of(pg.bin("pgbench").toString(), "-c", Integer.toString(clients), "-j",
                Integer.toString(jobs), "-T", Integer.toString(seconds)));
        if (selectOnly) {
            cmd.add("-S");
        }
        cmd.add(libpqUri);
        String out = PostgresInstallation.runCommand(timeout, cmd);
        java.util.regex.Matcher n = java.util.regex.Pattern
                .compile("number of transactions actually processed: (\\d+)").matcher(out);
        java.util.regex.Matcher t = java.util.regex.Pattern.compile("tps = ([0-9.]+) \\(without initial connection time\\)")
                .matcher(out);
        if (!n.find() || !t.find()) {
            throw new IllegalStateException("pgbench output without a summary: " + out);
        }
        return new Run(Long.parseLong(n.group(1)), Double.parseDouble(t.group(1)));
    }
}
