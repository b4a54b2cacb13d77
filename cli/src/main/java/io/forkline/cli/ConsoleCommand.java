package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Model.CommandSpec;

import java.util.LinkedHashMap;
import java.util.Map;

import static io.forkline.cli.Specs.option;

/**
 * {@code forkline console [--tenant NAME] [--json]}: prints a sign-in URL of the web console
 * ({@code POST /v1/console/signin-links}), one line: {@code $FORKLINE_URL/console/signin?code=...}.
 * The link works once, within two minutes, and opens a session of the caller's token's scope, or of
 * tenant NAME only (an admin token may name any tenant, a tenant token its own).
 */
final class ConsoleCommand extends ApiCommand {
    String tenant;

    final JsonOption json = new JsonOption();

    @Override
    public CommandSpec spec() {
        CommandSpec spec = command("Print a single-use sign-in URL of the web console (valid for 2 minutes).");
        spec.addOption(option(String.class, () -> tenant, v -> tenant = v, "--tenant").paramLabel("NAME")
                .description("sign in to this tenant only (default: the token's scope)").build());
        json.addTo(spec);
        return spec;
    }

    @Override
    public void run() {
        Map<String, Object> body = new LinkedHashMap<>();
        if (tenant != null) {
            body.put("tenant", tenant);
        }
        JsonNode r = client().post("/v1/console/signin-links", body);
        String url = client().base() + r.path("path").asText();
        if (r instanceof com.fasterxml.jackson.databind.node.ObjectNode o) {
            o.put("url", url);
        }
        if (json.print(out(), r)) {
            return;
        }
        out().println(url);
    }
}
