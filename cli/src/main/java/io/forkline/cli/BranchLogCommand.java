package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code forkline branch log REF --tenant T [--since TIME] [--limit N] [--json]}: the branch's
 * commits, newest first, from the commit-time index (time to microseconds, LSN, transaction id),
 * down to its earliest restorable point, which it prints first: what {@code --at} of a restore or
 * branch can name.
 */
@Command(name = "log", description = "List a branch's recent commits (time, LSN, xid) and its earliest restorable point.")
final class BranchLogCommand extends ApiCommand {
    @Mixin
    BranchArgs branch;

    @Option(names = "--since", paramLabel = "TIME", description = "only commits at or after this RFC 3339 time")
    String since;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "20", description = "at most N commits (default ${DEFAULT-VALUE})")
    int limit;

    @Mixin
    JsonOption json;

    @Override
    public void run() {
        if (limit < 1 || limit > 10_000) {
            throw new CliException("invalid --limit " + limit + ": expected 1 to 10000");
        }
        String query = "?limit=" + limit + (since == null ? "" : "&since=" + AdminClient.seg(since));
        JsonNode r = client().get(branch.path() + "/log" + query);
        if (json.print(out(), r)) {
            return;
        }
        JsonNode w = r.path("restorable");
        out().println("earliest restorable: " + (w.path("earliest_time").isTextual()
                ? w.path("earliest_time").asText() + " (" + w.path("earliest_lsn").asText() + ")"
                : w.path("earliest_lsn").asText() + " (no commit after it yet)"));
        Table table = new Table(out(), "%-27s %-12s %s%n", "TIME", "LSN", "XID");
        for (JsonNode c : r.path("commits")) {
            table.row(c.path("time").asText(), c.path("lsn").asText(), c.path("xid").isNull() ? "-" : c.path("xid").asText());
        }
        table.end();
    }
}
