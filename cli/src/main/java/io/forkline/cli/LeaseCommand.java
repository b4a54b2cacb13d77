package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code forkline lease create|list|delete REF --tenant T}: LSN leases
 * ({@code /v1/tenants/{t}/branches/{ref}/lsn_lease}). While a lease is active, GC keeps the point
 * readable and a branch there creatable (e.g. for a long test run that branches at a fixed LSN).
 */
@Command(name = "lease", description = "Keep an LSN of a branch restorable for a while.",
        subcommands = {LeaseCommand.Create.class, LeaseCommand.List.class, LeaseCommand.Delete.class})
final class LeaseCommand {
    static String path(String tenant, String ref) {
        return "/v1/tenants/" + AdminClient.seg(tenant) + "/branches/" + AdminClient.seg(ref) + "/lsn_lease";
    }

    @Command(name = "create", description = "Take (or renew) a lease on an LSN of a branch; prints its expiry.")
    static final class Create implements Runnable {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "REF")
        String ref;

        @Option(names = "--tenant", required = true, paramLabel = "NAME")
        String tenant;

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
            JsonNode l = Main.client(spec).post(path(tenant, ref), body);
            Main.out(spec).println("lease on " + ref + " at " + l.path("lsn").asText() + " until " + l.path("expires_at").asText());
        }
    }

    @Command(name = "list", description = "List the active leases of a branch.")
    static final class List implements Runnable {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "REF")
        String ref;

        @Option(names = "--tenant", required = true, paramLabel = "NAME")
        String tenant;

        @Option(names = "--json")
        boolean json;

        @Override
        public void run() {
            JsonNode arr = Main.client(spec).get(path(tenant, ref));
            if (json) {
                Main.out(spec).println(arr.toPrettyString());
                return;
            }
            Main.out(spec).printf("%-16s %-26s %s%n", "LSN", "EXPIRES", "TAKEN");
            for (JsonNode l : arr) {
                Main.out(spec).printf("%-16s %-26s %s%n", l.path("lsn").asText(), l.path("expires_at").asText(),
                        l.path("created_at").asText());
            }
        }
    }

    @Command(name = "delete", description = "Release a lease.")
    static final class Delete implements Runnable {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "REF")
        String ref;

        @Option(names = "--tenant", required = true, paramLabel = "NAME")
        String tenant;

        @Option(names = "--lsn", required = true, paramLabel = "X/Y")
        String lsn;

        @Override
        public void run() {
            Main.client(spec).delete(path(tenant, ref) + "/" + AdminClient.seg(lsn));
            Main.out(spec).println("lease on " + ref + " at " + lsn + " released");
        }
    }
}
