package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Model.ArgGroupSpec;
import picocli.CommandLine.Model.CommandSpec;

import static io.forkline.cli.Specs.option;
import static io.forkline.cli.Specs.positional;

/**
 * {@code forkline diff --tenant T FROM TO [--schema|--data] [--json]} over
 * {@code GET /v1/tenants/T/diff}: a side is {@code REF}, {@code REF@LSN} or {@code REF@TIMESTAMP}.
 * Text: per database the unified diff of the schema dumps, then one line per table with rows
 * added / removed / changed and the sampled keys. {@code --json}: with {@code --data} an array with
 * one object per table ({@code database, table, added, removed, changed, sample, note}), with
 * {@code --schema} an array of {@code {database, changed, diff}}, with neither the server's whole answer.
 */
final class DiffCommand extends ApiCommand {
    final TenantOption tenant = new TenantOption();

    String from;

    String to;

    /** {@code --schema | --data}: one half only (neither: both). */
    static final class Only {
        boolean schema;

        boolean data;

        ArgGroupSpec group() {
            return Specs.group(true, "0..1",
                    option(boolean.class, () -> schema, v -> schema = v, "--schema").description("only the schema").build(),
                    option(boolean.class, () -> data, v -> data = v, "--data").description("only the data").build());
        }
    }

    final Only only = new Only();

    final JsonOption json = new JsonOption();

    @Override
    public CommandSpec spec() {
        CommandSpec spec = command("Schema and data differences between two points: REF, REF@LSN or REF@TIMESTAMP.");
        tenant.addTo(spec);
        spec.addPositional(positional("0", "FROM", String.class, () -> from, v -> from = v)
                .description("REF, REF@LSN (X/Y) or REF@TIMESTAMP (RFC 3339)").build());
        spec.addPositional(positional("1", "TO", String.class, () -> to, v -> to = v)
                .description("REF, REF@LSN (X/Y) or REF@TIMESTAMP (RFC 3339)").build());
        spec.addArgGroup(only.group());
        json.addTo(spec);
        return spec;
    }

    @Override
    public void run() {
        String mode = only.schema ? "schema" : only.data ? "data" : "both";
        JsonNode r = client().get(tenant.path() + "/diff?from=" + AdminClient.seg(from) + "&to=" + AdminClient.seg(to)
                + "&mode=" + mode);
        JsonNode printed = mode.equals("schema") ? r.path("schema") : mode.equals("data") ? r.path("data") : r;
        if (json.print(out(), printed)) {
            return;
        }
        out().println("from " + r.at("/from/side").asText() + " (" + r.at("/from/lsn").asText() + ") to "
                + r.at("/to/side").asText() + " (" + r.at("/to/lsn").asText() + ")");
        if (r.path("schema").isArray()) {
            boolean any = false;
            for (JsonNode db : r.path("schema")) {
                if (db.path("changed").asBoolean()) {
                    any = true;
                    out().print(db.path("diff").asText());
                }
            }
            if (!any) {
                out().println("schema: no differences");
            }
        }
        if (r.path("data").isArray()) {
            Table t = new Table(out(), "%-12s %-32s %7s %7s %7s  %s%n", "DATABASE", "TABLE", "ADDED", "REMOVED", "CHANGED", "SAMPLE");
            for (JsonNode d : r.path("data")) {
                StringBuilder sample = new StringBuilder();
                for (JsonNode s : d.path("sample")) {
                    sample.append(sample.isEmpty() ? "" : " ").append(s.path("change").asText().charAt(0) == 'a' ? "+"
                            : s.path("change").asText().charAt(0) == 'r' ? "-" : "~").append(s.path("key").asText());
                }
                if (!d.path("note").isNull() && !d.path("note").isMissingNode()) {
                    sample.append(sample.isEmpty() ? "" : " ").append("(").append(d.path("note").asText()).append(")");
                }
                t.row(d.path("database").asText(), d.path("table").asText(), num(d.path("added")), num(d.path("removed")),
                        num(d.path("changed")), sample.toString());
            }
            t.end();
        }
    }

    private static String num(JsonNode n) {
        return n.isNull() || n.isMissingNode() ? "-" : n.asText();
    }
}
