package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.util.LinkedHashMap;
import java.util.Map;

/** {@code forkline branch create|list|delete}. */
@Command(name = "branch", description = "Manage branches.",
        subcommands = {BranchCommand.Create.class, BranchCommand.List.class, BranchCommand.Delete.class})
final class BranchCommand {
    static final class Point {
        @Option(names = "--lsn", paramLabel = "X/Y", description = "branch point LSN")
        String lsn;

        @Option(names = "--at", paramLabel = "TIMESTAMP", description = "RFC 3339 time: the LSN just after the last commit at or before it")
        String at;
    }

    @Command(name = "create", description = "Create a branch (a new timeline) from a parent at an LSN or time.")
    static final class Create implements Runnable {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "REF")
        String ref;

        @Option(names = "--tenant", required = true, paramLabel = "NAME")
        String tenant;

        @Option(names = "--parent", paramLabel = "REF", defaultValue = "main")
        String parent;

        @ArgGroup(exclusive = true, multiplicity = "0..1")
        Point point;

        @Override
        public void run() {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("ref", ref);
            body.put("parent", parent);
            if (point != null && point.lsn != null) {
                body.put("lsn", point.lsn);
            }
            if (point != null && point.at != null) {
                body.put("at", point.at);
            }
            JsonNode b = Main.client(spec).post("/v1/tenants/" + AdminClient.seg(tenant) + "/branches", body);
            Main.out(spec).println("branch " + b.path("ref").asText() + " created from " + b.path("parent").asText()
                    + " at " + b.path("ancestor_lsn").asText() + " (timeline " + b.path("timeline_id").asText() + ")");
        }
    }

    @Command(name = "list", description = "List the branches of a tenant.")
    static final class List implements Runnable {
        @Spec
        CommandSpec spec;

        @Option(names = "--tenant", required = true, paramLabel = "NAME")
        String tenant;

        @Option(names = "--json")
        boolean json;

        @Override
        public void run() {
            JsonNode arr = Main.client(spec).get("/v1/tenants/" + AdminClient.seg(tenant) + "/branches");
            if (json) {
                Main.out(spec).println(arr.toPrettyString());
                return;
            }
            Main.out(spec).printf("%-24s %-12s %-14s %-14s %-10s %s%n", "REF", "PARENT", "ANCESTOR LSN", "LAST LSN", "ENDPOINT", "URI");
            for (JsonNode b : arr) {
                Main.out(spec).printf("%-24s %-12s %-14s %-14s %-10s %s%n", b.path("ref").asText(),
                        b.path("parent").isNull() ? "-" : b.path("parent").asText(),
                        b.path("ancestor_lsn").isNull() ? "-" : b.path("ancestor_lsn").asText(),
                        b.path("last_record_lsn").asText(), b.path("endpoint").path("state").asText(),
                        b.path("endpoint").path("uri").isNull() ? "" : b.path("endpoint").path("uri").asText());
            }
        }
    }

    @Command(name = "delete", description = "Delete a branch and everything it wrote.")
    static final class Delete implements Runnable {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "REF")
        String ref;

        @Option(names = "--tenant", required = true, paramLabel = "NAME")
        String tenant;

        @Override
        public void run() {
            Main.client(spec).delete("/v1/tenants/" + AdminClient.seg(tenant) + "/branches/" + AdminClient.seg(ref));
            Main.out(spec).println("branch " + ref + " deleted");
        }
    }
}
