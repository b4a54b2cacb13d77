package io.forkline.compute.endpoint;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The size class of a compute: how much memory and how many connections its PostgreSQL gets
 * ({@code postgresql.conf} settings, see PostgreSQL's "Resource Consumption" and "Connections and
 * Authentication" chapters, {@code src/backend/utils/misc/guc.c} for the units).
 *
 * <pre>
 *   size  shared_buffers  max_connections  work_mem
 *   xs    64MB            20               4MB
 *   s     128MB           100              4MB      (the default)
 *   m     512MB           200              8MB
 *   l     2GB             400              16MB
 * </pre>
 *
 * WAL senders do not count against {@code max_connections} in PostgreSQL 15 (they have their own
 * {@code max_wal_senders} slots), so the ingest connection never takes a client's slot.
 */
public enum ComputeSize {
    XS("64MB", 20, "4MB"),
    S("128MB", 100, "4MB"),
    M("512MB", 200, "8MB"),
    L("2GB", 400, "16MB");

    /** The size a branch's compute runs with unless one is given. */
    public static final ComputeSize DEFAULT = S;

    private final String sharedBuffers;
    private final int maxConnections;
    private final String workMem;

    ComputeSize(String sharedBuffers, int maxConnections, String workMem) {
        this.sharedBuffers = sharedBuffers;
        this.maxConnections = maxConnections;
        this.workMem = workMem;
    }

    /** {@code shared_buffers}, as postgresql.conf takes it (e.g. {@code 128MB}). */
    public String sharedBuffers() {
        return sharedBuffers;
    }

    /** {@code max_connections}: client connections, superuser-reserved ones included. */
    public int maxConnections() {
        return maxConnections;
    }

    /** {@code work_mem} per sort/hash operation (e.g. {@code 4MB}). */
    public String workMem() {
        return workMem;
    }

    /** Lower-case API name: {@code xs}, {@code s}, {@code m}, {@code l}. */
    public String apiName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses an API name, case-insensitively.
     *
     * @throws IllegalArgumentException naming the value and the valid sizes when it is none of them
     */
    public static ComputeSize parse(String name) {
        if (name != null) {
            for (ComputeSize s : values()) {
                if (s.apiName().equalsIgnoreCase(name.strip())) {
                    return s;
                }
            }
        }
        throw new IllegalArgumentException("invalid compute size '" + name + "': expected one of "
                + Arrays.stream(values()).map(ComputeSize::apiName).collect(Collectors.joining(", ")));
    }
}
