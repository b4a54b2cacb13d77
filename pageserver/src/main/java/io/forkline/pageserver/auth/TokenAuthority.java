package io.forkline.pageserver.auth;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Objects;

/**
 * The server's authentication state under {@code <data-dir>/auth/} (mode {@code 0700}):
 *
 * <pre>
 *   signing-key.jwk   the ES256 key pair ({@link SigningKey}), 0600, created at the first start
 *   admin.token       a never-expiring admin token, 0600, created at the first start, and re-created
 *                     when it is missing or no longer verifies (e.g. after the key was replaced)
 * </pre>
 *
 * At every start {@link #publishAdminToken} also writes the admin token to the client token file of
 * the admin port ({@link ClientTokenFiles}), so {@code forkline} commands on this machine find it.
 * The key and token exist whatever the {@link AuthMode}, so switching {@code --auth off} back on needs
 * no set-up. Thread-safe after {@link #open}.
 */
public final class TokenAuthority {
    /** The admin token's file name under the auth directory. */
    public static final String ADMIN_TOKEN_FILE = "admin.token";
    /** The auth directory's name under the data directory. */
    public static final String DIRECTORY = "auth";

    private static final Logger log = LoggerFactory.getLogger(TokenAuthority.class);

    private final Path dir;
    private final AuthMode mode;
    private final TokenIssuer issuer;
    private final TokenVerifier verifier;
    private final String adminToken;

    private TokenAuthority(Path dir, AuthMode mode, TokenIssuer issuer, TokenVerifier verifier, String adminToken) {
        this.dir = dir;
        this.mode = mode;
        this.issuer = issuer;
        this.verifier = verifier;
        this.adminToken = adminToken;
    }

    /**
     * Loads (or, at the first start, creates) the signing key and the admin token under
     * {@code dataDir/auth}. With {@link AuthMode#OFF} logs a warning that nothing is checked.
     *
     * @param clock for token times and expiry
     * @throws IOException when the directory, key or token cannot be read or written (the message names the file)
     */
    public static TokenAuthority open(Path dataDir, AuthMode mode, Clock clock) throws IOException {
        Objects.requireNonNull(mode, "mode");
        Path dir = dataDir.resolve(DIRECTORY);
        PrivateFiles.createDirectory(dir);
        SigningKey key = SigningKey.loadOrCreate(dir);
        TokenIssuer issuer = new TokenIssuer(key, clock);
        TokenVerifier checking = new TokenVerifier(key, clock);
        Path tokenFile = dir.resolve(ADMIN_TOKEN_FILE);
        String admin = readAdminToken(tokenFile, checking);
        if (admin == null) {
            admin = issuer.adminToken().token();
            PrivateFiles.write(tokenFile, (admin + "\n").getBytes(StandardCharsets.UTF_8));
            log.info("created admin token {}", tokenFile);
        }
        if (mode == AuthMode.OFF) {
            log.warn("authentication is OFF (--auth off): every client of the admin API and the page service is "
                    + "admin, without a token; use this only for local experiments");
        }
        return new TokenAuthority(dir, mode, issuer, mode == AuthMode.ON ? checking : TokenVerifier.disabled(), admin);
    }

    /** The file's token when it verifies as admin, else null (missing, or stale after a key change: logged). */
    private static String readAdminToken(Path file, TokenVerifier verifier) throws IOException {
        if (!Files.exists(file)) {
            return null;
        }
        if (PrivateFiles.isExposed(file)) {
            log.warn("{} could be read by other users; setting its mode to 0600", file);
            PrivateFiles.restrict(file);
        }
        String token = Files.readString(file, StandardCharsets.UTF_8).strip();
        try {
            if (verifier.verify(token).isAdmin()) {
                return token;
            }
            log.warn("{} does not hold an admin token; writing a new one", file);
        } catch (AuthException e) {
            log.warn("{} no longer verifies ({}); writing a new admin token", file, e.getMessage());
        }
        return null;
    }

    /**
     * Writes the admin token to the client token file of {@code port} on this machine
     * ({@link ClientTokenFiles#forLocalPort}). A failure is logged, not thrown: the server works
     * without it, and the token is still in {@link #adminTokenFile()}.
     *
     * @param env the environment that names the config home, e.g. {@code System.getenv()}
     * @return the file written, or null when it could not be written
     */
    public Path publishAdminToken(int port, java.util.Map<String, String> env) {
        Path file = ClientTokenFiles.forLocalPort(ClientTokenFiles.configHome(env), port);
        try {
            ClientTokenFiles.write(file, adminToken);
            log.info("admin token for http://127.0.0.1:{} written to {}", port, file);
            return file;
        } catch (IOException | RuntimeException e) {
            log.warn("cannot write the admin token to {} ({}); clients can use FORKLINE_TOKEN with the token in {}",
                    file, e.toString(), adminTokenFile());
            return null;
        }
    }

    /** Whether tokens are checked. */
    public AuthMode mode() {
        return mode;
    }

    /** Issues tenant and admin tokens with the server's key (also when authentication is off). */
    public TokenIssuer issuer() {
        return issuer;
    }

    /** The gate of every request: checks tokens with the server's key, or accepts anything when {@link AuthMode#OFF}. */
    public TokenVerifier verifier() {
        return verifier;
    }

    /** The never-expiring admin token (what {@link #adminTokenFile()} holds). */
    public String adminToken() {
        return adminToken;
    }

    /** {@code <data-dir>/auth/admin.token}. */
    public Path adminTokenFile() {
        return dir.resolve(ADMIN_TOKEN_FILE);
    }
}
