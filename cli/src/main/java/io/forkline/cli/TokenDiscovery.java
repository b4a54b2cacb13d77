package io.forkline.cli;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Finds the token the CLI sends as {@code Authorization: Bearer <token>}: {@code $FORKLINE_TOKEN}
 * when set, else the token file of {@code $FORKLINE_URL}, {@code <config-home>/tokens/<host>_<port>}
 * (e.g. {@code ~/.config/forkline/tokens/127.0.0.1_9898}), which a server writes at every start with
 * its admin token. {@code localhost} is also looked up as {@code 127.0.0.1} (the server binds that
 * address and names its file after it).
 *
 * <p>The config home is the first of: {@code $FORKLINE_CONFIG_HOME}; system property
 * {@code forkline.configHome} (tests); {@code $XDG_CONFIG_HOME/forkline}; {@code $HOME/.config/forkline}.
 * The rule lives in {@link io.forkline.format.config.ConfigHome}, shared with the server's
 * {@code ClientTokenFiles} (module formats, so the CLI needs no server classes). Stateless, thread-safe.
 */
final class TokenDiscovery {
    static final String TOKEN_ENV = "FORKLINE_TOKEN";
    static final String CONFIG_HOME_ENV = io.forkline.format.config.ConfigHome.ENV;
    static final String CONFIG_HOME_PROPERTY = io.forkline.format.config.ConfigHome.PROPERTY;

    private TokenDiscovery() {
    }

    /**
     * Where the CLI's token came from, or where it was looked for.
     *
     * @param token  the token, or null when none was found
     * @param source {@code $FORKLINE_TOKEN} or the file it was read from; null when none was found
     * @param looked the files looked at (for the error message when there is no token)
     */
    record Credentials(String token, String source, List<Path> looked) {
        /** No token, nothing looked at (e.g. before a server exists). */
        static Credentials none() {
            return new Credentials(null, null, List.of());
        }

        /** What to tell a user whose request was refused with 401. */
        String unauthorizedHint(String url) {
            if (token == null) {
                String files = looked.isEmpty() ? "no token file" : "no token file at " + String.join(" or ",
                        looked.stream().map(Path::toString).toList());
                return "the server at " + url + " needs a token, and there is none: " + TOKEN_ENV + " is not set and "
                        + "there is " + files + ". A server writes that file when it starts on this machine; else set "
                        + TOKEN_ENV + " (the admin token is in the server's <data-dir>/auth/admin.token; tenant tokens "
                        + "come from 'forkline token create')";
            }
            return "token from " + source + " refused";
        }
    }

    /**
     * The token for {@code url} in {@code env}.
     *
     * @param url the server's base URL, already checked ({@code http(s)://HOST[:PORT]})
     * @throws CliException when a token file exists but cannot be read (the message names it)
     */
    static Credentials discover(Map<String, String> env, String url) {
        String t = env.get(TOKEN_ENV);
        if (t != null && !t.isBlank()) {
            return new Credentials(t.strip(), "$" + TOKEN_ENV, List.of());
        }
        List<Path> looked = new ArrayList<>();
        for (String name : fileNames(URI.create(url))) {
            Path file = configHome(env).resolve("tokens").resolve(name);
            looked.add(file);
            if (Files.isRegularFile(file)) {
                return new Credentials(read(file), file.toString(), List.copyOf(looked));
            }
        }
        return new Credentials(null, null, List.copyOf(looked));
    }

    /**
     * Reads a token file (first line, white space stripped).
     *
     * @throws CliException naming the file when it cannot be read or is empty
     */
    static String read(Path file) {
        String token;
        try {
            token = Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new CliException("cannot read the token file " + file + ": " + e.getMessage());
        }
        if (token.isEmpty()) {
            throw new CliException("the token file " + file + " is empty");
        }
        return token;
    }

    /** The config home for {@code env} (see the class comment). */
    static Path configHome(Map<String, String> env) {
        return io.forkline.format.config.ConfigHome.of(env);
    }


    /**
     * The token file names of {@code url}: {@code <host>_<port>} (port 80/443 when the URL has none;
     * characters other than {@code A-Z a-z 0-9 . -} of the host become {@code _}), then, for
     * {@code localhost}, {@code 127.0.0.1_<port>}.
     */
    static List<String> fileNames(URI url) {
        String host = url.getHost().replaceAll("^\\[|]$", "");
        int port = url.getPort() >= 0 ? url.getPort() : "https".equalsIgnoreCase(url.getScheme()) ? 443 : 80;
        String name = host.replaceAll("[^A-Za-z0-9.-]", "_") + "_" + port;
        if (host.equalsIgnoreCase("localhost")) {
            return List.of(name, "127.0.0.1_" + port);
        }
        return List.of(name);
    }
}
