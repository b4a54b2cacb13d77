package io.forkline.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The command line's surface: {@code forkline ... --help} of every command and group equals
 * {@code usage-help.txt}, which holds what the annotation-built model of {@code 9bc30cc} printed
 * (the model is now built in code, {@link Specs}: names, options, labels, defaults, descriptions
 * and their order must not drift), and that file covers exactly the commands of the tree. A command
 * added or changed on purpose updates the file (the expected text is the command's output).
 */
class UsageHelpTest {
    private static final Map<String, String> ENV = Map.of();

    @Test
    void everyCommandsHelpIsThePinnedText() throws IOException {
        String expected = pinned();
        StringBuilder actual = new StringBuilder();
        for (List<String> path : pathsOf(expected)) {
            List<String> args = new ArrayList<>(path);
            args.add("--help");
            CliResult r = CliResult.run(ENV, args.toArray(String[]::new)).ok();
            actual.append("$ forkline ").append(String.join(" ", args)).append('\n').append(r.out());
        }
        assertThat(actual.toString()).isEqualTo(expected);
    }

    @Test
    void thePinnedTextCoversExactlyTheCommandTree() throws IOException {
        List<String> tree = new ArrayList<>();
        collect(Main.commandLine(ENV, "completion"), new ArrayList<>(), tree);
        List<String> pinned = new ArrayList<>();
        for (List<String> p : pathsOf(pinned())) {
            pinned.add(String.join(" ", p));
        }
        assertThat(pinned).containsExactlyInAnyOrderElementsOf(tree);
    }

    /** Every command path below {@code cl} (the root: the empty path), depth first. */
    private static void collect(CommandLine cl, List<String> path, List<String> into) {
        into.add(String.join(" ", path));
        for (Map.Entry<String, CommandLine> e : cl.getSubcommands().entrySet()) {
            List<String> sub = new ArrayList<>(path);
            sub.add(e.getKey());
            collect(e.getValue(), sub, into);
        }
    }

    /** The command paths of the pinned text, in its order (from its {@code $ forkline ... --help} lines). */
    private static List<List<String>> pathsOf(String pinned) {
        List<List<String>> paths = new ArrayList<>();
        for (String line : pinned.split("\n")) {
            if (line.startsWith("$ forkline ")) {
                List<String> words = new ArrayList<>(List.of(line.substring("$ forkline ".length()).split(" ")));
                words.removeLast(); // --help
                paths.add(words);
            }
        }
        return paths;
    }

    private static String pinned() throws IOException {
        try (InputStream in = UsageHelpTest.class.getResourceAsStream("usage-help.txt")) {
            assertThat(in).as("usage-help.txt").isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
