package io.forkline.compute.proxy.session;

import io.forkline.compute.proxy.ComputeDirectory;
import io.forkline.compute.proxy.PgProxyConfig;
import io.forkline.compute.proxy.cancel.CancelKeys;
import io.forkline.compute.proxy.relay.KernelRelay;
import io.netty.handler.ssl.SslContext;

import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What every connection of one proxy shares: the directory, the configuration, the TLS context
 * ({@code null} without TLS), the cancel keys, the transport and counters. Thread-safe.
 *
 * @param directory  endpoints and computes
 * @param config     the proxy's configuration
 * @param sslContext TLS, or {@code null}
 * @param cancelKeys proxy-issued cancel keys
 * @param transport  epoll or NIO
 * @param random     for SCRAM nonces
 * @param stats      counters
 * @param kernelRelay the kernel relay for spliced sessions, or {@code null} (user space only)
 */
public record ProxyContext(ComputeDirectory directory, PgProxyConfig config, SslContext sslContext, CancelKeys cancelKeys,
                           ProxyTransport transport, SecureRandom random, Stats stats, KernelRelay kernelRelay) {
    /** Counters since start. */
    public static final class Stats {
        /** Sessions spliced to a compute. */
        public final AtomicLong sessionsStarted = new AtomicLong();
        /** Connections refused with a FATAL error. */
        public final AtomicLong connectionsRefused = new AtomicLong();
        /** CancelRequests forwarded to a compute. */
        public final AtomicLong cancelsForwarded = new AtomicLong();
        /** Spliced sessions whose bytes the kernel relays ({@link KernelRelay}); the rest are relayed in user space. */
        public final AtomicLong sessionsKernelRelayed = new AtomicLong();
        /** Of {@link #sessionsKernelRelayed}: sessions relayed in the SK_MSG shape (a local compute on loopback TCP). */
        public final AtomicLong sessionsMsgRelayed = new AtomicLong();
        /**
         * Of {@link #sessionsMsgRelayed}: sessions whose client's own socket sends straight into the backend's
         * ({@link io.forkline.compute.proxy.relay.ClientSockets}).
         */
        public final AtomicLong sessionsClientDirect = new AtomicLong();
        /** Of {@link #sessionsClientDirect}: sessions whose client outran its budget, so its bytes took TCP from then on. */
        public final AtomicLong clientDirectFallbacks = new AtomicLong();
        /** SK_MSG sessions whose client stalled, so the backend's direction fell back to the kernel worker. */
        public final AtomicLong msgRelayFallbacks = new AtomicLong();
    }
}
