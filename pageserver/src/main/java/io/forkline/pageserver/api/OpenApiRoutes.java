package io.forkline.pageserver.api;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The OpenAPI 3.1 description of this admin API:
 *
 * <pre>
 *   GET /v1/openapi.json -> application/json (any valid token)
 * </pre>
 *
 * The document is the hand-written resource {@value #RESOURCE}; {@code OpenApiIT} checks that it
 * names exactly the routes the server registers, with their methods, path parameters and access
 * (public routes have {@code security: []}).
 */
public final class OpenApiRoutes implements Router.Module {
    /** Class-path location of the document. */
    public static final String RESOURCE = "io/forkline/pageserver/api/openapi.json";

    private final byte[] document;

    public OpenApiRoutes() {
        try (InputStream in = OpenApiRoutes.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the class path");
            }
            document = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + RESOURCE, e);
        }
    }

    @Override
    public void register(Router r) {
        r.add("GET", "/v1/openapi.json", Router.Access.AUTHENTICATED, q -> ApiResponse.raw("application/json", document));
    }
}
