package io.forkline.pageserver.console;

import io.forkline.pageserver.auth.AuthException;
import io.forkline.pageserver.auth.AuthScope;
import io.forkline.pageserver.auth.IssuedToken;
import io.forkline.pageserver.auth.TokenIssuer;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Browser sessions of the web console: single-use sign-in links, the session cookie and its CSRF
 * token.
 *
 * <ul>
 *   <li><b>Sign-in links</b> ({@code forkline console}): a random 256-bit code, valid for
 *       {@link #LINK_TTL} and for one use, remembered in memory only (a restart forgets pending
 *       links); at most {@link #MAX_PENDING_LINKS} pending at once.</li>
 *   <li><b>Session cookie</b> {@value #COOKIE}: a token of the signed-in scope issued by the server's
 *       {@link TokenIssuer} with a lifetime of {@link #SESSION_TTL}, sent as
 *       {@code HttpOnly; Secure; SameSite=Strict; Path=/} (browsers treat {@code http://127.0.0.1} and
 *       {@code localhost} as secure contexts, so {@code Secure} cookies work on the loopback admin port).
 *       The admin API accepts it wherever it accepts {@code Authorization: Bearer}.</li>
 *   <li><b>CSRF</b>: a cookie-authenticated request other than GET/HEAD must carry header
 *       {@value #CSRF_HEADER} = base64url(HMAC-SHA256(per-server-start key, session token)) (OWASP's
 *       "signed double-submit"), which only a page of this origin can learn (from
 *       {@code GET /v1/console/session}). Bearer-authenticated requests need none (a browser never
 *       adds that header by itself).</li>
 * </ul>
 * Thread-safe.
 */
public final class ConsoleSessions {
    /** The session cookie's name. */
    public static final String COOKIE = "forkline_session";
    /** The header that carries the CSRF token on cookie-authenticated state-changing requests. */
    public static final String CSRF_HEADER = "X-CSRF-Token";
    /** How long a sign-in link may wait for its one use. */
    public static final Duration LINK_TTL = Duration.ofMinutes(2);
    /** How long a console session (its cookie and token) lasts. */
    public static final Duration SESSION_TTL = Duration.ofHours(12);
    /** Pending sign-in links kept at most (expired ones are dropped first). */
    public static final int MAX_PENDING_LINKS = 1000;

    private final TokenIssuer issuer;
    private final Clock clock;
    private final byte[] csrfKey = new byte[32];
    private final SecureRandom random = new SecureRandom();
    private final Map<String, Pending> pending = new ConcurrentHashMap<>();

    private record Pending(AuthScope scope, Instant expiresAt) {
    }

    /** A sign-in link: {@code path} is relative to the admin server's base URL. */
    public record SignInLink(String path, AuthScope scope, Instant expiresAt) {
    }

    /**
     * @param issuer signs session tokens
     * @param clock  link and session expiry
     */
    public ConsoleSessions(TokenIssuer issuer, Clock clock) {
        this.issuer = Objects.requireNonNull(issuer, "issuer");
        this.clock = Objects.requireNonNull(clock, "clock");
        random.nextBytes(csrfKey);
    }

    /**
     * Makes a single-use sign-in link for a session of {@code scope}.
     *
     * @throws AuthException FORBIDDEN when {@link #MAX_PENDING_LINKS} unexpired links are pending
     */
    public SignInLink createLink(AuthScope scope) throws AuthException {
        Instant now = clock.instant();
        pending.values().removeIf(p -> !p.expiresAt().isAfter(now));
        if (pending.size() >= MAX_PENDING_LINKS) {
            throw AuthException.forbidden(MAX_PENDING_LINKS + " sign-in links are pending; wait "
                    + LINK_TTL.toMinutes() + " minutes for them to expire");
        }
        byte[] b = new byte[32];
        random.nextBytes(b);
        String code = Base64.getUrlEncoder().withoutPadding().encodeToString(b);
        Instant expires = now.plus(LINK_TTL);
        pending.put(code, new Pending(scope, expires));
        return new SignInLink("/console/signin?code=" + code, scope, expires);
    }

    /**
     * Uses up a sign-in link's code.
     *
     * @return the scope the link was made for
     * @throws AuthException UNAUTHORIZED when the code is unknown, already used or expired
     */
    public AuthScope redeem(String code) throws AuthException {
        Pending p = code == null ? null : pending.remove(code);
        if (p == null) {
            throw AuthException.unauthorized("this sign-in link is unknown or was already used; run 'forkline console' for a new one");
        }
        if (!p.expiresAt().isAfter(clock.instant())) {
            throw AuthException.unauthorized("this sign-in link expired at " + p.expiresAt()
                    + "; run 'forkline console' for a new one");
        }
        return p.scope();
    }

    /** A new session token of {@code scope}, valid for {@link #SESSION_TTL}. */
    public IssuedToken sessionToken(AuthScope scope) {
        return issuer.issue(scope, Optional.of(SESSION_TTL));
    }

    /** The {@code Set-Cookie} value that stores {@code token} as the session. */
    public String sessionCookie(String token) {
        return COOKIE + "=" + token + "; Path=/; Max-Age=" + SESSION_TTL.toSeconds() + "; HttpOnly; Secure; SameSite=Strict";
    }

    /** The {@code Set-Cookie} value that removes the session cookie. */
    public String clearedCookie() {
        return COOKIE + "=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict";
    }

    /**
     * The session token in a {@code Cookie} request header, or {@code null} when there is none.
     *
     * @param cookieHeader the header's value, may be {@code null}
     */
    public static String sessionFromCookieHeader(String cookieHeader) {
        if (cookieHeader == null) {
            return null;
        }
        for (String part : cookieHeader.split(";")) {
            String p = part.strip();
            if (p.startsWith(COOKIE + "=")) {
                String v = p.substring(COOKIE.length() + 1);
                return v.isEmpty() ? null : v;
            }
        }
        return null;
    }

    /** The CSRF token that belongs to session token {@code sessionToken} (base64url, 43 characters). */
    public String csrfToken(String sessionToken) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(csrfKey, "HmacSHA256"));
            return Base64.getUrlEncoder().withoutPadding()
                    .encodeToString(mac.doFinal(sessionToken.getBytes(StandardCharsets.US_ASCII)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from the JDK", e);
        }
    }

    /**
     * Checks the CSRF header of a cookie-authenticated state-changing request.
     *
     * @param header the {@value #CSRF_HEADER} header's value, may be {@code null}
     * @throws AuthException FORBIDDEN when it is missing or does not belong to the session
     */
    public void checkCsrf(String sessionToken, String header, String what) throws AuthException {
        if (header == null || header.isBlank()) {
            throw AuthException.forbidden(what + " is authenticated by the console's session cookie and needs the "
                    + CSRF_HEADER + " header (its value is csrf_token of GET /v1/console/session)");
        }
        byte[] want = csrfToken(sessionToken).getBytes(StandardCharsets.US_ASCII);
        if (!MessageDigest.isEqual(want, header.strip().getBytes(StandardCharsets.US_ASCII))) {
            throw AuthException.forbidden(what + ": the " + CSRF_HEADER
                    + " header does not belong to this session; reload the console");
        }
    }
}
