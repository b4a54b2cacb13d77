package io.forkline.pageserver.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.forkline.pageserver.auth.TokenVerifier;
import io.forkline.pageserver.server.ServerVersion;

import java.time.Clock;
import java.time.Instant;

/**
 * The health check, the one route that needs no token:
 *
 * <pre>
 *   GET /v1/status -> {"status":"ok","version":"0.1.0-SNAPSHOT","started_at":"2026-...Z","uptime_seconds":12.345,"auth":"on"|"off","page_port":6400}
 * </pre>
 *
 * {@code uptime_seconds} is measured on the monotonic clock since this route module was made (at server
 * start); {@code started_at} is the server clock's time then. It reveals nothing about tenants.
 */
public final class StatusRoutes implements Router.Module {
    private final ObjectMapper json = new ObjectMapper();
    private final Instant startedAt;
    private final long startedNanos = System.nanoTime();
    private final String auth;
    private final int pagePort;

    /**
     * @param clock    the server's clock ({@code started_at})
     * @param verifier tells whether tokens are checked ({@code auth})
     */
    public StatusRoutes(Clock clock, TokenVerifier verifier) {
        this(clock, verifier, 0);
    }

    /**
     * @param pagePort the page service's TCP port, shown as {@code page_port} (0: not shown)
     */
    public StatusRoutes(Clock clock, TokenVerifier verifier, int pagePort) {
        this.pagePort = pagePort;
        this.startedAt = clock.instant();
        this.auth = verifier.enabled() ? "on" : "off";
    }

    @Override
    public void register(Router r) {
        r.add("GET", "/v1/status", Router.Access.PUBLIC, q -> {
            ObjectNode n = json.createObjectNode();
            n.put("status", "ok");
            n.put("version", ServerVersion.get());
            n.put("started_at", startedAt.toString());
            n.put("uptime_seconds", (System.nanoTime() - startedNanos) / 1e9);
            n.put("auth", auth);
            if (pagePort > 0) {
                n.put("page_port", pagePort);
            }
            return n;
        });
    }
}
