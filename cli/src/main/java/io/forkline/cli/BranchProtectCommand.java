package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Model.CommandSpec;

import java.util.Map;

import static io.forkline.cli.Specs.option;

/** {@code forkline branch protect REF --tenant T [--off]}: a protected branch cannot be deleted, reset or expire. */
final class BranchProtectCommand extends ApiCommand {
    final BranchArgs branch = new BranchArgs();

    boolean off;

    @Override
    public CommandSpec spec() {
        CommandSpec spec = command("Protect a branch from delete, reset and expiry (--off to lift it).");
        branch.addTo(spec);
        spec.addOption(option(boolean.class, () -> off, v -> off = v, "--off").description("remove the protection").build());
        return spec;
    }

    @Override
    public void run() {
        JsonNode b = client().post(branch.path() + "/protect", Map.of("protected", !off));
        out().println("branch " + b.path("ref").asText() + (b.path("protected").asBoolean() ? " is protected" : " is not protected"));
    }
}
