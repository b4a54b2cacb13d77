package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;

/**
 * A small client of the admin HTTP API ({@code io.forkline.pageserver.api.AdminHttpServer}) at
 * {@code $FORKLINE_URL} (default {@code http://127.0.0.1:9898}), sending the token that
 * {@link TokenDiscovery} found as {@code Authorization: Bearer}. Failures become {@link CliException}
 * with the server's error message; a 401 also says where the token came from or where none was found.
 *
 * <p>Transport: the JDK's {@link HttpURLConnection} (keep-alive, no redirects followed). Not
 * {@code java.net.http.HttpClient}: in a fresh JVM that one costs about a second before the first
 * request (its selector thread, reactive plumbing and the default TLS context with the whole CA
 * store), which was most of what every command took; {@code HttpURLConnection} touches TLS only for
 * an {@code https} URL. Not thread-safe.
 */
final class AdminClient {
    static final String DEFAULT_URL = "http://127.0.0.1:9898";
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration REQUEST_TIMEOUT = Duration.ofMinutes(10);
    private static final Duration DOWNLOAD_TIMEOUT = Duration.ofHours(12);

    private final String base;
    private final TokenDiscovery.Credentials credentials;

    /**
     * @param base        {@code http(s)://HOST[:PORT]}
     * @param credentials the token to send (none: no {@code Authorization} header)
     */
    AdminClient(String base, TokenDiscovery.Credentials credentials) {
        this.base = base.replaceAll("/+$", "");
        this.credentials = java.util.Objects.requireNonNull(credentials, "credentials");
    }

    /** The server's base URL, {@code http(s)://HOST[:PORT]}. */
    String base() {
        return base;
    }

    /** The bearer token sent, or {@code null} when none was found. */
    String token() {
        return credentials.token();
    }

    /**
     * A client of {@code env.get("FORKLINE_URL")}, or of {@link #DEFAULT_URL} when it is unset or
     * blank, with the token {@link TokenDiscovery#discover} finds for it.
     */
    static AdminClient fromEnvironment(java.util.Map<String, String> env) {
        String url = env.get("FORKLINE_URL");
        String base = url == null || url.isBlank() ? DEFAULT_URL : checkUrl(url.strip());
        return new AdminClient(base, TokenDiscovery.discover(env, base));
    }

    /**
     * @throws CliException naming the value when it is not an {@code http(s)://HOST[:PORT]} URL
     */
    static String checkUrl(String url) {
        URI u;
        try {
            u = new URI(url);
        } catch (URISyntaxException e) {
            throw new CliException("invalid FORKLINE_URL '" + url + "': " + e.getReason() + " at index " + e.getIndex()
                    + "; expected http://HOST:PORT, e.g. " + DEFAULT_URL);
        }
        String scheme = u.getScheme();
        if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https")) || u.getHost() == null) {
            throw new CliException("invalid FORKLINE_URL '" + url + "': expected http://HOST:PORT, e.g. " + DEFAULT_URL);
        }
        return url;
    }

    /** One path segment, percent-encoded (a ref {@code feature/x} becomes {@code feature%2Fx}). */
    static String seg(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** {@code /v1/tenants/TENANT}, the name percent-encoded. */
    static String tenantPath(String tenant) {
        return "/v1/tenants/" + seg(tenant);
    }

    /** {@code /v1/tenants/TENANT/branches}. */
    static String branchesPath(String tenant) {
        return tenantPath(tenant) + "/branches";
    }

    /** {@code /v1/tenants/TENANT/branches/REF}, both percent-encoded. */
    static String branchPath(String tenant, String ref) {
        return branchesPath(tenant) + "/" + seg(ref);
    }

    JsonNode get(String path) {
        return send("GET", path, null);
    }

    JsonNode post(String path, Object body) {
        return send("POST", path, encode(body));
    }

    JsonNode put(String path, Object body) {
        return send("PUT", path, encode(body));
    }

    JsonNode delete(String path) {
        return send("DELETE", path, null);
    }

    /**
     * GETs a streamed (non-JSON) body into {@code out.part}, then renames it to {@code out}.
     *
     * @return the bytes written
     * @throws CliException with the server's message for an error status (nothing is left behind),
     *                      or when the transfer fails
     */
    long download(String path, Path out) {
        Path part = out.resolveSibling(out.getFileName() + ".part");
        URI u = uri(path);
        HttpURLConnection c = open("GET", u, DOWNLOAD_TIMEOUT);
        try {
            int status = connect(c);
            if (status >= 400) {
                throw new CliException(refusal(status, errorMessage(status, readAll(c.getErrorStream()))));
            }
            try (InputStream in = c.getInputStream()) {
                Files.copy(in, part, StandardCopyOption.REPLACE_EXISTING);
            }
            long size = Files.size(part);
            Files.move(part, out, StandardCopyOption.REPLACE_EXISTING);
            return size;
        } catch (IOException e) {
            try {
                Files.deleteIfExists(part);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw new CliException("download of " + u + " to " + out + " failed: " + e.getMessage());
        }
    }

    /** The server's error message; for 401 with where the token came from (or where none was found). */
    private String refusal(int status, String message) {
        if (status == 401) {
            return credentials.token() == null ? credentials.unauthorizedHint(base)
                    : credentials.unauthorizedHint(base) + ": " + message;
        }
        if (status == 403 && credentials.source() != null) {
            return message + " (token from " + credentials.source() + ")";
        }
        return message;
    }

    private URI uri(String path) {
        try {
            return URI.create(base + path);
        } catch (IllegalArgumentException e) {
            throw new CliException("invalid FORKLINE_URL '" + base + "': " + e.getMessage());
        }
    }

    /** {@code body} as a JSON request body. */
    private byte[] encode(Object body) {
        try {
            return Json.encode(body);
        } catch (IllegalArgumentException e) {
            throw new CliException("cannot encode request: " + e.getMessage());
        }
    }

    private CliException unreachable() {
        return new CliException("cannot reach the forkline server at " + base
                + " (start it with ./forkline server, or set FORKLINE_URL)");
    }

    /** An unconnected request: method, timeouts, no redirects; headers every request carries go here. */
    private HttpURLConnection open(String method, URI u, Duration timeout) {
        try {
            HttpURLConnection c = (HttpURLConnection) u.toURL().openConnection();
            c.setRequestMethod(method);
            c.setInstanceFollowRedirects(false);
            c.setConnectTimeout((int) CONNECT_TIMEOUT.toMillis());
            c.setReadTimeout((int) timeout.toMillis());
            c.setRequestProperty("Accept", "application/json");
            if (credentials.token() != null) {
                c.setRequestProperty("Authorization", "Bearer " + credentials.token());
            }
            return c;
        } catch (IOException | IllegalArgumentException e) {
            throw new CliException("invalid FORKLINE_URL '" + base + "': " + e.getMessage());
        }
    }

    /** Sends the request (its body, if any, already written) and returns the status. */
    private int connect(HttpURLConnection c) throws IOException {
        try {
            return c.getResponseCode();
        } catch (ConnectException e) {
            throw unreachable();
        }
    }

    /**
     * One request with an optional JSON body; the answer parsed as JSON ({@code {}} when empty).
     *
     * @throws CliException with the server's message for status 400 and above, when the server
     *                      cannot be reached, or when the answer is not JSON
     */
    private JsonNode send(String method, String path, byte[] body) {
        URI u = uri(path);
        HttpURLConnection c = open(method, u, REQUEST_TIMEOUT);
        int status;
        byte[] answer;
        try {
            if (body != null) {
                c.setDoOutput(true);
                c.setRequestProperty("Content-Type", "application/json");
                // buffered, not streaming mode: in streaming mode a 401 loses its error body
                try (OutputStream o = c.getOutputStream()) {
                    o.write(body);
                } catch (ConnectException e) {
                    throw unreachable();
                }
            }
            status = connect(c);
            answer = readAll(status >= 400 ? c.getErrorStream() : c.getInputStream());
        } catch (IOException e) {
            throw new CliException("request to " + u + " failed: " + e.getMessage());
        }
        JsonNode n;
        try {
            n = answer.length == 0 ? JsonNodeFactory.instance.objectNode() : Json.parse(answer);
        } catch (IOException e) {
            throw new CliException("server answered " + status + " with a body that is not JSON");
        }
        if (status >= 400) {
            throw new CliException(refusal(status, n.path("error").path("message").asText("HTTP " + status)));
        }
        return n;
    }

    /** The server's error message in a JSON error body, else {@code HTTP status}. */
    private String errorMessage(int status, byte[] body) {
        try {
            return Json.parse(body).path("error").path("message").asText("HTTP " + status);
        } catch (IOException | RuntimeException e) {
            return "HTTP " + status;
        }
    }

    /** All bytes of a response stream, closed after; {@code null} (no body) reads as empty. */
    private static byte[] readAll(InputStream in) throws IOException {
        if (in == null) {
            return new byte[0];
        }
        try (in) {
            return in.readAllBytes();
        }
    }
}
