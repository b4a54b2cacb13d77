package io.forkline.pageserver.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/**
 * Where clients find a server's admin token: {@code <config-home>/tokens/<host>_<port>}, mode
 * {@code 0600}, one line. {@code <host>_<port>} is how the CLI names {@code $FORKLINE_URL}
 * ({@code http://127.0.0.1:9898} → {@code 127.0.0.1_9898}); the server binds 127.0.0.1, so it writes
 * {@code 127.0.0.1_<port>}.
 *
 * <p>The config home is the first of: environment {@code FORKLINE_CONFIG_HOME}; system property
 * {@code forkline.configHome} (the test suites point it into {@code target/}, so tests never write the
 * user's real {@code ~/.config}); {@code $XDG_CONFIG_HOME/forkline}; {@code $HOME/.config/forkline}.
 * The CLI resolves it by the same rule (its own copy, {@code io.forkline.cli.TokenDiscovery}: the
 * CLI does not depend on server classes). Stateless, thread-safe.
 */
public final class ClientTokenFiles {
    /** Environment variable that overrides the config home. */
    public static final String CONFIG_HOME_ENV = io.forkline.format.config.ConfigHome.ENV;
    /** System property that overrides the config home when {@link #CONFIG_HOME_ENV} is unset (tests). */
    public static final String CONFIG_HOME_PROPERTY = io.forkline.format.config.ConfigHome.PROPERTY;

    private ClientTokenFiles() {
    }

    /**
     * The config home for {@code env} (see the class comment).
     *
     * @param env the environment, e.g. {@code System.getenv()}
     */
    public static Path configHome(Map<String, String> env) {
        return io.forkline.format.config.ConfigHome.of(env);
    }


    /** {@code <config-home>/tokens/127.0.0.1_<port>}. */
    public static Path forLocalPort(Path configHome, int port) {
        return configHome.resolve("tokens").resolve("127.0.0.1_" + port);
    }

    /**
     * Writes {@code token} and a newline to {@code file} (mode {@code 0600}; directories it creates {@code 0700}).
     *
     * @throws IOException when it cannot be written
     */
    public static void write(Path file, String token) throws IOException {
        PrivateFiles.write(file, (token + "\n").getBytes(StandardCharsets.UTF_8));
    }
}
