package io.forkline.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The {@code --tenant NAME} option of every command that acts inside a tenant ({@code @Mixin}); when
 * it is not given, {@code $FORKLINE_TENANT} (of the command line's environment) names the tenant.
 */
final class TenantOption {
    /** The environment variable that names the tenant when {@code --tenant} is not given. */
    static final String ENV = "FORKLINE_TENANT";

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    @Option(names = "--tenant", paramLabel = "NAME", description = "the tenant (default: $FORKLINE_TENANT)")
    String option;

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
