package io.forkline.pageserver.console;

import io.forkline.pageserver.api.ApiException;
import io.forkline.pageserver.api.ApiResponse;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The console's built files (module {@code console}: Vite's output under
 * {@value #ROOT} on the class path): {@code index.html} and {@code assets/<hashed name>}. Read once,
 * then served from memory. Thread-safe.
 */
public final class ConsoleAssets {
    /** Class-path folder of the built console. */
    public static final String ROOT = "io/forkline/console/web/";
    /** Content-Security-Policy of every console file: scripts and styles of this origin only. */
    public static final String CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
    private static final Pattern ASSET_NAME = Pattern.compile("[A-Za-z0-9._-]{1,200}");
    private static final Map<String, String> TYPES = Map.of(
            "html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8",
            "css", "text/css; charset=utf-8",
            "svg", "image/svg+xml",
            "png", "image/png",
            "ico", "image/x-icon",
            "woff2", "font/woff2",
            "json", "application/json");

    private final ClassLoader loader;
    private final Map<String, byte[]> cache = new ConcurrentHashMap<>();

    public ConsoleAssets() {
        this(ConsoleAssets.class.getClassLoader());
    }

    ConsoleAssets(ClassLoader loader) {
        this.loader = loader;
    }

    /** Whether the console was built into this server's class path. */
    public boolean available() {
        return loader.getResource(ROOT + "index.html") != null;
    }

    /**
     * {@code index.html}, never cached by the browser (it names the current hashed assets).
     *
     * @throws ApiException 503 when the console is not on the class path
     */
    public ApiResponse index() {
        byte[] b = load("index.html");
        if (b == null) {
            throw new ApiException(503, "console_missing", "the web console was not built into this server "
                    + "(module 'console': mvn package builds it with npm)");
        }
        return secure(ApiResponse.raw(TYPES.get("html"), b)).withHeader("Cache-Control", "no-cache");
    }

    /**
     * A file under {@code assets/}: names carry a content hash, so they are cached for a year.
     *
     * @throws ApiException 404 naming the file when there is no such asset or the name is not a plain file name
     */
    public ApiResponse asset(String name) {
        if (!ASSET_NAME.matcher(name).matches() || name.startsWith(".")) {
            throw ApiException.notFound("no such console asset: " + name);
        }
        byte[] b = load("assets/" + name);
        if (b == null) {
            throw ApiException.notFound("no such console asset: " + name);
        }
        int dot = name.lastIndexOf('.');
        String type = TYPES.getOrDefault(dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT),
                "application/octet-stream");
        return secure(ApiResponse.raw(type, b)).withHeader("Cache-Control", "public, max-age=31536000, immutable");
    }

    private static ApiResponse secure(ApiResponse r) {
        return r.withHeader("Content-Security-Policy", CSP)
                .withHeader("X-Content-Type-Options", "nosniff")
                .withHeader("X-Frame-Options", "DENY")
                .withHeader("Referrer-Policy", "no-referrer");
    }

    private byte[] load(String rel) {
        byte[] hit = cache.get(rel);
        if (hit != null) {
            return hit;
        }
        try (InputStream in = loader.getResourceAsStream(ROOT + rel)) {
            if (in == null) {
                return null;
            }
            byte[] b = in.readAllBytes();
            cache.put(rel, b);
            return b;
        } catch (IOException e) {
            throw new UncheckedIOException("reading console file " + rel, e);
        }
    }
}
