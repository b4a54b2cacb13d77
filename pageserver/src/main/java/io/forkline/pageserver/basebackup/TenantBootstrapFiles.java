package io.forkline.pageserver.basebackup;

import io.forkline.storage.id.TenantId;
import io.forkline.storage.store.PageStore;

import java.nio.charset.StandardCharsets;

/**
 * The per-tenant files kept from {@code initdb} that are not versioned by LSN, stored as
 * {@link PageStore} metadata records:
 *
 * <pre>
 *   pgcontrol/&lt;tenant&gt;   the original 8192-byte global/pg_control of initdb (system identifier,
 *                         checksum version, compile-time limits, GUC snapshot, auth nonce)
 *   pgconf/&lt;tenant&gt;      the effective (non-comment) lines of initdb's postgresql.conf
 *                         (locale, text search, time zone), UTF-8
 * </pre>
 *
 * Every basebackup of every timeline of the tenant starts its {@code pg_control} from the first and
 * its {@code postgresql.conf} from the second. Thread-safe (the store is).
 */
public final class TenantBootstrapFiles {
    /** Metadata name prefix of the original pg_control. */
    public static final String CONTROL_FILE_PREFIX = "pgcontrol/";
    /** Metadata name prefix of initdb's effective postgresql.conf settings. */
    public static final String CONFIG_PREFIX = "pgconf/";

    private TenantBootstrapFiles() {
    }

    /** Stores the tenant's original pg_control image (validated first), durably. */
    public static void putControlFile(PageStore store, TenantId tenant, byte[] pgControl) {
        ControlFileData.parse(pgControl);
        store.putMetadata(CONTROL_FILE_PREFIX + tenant.name(), pgControl.clone());
    }

    /**
     * The tenant's original pg_control.
     *
     * @throws BasebackupException when the tenant has none (it was not bootstrapped from initdb)
     * @throws InvalidControlFileException when the stored image is corrupt
     */
    public static ControlFileData controlFile(PageStore store, TenantId tenant) {
        byte[] b = store.getMetadata(CONTROL_FILE_PREFIX + tenant.name());
        if (b == null) {
            throw new BasebackupException("tenant " + tenant + " has no stored pg_control (metadata "
                    + CONTROL_FILE_PREFIX + tenant.name() + "): it was not bootstrapped by InitdbImporter");
        }
        return ControlFileData.parse(b);
    }

    /** Stores initdb's effective postgresql.conf lines, durably. */
    public static void putConfig(PageStore store, TenantId tenant, String settings) {
        store.putMetadata(CONFIG_PREFIX + tenant.name(), settings.getBytes(StandardCharsets.UTF_8));
    }

    /** initdb's effective postgresql.conf lines, or {@code ""} when none were stored. */
    public static String config(PageStore store, TenantId tenant) {
        byte[] b = store.getMetadata(CONFIG_PREFIX + tenant.name());
        return b == null ? "" : new String(b, StandardCharsets.UTF_8);
    }
}
