package io.forkline.cli;

import picocli.CommandLine.Option;

/** The required {@code --tenant NAME} option, shared by every command that acts inside a tenant ({@code @Mixin}). */
final class TenantOption {
    @Option(names = "--tenant", required = true, paramLabel = "NAME")
    String name;

    /** {@code /v1/tenants/NAME}, the name percent-encoded. */
    String path() {
        return AdminClient.tenantPath(name);
    }
}
