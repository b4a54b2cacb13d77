package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A small client of the admin HTTP API ({@code io.forkline.pageserver.api.AdminHttpServer}) at
 * {@code $FORKLINE_URL} (default {@code http://127.0.0.1:9898}), sending the token that
 * {@link TokenDiscovery} found as {@code Authorization: Bearer}. Failures become {@link CliException}
 * with the server's error message; a 401 also says where the token came from or where none was found.
 */
final class AdminClient {
    static final String DEFAULT_URL = "http://127.0.0.1:9898";

    private final String base;
    private final TokenDiscovery.Credentials credentials;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final ObjectMapper json = new ObjectMapper();

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
        return send(request(path).GET());
    }

    JsonNode post(String path, Object body) {
        return sendJson("POST", path, body);
    }

    JsonNode put(String path, Object body) {
        return sendJson("PUT", path, body);
    }

    JsonNode delete(String path) {
        return send(request(path).DELETE());
    }

    /**
     * GETs a streamed (non-JSON) body into {@code out.part}, then renames it to {@code out}.
     *
     * @return the bytes written
     * @throws CliException with the server's message for an error status (nothing is left behind),
     *                      or when the transfer fails
     */
    long download(String path, java.nio.file.Path out) {
        java.nio.file.Path part = out.resolveSibling(out.getFileName() + ".part");
        HttpRequest r = request(path).timeout(Duration.ofHours(12)).GET().build();
        try {
            HttpResponse<java.nio.file.Path> resp;
            try {
                resp = http.send(r, HttpResponse.BodyHandlers.ofFile(part));
            } catch (ConnectException e) {
                throw unreachable();
            }
            if (resp.statusCode() >= 400) {
                String message;
                try {
                    message = json.readTree(java.nio.file.Files.readAllBytes(part)).path("error").path("message")
                            .asText("HTTP " + resp.statusCode());
                } catch (IOException e) {
                    message = "HTTP " + resp.statusCode();
                }
                java.nio.file.Files.deleteIfExists(part);
                throw new CliException(refusal(resp.statusCode(), message));
            }
            long size = java.nio.file.Files.size(part);
            java.nio.file.Files.move(part, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            return size;
        } catch (IOException e) {
            try {
                java.nio.file.Files.deleteIfExists(part);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw new CliException("download of " + r.uri() + " to " + out + " failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("interrupted");
        }
    }

    /** A request of {@code path} with the token, if there is one. */
    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path));
        if (credentials.token() != null) {
            b.header("Authorization", "Bearer " + credentials.token());
        }
        return b;
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

    /** {@code method} with {@code body} encoded as a JSON request body. */
    private JsonNode sendJson(String method, String path, Object body) {
        HttpRequest.Builder req = request(path).header("Content-Type", "application/json");
        byte[] bytes;
        try {
            bytes = json.writeValueAsBytes(body);
        } catch (IOException e) {
            throw new CliException("cannot encode request: " + e.getMessage());
        }
        return send(req.method(method, HttpRequest.BodyPublishers.ofByteArray(bytes)));
    }

    private CliException unreachable() {
        return new CliException("cannot reach the forkline server at " + base
                + " (start it with ./forkline server, or set FORKLINE_URL)");
    }

    private JsonNode send(HttpRequest.Builder req) {
        HttpRequest r = req.timeout(Duration.ofMinutes(10)).build();
        HttpResponse<byte[]> resp;
        try {
            resp = http.send(r, HttpResponse.BodyHandlers.ofByteArray());
        } catch (ConnectException e) {
            throw unreachable();
        } catch (IOException e) {
            throw new CliException("request to " + r.uri() + " failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("interrupted");
        }
        JsonNode body;
        try {
            body = resp.body().length == 0 ? json.createObjectNode() : json.readTree(resp.body());
        } catch (IOException e) {
            throw new CliException("server answered " + resp.statusCode() + " with a body that is not JSON");
        }
        if (resp.statusCode() >= 400) {
            JsonNode err = body.path("error");
            throw new CliException(refusal(resp.statusCode(), err.path("message").asText("HTTP " + resp.statusCode())));
        }
        return body;
    }
}
