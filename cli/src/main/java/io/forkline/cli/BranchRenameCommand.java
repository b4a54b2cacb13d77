package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Model.CommandSpec;

import java.util.Map;

import static io.forkline.cli.Specs.positional;

/**
 * {@code forkline branch rename REF NEW --tenant T}: the same branch (timeline, settings, history)
 * under a new name; its children follow. Its compute must be stopped.
 */
final class BranchRenameCommand extends ApiCommand {
    String ref;

    String newRef;

    final TenantOption tenant = new TenantOption();

    @Override
    public CommandSpec spec() {
        CommandSpec spec = command("Rename a branch (its compute must be stopped).");
        spec.addPositional(positional("0", "REF", String.class, () -> ref, v -> ref = v).build());
        spec.addPositional(positional("1", "NEW", String.class, () -> newRef, v -> newRef = v).build());
        tenant.addTo(spec);
        return spec;
    }

    @Override
    public void run() {
        JsonNode b = client().post(AdminClient.branchPath(tenant.name(), ref) + "/rename", Map.of("new_ref", newRef));
        out().println("branch " + ref + " renamed to " + b.path("ref").asText());
    }
}
