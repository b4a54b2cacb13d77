package io.forkline.pageserver.pageservice;

import io.forkline.page.protocol.PageCodecs;
import io.forkline.page.transport.Transport;
import io.forkline.pageserver.tenant.TenantService;
import io.forkline.storage.store.PageStore;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.GlobalEventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The page service: the page protocol ({@code forkline/page/v1/page_service.proto}) over TCP, served
 * with Netty on {@link PageServiceConfig#port()} (default 6400). Each connection is one session on
 * one timeline ({@link PageServiceHandler}); requests are pipelined and served on worker threads,
 * never on the event loops. Computes, the compute launcher and the {@code forkline page} commands
 * reach pages only through it.
 *
 * <p>{@link #close()} closes every connection, fails pending ingest waits and stops the threads.
 */
public final class PageService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PageService.class);

    private final PageStore store;
    private final TenantService tenants;
    private final SessionAuthorizer authorizer;
    private final PageServiceConfig config;
    private final TimelineReads reads;
    private final IngestWaiter ingestWaiter;
    private final ScheduledExecutorService timer;
    private final ExecutorService workers;
    private final ExecutorService basebackupWorkers;
    private final PageServiceMetrics metrics = new PageServiceMetrics();
    private final EventLoopGroup boss;
    private final EventLoopGroup io;
    private final ChannelGroup channels = new DefaultChannelGroup("page-service", GlobalEventExecutor.INSTANCE);
    private final ServerBootstrap bootstrap;
    private final int boundPort;
    private volatile Channel server;

    private PageService(PageStore store, TenantService tenants, SessionAuthorizer authorizer, PageServiceConfig config)
            throws IOException {
        this.store = store;
        this.tenants = tenants;
        this.authorizer = authorizer;
        this.config = config;
        this.reads = new TimelineReads(store);
        this.timer = Executors.newSingleThreadScheduledExecutor(threads("forkline-page-timer", true));
        this.ingestWaiter = new IngestWaiter(store, timer);
        this.workers = Executors.newFixedThreadPool(config.workerThreads(), threads("forkline-page-worker", true));
        this.basebackupWorkers = Executors.newFixedThreadPool(config.basebackupThreads(),
                threads("forkline-page-basebackup", true));
        Transport transport = Transport.chosen();
        this.boss = transport.newGroup(1, "forkline-page-accept");
        this.io = transport.newGroup(0, "forkline-page-io");
        this.bootstrap = new ServerBootstrap().group(boss, io).channel(transport.serverSocketChannel())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(1 << 20, 4 << 20))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        channels.add(ch);
                        metrics.connected();
                        ch.closeFuture().addListener(f -> metrics.disconnected());
                        PageCodecs.addServerCodec(ch.pipeline(), config.maxFrameBytes());
                        ch.pipeline().addLast("session", new PageServiceHandler(PageService.this));
                    }
                });
        try {
            this.server = bootstrap.bind(new InetSocketAddress(config.bindHost(), config.port())).syncUninterruptibly()
                    .channel();
        } catch (RuntimeException e) {
            ingestWaiter.close();
            shutdownThreads();
            throw new IOException("cannot listen for the page service on " + config.bindHost() + ":" + config.port()
                    + ": " + e.getMessage() + " (is another server using that port? choose one with --page-port)", e);
        }
        channels.add(server);
        this.boundPort = ((InetSocketAddress) server.localAddress()).getPort();
    }

    /**
     * Stops the page service as its clients see it: closes the listening socket and every client
     * connection (new connections are refused) while the server keeps running; {@link #listenAgain}
     * brings it back on the same port. For outage drills and tests.
     */
    public synchronized void stopListening() {
        Channel s = server;
        if (s != null) {
            server = null;
            s.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        closeConnections();
        log.warn("page service on {}:{} stopped listening", config.bindHost(), boundPort);
    }

    /**
     * Listens again on the port of the first start, after {@link #stopListening}.
     *
     * @throws IOException when the port cannot be bound again (names it)
     */
    public synchronized void listenAgain() throws IOException {
        if (server != null) {
            return;
        }
        try {
            server = bootstrap.bind(new InetSocketAddress(config.bindHost(), boundPort)).syncUninterruptibly().channel();
        } catch (RuntimeException e) {
            throw new IOException("cannot listen for the page service on " + config.bindHost() + ":" + boundPort + " again: "
                    + e.getMessage(), e);
        }
        channels.add(server);
        log.info("page service on {}:{} listening again", config.bindHost(), boundPort);
    }

    /**
     * Starts listening.
     *
     * @param authorizer checks each handshake's token for its tenant
     * @throws IOException when the port cannot be bound (the message names it)
     */
    public static PageService start(PageStore store, TenantService tenants, SessionAuthorizer authorizer,
                                    PageServiceConfig config) throws IOException {
        PageService s = new PageService(store, tenants, authorizer, config);
        log.info("page service on {}:{} ({} transport)", config.bindHost(), s.port(), Transport.chosen());
        return s;
    }

    /** The TCP port bound (the one chosen when the config said 0). */
    public int port() {
        return boundPort;
    }

    /** The address bound. */
    public String host() {
        return config.bindHost();
    }

    /** The service's counters. */
    public PageServiceMetrics metrics() {
        return metrics;
    }

    /**
     * Closes every client connection, not the listening socket: what a restart of the page service
     * looks like to its clients (they reconnect). Waits up to 5 s.
     */
    public void closeConnections() {
        for (Channel c : channels) {
            if (c != server) {
                c.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            }
        }
    }

    PageStore store() {
        return store;
    }

    TenantService tenants() {
        return tenants;
    }

    SessionAuthorizer authorizer() {
        return authorizer;
    }

    PageServiceConfig config() {
        return config;
    }

    TimelineReads reads() {
        return reads;
    }

    IngestWaiter ingestWaiter() {
        return ingestWaiter;
    }

    ExecutorService workers() {
        return workers;
    }

    ExecutorService basebackupWorkers() {
        return basebackupWorkers;
    }

    private static ThreadFactory threads(String prefix, boolean daemon) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(daemon);
            return t;
        };
    }

    @Override
    public void close() {
        try {
            channels.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        } finally {
            ingestWaiter.close();
            shutdownThreads();
        }
    }

    private void shutdownThreads() {
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        io.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        workers.shutdownNow();
        basebackupWorkers.shutdownNow();
        timer.shutdownNow();
        boss.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
        io.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
