package io.forkline.cli;

import picocli.CommandLine.Model.ArgGroupSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.IGetter;
import picocli.CommandLine.Model.ISetter;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Builders of the command line's picocli model in code (picocli's programmatic API: {@link CommandSpec},
 * {@link OptionSpec}, {@link PositionalParamSpec}, {@link ArgGroupSpec}), used by every command's
 * {@link CliCommand#spec()}. The model is not read from annotations: picocli's annotations are read by
 * reflection at every start, and each annotation type the JVM reads costs it a dynamic proxy class
 * generated at run time, which the client's AOT cache cannot hold (JDK 25): that was about 70 % of a
 * command's CPU time. Options and positional parameters are bound to the command's fields with a
 * getter and a setter ({@link #option}); picocli converts, validates and reports errors as before.
 */
final class Specs {
    private Specs() {
    }

    /**
     * A command's model, bound to {@code command}: picocli runs it when it is the command given (a
     * {@link Runnable} or {@link java.util.concurrent.Callable}); one that is neither is a group that
     * needs a subcommand. Its name comes from its parent's {@link CliCommand#subcommands()}.
     *
     * @param description the lines of its description in usage help
     */
    static CommandSpec command(Object command, String... description) {
        CommandSpec spec = CommandSpec.wrapWithoutInspection(command);
        spec.usageMessage().description(description);
        return spec;
    }

    /**
     * An option of type {@code type} (what picocli converts its parameter to; {@code boolean.class}
     * or {@code Boolean.class}: a flag without parameter) bound to a field: {@code set} receives the
     * converted value (and the default value, when one is given and the option is not),
     * {@code get} reads it. Without {@code paramLabel}, usage help shows {@code PARAM}.
     */
    static <T> OptionSpec.Builder option(Class<T> type, Supplier<T> get, Consumer<T> set, String... names) {
        Binding<T> binding = new Binding<>(get, set);
        return OptionSpec.builder(names).type(type).getter(binding).setter(binding).hasInitialValue(false);
    }

    /**
     * A required positional parameter of type {@code type} at {@code index} (e.g. {@code "0"},
     * {@code "1..*"}) bound to a field, like {@link #option}; arity 1 (as picocli derives it for an
     * annotated single-valued field) unless changed (then also {@code required}).
     */
    static <T> PositionalParamSpec.Builder positional(String index, String paramLabel, Class<T> type, Supplier<T> get,
                                                      Consumer<T> set) {
        Binding<T> binding = new Binding<>(get, set);
        return PositionalParamSpec.builder().index(index).arity("1").required(true).paramLabel(paramLabel).type(type)
                .getter(binding).setter(binding).hasInitialValue(false);
    }

    /** A group of options: mutually exclusive or not, with picocli's multiplicity ({@code "0..1"}, {@code "1"}). */
    static ArgGroupSpec group(boolean exclusive, String multiplicity, OptionSpec... options) {
        ArgGroupSpec.Builder group = ArgGroupSpec.builder().exclusive(exclusive).multiplicity(multiplicity);
        for (OptionSpec o : options) {
            group.addArg(o);
        }
        return group.build();
    }

    /** A field as picocli's getter and setter. */
    private static final class Binding<T> implements IGetter, ISetter {
        private final Supplier<T> get;
        private final Consumer<T> set;

        Binding(Supplier<T> get, Consumer<T> set) {
            this.get = get;
            this.set = set;
        }

        @Override
        @SuppressWarnings("unchecked")
        public <V> V get() {
            return (V) get.get();
        }

        @Override
        @SuppressWarnings("unchecked")
        public <V> V set(V value) {
            V old = (V) get.get();
            set.accept((T) value);
            return old;
        }
    }
}
