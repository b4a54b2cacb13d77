package io.forkline.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The {@code --tenant NAME} option of every command that acts inside a tenant ({@link #addTo}); when
 * it is not given, {@code $FORKLINE_TENANT} (of the command line's environment) names the tenant.
 */
final class TenantOption {
    /** The environment variable that names the tenant when {@code --tenant} is not given. */
    static final String ENV = "FORKLINE_TENANT";

    /** The command this option belongs to. */
    private CommandSpec mixee;

    String option;

    /** Adds {@code --tenant NAME} to the command {@code spec}. */
    void addTo(CommandSpec spec) {
        mixee = spec;
        spec.addOption(Specs.option(String.class, () -> option, v -> option = v, "--tenant").paramLabel("NAME")
                .description("the tenant (default: $FORKLINE_TENANT)").build());
    }

    /**
     * The tenant: {@code --tenant}, else {@code $FORKLINE_TENANT}.
     *
     * @throws CommandLine.ParameterException (a usage error, exit 2) when neither is set
     */
    String name() {
        if (option != null) {
            return option;
        }
        String env = Main.env(mixee).get(ENV);
        if (env != null && !env.isBlank()) {
            return env.strip();
        }
        throw new CommandLine.ParameterException(mixee.commandLine(),
                "Missing required option: '--tenant=NAME' (or set " + ENV + ")");
    }

    /** {@code /v1/tenants/NAME}, the name percent-encoded. */
    String path() {
        return AdminClient.tenantPath(name());
    }
}
