package io.forkline.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.util.Map;

/** {@code forkline endpoint start|stop REF --tenant NAME}. */
@Command(name = "endpoint", description = "Start and stop a branch's compute.",
        subcommands = {EndpointCommand.Start.class, EndpointCommand.Stop.class})
final class EndpointCommand {
    @Command(name = "start", description = "Start the branch's compute; prints its libpq URI.")
    static final class Start implements Runnable {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "REF")
        String ref;

        @Option(names = "--tenant", required = true, paramLabel = "NAME")
        String tenant;

        @Override
        public void run() {
            Main.out(spec).println(Main.client(spec).post("/v1/tenants/" + AdminClient.seg(tenant) + "/branches/"
                    + AdminClient.seg(ref) + "/endpoint/start", Map.of()).path("uri").asText());
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
            Main.client(spec).post("/v1/tenants/" + AdminClient.seg(tenant) + "/branches/"
                    + AdminClient.seg(ref) + "/endpoint/stop", Map.of());
            Main.out(spec).println("endpoint " + ref + " stopped");
        }
    }
}
