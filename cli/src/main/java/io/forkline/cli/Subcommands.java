package io.forkline.cli;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The subcommands of a command, in the order its help lists them. Used instead of picocli's
 * {@code @Command(subcommands = ...)}, which makes picocli build the model of every command of the
 * tree by reflection before parsing (most of a command's start-up time): {@link Main#commandLine}
 * registers only the branch of the tree the arguments name, and the whole tree when they name no
 * subcommand (help, typos, {@code completion}).
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@interface Subcommands {
    /** {@code @Command}-annotated classes. */
    Class<?>[] value();
}
