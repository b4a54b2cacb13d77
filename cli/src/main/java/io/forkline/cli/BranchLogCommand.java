package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Model.CommandSpec;

import static io.forkline.cli.Specs.option;

/**
 * {@code forkline branch log REF --tenant T [--since TIME] [--limit N] [--json]}: the branch's
 * commits, newest first, from the commit-time index (time to microseconds, LSN, transaction id),
 * down to its earliest restorable point, which it prints first: what {@code --at} of a restore or
 * branch can name.
 */
final class BranchLogCommand extends ApiCommand {
    final BranchArgs branch = new BranchArgs();

    String since;

    int limit;

    final JsonOption json = new JsonOption();

    @Override
    public CommandSpec spec() {
        CommandSpec spec = command("List a branch's recent commits (time, LSN, xid) and its earliest restorable point.");
        branch.addTo(spec);
        spec.addOption(option(String.class, () -> since, v -> since = v, "--since").paramLabel("TIME")
                .description("only commits at or after this RFC 3339 time").build());
        spec.addOption(option(int.class, () -> limit, v -> limit = v, "--limit").paramLabel("N").defaultValue("20")
                .description("at most N commits (default ${DEFAULT-VALUE})").build());
        json.addTo(spec);
        return spec;
    }

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
