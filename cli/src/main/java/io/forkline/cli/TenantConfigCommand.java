package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Model.CommandSpec;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.forkline.cli.Specs.positional;

/**
 * {@code forkline tenant config NAME [KEY=VALUE ...] [--json]}: shows a tenant's limits and usage,
 * after setting the given keys ({@code max_branches}, {@code max_running_endpoints} through
 * {@code /config}; {@code pitr_interval}, {@code gc_horizon} through {@code /retention}; an empty
 * value, {@code KEY=}, returns a key to the server default). Retention values are checked before
 * anything is sent, so a bad one changes nothing; the limits are posted first, so a limit the server
 * refuses leaves retention unchanged too.
 */
final class TenantConfigCommand extends ApiCommand {
    /** The columns of the settings table; {@link RetentionSettings#print} adds its rows in the same. */
    static final String FORMAT = "%-24s %-8s %-8s %s%n";
    /** Every key the command knows, in the order the table shows them. */
    static final List<String> KNOWN = List.of("max_branches", "max_running_endpoints", "pitr_interval", "gc_horizon");

    String name;

    List<String> settings;

    final JsonOption json = new JsonOption();

    @Override
    @SuppressWarnings("unchecked")
    public CommandSpec spec() {
        CommandSpec spec = command("Show or set a tenant's settings: max_branches=N max_running_endpoints=M pitr_interval=7d gc_horizon=64MB.");
        spec.addPositional(positional("0", "NAME", String.class, () -> name, v -> name = v).build());
        spec.addPositional(positional("1..*", "KEY=VALUE", (Class<List<String>>) (Class<?>) List.class, () -> settings,
                v -> settings = v).auxiliaryTypes(String.class).arity("0..*").required(false).build());
        json.addTo(spec);
        return spec;
    }

    @Override
    public void run() {
        String path = AdminClient.tenantPath(name) + "/config";
        JsonNode r;
        Map<String, Object> retention = new LinkedHashMap<>(); // pitr_interval, gc_horizon: /retention
        if (settings == null || settings.isEmpty()) {
            r = client().get(path);
        } else {
            Map<String, Object> body = new LinkedHashMap<>();
            for (String kv : settings) {
                int eq = kv.indexOf('=');
                if (eq <= 0) {
                    throw new CliException("invalid setting '" + kv + "': expected KEY=VALUE, e.g. max_branches=20");
                }
                String v = kv.substring(eq + 1).strip();
                String key = kv.substring(0, eq).strip();
                if (!KNOWN.contains(key)) {
                    throw new CliException("unknown setting '" + key + "': known are " + String.join(", ", KNOWN));
                }
                body.put(key, v.isEmpty() ? null : v);
            }
            RetentionSettings.split(body, retention);
            // a bad retention value must change nothing: refuse it before the limits are posted
            RetentionSettings.validate(retention);
            r = body.isEmpty() ? client().get(path) : client().post(path, body);
        }
        JsonNode ret = RetentionSettings.apply(client(), name, retention);
        if (r instanceof com.fasterxml.jackson.databind.node.ObjectNode o) {
            o.set("retention", ret);
        }
        if (json.print(out(), r)) {
            return;
        }
        JsonNode limits = r.path("limits");
        JsonNode usage = r.path("usage");
        Table table = new Table(out(), FORMAT, "SETTING", "LIMIT", "USED", "SOURCE");
        table.row("max_branches", limits.path("max_branches").asText(),
                usage.path("branches").asText(), r.path("config").has("max_branches") ? "tenant" : "default");
        table.row("max_running_endpoints", limits.path("max_running_endpoints").asText(),
                usage.path("running_endpoints").asText(), r.path("config").has("max_running_endpoints") ? "tenant" : "default");
        RetentionSettings.print(table, ret);
        table.end();
    }
}
