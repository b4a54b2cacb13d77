package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Model.CommandSpec;

import java.util.Map;

/** {@code forkline branch reset REF --tenant T}: the branch moves to its parent's latest state; same ref and URI. */
final class BranchResetCommand extends ApiCommand {
    final BranchArgs branch = new BranchArgs();

    @Override
    public CommandSpec spec() {
        CommandSpec spec = command("Move a branch to its parent's latest state (a running endpoint restarts on it, same URI).");
        branch.addTo(spec);
        return spec;
    }

    @Override
    public void run() {
        JsonNode b = client().post(branch.path() + "/reset", Map.of());
        out().println("branch " + b.path("ref").asText() + " reset to " + b.path("parent").asText() + BranchCommand.atTimeline(b));
    }
}
