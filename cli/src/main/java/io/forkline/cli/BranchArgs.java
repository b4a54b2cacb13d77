package io.forkline.cli;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * {@code REF --tenant NAME}: the branch a command acts on ({@code @Mixin}, declared where the
 * command's REF parameter and {@code --tenant} option would be, so usage and error messages keep
 * their order).
 */
final class BranchArgs {
    @Parameters(paramLabel = "REF")
    String ref;

    @Mixin
    TenantOption tenant;

    /** {@code /v1/tenants/NAME/branches/REF}, both percent-encoded. */
    String path() {
        return AdminClient.branchPath(tenant.name(), ref);
    }
}
