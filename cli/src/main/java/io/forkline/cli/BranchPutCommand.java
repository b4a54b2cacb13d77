package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Model.CommandSpec;

import java.util.LinkedHashMap;
import java.util.Map;

import static io.forkline.cli.Specs.option;

/**
 * {@code forkline branch put REF --tenant T [--parent REF] [--ttl D] [--size S] [--schema-only] [--start]}:
 * creates the branch the first time, resets it to its parent's current state every later time
 * ({@code PUT /v1/tenants/T/branches/REF}). Prints {@code branch REF created|reset from PARENT at LSN};
 * with {@code --start} that line goes to stderr and stdout holds exactly the endpoint URI. A later put
 * keeps the branch's schema-only setting, TTL (renewed from now) and size unless an option changes them.
 */
final class BranchPutCommand extends ApiCommand {
    final BranchArgs branch = new BranchArgs();

    String parent;

    final BranchCommand.Shape shape = new BranchCommand.Shape();

    @Override
    public CommandSpec spec() {
        CommandSpec spec = command("Create the branch, or reset it to its parent's latest state when it exists (idempotent, for CI).");
        branch.addTo(spec);
        spec.addOption(option(String.class, () -> parent, v -> parent = v, "--parent").paramLabel("REF")
                .description("parent branch (default: the branch's parent, main for a new one)").build());
        spec.addArgGroup(shape.group());
        return spec;
    }

    @Override
    public void run() {
        Map<String, Object> body = new LinkedHashMap<>();
        if (parent != null) {
            body.put("parent", parent);
        }
        shape.into(body);
        JsonNode b = client().put(branch.path(), body);
        report("branch " + b.path("ref").asText() + (b.path("created").asBoolean() ? " created" : " reset")
                + " from " + b.path("parent").asText() + BranchCommand.atTimeline(b), b);
    }
}
