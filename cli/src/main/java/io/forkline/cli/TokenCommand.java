package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Model.CommandSpec;

import java.util.LinkedHashMap;
import java.util.Map;

import static io.forkline.cli.Specs.option;

/**
 * {@code forkline token create --tenant NAME [--ttl D] [--json]}: prints a token limited to one
 * tenant ({@code POST /v1/tokens}; needs an admin token), one line, so that
 * {@code export FORKLINE_TOKEN=$(forkline token create --tenant t --ttl 1h)} works.
 */
final class TokenCommand implements CliCommand {
    @Override
    public CommandSpec spec() {
        return Specs.command(this, "Issue access tokens.");
    }

    @Override
    public java.util.List<Sub> subcommands() {
        return java.util.List.of(new Sub("create", TokenCommand.Create::new));
    }

    static final class Create extends ApiCommand {
        final TenantOption tenant = new TenantOption();

        String ttl;

        final JsonOption json = new JsonOption();

        @Override
        public CommandSpec spec() {
            CommandSpec spec = command("Print a token for one tenant (its branches, endpoints, backups, ...).");
            tenant.addTo(spec);
            spec.addOption(option(String.class, () -> ttl, v -> ttl = v, "--ttl").paramLabel("D")
                    .description("valid for D: 30s, 15m, 1h, 7d, 2w (default: never expires)").build());
            json.addTo(spec);
            return spec;
        }

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
