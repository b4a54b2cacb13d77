package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Option;

import java.io.PrintWriter;

/** The {@code --json} option of the list and show commands ({@code @Mixin}): the server's answer, pretty-printed. */
final class JsonOption {
    @Option(names = "--json")
    boolean enabled;

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
