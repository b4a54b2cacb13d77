package io.forkline.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code forkline completion bash|zsh}: the script picocli generates for the whole command tree,
 * loaded into a real bash, completes commands, subcommands and options; zsh gets the same script
 * (it enables {@code bashcompinit} itself); anything else is bad usage naming the value.
 */
class CompletionCommandTest {
    private static final Map<String, String> ENV = Map.of();

    @Test
    void bashScriptCoversEveryCommandAndOption() {
        CliResult r = CliResult.run(ENV, "completion", "bash").ok();
        assertThat(r.out()).contains("complete -F _complete_forkline").contains("bashcompinit");
        for (String s : List.of("server", "tenant", "branch", "endpoint", "backup", "gc", "lease", "quickstart",
                "completion", "schedule", "--tenant", "--json", "--recursive")) {
            assertThat(r.out()).as(s).contains(s);
        }
    }

    @Test
    void zshGetsTheSameScript() {
        assertThat(CliResult.run(ENV, "completion", "zsh").ok().out())
                .isEqualTo(CliResult.run(ENV, "completion", "bash").ok().out());
    }

    @Test
    void anotherShellIsBadUsageNamingIt() {
        assertThat(CliResult.run(ENV, "completion", "fish").errorLine(2)).contains("'fish'").contains("bash");
        assertThat(CliResult.run(ENV, "completion").errorLine(2)).contains("SHELL");
    }

    @Test
    void bashCompletesCommandsSubcommandsAndOptions(@TempDir Path dir) throws Exception {
        Path script = dir.resolve("forkline.bash");
        Files.writeString(script, CliResult.run(ENV, "completion", "bash").ok().out());
        assertThat(complete(script, "forkline", "br")).containsExactly("branch");
        assertThat(complete(script, "forkline", "branch", "")).contains("create", "list", "delete", "put", "reset",
                "restore", "protect");
        assertThat(complete(script, "forkline", "branch", "list", "--te")).containsExactly("--tenant");
        assertThat(complete(script, "./forkline", "backup", "sch")).containsExactly("schedule");
    }

    /** What bash offers for the last word of {@code words}, with the script loaded. */
    private static List<String> complete(Path script, String... words) throws IOException, InterruptedException {
        StringBuilder w = new StringBuilder();
        for (String s : words) {
            w.append(" '").append(s).append("'");
        }
        String cmd = "source '" + script + "'; COMP_WORDS=(" + w + "); COMP_CWORD=" + (words.length - 1)
                + "; COMP_LINE=\"${COMP_WORDS[*]}\"; COMP_POINT=${#COMP_LINE}; _complete_forkline;"
                + " printf '%s\\n' \"${COMPREPLY[@]}\"";
        // stderr: bash's compopt complains outside a real completion (the script calls it for options)
        Process p = new ProcessBuilder("bash", "-c", cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
    }
}
