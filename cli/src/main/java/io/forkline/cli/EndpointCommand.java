package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

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
    private static String path(String tenant, String ref, String action) {
        return BranchCommand.path(tenant, ref) + "/endpoint/" + action;
    }

    @Command(name = "start", description = "Start the branch's compute; prints its libpq URI.")
    static final class Start implements Runnable {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "REF")
        String ref;

        @Option(names = "--tenant", required = true, paramLabel = "NAME")
        String tenant;

        @Option(names = "--size", paramLabel = "SIZE", description = "xs, s, m or l (default: the branch's size)")
        String size;

        @Override
        public void run() {
            Map<String, Object> body = new LinkedHashMap<>();
            if (size != null) {
                body.put("size", size);
            }
            Main.out(spec).println(Main.client(spec).post(path(tenant, ref, "start"), body).path("uri").asText());
        }
    }

    @Command(name = "stop", description = "Stop the branch's compute.")
    static final class Stop implements Runnable {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "REF")
        String ref;

        @Option(names = "--tenant", required = true, paramLabel = "NAME")
        String tenant;

        @Override
        public void run() {
            Main.client(spec).post(path(tenant, ref, "stop"), Map.of());
            Main.out(spec).println("endpoint " + ref + " stopped");
        }
    }

    @Command(name = "resize", description = "Set the branch's compute size; a running compute restarts with it (same URI).")
    static final class Resize implements Runnable {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "REF")
        String ref;

        @Option(names = "--tenant", required = true, paramLabel = "NAME")
        String tenant;

        @Option(names = "--size", required = true, paramLabel = "SIZE", description = "xs, s, m or l")
        String size;

        @Override
        public void run() {
            JsonNode e = Main.client(spec).post(path(tenant, ref, "resize"), Map.of("size", size));
            Main.out(spec).println("endpoint " + ref + " size " + e.path("size").asText() + " (" + e.path("state").asText() + ")"
                    + (e.path("uri").isTextual() ? " " + e.path("uri").asText() : ""));
        }
    }
}
