package io.forkline.pageserver.server;

import io.forkline.compute.proxy.PgProxyConfig;
import io.forkline.pageserver.access.ConnectionStrings;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/**
 * How the server's Postgres proxy ({@link io.forkline.compute.proxy.PgProxy}) listens, from the
 * system properties {@code forkline server} sets from its options:
 * <ul>
 *   <li>{@value ConnectionStrings#PORT_PROPERTY} ({@code --pg-port}, default 55432 there): the port;
 *   when the property is absent (a server embedded in a test or tool) an ephemeral port;</li>
 *   <li>{@value ConnectionStrings#HOST_PROPERTY} ({@code --pg-host}): the host printed in connection
 *   strings; the proxy listens on 127.0.0.1 when it is a loopback name, else on every address;</li>
 *   <li>{@value #TLS_CERT_PROPERTY} and {@value #TLS_KEY_PROPERTY} ({@code --tls-cert}, {@code --tls-key}):
 *   PEM files; without them a self-signed pair is generated in {@code <dataDir>/tls} at first start
 *   and reused.</li>
 * </ul>
 */
public final class PostgresProxySettings {
    /** System property: the proxy's PEM certificate ({@code --tls-cert}). */
    public static final String TLS_CERT_PROPERTY = "forkline.pg.tls.cert";
    /** System property: the proxy's PEM private key ({@code --tls-key}). */
    public static final String TLS_KEY_PROPERTY = "forkline.pg.tls.key";
    private static final Set<String> LOOPBACK = Set.of("127.0.0.1", "localhost", "::1", "[::1]");

    private PostgresProxySettings() {
    }

    /**
     * The proxy's configuration for a server on {@code dataDir}.
     *
     * @throws IllegalArgumentException naming the value when the port is not a port, or only one of
     *                                  the certificate and key is given
     */
    public static PgProxyConfig fromSystem(Path dataDir) {
        String portText = System.getProperty(ConnectionStrings.PORT_PROPERTY);
        int port;
        try {
            port = portText == null ? 0 : Integer.parseInt(portText.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid " + ConnectionStrings.PORT_PROPERTY + " '" + portText + "': expected 0..65535");
        }
        String host = System.getProperty(ConnectionStrings.HOST_PROPERTY, "127.0.0.1").strip().toLowerCase(Locale.ROOT);
        PgProxyConfig config = PgProxyConfig.of(LOOPBACK.contains(host) ? "127.0.0.1" : "0.0.0.0", port);
        String cert = System.getProperty(TLS_CERT_PROPERTY);
        String key = System.getProperty(TLS_KEY_PROPERTY);
        if ((cert == null) != (key == null)) {
            throw new IllegalArgumentException("--tls-cert and --tls-key go together, got "
                    + (cert == null ? "only --tls-key " + key : "only --tls-cert " + cert));
        }
        if (cert != null) {
            for (String f : new String[]{cert, key}) {
                if (!Files.isReadable(Path.of(f))) {
                    throw new IllegalArgumentException("TLS file " + f + " does not exist or is not readable");
                }
            }
            return config.withTlsFiles(Path.of(cert), Path.of(key));
        }
        return config.withSelfSignedTls(dataDir.resolve("tls"));
    }
}
