package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.time.Instant;

/**
 * {@code forkline branch show REF --tenant T [--json]}: everything known about one branch
 * ({@code GET /v1/tenants/T/branches/REF}): timeline, parent and point (and the timeline it really
 * hangs from when the parent moved since), sizes, restorable window, compute and its connection
 * string, TTL, protection, schema-only, and the restores done.
 */
final class BranchShowCommand extends ApiCommand {
    final BranchArgs branch = new BranchArgs();

    final JsonOption json = new JsonOption();

    @Override
    public CommandSpec spec() {
        CommandSpec spec = command("Show everything known about one branch.");
        branch.addTo(spec);
        json.addTo(spec);
        return spec;
    }

    @Override
    public void run() {
        JsonNode b = client().get(branch.path());
        if (json.print(out(), b)) {
            return;
        }
        PrintWriter o = out();
        o.println("branch " + b.path("ref").asText() + " (tenant " + branch.tenant.name() + ")");
        line(o, "timeline", b.path("timeline_id").asText());
        if (b.path("parent").isTextual()) {
            String hang = b.path("on_parent_timeline").asBoolean(true) ? ""
                    : b.path("ancestor_ref").isTextual()
                    ? " (hangs from branch " + b.path("ancestor_ref").asText() + "'s timeline " + b.path("ancestor_timeline_id").asText() + ")"
                    : " (hangs from a former timeline of " + b.path("parent").asText() + ": " + b.path("ancestor_timeline_id").asText() + ")";
            line(o, "parent", b.path("parent").asText() + " at " + b.path("ancestor_lsn").asText() + hang);
        } else {
            line(o, "parent", "- (root)");
        }
        line(o, "created", b.path("created_at").asText());
        line(o, "last LSN", b.path("last_record_lsn").asText());
        JsonNode r = b.path("restorable");
        if (r.isObject()) {
            line(o, "restorable", "from " + when(r.path("earliest_time"), r.path("earliest_lsn")) + " to "
                    + when(r.path("latest_time"), r.path("latest_lsn")));
        }
        line(o, "sizes", "logical " + Table.bytes(b.path("logical_size_bytes")) + ", physical "
                + Table.bytes(b.path("physical_size_bytes")) + ", stored " + Table.bytes(b.path("stored_bytes")));
        JsonNode e = b.path("endpoint");
        line(o, "compute", e.path("state").asText() + ", size " + e.path("size").asText()
                + (e.path("uri").isTextual() ? ", " + e.path("uri").asText() : "")
                + (e.path("note").isTextual() ? " (" + e.path("note").asText() + ")" : ""));
        line(o, "endpoint id", b.path("endpoint_id").asText("-") + " (suspends after " + b.path("suspend_after").asText("5m")
                + " without a connection" + (b.path("suspend_after").asText().equals("0") ? ": never" : "") + ")");
        if (b.path("connection_string").isTextual()) {
            line(o, "connect", b.path("connection_string").asText());
        }
        line(o, "expires", b.path("expires_at").isTextual()
                ? b.path("expires_at").asText() + " (" + BranchCommand.List.expires(b.path("expires_at"), Instant.now())
                + ", ttl " + b.path("ttl").asText() + ", renewed by every put)" : "never");
        line(o, "protected", b.path("protected").asBoolean() ? "yes" : "no");
        line(o, "schema-only", b.path("schema_only").asBoolean() ? "yes" : "no");
        JsonNode restores = b.path("restores");
        if (restores.isEmpty()) {
            line(o, "restores", "none");
        }
        for (JsonNode x : restores) {
            line(o, "restored", x.path("at").asText() + " to " + x.path("lsn").asText() + " of timeline "
                    + x.path("from_timeline_id").asText() + "; the state before is branch " + x.path("kept_as").asText());
        }
    }

    private static void line(PrintWriter o, String key, String value) {
        o.printf("  %-12s %s%n", key, value);
    }

    /** {@code TIME (LSN)}, or the LSN alone when no commit gives its time. */
    private static String when(JsonNode time, JsonNode lsn) {
        return time.isTextual() ? time.asText() + " (" + lsn.asText() + ")" : lsn.asText();
    }
}
