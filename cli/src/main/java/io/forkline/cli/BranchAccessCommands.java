package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Model.CommandSpec;

import java.util.Map;

/**
 * {@code forkline branch connection-string REF} and {@code forkline branch password reset REF}: the
 * branch's libpq URI through the Postgres proxy, with its password (exactly one line on stdout).
 */
final class BranchAccessCommands {
    private BranchAccessCommands() {
    }

    static final class ConnectionString extends ApiCommand {
        final BranchArgs branch = new BranchArgs();

        @Override
        public CommandSpec spec() {
            CommandSpec spec = command("Print the branch's connection string through the Postgres proxy (one libpq URI line, with its password).");
            branch.addTo(spec);
            return spec;
        }

        @Override
        public void run() {
            out().println(client().get(branch.path() + "/connection-string").path("connection_string").asText());
        }
    }

    static final class Password implements CliCommand {
        @Override
        public CommandSpec spec() {
            return Specs.command(this, "Manage the branch's password.");
        }

        @Override
        public java.util.List<Sub> subcommands() {
            return java.util.List.of(new Sub("reset", Reset::new));
        }
    }



    static final class Reset extends ApiCommand {
        final BranchArgs branch = new BranchArgs();

        @Override
        public CommandSpec spec() {
            CommandSpec spec = command("Give the branch a new random password (the old one stops working); prints the new connection string.");
            branch.addTo(spec);
            return spec;
        }

        @Override
        public void run() {
            JsonNode r = client().post(branch.path() + "/password/reset", Map.of());
            err().println("password of branch " + branch.ref + " (" + r.path("endpoint_id").asText() + ") reset");
            err().flush();
            out().println(r.path("connection_string").asText());
        }
    }
}
