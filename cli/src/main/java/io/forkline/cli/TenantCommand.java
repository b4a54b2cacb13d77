package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.Map;

/** {@code forkline tenant create NAME | list [--json]}. */
@Command(name = "tenant", description = "Manage tenants.", subcommands = {TenantCommand.Create.class, TenantCommand.List.class})
final class TenantCommand {
    @Command(name = "create", description = "Create a tenant from initdb, with its main branch.")
    static final class Create implements Runnable {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public void run() {
            JsonNode t = AdminClient.fromEnvironment().post("/v1/tenants", Map.of("name", name));
            System.out.println("tenant " + t.path("name").asText() + " created (initdb at " + t.path("init_lsn").asText() + ")");
        }
    }

    @Command(name = "list", description = "List tenants.")
    static final class List implements Runnable {
        @Option(names = "--json")
        boolean json;

        @Override
        public void run() {
            JsonNode arr = AdminClient.fromEnvironment().get("/v1/tenants");
            if (json) {
                System.out.println(arr.toPrettyString());
                return;
            }
            System.out.printf("%-24s %-26s %s%n", "NAME", "CREATED", "INIT LSN");
            for (JsonNode t : arr) {
                System.out.printf("%-24s %-26s %s%n", t.path("name").asText(), t.path("created_at").asText(),
                        t.path("init_lsn").asText());
            }
        }
    }
}
