package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.util.Map;

/**
 * {@code forkline branch rename REF NEW --tenant T}: the same branch (timeline, settings, history)
 * under a new name; its children follow. Its compute must be stopped.
 */
@Command(name = "rename", description = "Rename a branch (its compute must be stopped).")
final class BranchRenameCommand extends ApiCommand {
    @Parameters(index = "0", paramLabel = "REF")
    String ref;

    @Parameters(index = "1", paramLabel = "NEW")
    String newRef;

    @Mixin
    TenantOption tenant;

    @Override
    public void run() {
        JsonNode b = client().post(AdminClient.branchPath(tenant.name(), ref) + "/rename", Map.of("new_ref", newRef));
        out().println("branch " + ref + " renamed to " + b.path("ref").asText());
    }
}
