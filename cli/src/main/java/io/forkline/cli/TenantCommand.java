package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.Map;

/**
 * {@code forkline tenant create NAME | list [--json] | config NAME [KEY=VALUE ...] | import NAME --from FILE.tar
 * | delete NAME [--force]}.
 */
@Command(name = "tenant", description = "Manage tenants.")
@Subcommands({TenantCommand.Create.class, TenantCommand.List.class, TenantConfigCommand.class,
        TenantCommand.Import.class, TenantCommand.Delete.class})
final class TenantCommand {
    @Command(name = "create", description = "Create a tenant from initdb, with its main branch.")
    static final class Create extends ApiCommand {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public void run() {
            JsonNode t = client().post("/v1/tenants", Map.of("name", name));
            out().println("tenant " + t.path("name").asText() + " created (initdb at " + t.path("init_lsn").asText() + ")");
        }
    }

    @Command(name = "delete", description = "Delete a tenant with all its branches, backups and history (frees its storage).")
    static final class Delete extends ApiCommand {
        @Parameters(paramLabel = "NAME")
        String name;

        @Option(names = "--force", description = "stop its running computes instead of refusing")
        boolean force;

        @Override
        public void run() {
            JsonNode d = client().delete(AdminClient.tenantPath(name) + (force ? "?force=true" : ""));
            out().println("tenant " + d.path("deleted").asText() + " deleted: " + d.path("branches").asLong() + " branches, "
                    + d.path("timelines").asLong() + " timelines, " + Table.bytes(d.path("freed_bytes")) + " of history freed");
        }
    }

    @Command(name = "import", description = "Create a tenant from a plain PostgreSQL 15 base backup tar (e.g. a backup export).")
    static final class Import extends ApiCommand {
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
            JsonNode t = client().post("/v1/tenants/import", Map.of("name", name, "path", abs.toString()));
            out().println("tenant " + t.path("name").asText() + " imported from " + abs + " (at " + t.path("init_lsn").asText() + ")");
        }
    }

    @Command(name = "list", description = "List tenants.")
    static final class List extends ApiCommand {
        @Mixin
        JsonOption json;

        @Override
        public void run() {
            JsonNode arr = client().get("/v1/tenants");
            if (json.print(out(), arr)) {
                return;
            }
            Table table = new Table(out(), "%-24s %-26s %-12s %-10s %-10s %s%n", "NAME", "CREATED", "INIT LSN", "LOGICAL",
                    "PHYSICAL", "HISTORY");
            for (JsonNode t : arr) {
                table.row(t.path("name").asText(), t.path("created_at").asText(), t.path("init_lsn").asText(),
                        Table.bytes(t.path("logical_size_bytes")), Table.bytes(t.path("total_physical_size_bytes")),
                        Table.bytes(t.path("history_size_bytes")));
            }
            table.end();
        }
    }
}
