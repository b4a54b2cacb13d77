package io.forkline.format.config;

import java.nio.file.Path;
import java.util.Map;

/**
 * Forkline's per-user configuration directory, where servers write client token files
 * ({@code tokens/<host>_<port>}) and the CLI looks for them. The first of: environment
 * {@code FORKLINE_CONFIG_HOME}; system property {@code forkline.configHome} (the test suites point it
 * into {@code target/}, so tests never write the user's real {@code ~/.config}); {@code
 * $XDG_CONFIG_HOME/forkline}; {@code $HOME/.config/forkline} ({@code user.home} when {@code HOME} is
 * unset). Blank values count as unset. JDK only: used by the server and the CLI.
 */
public final class ConfigHome {
    /** Environment variable naming the config home directly. */
    public static final String ENV = "FORKLINE_CONFIG_HOME";
    /** System property that names it when {@link #ENV} is unset (tests). */
    public static final String PROPERTY = "forkline.configHome";

    private ConfigHome() {
    }

    /**
     * The config home for {@code env}.
     *
     * @param env the environment, e.g. {@code System.getenv()}
     * @return the directory (not created, may not exist)
     */
    public static Path of(Map<String, String> env) {
        String v = env.get(ENV);
        if (v != null && !v.isBlank()) {
            return Path.of(v);
        }
        v = System.getProperty(PROPERTY);
        if (v != null && !v.isBlank()) {
            return Path.of(v);
        }
        v = env.get("XDG_CONFIG_HOME");
        if (v != null && !v.isBlank()) {
            return Path.of(v, "forkline");
        }
        String home = env.get("HOME");
        if (home == null || home.isBlank()) {
            home = System.getProperty("user.home");
        }
        return Path.of(home, ".config", "forkline");
    }
}
