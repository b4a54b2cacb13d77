package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.Map;

/** {@code forkline branch reset REF --tenant T}: the branch moves to its parent's latest state; same ref and URI. */
@Command(name = "reset", description = "Move a branch to its parent's latest state (a running endpoint restarts on it, same URI).")
final class BranchResetCommand extends ApiCommand {
    @Mixin
    BranchArgs branch;

    @Override
    public void run() {
        JsonNode b = client().post(branch.path() + "/reset", Map.of());
        out().println("branch " + b.path("ref").asText() + " reset to " + b.path("parent").asText() + BranchCommand.atTimeline(b));
    }
}
