package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Model.CommandSpec;

import java.util.LinkedHashMap;
import java.util.Map;

import static io.forkline.cli.Specs.option;

/**
 * {@code forkline lease create|list|delete REF --tenant T}: LSN leases
 * ({@code /v1/tenants/{t}/branches/{ref}/lsn_lease}). While a lease is active, GC keeps the point
 * readable and a branch there creatable (e.g. for a long test run that branches at a fixed LSN).
 */
final class LeaseCommand implements CliCommand {
    @Override
    public CommandSpec spec() {
        return Specs.command(this, "Keep an LSN of a branch restorable for a while.");
    }

    @Override
    public java.util.List<Sub> subcommands() {
        return java.util.List.of(
                new Sub("create", LeaseCommand.Create::new), new Sub("list", LeaseCommand.List::new),
                new Sub("delete", LeaseCommand.Delete::new));
    }

    /** {@code /v1/tenants/T/branches/REF/lsn_lease}. */
    static String path(BranchArgs branch) {
        return branch.path() + "/lsn_lease";
    }

    static final class Create extends ApiCommand {
        final BranchArgs branch = new BranchArgs();

        String lsn;

        String ttl;

        @Override
        public CommandSpec spec() {
            CommandSpec spec = command("Take (or renew) a lease on an LSN of a branch; prints its expiry.");
            branch.addTo(spec);
            spec.addOption(option(String.class, () -> lsn, v -> lsn = v, "--lsn").paramLabel("X/Y").required(true).build());
            spec.addOption(option(String.class, () -> ttl, v -> ttl = v, "--ttl").paramLabel("DURATION")
                    .description("how long, e.g. 30m, 1h, 2d (default 1h, at most 30d)").build());
            return spec;
        }

        @Override
        public void run() {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("lsn", lsn);
            if (ttl != null) {
                body.put("ttl", ttl);
            }
            JsonNode l = client().post(path(branch), body);
            out().println("lease on " + branch.ref + " at " + l.path("lsn").asText() + " until " + l.path("expires_at").asText());
        }
    }

    static final class List extends ApiCommand {
        final BranchArgs branch = new BranchArgs();

        final JsonOption json = new JsonOption();

        @Override
        public CommandSpec spec() {
            CommandSpec spec = command("List the active leases of a branch.");
            branch.addTo(spec);
            json.addTo(spec);
            return spec;
        }

        @Override
        public void run() {
            JsonNode arr = client().get(path(branch));
            if (json.print(out(), arr)) {
                return;
            }
            Table table = new Table(out(), "%-16s %-26s %s%n", "LSN", "EXPIRES", "TAKEN");
            for (JsonNode l : arr) {
                table.row(l.path("lsn").asText(), l.path("expires_at").asText(), l.path("created_at").asText());
            }
            table.end();
        }
    }

    static final class Delete extends ApiCommand {
        final BranchArgs branch = new BranchArgs();

        String lsn;

        @Override
        public CommandSpec spec() {
            CommandSpec spec = command("Release a lease.");
            branch.addTo(spec);
            spec.addOption(option(String.class, () -> lsn, v -> lsn = v, "--lsn").paramLabel("X/Y").required(true).build());
            return spec;
        }

        @Override
        public void run() {
            client().delete(path(branch) + "/" + AdminClient.seg(lsn));
            out().println("lease on " + branch.ref + " at " + lsn + " released");
        }
    }
}
