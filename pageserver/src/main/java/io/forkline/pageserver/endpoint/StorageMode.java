package io.forkline.pageserver.endpoint;

import java.util.Locale;

/**
 * How a compute's data directory is built: {@link #LAZY}, a FUSE mount whose relation blocks come
 * from the page service on first read (start cost independent of the database's size), or
 * {@link #FULL}, a complete basebackup written to local disk (start cost grows with the size).
 */
public enum StorageMode {
    LAZY, FULL;

    /** System property that sets the server's default ({@code lazy} or {@code full}). */
    public static final String PROPERTY = "forkline.compute.storage";
    /** Environment variable that sets it when the property is not set. */
    public static final String ENV = "FORKLINE_COMPUTE_STORAGE";

    /**
     * @throws IllegalArgumentException naming the value when it is neither {@code lazy} nor {@code full}
     */
    public static StorageMode parse(String text) {
        return switch (text.strip().toLowerCase(Locale.ROOT)) {
            case "lazy" -> LAZY;
            case "full" -> FULL;
            default -> throw new IllegalArgumentException("invalid storage '" + text + "': expected lazy or full");
        };
    }

    /** The server's default: {@link #PROPERTY}, else {@link #ENV}, else {@code fallback}. */
    public static StorageMode configured(StorageMode fallback) {
        String v = System.getProperty(PROPERTY, System.getenv(ENV));
        return v == null || v.isBlank() ? fallback : parse(v);
    }

    /** The API and CLI spelling. */
    public String apiName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
