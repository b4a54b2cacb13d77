package io.forkline.compute.proxy.tls;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;

import javax.net.ssl.SSLException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The proxy's server-side TLS context: TLS 1.3 and 1.2 through the JDK's provider (Netty
 * {@link io.netty.handler.ssl.SslHandler}), from a PEM certificate chain and PKCS#8 PEM key.
 */
public final class ProxyTls {
    private ProxyTls() {
    }

    /**
     * A server context from PEM files.
     *
     * @throws IllegalArgumentException naming the file when one is missing or unreadable as PEM
     */
    public static SslContext serverContext(Path certificate, Path key) {
        for (Path p : new Path[]{certificate, key}) {
            if (!Files.isReadable(p)) {
                throw new IllegalArgumentException("TLS file " + p + " does not exist or is not readable");
            }
        }
        try {
            return SslContextBuilder.forServer(certificate.toFile(), key.toFile())
                    .protocols("TLSv1.3", "TLSv1.2")
                    .build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot use TLS certificate " + certificate + " and key " + key + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * A server context from {@code <dir>/proxy.crt} and {@code <dir>/proxy.key}, generating a
     * self-signed pair there first when missing ({@link SelfSignedCertificate}).
     *
     * @throws IllegalArgumentException naming the directory when it cannot be written
     */
    public static SslContext selfSignedContext(Path dir) {
        try {
            Path[] files = SelfSignedCertificate.ensure(dir);
            return serverContext(files[0], files[1]);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot create a TLS certificate in " + dir + ": " + e.getMessage(), e);
        }
    }
}
