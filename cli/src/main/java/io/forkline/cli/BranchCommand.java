package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code forkline branch create|list|delete|put|reset|restore|protect}. */
@Command(name = "branch", description = "Manage branches.",
        subcommands = {BranchCommand.Create.class, BranchCommand.List.class, BranchCommand.Delete.class,
                BranchPutCommand.class, BranchResetCommand.class, BranchRestoreCommand.class, BranchProtectCommand.class})
final class BranchCommand {
    static final class Point {
        @Option(names = "--lsn", paramLabel = "X/Y", description = "branch point LSN")
        String lsn;

        @Option(names = "--at", paramLabel = "TIMESTAMP", description = "RFC 3339 time: the LSN just after the last commit at or before it")
        String at;
    }

    /** Options a create and a put share: expiry, compute size, schema-only, start. */
    static final class Shape {
        @Option(names = "--ttl", paramLabel = "DURATION",
                description = "delete the branch this long after the last create/put: e.g. 30m, 4h, 7d (at most 30d; 0 = never)")
        String ttl;

        @Option(names = "--size", paramLabel = "SIZE", description = "default compute size: xs, s, m or l")
        String size;

        @Option(names = "--schema-only", description = "the parent's schema with no rows in user tables")
        boolean schemaOnly;

        @Option(names = "--start", description = "leave the branch's endpoint running and print its URI")
        boolean start;

        void into(Map<String, Object> body) {
            if (ttl != null) {
                body.put("ttl", ttl);
            }
            if (size != null) {
                body.put("size", size);
            }
            if (schemaOnly) {
                body.put("schema_only", true);
            }
            if (start) {
                body.put("start", true);
            }
        }
    }

    static String path(String tenant) {
        return "/v1/tenants/" + AdminClient.seg(tenant) + "/branches";
    }

    static String path(String tenant, String ref) {
        return path(tenant) + "/" + AdminClient.seg(ref);
    }

    /** Prints the endpoint URI when the branch's endpoint runs (the {@code --start} contract: the URI on its own line). */
    static void printUri(PrintWriter out, JsonNode b) {
        JsonNode uri = b.path("endpoint").path("uri");
        if (uri.isTextual()) {
            out.println(uri.asText());
        }
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

        @ArgGroup(exclusive = false, multiplicity = "0..1")
        Shape shape;

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
            if (shape != null) {
                shape.into(body);
            }
            JsonNode b = Main.client(spec).post(path(tenant), body);
            Main.out(spec).println("branch " + b.path("ref").asText() + " created from " + b.path("parent").asText()
                    + " at " + b.path("ancestor_lsn").asText() + " (timeline " + b.path("timeline_id").asText() + ")");
            printUri(Main.out(spec), b);
        }
    }

    @Command(name = "list", description = "List the branches of a tenant with their endpoints.")
    static final class List implements Runnable {
        private static final String FORMAT = "%-24s %-12s %-12s %-12s %-10s %-10s %-12s %-4s %-4s %-10s %s%n";

        @Spec
        CommandSpec spec;

        @Option(names = "--tenant", required = true, paramLabel = "NAME")
        String tenant;

        @Option(names = "--json")
        boolean json;

        @Override
        public void run() {
            JsonNode arr = Main.client(spec).get(path(tenant));
            if (json) {
                Main.out(spec).println(arr.toPrettyString());
                return;
            }
            Instant now = Instant.now();
            Main.out(spec).printf(FORMAT, "REF", "PARENT", "ANCESTOR LSN", "LAST LSN", "LOGICAL", "PHYSICAL",
                    "ENDPOINT", "SIZE", "PROT", "EXPIRES", "URI");
            for (JsonNode b : arr) {
                JsonNode e = b.path("endpoint");
                Main.out(spec).printf(FORMAT, b.path("ref").asText(),
                        b.path("parent").isNull() ? "-" : b.path("parent").asText(),
                        b.path("ancestor_lsn").isNull() ? "-" : b.path("ancestor_lsn").asText(),
                        b.path("last_record_lsn").asText(), bytes(b.path("logical_size_bytes")),
                        bytes(b.path("physical_size_bytes")), e.path("state").asText(),
                        e.path("size").asText(b.path("size").asText("s")),
                        b.path("protected").asBoolean() ? "yes" : "no",
                        expires(b.path("expires_at"), now),
                        e.path("uri").isTextual() ? e.path("uri").asText() : "");
            }
        }

        /** "12.3 MB" / "1.5 GB", or "-" when the server did not report it. */
        static String bytes(JsonNode n) {
            return n.isNumber() ? io.forkline.pageserver.size.SizeText.human(n.asLong()) : "-";
        }

        /** "-" for never, "in 3h59m", or "expired". */
        static String expires(JsonNode at, Instant now) {
            if (!at.isTextual()) {
                return "-";
            }
            Duration left = Duration.between(now, Instant.parse(at.asText()));
            if (left.isNegative() || left.isZero()) {
                return "expired";
            }
            long m = (left.toSeconds() + 59) / 60;
            if (m < 60) {
                return "in " + m + "m";
            }
            if (m < 48 * 60) {
                return "in " + m / 60 + "h" + (m % 60 == 0 ? "" : m % 60 + "m");
            }
            return "in " + m / (24 * 60) + "d" + (m % (24 * 60) / 60 == 0 ? "" : m % (24 * 60) / 60 + "h");
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

        @Option(names = "--recursive", description = "delete its child branches (and theirs) first")
        boolean recursive;

        @Override
        public void run() {
            JsonNode r = Main.client(spec).delete(path(tenant, ref) + (recursive ? "?recursive=true" : ""));
            JsonNode deleted = r.path("deleted");
            if (deleted.isArray() && deleted.size() > 1) {
                for (JsonNode d : deleted) {
                    Main.out(spec).println("branch " + d.asText() + " deleted");
                }
            } else {
                Main.out(spec).println("branch " + ref + " deleted");
            }
        }
    }
}
