package io.forkline.cli;

import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code ID --tenant NAME}: the backup or backup schedule a command acts on ({@link #addTo}, called
 * where the command's ID parameter and {@code --tenant} option would be added).
 */
final class IdArgs {
    String id;

    final TenantOption tenant = new TenantOption();

    /** Adds {@code ID} (the first positional parameter) and {@code --tenant NAME} to the command {@code spec}. */
    void addTo(CommandSpec spec) {
        spec.addPositional(Specs.positional("0", "ID", String.class, () -> id, v -> id = v).build());
        tenant.addTo(spec);
    }
}
