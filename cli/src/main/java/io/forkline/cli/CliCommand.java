package io.forkline.cli;

import picocli.CommandLine.Model.CommandSpec;

import java.util.List;
import java.util.function.Supplier;

/**
 * A command of the command line (or a group of them): its picocli model, built in code and bound to
 * this instance ({@link Specs}), and its subcommands. One instance per command line run.
 */
interface CliCommand {
    /** This command's options, positional parameters and description, bound to this instance's fields. */
    CommandSpec spec();

    /** The subcommands, in the order usage help lists them; none for a command that runs. */
    default List<Sub> subcommands() {
        return List.of();
    }

    /**
     * A subcommand: its name and how to make it. {@link Main#commandLine} makes (and builds the model
     * of) only the subcommands a command line needs.
     */
    record Sub(String name, Supplier<? extends CliCommand> make) {
    }
}
