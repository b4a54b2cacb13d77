package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Model.ArgGroupSpec;
import picocli.CommandLine.Model.CommandSpec;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

import static io.forkline.cli.Specs.option;

/** {@code forkline branch create|list|show|tree|log|delete|rename|put|reset|restore|protect|connection-string|password}. */
final class BranchCommand implements CliCommand {
    @Override
    public CommandSpec spec() {
        return Specs.command(this, "Manage branches.");
    }

    @Override
    public java.util.List<Sub> subcommands() {
        return java.util.List.of(
                new Sub("create", Create::new), new Sub("list", List::new), new Sub("show", BranchShowCommand::new),
                new Sub("tree", BranchTreeCommand::new), new Sub("log", BranchLogCommand::new), new Sub("delete", Delete::new),
                new Sub("rename", BranchRenameCommand::new), new Sub("put", BranchPutCommand::new),
                new Sub("reset", BranchResetCommand::new), new Sub("restore", BranchRestoreCommand::new),
                new Sub("protect", BranchProtectCommand::new),
                new Sub("connection-string", BranchAccessCommands.ConnectionString::new),
                new Sub("password", BranchAccessCommands.Password::new));
    }


    /** {@code --lsn X/Y | --at TIMESTAMP}: a branch point. */
    static final class Point {
        String lsn;

        String at;

        /** The two options as an exclusive group of picocli's {@code multiplicity} ("0..1": optional, "1": required). */
        ArgGroupSpec group(String multiplicity) {
            return Specs.group(true, multiplicity,
                    option(String.class, () -> lsn, v -> lsn = v, "--lsn").paramLabel("X/Y")
                            .description("branch point LSN").build(),
                    option(String.class, () -> at, v -> at = v, "--at").paramLabel("TIMESTAMP")
                            .description("RFC 3339 time: the LSN just after the last commit at or before it").build());
        }

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
        String ttl;

        String size;

        Boolean schemaOnly;

        boolean start;

        String storage;

        String suspendAfter;

        /** The options as an optional, non-exclusive group. */
        ArgGroupSpec group() {
            return Specs.group(false, "0..1",
                    option(String.class, () -> ttl, v -> ttl = v, "--ttl").paramLabel("DURATION")
                            .description("delete the branch this long after the last create/put: e.g. 30m, 4h, 7d (at most 30d; 0 = never); "
                                    + "a later put renews the branch's TTL unless given").build(),
                    option(String.class, () -> size, v -> size = v, "--size").paramLabel("SIZE")
                            .description("default compute size: xs, s, m or l").build(),
                    option(Boolean.class, () -> schemaOnly, v -> schemaOnly = v, "--schema-only").negatable(true)
                            .description("the parent's schema with no rows in user tables (--no-schema-only: full data); "
                                    + "a later put keeps the branch's setting unless given").build(),
                    option(boolean.class, () -> start, v -> start = v, "--start")
                            .description("leave the branch's endpoint running; stdout is then exactly its URI, status on stderr").build(),
                    option(String.class, () -> storage, v -> storage = v, "--storage").paramLabel("MODE")
                            .description("how the endpoint's data directory is built from its next start on: lazy (relation blocks "
                                    + "fetched on first read; the default) or full (a complete basebackup)").build(),
                    option(String.class, () -> suspendAfter, v -> suspendAfter = v, "--suspend-after").paramLabel("DURATION")
                            .description("suspend the compute after this long without a client connection: e.g. 30s, 5m, 1h "
                                    + "(0 = never; default 5m); a later put keeps the branch's setting unless given").build());
        }

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

    static final class Create extends ApiCommand {
        final BranchArgs branch = new BranchArgs();

        String parent;

        final Point point = new Point();

        final Shape shape = new Shape();

        @Override
        public CommandSpec spec() {
            CommandSpec spec = command("Create a branch (a new timeline) from a parent at an LSN or time.");
            branch.addTo(spec);
            spec.addOption(option(String.class, () -> parent, v -> parent = v, "--parent").paramLabel("REF")
                    .defaultValue("main").build());
            spec.addArgGroup(point.group("0..1"));
            spec.addArgGroup(shape.group());
            return spec;
        }

        @Override
        public void run() {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("ref", branch.ref);
            body.put("parent", parent);
            point.into(body);
            shape.into(body);
            JsonNode b = client().post(AdminClient.branchesPath(branch.tenant.name()), body);
            report("branch " + b.path("ref").asText() + " created from " + b.path("parent").asText() + atTimeline(b), b);
        }
    }

    static final class List extends ApiCommand {
        private static final String FORMAT = "%-12s %-11s %-12s %-12s %-12s %-10s %-10s %-27s %-12s %-4s %-4s %-10s %s%n";

        final TenantOption tenant = new TenantOption();

        final JsonOption json = new JsonOption();

        @Override
        public CommandSpec spec() {
            CommandSpec spec = command("List the branches of a tenant with their endpoints.");
            tenant.addTo(spec);
            json.addTo(spec);
            return spec;
        }

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

    static final class Delete extends ApiCommand {
        final BranchArgs branch = new BranchArgs();

        boolean recursive;

        boolean force;

        @Override
        public CommandSpec spec() {
            CommandSpec spec = command("Delete a branch and everything it wrote.");
            branch.addTo(spec);
            spec.addOption(option(boolean.class, () -> recursive, v -> recursive = v, "--recursive")
                    .description("delete its child branches (and theirs) first").build());
            spec.addOption(option(boolean.class, () -> force, v -> force = v, "--force")
                    .description("delete even when it is the only way to reach history inside the PITR window").build());
            return spec;
        }

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
