package io.forkline.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * {@code forkline}: the command line. {@code server} and {@code quickstart} run locally (through
 * {@link LocalRuntime}), {@code completion} prints a script; every other command talks to the admin
 * API at {@code $FORKLINE_URL} (default {@code http://127.0.0.1:9898}) with the token of
 * {@code $FORKLINE_TOKEN} or of the token file of that URL ({@link TokenDiscovery}). Exit code 0 on
 * success; on failure 1 (2 for bad usage) and one line on stderr that names the bad value.
 */
public final class Main implements CliCommand {
    static {
        // picocli's default factory otherwise looks for groovy.lang.Closure once per JVM: a class
        // that is not there, so the class loader opens and searches every jar of the class path
        // (~20 ms of a command under load; -Xlog:exceptions shows the ClassNotFoundException)
        System.setProperty("picocli.disable.closures", "true");
    }

    /** The environment the commands read ({@code FORKLINE_URL}, {@code FORKLINE_TOKEN}, ...): the process's, or one a test injects. */
    private final Map<String, String> env;

    private Main(Map<String, String> env) {
        this.env = env;
    }

    /**
     * {@code forkline [-hV] [COMMAND]}: {@code -h/--help} and {@code -V/--version} are inherited by
     * every command (picocli's standard help options, declared here: its {@code mixinStandardHelpOptions}
     * reads them from annotations).
     */
    @Override
    public CommandSpec spec() {
        CommandSpec spec = Specs.command(this, "Copy-on-write branches and point-in-time recovery for PostgreSQL 15.")
                .name("forkline").version("forkline 0.1.0").scopeType(CommandLine.ScopeType.INHERIT);
        spec.addOption(OptionSpec.builder("-h", "--help").usageHelp(true).description("Show this help message and exit.")
                .scopeType(CommandLine.ScopeType.INHERIT).build());
        spec.addOption(OptionSpec.builder("-V", "--version").versionHelp(true).description("Print version information and exit.")
                .scopeType(CommandLine.ScopeType.INHERIT).build());
        return spec;
    }

    @Override
    public List<Sub> subcommands() {
        return List.of(new Sub("server", ServerCommand::new), new Sub("tenant", TenantCommand::new),
                new Sub("branch", BranchCommand::new), new Sub("endpoint", EndpointCommand::new),
                new Sub("backup", BackupCommand::new), new Sub("gc", GcCommand::new), new Sub("lease", LeaseCommand::new),
                new Sub("token", TokenCommand::new), new Sub("page", PageCommand::new), new Sub("console", ConsoleCommand::new),
                new Sub("diff", DiffCommand::new), new Sub("quickstart", QuickstartCommand::new),
                new Sub("completion", CompletionCommand::new));
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command line with the process environment, stdout and stderr; returns the exit code. */
    public static int run(String... args) {
        return run(System.getenv(), new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /**
     * Runs a command line and returns the exit code: 0 on success, 1 when the command failed, 2 for
     * bad usage. Output goes to {@code out}; a failure prints exactly one line,
     * {@code forkline: <message>}, to {@code err}.
     *
     * @param env the environment to read {@code FORKLINE_URL} from (tests point it at their server)
     */
    static int run(Map<String, String> env, PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = commandLine(Objects.requireNonNull(env, "env"), args);
        cl.setOut(out);
        cl.setErr(err);
        // "branch create -x": report the invalid name '-x', not a missing REF
        cl.setUnmatchedOptionsArePositionalParams(true);
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            String message = ex instanceof CliException || ex instanceof IllegalArgumentException
                    ? ex.getMessage() : ex.toString();
            cmd.getErr().println("forkline: " + oneLine(message == null ? ex.toString() : message));
            cmd.getErr().flush();
            return 1;
        });
        cl.setParameterExceptionHandler((ex, args2) -> {
            CommandLine cmd = ex.getCommandLine();
            PrintWriter e = cmd.getErr();
            String message = ex.getMessage();
            if (!cmd.getSubcommands().isEmpty() && message.startsWith("Missing required subcommand")) {
                message = "'" + cmd.getCommandSpec().qualifiedName() + "' needs a subcommand, one of: "
                        + String.join(", ", cmd.getSubcommands().keySet());
            }
            e.println("forkline: " + oneLine(message));
            e.flush();
            return 2;
        });
        int code = cl.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    /**
     * The command line for {@code args}, with the commands of {@link CliCommand#subcommands()}
     * registered top down: at each level, when the next argument names one of them, only that one
     * (parsing, help and errors of a command involve only it and its subcommands); otherwise all of
     * them and everything below (root help, {@code --version}, a typo that gets a suggestion, a group
     * without its subcommand). {@code completion} gets the whole tree, which its script covers.
     */
    static CommandLine commandLine(Map<String, String> env, String... args) {
        Main main = new Main(Objects.requireNonNull(env, "env"));
        CommandLine root = new CommandLine(main.spec());
        boolean all = args.length > 0 && args[0].equals("completion");
        register(root, main, args, all ? -1 : 0);
        return root;
    }

    /** Registers the subcommands of {@code command} under {@code parent}; {@code next < 0}: all of them, recursively. */
    private static void register(CommandLine parent, CliCommand command, String[] args, int next) {
        List<Sub> subs = command.subcommands();
        Sub named = null;
        if (next >= 0 && next < args.length) {
            for (Sub s : subs) {
                if (s.name().equals(args[next])) {
                    named = s;
                }
            }
        }
        for (Sub s : subs) {
            if (named == null || s == named) {
                CliCommand c = s.make().get();
                CommandLine sub = new CommandLine(c.spec().name(s.name()));
                parent.addSubcommand(sub);
                register(sub, c, args, named == null ? -1 : next + 1);
            }
        }
    }

    /** Folds a multi-line message (e.g. a compute's log tail) into the single line the contract allows. */
    static String oneLine(String message) {
        return message.strip().replaceAll("\\s*\\R\\s*", " | ");
    }

    /** The admin API client for a command of this command line ({@code FORKLINE_URL} of its environment). */
    static AdminClient client(CommandSpec spec) {
        Main root = (Main) spec.root().userObject();
        return AdminClient.fromEnvironment(root.env);
    }

    /** The environment of the command line a command runs in (the process's, or one a test injected). */
    static Map<String, String> env(CommandSpec spec) {
        return ((Main) spec.root().userObject()).env;
    }

    /** Where a command prints its results. */
    static PrintWriter out(CommandSpec spec) {
        return spec.commandLine().getOut();
    }
}
