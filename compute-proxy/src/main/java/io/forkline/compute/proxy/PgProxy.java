package io.forkline.compute.proxy;

import io.forkline.compute.proxy.cancel.CancelKeys;
import io.forkline.compute.proxy.relay.KernelRelay;
import io.forkline.compute.proxy.session.ClientConnectionHandler;
import io.forkline.compute.proxy.session.ProxyContext;
import io.forkline.compute.proxy.session.ProxyTransport;
import io.forkline.compute.proxy.tls.ProxyTls;
import io.forkline.compute.proxy.wire.FrontendStartupDecoder;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.concurrent.TimeUnit;

/**
 * One PostgreSQL address for every endpoint: a Netty server speaking the frontend/backend protocol
 * 3.0 up to authentication, which routes each client to its endpoint's compute by endpoint id
 * (TLS SNI {@code <endpoint-id>.<domain>}, startup option {@code endpoint=<id>}, or a password
 * {@code endpoint=<id>;<password>}), authenticates it against the endpoint's SCRAM-SHA-256
 * verifier, wakes the compute through the {@link ComputeDirectory}, logs in to the compute (which
 * trusts its private socket), replaces the compute's cancel key with one of its own, and then
 * relays bytes both ways unchanged. See docs/ARCHITECTURE.md, "Postgres proxy".
 *
 * <p>Thread-safe. {@link #close()} stops listening and closes every connection.
 */
public final class PgProxy implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PgProxy.class);

    private final EventLoopGroup group;
    private final Channel server;
    private final ProxyContext context;

    private PgProxy(EventLoopGroup group, Channel server, ProxyContext context) {
        this.group = group;
        this.server = server;
        this.context = context;
    }

    /**
     * Starts listening.
     *
     * @param config    where to listen, TLS, timeouts
     * @param directory the endpoints and their computes
     * @return the running proxy
     * @throws IllegalArgumentException naming the file or directory when TLS cannot be set up
     * @throws IllegalStateException    naming the address when it cannot bind (e.g. the port is in use)
     */
    public static PgProxy start(PgProxyConfig config, ComputeDirectory directory) {
        SslContext ssl = config.tlsCertificate() != null ? ProxyTls.serverContext(config.tlsCertificate(), config.tlsKey())
                : config.tlsDirectory() != null ? ProxyTls.selfSignedContext(config.tlsDirectory()) : null;
        ProxyTransport transport = ProxyTransport.chosen();
        KernelRelay relay = null;
        if (config.kernelRelay()) {
            if (transport == ProxyTransport.EPOLL) {
                relay = KernelRelay.openOrNull();
            } else {
                log.info("kernel relay unavailable, the proxy relays in user space: the transport is {}, not epoll", transport);
            }
        }
        ProxyContext context = new ProxyContext(directory, config, ssl, new CancelKeys(), transport, new SecureRandom(),
                new ProxyContext.Stats(), relay);
        EventLoopGroup group = transport.newGroup(config.eventLoopThreads());
        try {
            Channel server = new ServerBootstrap().group(group)
                    .channel(transport.serverChannel())
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.SO_KEEPALIVE, true)
                    .childHandler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(ClientConnectionHandler.DECODER, new FrontendStartupDecoder());
                            ch.pipeline().addLast(ClientConnectionHandler.NAME, new ClientConnectionHandler(context));
                        }
                    })
                    .bind(config.bindHost(), config.port()).syncUninterruptibly().channel();
            PgProxy proxy = new PgProxy(group, server, context);
            boolean clientsCaptured = relay != null && relay.msgRelay() != null && relay.msgRelay().captureClients(proxy.port());
            log.info("Postgres proxy listening on {}:{} ({}, TLS {}, kernel relay {})", config.bindHost(), proxy.port(), transport,
                    ssl == null ? "off" : "on", relay == null ? "off" : clientsCaptured ? "on, local clients' sockets too" : "on");
            return proxy;
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            if (relay != null) {
                relay.close();
            }
            throw new IllegalStateException("cannot listen for Postgres clients on " + config.bindHost() + ":" + config.port()
                    + ": " + e.getMessage(), e);
        }
    }

    /** The TCP port it listens on (the configured one, or the ephemeral port chosen for 0). */
    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** Whether clients can ask for TLS. */
    public boolean tlsEnabled() {
        return context.sslContext() != null;
    }

    /** Counters since start. */
    public ProxyContext.Stats stats() {
        return context.stats();
    }

    /** Stops listening and closes every client and compute connection; waits up to 5 s. */
    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        if (context.kernelRelay() != null) {
            context.kernelRelay().close();
        }
    }

    /**
     * Whether local clients' own sockets are captured, so their bytes can go straight into a backend's
     * socket ({@link io.forkline.compute.proxy.relay.ClientSockets}).
     */
    public boolean clientSocketsCaptured() {
        return context.kernelRelay() != null && context.kernelRelay().msgRelay() != null
                && context.kernelRelay().msgRelay().capturesClients();
    }

    /** Whether spliced sessions may be relayed by the kernel (the relay loaded). */
    public boolean kernelRelayOn() {
        return context.kernelRelay() != null;
    }
}
