package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code forkline lease create|list|delete REF --tenant T}: LSN leases
 * ({@code /v1/tenants/{t}/branches/{ref}/lsn_lease}). While a lease is active, GC keeps the point
 * readable and a branch there creatable (e.g. for a long test run that branches at a fixed LSN).
 */
@Command(name = "lease", description = "Keep an LSN of a branch restorable for a while.")
@Subcommands({LeaseCommand.Create.class, LeaseCommand.List.class, LeaseCommand.Delete.class})
final class LeaseCommand {
    /** {@code /v1/tenants/T/branches/REF/lsn_lease}. */
    static String path(BranchArgs branch) {
        return branch.path() + "/lsn_lease";
    }

    @Command(name = "create", description = "Take (or renew) a lease on an LSN of a branch; prints its expiry.")
    static final class Create extends ApiCommand {
        @Mixin
        BranchArgs branch;

        @Option(names = "--lsn", required = true, paramLabel = "X/Y")
        String lsn;

        @Option(names = "--ttl", paramLabel = "DURATION", description = "how long, e.g. 30m, 1h, 2d (default 1h, at most 30d)")
        String ttl;

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

    @Command(name = "list", description = "List the active leases of a branch.")
    static final class List extends ApiCommand {
        @Mixin
        BranchArgs branch;

        @Mixin
        JsonOption json;

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

    @Command(name = "delete", description = "Release a lease.")
    static final class Delete extends ApiCommand {
        @Mixin
        BranchArgs branch;

        @Option(names = "--lsn", required = true, paramLabel = "X/Y")
        String lsn;

        @Override
        public void run() {
            client().delete(path(branch) + "/" + AdminClient.seg(lsn));
            out().println("lease on " + branch.ref + " at " + lsn + " released");
        }
    }
}
