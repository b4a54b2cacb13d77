package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.Map;

/** {@code forkline branch protect REF --tenant T [--off]}: a protected branch cannot be deleted, reset or expire. */
@Command(name = "protect", description = "Protect a branch from delete, reset and expiry (--off to lift it).")
final class BranchProtectCommand extends ApiCommand {
    @Mixin
    BranchArgs branch;

    @Option(names = "--off", description = "remove the protection")
    boolean off;

    @Override
    public void run() {
        JsonNode b = client().post(branch.path() + "/protect", Map.of("protected", !off));
        out().println("branch " + b.path("ref").asText() + (b.path("protected").asBoolean() ? " is protected" : " is not protected"));
    }
}
