package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.util.Map;

/** {@code forkline tenant create NAME | list [--json] | config NAME [KEY=VALUE ...] | import NAME --from FILE.tar}. */
@Command(name = "tenant", description = "Manage tenants.", subcommands = {TenantCommand.Create.class, TenantCommand.List.class, TenantConfigCommand.class,
        TenantCommand.Import.class})
final class TenantCommand {
    @Command(name = "create", description = "Create a tenant from initdb, with its main branch.")
    static final class Create implements Runnable {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public void run() {
            JsonNode t = Main.client(spec).post("/v1/tenants", Map.of("name", name));
            Main.out(spec).println("tenant " + t.path("name").asText() + " created (initdb at " + t.path("init_lsn").asText() + ")");
        }
    }

    @Command(name = "import", description = "Create a tenant from a plain PostgreSQL 15 base backup tar (e.g. a backup export).")
    static final class Import implements Runnable {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NAME")
        String name;

        @Option(names = "--from", required = true, paramLabel = "FILE.tar")
        java.nio.file.Path from;

        @Override
        public void run() {
            java.nio.file.Path abs = from.toAbsolutePath().normalize();
            if (!java.nio.file.Files.isRegularFile(abs)) {
                throw new CliException("--from '" + from + "' is not a file");
            }
            // the server runs on this machine: it reads the tar at this path
            JsonNode t = Main.client(spec).post("/v1/tenants/import", Map.of("name", name, "path", abs.toString()));
            Main.out(spec).println("tenant " + t.path("name").asText() + " imported from " + abs + " (at " + t.path("init_lsn").asText() + ")");
        }
    }

    @Command(name = "list", description = "List tenants.")
    static final class List implements Runnable {
        @Spec
        CommandSpec spec;

        @Option(names = "--json")
        boolean json;

        @Override
        public void run() {
            JsonNode arr = Main.client(spec).get("/v1/tenants");
            if (json) {
                Main.out(spec).println(arr.toPrettyString());
                return;
            }
            String format = "%-24s %-26s %-12s %-10s %-10s %s%n";
            Main.out(spec).printf(format, "NAME", "CREATED", "INIT LSN", "LOGICAL", "PHYSICAL", "HISTORY");
            for (JsonNode t : arr) {
                Main.out(spec).printf(format, t.path("name").asText(), t.path("created_at").asText(),
                        t.path("init_lsn").asText(), BranchCommand.List.bytes(t.path("logical_size_bytes")),
                        BranchCommand.List.bytes(t.path("total_physical_size_bytes")),
                        BranchCommand.List.bytes(t.path("history_size_bytes")));
            }
        }
    }
}
