package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Model.CommandSpec;

import java.util.LinkedHashMap;
import java.util.Map;

import static io.forkline.cli.Specs.option;

/**
 * {@code forkline gc run --tenant T [--branch REF] [--json]}: garbage-collects a tenant's history
 * now ({@code POST /v1/tenants/{t}/gc}) and prints one line per timeline: versions examined and
 * removed, bytes removed, the cutoff. The retention settings are {@code forkline tenant config T
 * pitr_interval=7d gc_horizon=64MB}.
 */
final class GcCommand implements CliCommand {
    @Override
    public CommandSpec spec() {
        return Specs.command(this, "Garbage-collect page versions beyond the retention settings.");
    }

    @Override
    public java.util.List<Sub> subcommands() {
        return java.util.List.of(new Sub("run", GcCommand.Run::new));
    }

    static final class Run extends ApiCommand {
        final TenantOption tenant = new TenantOption();

        String branch;

        final JsonOption json = new JsonOption();

        @Override
        public CommandSpec spec() {
            CommandSpec spec = command("Run GC on a tenant now (all timelines, or one branch's).");
            tenant.addTo(spec);
            spec.addOption(option(String.class, () -> branch, v -> branch = v, "--branch").paramLabel("REF")
                    .description("collect only this branch's timeline").build());
            json.addTo(spec);
            return spec;
        }

        @Override
        public void run() {
            Map<String, Object> body = new LinkedHashMap<>();
            if (branch != null) {
                body.put("branch", branch);
            }
            JsonNode r = client().post(tenant.path() + "/gc", body);
            if (json.print(out(), r)) {
                return;
            }
            Table table = new Table(out(), "%-24s %-14s %-14s %10s %10s %14s %8s%n", "BRANCH", "CUTOFF", "LAST LSN", "EXAMINED",
                    "REMOVED", "BYTES REMOVED", "MS");
            long removed = 0;
            long bytes = 0;
            java.util.List<String> skipped = new java.util.ArrayList<>();
            for (JsonNode t : r.path("timelines")) {
                String refs = t.path("refs").isEmpty() ? "(timeline " + shortId(t.path("timeline_id").asText("?")) + ")"
                        : joined(t.path("refs"));
                if (!t.path("skipped").isNull() && !t.path("skipped").isMissingNode()) {
                    skipped.add(refs + " skipped: " + t.path("skipped").asText());
                    continue;
                }
                table.row(refs, t.path("cutoff").asText(),
                        t.path("last_record_lsn").asText(), t.path("versions_examined").asLong(),
                        t.path("versions_removed").asLong(), t.path("bytes_removed").asLong(), t.path("duration_ms").asLong());
                removed += t.path("versions_removed").asLong();
                bytes += t.path("bytes_removed").asLong();
            }
            table.end();
            skipped.forEach(out()::println);
            out().println("removed " + removed + " versions, " + bytes + " bytes");
        }

        /** The first 8 characters of a timeline id, or all of it when shorter (e.g. missing: "?"). */
        static String shortId(String timelineId) {
            return timelineId.length() > 8 ? timelineId.substring(0, 8) : timelineId;
        }

        private static String joined(JsonNode arr) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode n : arr) {
                if (sb.length() > 0) {
                    sb.append(',');
                }
                sb.append(n.asText());
            }
            return sb.toString();
        }
    }
}
