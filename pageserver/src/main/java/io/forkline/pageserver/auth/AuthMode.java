package io.forkline.pageserver.auth;

/** Whether the server checks tokens: {@code forkline server --auth on|off} (default on). */
public enum AuthMode {
    /** Every admin API route but {@code GET /v1/status}, and every page service connection, needs a valid token. */
    ON,
    /** Nothing is checked; every caller is admin. For local experiments only; the server logs a warning at start. */
    OFF;

    /**
     * Parses {@code on} or {@code off} (any case).
     *
     * @throws IllegalArgumentException naming the value otherwise
     */
    public static AuthMode parse(String text) {
        if (text != null) {
            switch (text.strip().toLowerCase(java.util.Locale.ROOT)) {
                case "on":
                    return ON;
                case "off":
                    return OFF;
                default:
                    break;
            }
        }
        throw new IllegalArgumentException("invalid auth mode '" + text + "': expected on or off");
    }
}
