package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code forkline endpoint start|stop|resize REF --tenant NAME}. Sizes ({@code --size}): xs =
 * shared_buffers 64MB, max_connections 20, work_mem 4MB; s = 128MB/100/4MB (default); m =
 * 512MB/200/8MB; l = 2GB/400/16MB.
 */
@Command(name = "endpoint", description = "Start, stop and resize a branch's compute.",
        subcommands = {EndpointCommand.Start.class, EndpointCommand.Stop.class, EndpointCommand.Resize.class})
final class EndpointCommand {
    /** {@code /v1/tenants/T/branches/REF/endpoint/ACTION}. */
    private static String path(BranchArgs branch, String action) {
        return branch.path() + "/endpoint/" + action;
    }

    @Command(name = "start", description = "Start the branch's compute; prints its libpq URI.")
    static final class Start extends ApiCommand {
        @Mixin
        BranchArgs branch;

        @Option(names = "--size", paramLabel = "SIZE", description = "xs, s, m or l (default: the branch's size)")
        String size;

        @Override
        public void run() {
            Map<String, Object> body = new LinkedHashMap<>();
            if (size != null) {
                body.put("size", size);
            }
            out().println(client().post(path(branch, "start"), body).path("uri").asText());
        }
    }

    @Command(name = "stop", description = "Stop the branch's compute.")
    static final class Stop extends ApiCommand {
        @Mixin
        BranchArgs branch;

        @Override
        public void run() {
            client().post(path(branch, "stop"), Map.of());
            out().println("endpoint " + branch.ref + " stopped");
        }
    }

    @Command(name = "resize", description = "Set the branch's compute size; a running compute restarts with it (same URI).")
    static final class Resize extends ApiCommand {
        @Mixin
        BranchArgs branch;

        @Option(names = "--size", required = true, paramLabel = "SIZE", description = "xs, s, m or l")
        String size;

        @Override
        public void run() {
            JsonNode e = client().post(path(branch, "resize"), Map.of("size", size));
            out().println("endpoint " + branch.ref + " size " + e.path("size").asText() + " (" + e.path("state").asText() + ")"
                    + (e.path("uri").isTextual() ? " " + e.path("uri").asText() : ""));
        }
    }
}
