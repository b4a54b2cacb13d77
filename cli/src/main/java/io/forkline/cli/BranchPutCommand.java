package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code forkline branch put REF --tenant T [--parent REF] [--ttl D] [--size S] [--schema-only] [--start]}:
 * creates the branch the first time, resets it to its parent's current state every later time
 * ({@code PUT /v1/tenants/T/branches/REF}). Prints {@code branch REF created|reset from PARENT at LSN};
 * with {@code --start} that line goes to stderr and stdout holds exactly the endpoint URI. A later put
 * keeps the branch's schema-only setting, TTL (renewed from now) and size unless an option changes them.
 */
@Command(name = "put", description = "Create the branch, or reset it to its parent's latest state when it exists (idempotent, for CI).")
final class BranchPutCommand extends ApiCommand {
    @Mixin
    BranchArgs branch;

    @Option(names = "--parent", paramLabel = "REF", description = "parent branch (default: the branch's parent, main for a new one)")
    String parent;

    @ArgGroup(exclusive = false, multiplicity = "0..1")
    BranchCommand.Shape shape;

    @Override
    public void run() {
        Map<String, Object> body = new LinkedHashMap<>();
        if (parent != null) {
            body.put("parent", parent);
        }
        if (shape != null) {
            shape.into(body);
        }
        JsonNode b = client().put(branch.path(), body);
        report("branch " + b.path("ref").asText() + (b.path("created").asBoolean() ? " created" : " reset")
                + " from " + b.path("parent").asText() + BranchCommand.atTimeline(b), b);
    }
}
