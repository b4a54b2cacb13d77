package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code forkline token create --tenant NAME [--ttl D] [--json]}: prints a token limited to one
 * tenant ({@code POST /v1/tokens}; needs an admin token), one line, so that
 * {@code export FORKLINE_TOKEN=$(forkline token create --tenant t --ttl 1h)} works.
 */
@Command(name = "token", description = "Issue access tokens.")
@Subcommands({TokenCommand.Create.class})
final class TokenCommand {
    @Command(name = "create", description = "Print a token for one tenant (its branches, endpoints, backups, ...).")
    static final class Create extends ApiCommand {
        @Mixin
        TenantOption tenant;

        @Option(names = "--ttl", paramLabel = "D", description = "valid for D: 30s, 15m, 1h, 7d, 2w (default: never expires)")
        String ttl;

        @Mixin
        JsonOption json;

        @Override
        public void run() {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("tenant", tenant.name());
            if (ttl != null) {
                body.put("ttl", ttl);
            }
            JsonNode r = client().post("/v1/tokens", body);
            if (json.print(out(), r)) {
                return;
            }
            out().println(r.path("token").asText());
        }
    }
}
