package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.util.Map;

/** {@code forkline branch reset REF --tenant T}: the branch moves to its parent's latest state; same ref and URI. */
@Command(name = "reset", description = "Move a branch to its parent's latest state (a running endpoint restarts on it, same URI).")
final class BranchResetCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "REF")
    String ref;

    @Option(names = "--tenant", required = true, paramLabel = "NAME")
    String tenant;

    @Override
    public void run() {
        JsonNode b = Main.client(spec).post(BranchCommand.path(tenant, ref) + "/reset", Map.of());
        Main.out(spec).println("branch " + b.path("ref").asText() + " reset to " + b.path("parent").asText() + " at "
                + b.path("ancestor_lsn").asText() + " (timeline " + b.path("timeline_id").asText() + ")");
    }
}
