package io.forkline.pageserver.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.forkline.pageserver.api.ApiException;
import io.forkline.pageserver.api.ApiRequest;
import io.forkline.pageserver.api.ApiResponse;
import io.forkline.pageserver.api.Router;
import io.forkline.pageserver.auth.AuthException;
import io.forkline.pageserver.auth.AuthScope;
import io.forkline.pageserver.auth.IssuedToken;
import io.forkline.pageserver.auth.TokenVerifier;
import io.forkline.pageserver.tenant.TenantService;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The web console's files and sign-in:
 *
 * <pre>
 *   GET    /                                   -> the console (index.html; public)
 *   GET    /assets/{file}                      -> its scripts and styles (public)
 *   GET    /console/signin?code=C              -> 303 to the console with the session cookie set (public);
 *                                                 a bad code: 303 to /#/signin?error=MESSAGE, no cookie
 *   POST   /v1/console/signin-links {"tenant"?} -> 201 {"path":"/console/signin?code=...","scope","expires_at"}
 *   POST   /v1/console/session {"token"}       -> {"scope","tenant","csrf_token","expires_at"} + session cookie (public)
 *   GET    /v1/console/session                 -> {"scope","tenant","auth","csrf_token"|null}
 *   DELETE /v1/console/session                 -> {} and the cookie removed
 * </pre>
 *
 * A sign-in link's session has the caller's scope, or, with {@code tenant}, that tenant's scope (an
 * admin may name any existing tenant, a tenant token only its own: 403 otherwise, 404 for an unknown
 * tenant). {@code POST /v1/console/session} (signing in by pasting a token) is public but refuses a
 * request whose {@code Origin} is not this server or whose body is not {@code application/json}
 * (a cross-site form cannot send that without a CORS preflight, which this server never grants), so
 * another site cannot sign a browser in. {@code csrf_token} is the value the console sends as
 * {@link ConsoleSessions#CSRF_HEADER}; it is {@code null} when the caller used a bearer token.
 */
public final class ConsoleRoutes implements Router.Module {
    private final ConsoleSessions sessions;
    private final TokenVerifier verifier;
    private final TenantService tenants;
    private final ConsoleAssets assets;
    private final ObjectMapper json = new ObjectMapper();

    public ConsoleRoutes(ConsoleSessions sessions, TokenVerifier verifier, TenantService tenants, ConsoleAssets assets) {
        this.sessions = sessions;
        this.verifier = verifier;
        this.tenants = tenants;
        this.assets = assets;
    }

    @Override
    public void register(Router r) {
        r.add("GET", "/", Router.Access.PUBLIC, q -> assets.index());
        r.add("GET", "/assets/{file}", Router.Access.PUBLIC, q -> assets.asset(q.param("file")));
        r.add("GET", "/console/signin", Router.Access.PUBLIC, this::signIn);
        r.add("POST", "/v1/console/signin-links", Router.Access.AUTHENTICATED, q -> {
            String tenant = q.text("tenant", false);
            AuthScope scope = q.scope();
            if (tenant != null) {
                scope.requireTenant(tenant);
                tenants.requireTenant(tenant);
                scope = AuthScope.forTenant(tenant);
            }
            ConsoleSessions.SignInLink link = sessions.createLink(scope);
            ObjectNode n = json.createObjectNode();
            n.put("path", link.path());
            n.put("scope", link.scope().claim());
            n.put("expires_at", link.expiresAt().toString());
            return ApiResponse.created(n);
        });
        r.add("POST", "/v1/console/session", Router.Access.PUBLIC, this::signInWithToken);
        r.add("GET", "/v1/console/session", Router.Access.AUTHENTICATED, q -> {
            ObjectNode n = session(q.scope());
            n.put("auth", verifier.enabled() ? "on" : "off");
            n.put("csrf_token", q.sessionCookie() == null ? null : sessions.csrfToken(q.sessionCookie()));
            return n;
        });
        r.add("DELETE", "/v1/console/session", Router.Access.AUTHENTICATED,
                q -> ApiResponse.ok(json.createObjectNode()).withHeader("Set-Cookie", sessions.clearedCookie()));
    }

    private ApiResponse signIn(ApiRequest q) {
        AuthScope scope;
        try {
            scope = sessions.redeem(q.query().get("code"));
        } catch (AuthException e) {
            return ApiResponse.seeOther("/#/signin?error=" + URLEncoder.encode(e.getMessage(), StandardCharsets.UTF_8))
                    .withHeader("Referrer-Policy", "no-referrer");
        }
        IssuedToken t = sessions.sessionToken(scope);
        String target = scope.tenant().map(n -> "/#/t/" + URLEncoder.encode(n, StandardCharsets.UTF_8)).orElse("/#/");
        return ApiResponse.seeOther(target)
                .withHeader("Set-Cookie", sessions.sessionCookie(t.token()))
                .withHeader("Referrer-Policy", "no-referrer")
                .withHeader("Cache-Control", "no-store");
    }

    private ApiResponse signInWithToken(ApiRequest q) throws AuthException {
        String type = q.header("Content-Type");
        if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/json")) {
            throw ApiException.badRequest("signing in needs Content-Type: application/json, got " + type);
        }
        String origin = q.header("Origin");
        String host = q.header("Host");
        if (origin != null && !origin.equals("http://" + host) && !origin.equals("https://" + host)) {
            throw AuthException.forbidden("signing in from origin " + origin + " is refused; open the console at http://" + host);
        }
        AuthScope scope = verifier.verify(q.text("token", true).strip());
        IssuedToken t = sessions.sessionToken(scope);
        ObjectNode n = session(scope);
        n.put("csrf_token", sessions.csrfToken(t.token()));
        n.put("expires_at", t.expiresAt().map(Object::toString).orElse(null));
        return ApiResponse.ok(n).withHeader("Set-Cookie", sessions.sessionCookie(t.token()))
                .withHeader("Cache-Control", "no-store");
    }

    private ObjectNode session(AuthScope scope) {
        ObjectNode n = json.createObjectNode();
        n.put("scope", scope.claim());
        n.put("tenant", scope.tenant().orElse(null));
        return n;
    }
}
