package io.forkline.cli;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * {@code ID --tenant NAME}: the backup or backup schedule a command acts on ({@code @Mixin},
 * declared where the command's ID parameter and {@code --tenant} option would be).
 */
final class IdArgs {
    @Parameters(paramLabel = "ID")
    String id;

    @Mixin
    TenantOption tenant;
}
