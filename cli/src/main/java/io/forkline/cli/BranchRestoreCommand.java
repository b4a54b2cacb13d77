package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Model.CommandSpec;

import java.util.LinkedHashMap;
import java.util.Map;

import static io.forkline.cli.Specs.option;

/**
 * {@code forkline branch restore REF --tenant T --at TIMESTAMP | --lsn X/Y [--keep-as NAME]}: the
 * branch goes back to a past point of its own history; the state it had is kept as branch
 * {@code NAME} (default {@code REF-before-restore-<time>}).
 */
final class BranchRestoreCommand extends ApiCommand {
    final BranchArgs branch = new BranchArgs();

    final BranchCommand.Point point = new BranchCommand.Point();

    String keepAs;

    @Override
    public CommandSpec spec() {
        CommandSpec spec = command("Restore a branch in place to a past point; its current state is kept as a new branch.");
        branch.addTo(spec);
        spec.addArgGroup(point.group("1"));
        spec.addOption(option(String.class, () -> keepAs, v -> keepAs = v, "--keep-as").paramLabel("NAME")
                .description("name of the branch that keeps the current state").build());
        return spec;
    }

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
