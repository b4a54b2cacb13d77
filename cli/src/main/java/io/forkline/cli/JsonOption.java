package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;

/** The {@code --json} option of the list and show commands ({@link #addTo}): the server's answer, pretty-printed. */
final class JsonOption {
    boolean enabled;

    /** Adds {@code --json} to the command {@code spec}. */
    void addTo(CommandSpec spec) {
        spec.addOption(Specs.option(boolean.class, () -> enabled, v -> enabled = v, "--json").build());
    }

    /**
     * With {@code --json}, prints {@code answer} as indented JSON and returns true (the command
     * prints nothing else); without it, prints nothing and returns false.
     */
    boolean print(PrintWriter out, JsonNode answer) {
        if (enabled) {
            out.println(Json.pretty(answer));
        }
        return enabled;
    }
}
