package io.forkline.compute.proxy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link PgProxy} listens and what it waits for.
 *
 * <p>TLS: with {@code tlsCertificate} and {@code tlsKey} (PEM; the key PKCS#8) those are used;
 * else with {@code tlsDirectory} a self-signed pair is generated there on first start and reused
 * ({@code proxy.crt}, {@code proxy.key}); with neither, SSLRequests are answered {@code 'N'}.
 *
 * @param bindHost              address to listen on, e.g. {@code 127.0.0.1} or {@code 0.0.0.0}
 * @param port                  TCP port; 0 = an ephemeral port ({@link PgProxy#port()} tells which)
 * @param tlsCertificate        PEM certificate chain, or {@code null}
 * @param tlsKey                PEM private key, or {@code null} (given together with the certificate)
 * @param tlsDirectory          where a self-signed pair lives when no files are given, or {@code null}
 * @param wakeTimeout           how long a client waits for {@link ComputeDirectory#wake} before a FATAL error
 * @param authenticationTimeout how long a client may take from connecting to being authenticated
 *                              (PostgreSQL's {@code authentication_timeout}, default 60 s)
 * @param eventLoopThreads      Netty event loop threads; 0 = Netty's default (2 x processors)
 * @param kernelRelay           whether spliced sessions may be relayed by the kernel (an eBPF sockmap,
 *                              {@link io.forkline.compute.proxy.relay.KernelRelay}) where it loads; default from the
 *                              system property {@code forkline.proxy.kernelRelay} (on unless {@code false})
 */
public record PgProxyConfig(String bindHost, int port, Path tlsCertificate, Path tlsKey, Path tlsDirectory,
                            Duration wakeTimeout, Duration authenticationTimeout, int eventLoopThreads, boolean kernelRelay) {
    /** The proxy's default port. */
    public static final int DEFAULT_PORT = 55432;
    /** The default bound of a wake. */
    public static final Duration DEFAULT_WAKE_TIMEOUT = Duration.ofSeconds(60);

    public PgProxyConfig {
        Objects.requireNonNull(bindHost, "bindHost");
        Objects.requireNonNull(wakeTimeout, "wakeTimeout");
        Objects.requireNonNull(authenticationTimeout, "authenticationTimeout");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("proxy port out of range (0 to 65535): " + port);
        }
        if ((tlsCertificate == null) != (tlsKey == null)) {
            throw new IllegalArgumentException("a TLS certificate and key go together, got certificate " + tlsCertificate
                    + " and key " + tlsKey);
        }
        if (wakeTimeout.isNegative() || wakeTimeout.isZero()) {
            throw new IllegalArgumentException("wake timeout must be positive, got " + wakeTimeout);
        }
        if (authenticationTimeout.isNegative() || authenticationTimeout.isZero()) {
            throw new IllegalArgumentException("authentication timeout must be positive, got " + authenticationTimeout);
        }
        if (eventLoopThreads < 0) {
            throw new IllegalArgumentException("event loop threads must be >= 0, got " + eventLoopThreads);
        }
    }

    /** {@code bindHost:port} without TLS, 60 s wake and authentication timeouts, default threads. */
    public static PgProxyConfig of(String bindHost, int port) {
        return new PgProxyConfig(bindHost, port, null, null, null, DEFAULT_WAKE_TIMEOUT, Duration.ofSeconds(60), 0,
                io.forkline.compute.proxy.relay.KernelRelay.requested());
    }

    /** This with TLS from the given PEM files. */
    public PgProxyConfig withTlsFiles(Path certificate, Path key) {
        return new PgProxyConfig(bindHost, port, certificate, key, null, wakeTimeout, authenticationTimeout, eventLoopThreads, kernelRelay);
    }

    /** This with TLS from a self-signed pair kept in {@code directory}. */
    public PgProxyConfig withSelfSignedTls(Path directory) {
        return new PgProxyConfig(bindHost, port, null, null, directory, wakeTimeout, authenticationTimeout, eventLoopThreads, kernelRelay);
    }

    /** This with another wake timeout. */
    public PgProxyConfig withWakeTimeout(Duration timeout) {
        return new PgProxyConfig(bindHost, port, tlsCertificate, tlsKey, tlsDirectory, timeout, authenticationTimeout, eventLoopThreads, kernelRelay);
    }

    /** This with another authentication timeout. */
    public PgProxyConfig withAuthenticationTimeout(Duration timeout) {
        return new PgProxyConfig(bindHost, port, tlsCertificate, tlsKey, tlsDirectory, wakeTimeout, timeout, eventLoopThreads, kernelRelay);
    }

    /** This with {@code threads} event loop threads. */
    public PgProxyConfig withEventLoopThreads(int threads) {
        return new PgProxyConfig(bindHost, port, tlsCertificate, tlsKey, tlsDirectory, wakeTimeout, authenticationTimeout, threads, kernelRelay);
    }

    /** This with the kernel relay allowed ({@code true}, where it loads) or off. */
    public PgProxyConfig withKernelRelay(boolean on) {
        return new PgProxyConfig(bindHost, port, tlsCertificate, tlsKey, tlsDirectory, wakeTimeout, authenticationTimeout, eventLoopThreads, on);
    }

    /** Whether clients can ask for TLS. */
    public boolean tlsEnabled() {
        return tlsCertificate != null || tlsDirectory != null;
    }
}
