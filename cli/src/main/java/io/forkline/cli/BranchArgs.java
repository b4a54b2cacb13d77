package io.forkline.cli;

import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code REF --tenant NAME}: the branch a command acts on ({@link #addTo}, called where the
 * command's REF parameter and {@code --tenant} option would be added, so usage and error messages
 * keep their order).
 */
final class BranchArgs {
    String ref;

    final TenantOption tenant = new TenantOption();

    /** Adds {@code REF} (the first positional parameter) and {@code --tenant NAME} to the command {@code spec}. */
    void addTo(CommandSpec spec) {
        spec.addPositional(Specs.positional("0", "REF", String.class, () -> ref, v -> ref = v).build());
        tenant.addTo(spec);
    }

    /** {@code /v1/tenants/NAME/branches/REF}, both percent-encoded. */
    String path() {
        return AdminClient.branchPath(tenant.name(), ref);
    }
}
