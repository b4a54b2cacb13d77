package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code forkline branch restore REF --tenant T --at TIMESTAMP | --lsn X/Y [--keep-as NAME]}: the
 * branch goes back to a past point of its own history; the state it had is kept as branch
 * {@code NAME} (default {@code REF-before-restore-<time>}).
 */
@Command(name = "restore", description = "Restore a branch in place to a past point; its current state is kept as a new branch.")
final class BranchRestoreCommand extends ApiCommand {
    @Mixin
    BranchArgs branch;

    @ArgGroup(exclusive = true, multiplicity = "1")
    BranchCommand.Point point;

    @Option(names = "--keep-as", paramLabel = "NAME", description = "name of the branch that keeps the current state")
    String keepAs;

    @Override
    public void run() {
        Map<String, Object> body = new LinkedHashMap<>();
        point.into(body);
        if (keepAs != null) {
            body.put("keep_as", keepAs);
        }
        JsonNode r = client().post(branch.path() + "/restore", body);
        out().println("branch " + r.path("branch").path("ref").asText() + " restored to " + r.path("lsn").asText()
                + "; its previous state is branch " + r.path("kept_as").path("ref").asText());
    }
}
