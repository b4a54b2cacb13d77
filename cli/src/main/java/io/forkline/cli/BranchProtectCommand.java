package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.util.Map;

/** {@code forkline branch protect REF --tenant T [--off]}: a protected branch cannot be deleted, reset or expire. */
@Command(name = "protect", description = "Protect a branch from delete, reset and expiry (--off to lift it).")
final class BranchProtectCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "REF")
    String ref;

    @Option(names = "--tenant", required = true, paramLabel = "NAME")
    String tenant;

    @Option(names = "--off", description = "remove the protection")
    boolean off;

    @Override
    public void run() {
        JsonNode b = Main.client(spec).post(BranchCommand.path(tenant, ref) + "/protect", Map.of("protected", !off));
        Main.out(spec).println("branch " + b.path("ref").asText() + (b.path("protected").asBoolean() ? " is protected" : " is not protected"));
    }
}
