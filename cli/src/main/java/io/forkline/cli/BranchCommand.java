package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code forkline branch create|list|show|tree|log|delete|rename|put|reset|restore|protect|connection-string|password}. */
@Command(name = "branch", description = "Manage branches.")
@Subcommands({BranchCommand.Create.class, BranchCommand.List.class, BranchShowCommand.class, BranchTreeCommand.class,
        BranchLogCommand.class, BranchCommand.Delete.class, BranchRenameCommand.class, BranchPutCommand.class,
        BranchResetCommand.class, BranchRestoreCommand.class, BranchProtectCommand.class,
        BranchAccessCommands.ConnectionString.class, BranchAccessCommands.Password.class})
final class BranchCommand {
    static final class Point {
        @Option(names = "--lsn", paramLabel = "X/Y", description = "branch point LSN")
        String lsn;

        @Option(names = "--at", paramLabel = "TIMESTAMP", description = "RFC 3339 time: the LSN just after the last commit at or before it")
        String at;

        /** Puts {@code lsn} and/or {@code at} into a request body, when given. */
        void into(Map<String, Object> body) {
            if (lsn != null) {
                body.put("lsn", lsn);
            }
            if (at != null) {
                body.put("at", at);
            }
        }
    }

    /** Options a create and a put share: expiry, compute size, schema-only, start, storage. */
    static final class Shape {
        @Option(names = "--ttl", paramLabel = "DURATION",
                description = "delete the branch this long after the last create/put: e.g. 30m, 4h, 7d (at most 30d; 0 = never); "
                        + "a later put renews the branch's TTL unless given")
        String ttl;

        @Option(names = "--size", paramLabel = "SIZE", description = "default compute size: xs, s, m or l")
        String size;

        @Option(names = "--schema-only", negatable = true,
                description = "the parent's schema with no rows in user tables (--no-schema-only: full data); "
                        + "a later put keeps the branch's setting unless given")
        Boolean schemaOnly;

        @Option(names = "--start", description = "leave the branch's endpoint running; stdout is then exactly its URI, status on stderr")
        boolean start;

        @Option(names = "--storage", paramLabel = "MODE",
                description = "how the endpoint's data directory is built from its next start on: lazy (relation blocks "
                        + "fetched on first read; the default) or full (a complete basebackup)")
        String storage;

        @Option(names = "--suspend-after", paramLabel = "DURATION",
                description = "suspend the compute after this long without a client connection: e.g. 30s, 5m, 1h "
                        + "(0 = never; default 5m); a later put keeps the branch's setting unless given")
        String suspendAfter;

        void into(Map<String, Object> body) {
            if (suspendAfter != null) {
                body.put("suspend_after", suspendAfter);
            }
            if (storage != null) {
                body.put("storage", EndpointCommand.storage(storage));
            }
            if (ttl != null) {
                body.put("ttl", ttl);
            }
            if (size != null) {
                body.put("size", size);
            }
            if (schemaOnly != null) {
                body.put("schema_only", schemaOnly);
            }
            if (start) {
                body.put("start", true);
            }
        }
    }

    /** {@code " at ANCESTOR_LSN (timeline ID)"}: how the branch lines of create, put, reset and backup restore end. */
    static String atTimeline(JsonNode b) {
        return " at " + b.path("ancestor_lsn").asText() + " (timeline " + b.path("timeline_id").asText() + ")";
    }

    /**
     * The parent as a listing shows it: the recorded parent ref, or, when the branch no longer hangs
     * from the parent's current timeline (the parent was reset or restored since), the ref that holds
     * the timeline it really hangs from, or {@code PARENT (former timeline ID8)} when no ref does.
     */
    static String parentText(JsonNode b) {
        if (b.path("parent").isNull() || b.path("parent").isMissingNode()) {
            return "-";
        }
        String parent = b.path("parent").asText();
        if (!b.path("on_parent_timeline").isBoolean() || b.path("on_parent_timeline").asBoolean()) {
            return parent;
        }
        if (b.path("ancestor_ref").isTextual()) {
            return b.path("ancestor_ref").asText();
        }
        String tl = b.path("ancestor_timeline_id").asText("");
        return parent + " (former timeline " + (tl.length() > 8 ? tl.substring(0, 8) : tl) + ")";
    }

    @Command(name = "create", description = "Create a branch (a new timeline) from a parent at an LSN or time.")
    static final class Create extends ApiCommand {
        @Mixin
        BranchArgs branch;

        @Option(names = "--parent", paramLabel = "REF", defaultValue = "main")
        String parent;

        @ArgGroup(exclusive = true, multiplicity = "0..1")
        Point point;

        @ArgGroup(exclusive = false, multiplicity = "0..1")
        Shape shape;

        @Override
        public void run() {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("ref", branch.ref);
            body.put("parent", parent);
            if (point != null) {
                point.into(body);
            }
            if (shape != null) {
                shape.into(body);
            }
            JsonNode b = client().post(AdminClient.branchesPath(branch.tenant.name()), body);
            report("branch " + b.path("ref").asText() + " created from " + b.path("parent").asText() + atTimeline(b), b);
        }
    }

    @Command(name = "list", description = "List the branches of a tenant with their endpoints.")
    static final class List extends ApiCommand {
        private static final String FORMAT = "%-12s %-11s %-12s %-12s %-12s %-10s %-10s %-27s %-12s %-4s %-4s %-10s %s%n";

        @Mixin
        TenantOption tenant;

        @Mixin
        JsonOption json;

        @Override
        public void run() {
            JsonNode arr = client().get(AdminClient.branchesPath(tenant.name()));
            if (json.print(out(), arr)) {
                return;
            }
            Instant now = Instant.now();
            Table table = new Table(out(), FORMAT, "REF", "ENDPOINT ID", "PARENT", "ANCESTOR LSN", "LAST LSN", "LOGICAL", "PHYSICAL",
                    "RESTORABLE FROM", "ENDPOINT", "SIZE", "PROT", "EXPIRES", "URI");
            for (JsonNode b : arr) {
                JsonNode e = b.path("endpoint");
                table.row(b.path("ref").asText(), b.path("endpoint_id").asText("-"), parentText(b),
                        b.path("ancestor_lsn").isNull() ? "-" : b.path("ancestor_lsn").asText(),
                        b.path("last_record_lsn").asText(), Table.bytes(b.path("logical_size_bytes")),
                        Table.bytes(b.path("physical_size_bytes")), restorableFrom(b), e.path("state").asText(),
                        e.path("size").asText(b.path("size").asText("s")),
                        b.path("protected").asBoolean() ? "yes" : "no",
                        expires(b.path("expires_at"), now),
                        e.path("uri").isTextual() ? e.path("uri").asText() : "");
            }
            table.end();
        }

        /** The earliest restorable time (or LSN when no commit marks it) of a branch, "-" when unknown. */
        static String restorableFrom(JsonNode b) {
            JsonNode r = b.path("restorable");
            if (r.path("earliest_time").isTextual()) {
                return r.path("earliest_time").asText();
            }
            return r.path("earliest_lsn").isTextual() ? r.path("earliest_lsn").asText() : "-";
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
    static final class Delete extends ApiCommand {
        @Mixin
        BranchArgs branch;

        @Option(names = "--recursive", description = "delete its child branches (and theirs) first")
        boolean recursive;

        @Option(names = "--force", description = "delete even when it is the only way to reach history inside the PITR window")
        boolean force;

        @Override
        public void run() {
            String query = recursive && force ? "?recursive=true&force=true" : recursive ? "?recursive=true"
                    : force ? "?force=true" : "";
            JsonNode r = client().delete(branch.path() + query);
            JsonNode deleted = r.path("deleted");
            if (deleted.isArray() && deleted.size() > 1) {
                for (JsonNode d : deleted) {
                    out().println("branch " + d.asText() + " deleted");
                }
            } else {
                out().println("branch " + branch.ref + " deleted");
            }
        }
    }
}
