package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.Map;

/**
 * {@code forkline branch connection-string REF} and {@code forkline branch password reset REF}: the
 * branch's libpq URI through the Postgres proxy, with its password (exactly one line on stdout).
 */
final class BranchAccessCommands {
    private BranchAccessCommands() {
    }

    @Command(name = "connection-string",
            description = "Print the branch's connection string through the Postgres proxy (one libpq URI line, with its password).")
    static final class ConnectionString extends ApiCommand {
        @Mixin
        BranchArgs branch;

        @Override
        public void run() {
            out().println(client().get(branch.path() + "/connection-string").path("connection_string").asText());
        }
    }

    @Command(name = "password", description = "Manage the branch's password.")
    @Subcommands({Reset.class})
    static final class Password {
    }

    @Command(name = "reset",
            description = "Give the branch a new random password (the old one stops working); prints the new connection string.")
    static final class Reset extends ApiCommand {
        @Mixin
        BranchArgs branch;

        @Override
        public void run() {
            JsonNode r = client().post(branch.path() + "/password/reset", Map.of());
            err().println("password of branch " + branch.ref + " (" + r.path("endpoint_id").asText() + ") reset");
            err().flush();
            out().println(r.path("connection_string").asText());
        }
    }
}
