package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code forkline console [--tenant NAME] [--json]}: prints a sign-in URL of the web console
 * ({@code POST /v1/console/signin-links}), one line: {@code $FORKLINE_URL/console/signin?code=...}.
 * The link works once, within two minutes, and opens a session of the caller's token's scope, or of
 * tenant NAME only (an admin token may name any tenant, a tenant token its own).
 */
@Command(name = "console", description = "Print a single-use sign-in URL of the web console (valid for 2 minutes).")
final class ConsoleCommand extends ApiCommand {
    @Option(names = "--tenant", paramLabel = "NAME", description = "sign in to this tenant only (default: the token's scope)")
    String tenant;

    @Mixin
    JsonOption json;

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
