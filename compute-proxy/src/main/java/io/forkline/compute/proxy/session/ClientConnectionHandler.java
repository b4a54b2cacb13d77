package io.forkline.compute.proxy.session;

import io.forkline.compute.proxy.ComputeAddress;
import io.forkline.compute.proxy.ComputeDirectory;
import io.forkline.compute.proxy.auth.ScramServerExchange;
import io.forkline.compute.proxy.cancel.CancelKeys;
import io.forkline.compute.proxy.relay.KernelRelay;
import io.forkline.compute.proxy.relay.ClientSockets;
import io.forkline.compute.proxy.relay.MsgRelay;
import io.forkline.compute.proxy.route.EndpointRoute;
import io.forkline.compute.proxy.wire.FrontendMessage;
import io.forkline.compute.proxy.wire.FrontendStartupDecoder;
import io.forkline.compute.proxy.wire.PgProtocolException;
import io.forkline.compute.proxy.wire.PgWire;
import io.forkline.compute.proxy.wire.StartupPacket;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.unix.UnixChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.SniCompletionEvent;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One client connection from its first byte until it is spliced to a compute: the startup phase
 * (SSLRequest, GSSENCRequest, CancelRequest, StartupMessage; PostgreSQL 15 {@code postmaster.c},
 * {@code ProcessStartupPacket}), routing by endpoint id ({@link EndpointRoute}), authentication
 * (SCRAM-SHA-256, or a cleartext password that carries the endpoint id), waking the compute, and
 * the compute's startup ({@link ComputeStartupHandler}). Every refusal is a FATAL ErrorResponse
 * followed by a close. Sits after a {@link FrontendStartupDecoder}; one instance per connection;
 * all methods run on the channel's event loop.
 */
public final class ClientConnectionHandler extends ChannelInboundHandlerAdapter {
    /** The pipeline name of the decoder before this handler. */
    public static final String DECODER = "startup-decoder";
    /** This handler's pipeline name. */
    public static final String NAME = "client";
    private static final Logger log = LoggerFactory.getLogger(ClientConnectionHandler.class);

    private enum State { STARTUP, SASL_FIRST, SASL_FINAL, PASSWORD, CONNECTING, SPLICED, CLOSING }

    private final ProxyContext proxy;
    private State state = State.STARTUP;
    private boolean tlsStarted;
    private String serverName;
    private StartupPacket.Startup startup;
    private String forwardedOptions;
    /** An endpoint-shaped SNI label that names no endpoint (for the error when no other route is given). */
    private String unknownSniId;
    private ComputeDirectory.Endpoint endpoint;
    private ScramServerExchange scram;
    private ScheduledFuture<?> authenticationTimer;
    private CancelKeys.Key cancelKey;
    private final AtomicBoolean sessionOpen = new AtomicBoolean();
    private Channel compute;
    /** Whether {@link #relayInKernel} paired this session's sockets in the SK_SKB shape (the client channel then stops reading). */
    private boolean skbRelayed;
    /** The compute's BackendKeyData pid (0 before it arrives): whose socket the SK_MSG shape takes. */
    private int backendPid;
    /** The compute connected to (set at connect). */
    private ComputeAddress computeAddress;
    /**
     * How often an SK_MSG session's client socket is checked for a stall ({@link MsgRelay#fallBackIfStalled}),
     * ms: system property {@code forkline.proxy.kernelRelay.stallCheckMillis} (a benchmark knob), default 20.
     */
    static final long STALL_CHECK_MILLIS = Math.max(1, Long.getLong("forkline.proxy.kernelRelay.stallCheckMillis", 20));
    /**
     * The same while the client socket had nothing unsent at the last check, ms: system property
     * {@code forkline.proxy.kernelRelay.idleCheckMillis}, default 100 (a backend that a client stalls
     * spins at most about this long before the fallback).
     */
    static final long IDLE_CHECK_MILLIS = Math.max(1, Long.getLong("forkline.proxy.kernelRelay.idleCheckMillis", 100));

    public ClientConnectionHandler(ProxyContext proxy) {
        this.proxy = proxy;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        long ms = proxy.config().authenticationTimeout().toMillis();
        authenticationTimer = ctx.executor().schedule(() -> {
            if (state.ordinal() < State.CONNECTING.ordinal()) {
                fail(ctx, PgWire.CONNECTION_FAILURE, "canceling authentication due to timeout (" + ms + " ms)", null);
            }
        }, ms, TimeUnit.MILLISECONDS);
        ctx.channel().closeFuture().addListener(f -> onClientClosed());
        ctx.fireChannelActive();
    }

    private void onClientClosed() {
        if (authenticationTimer != null) {
            authenticationTimer.cancel(false);
        }
        if (cancelKey != null) {
            proxy.cancelKeys().remove(cancelKey);
        }
        if (compute != null) {
            Splice.closeOnFlush(compute);
        }
        if (sessionOpen.compareAndSet(true, false)) {
            try {
                proxy.directory().sessionClosed(endpoint.endpointId());
            } catch (RuntimeException e) {
                log.warn("sessionClosed({}) failed", endpoint.endpointId(), e);
            }
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (state == State.CLOSING) {
            return;
        }
        try {
            if (msg instanceof StartupPacket p) {
                onStartupPacket(ctx, p);
            } else if (msg instanceof FrontendMessage m) {
                onMessage(ctx, m);
            } else {
                throw new IllegalStateException("unexpected " + msg);
            }
        } catch (PgProtocolException e) {
            fail(ctx, e.sqlState(), e.getMessage(), e.hint());
        }
    }

    private void onStartupPacket(ChannelHandlerContext ctx, StartupPacket packet) {
        if (state != State.STARTUP) {
            throw new PgProtocolException(PgWire.PROTOCOL_VIOLATION, "unexpected startup packet during authentication");
        }
        switch (packet) {
            case StartupPacket.SslRequest r -> {
                if (tlsStarted) {
                    throw new PgProtocolException(PgWire.PROTOCOL_VIOLATION, "SSLRequest after TLS was established");
                }
                if (proxy.sslContext() == null) {
                    ctx.writeAndFlush(Unpooled.wrappedBuffer(new byte[]{'N'}));
                    return;
                }
                ctx.writeAndFlush(Unpooled.wrappedBuffer(new byte[]{'S'}));
                tlsStarted = true;
                long handshakeTimeoutMs = proxy.config().authenticationTimeout().toMillis();
                ctx.pipeline().addFirst("tls", new SniHandler(host -> proxy.sslContext()) {
                    @Override
                    protected SslHandler newSslHandler(SslContext context, ByteBufAllocator allocator) {
                        SslHandler h = super.newSslHandler(context, allocator);
                        h.setHandshakeTimeoutMillis(handshakeTimeoutMs);
                        return h;
                    }
                });
            }
            case StartupPacket.GssEncRequest r -> ctx.writeAndFlush(Unpooled.wrappedBuffer(new byte[]{'N'}));
            case StartupPacket.CancelRequest c -> {
                state = State.CLOSING;
                forwardCancel(ctx, c);
                ctx.close();
            }
            case StartupPacket.Startup s -> onStartup(ctx, s);
        }
    }

    private void forwardCancel(ChannelHandlerContext ctx, StartupPacket.CancelRequest c) {
        CancelKeys.Target target = proxy.cancelKeys().lookup(c.pid(), c.secret());
        if (target == null) {
            log.debug("CancelRequest with an unknown key ignored");
            return;
        }
        proxy.stats().cancelsForwarded.incrementAndGet();
        Bootstrap cancel = new Bootstrap().group(ctx.channel().eventLoop())
                .channel(proxy.transport().channelFor(target.address()))
                .handler(new ChannelInboundHandlerAdapter());
        proxy.transport().connect(cancel, target.address())
                .addListener((ChannelFutureListener) f -> {
                    if (f.isSuccess()) {
                        f.channel().writeAndFlush(PgWire.cancelRequest(f.channel().alloc(), target.pid(), target.secret()))
                                .addListener(ChannelFutureListener.CLOSE);
                    } else {
                        log.warn("cannot forward a CancelRequest to {}: {}", target.address(), f.cause().toString());
                    }
                });
    }

    private void onStartup(ChannelHandlerContext ctx, StartupPacket.Startup s) {
        startup = s;
        ((FrontendStartupDecoder) ctx.pipeline().get(DECODER)).expectTypedMessages();
        if (s.minorVersion() > 0 || !s.protocolOptions().isEmpty()) {
            ctx.write(PgWire.negotiateProtocolVersion(ctx.alloc(), s.protocolOptions()));
        }
        EndpointRoute.Options options = EndpointRoute.Options.parse(s.parameters().get("options"));
        forwardedOptions = options.forwarded();
        Optional<String> sniId = EndpointRoute.fromServerName(serverName);
        String id = null;
        if (sniId.isPresent()) {
            ComputeDirectory.Endpoint e = proxy.directory().lookup(sniId.get());
            if (e != null) {
                if (options.endpointId() != null && !options.endpointId().equals(sniId.get())) {
                    throw new PgProtocolException(PgWire.CONNECTION_REJECTED, "the TLS server name names endpoint \""
                            + sniId.get() + "\" but options name endpoint \"" + options.endpointId() + "\"");
                }
                endpoint = e;
            } else {
                unknownSniId = sniId.get();
            }
        }
        if (endpoint == null && options.endpointId() != null) {
            id = options.endpointId();
            endpoint = lookup(id);
        }
        if (endpoint != null) {
            scram = new ScramServerExchange(endpoint.verifier(), proxy.random());
            state = State.SASL_FIRST;
            ctx.writeAndFlush(PgWire.authenticationSasl(ctx.alloc()));
        } else {
            state = State.PASSWORD;
            ctx.writeAndFlush(PgWire.authentication(ctx.alloc(), PgWire.AUTH_CLEARTEXT_PASSWORD, new byte[0]));
        }
    }

    private ComputeDirectory.Endpoint lookup(String id) {
        ComputeDirectory.Endpoint e = proxy.directory().lookup(id);
        if (e == null) {
            throw new PgProtocolException(PgWire.CONNECTION_REJECTED, "endpoint \"" + id + "\" does not exist");
        }
        return e;
    }

    private void onMessage(ChannelHandlerContext ctx, FrontendMessage m) {
        if (m.type() == 'X') {
            state = State.CLOSING;
            ctx.close();
            return;
        }
        if (m.type() != 'p' || state.ordinal() > State.PASSWORD.ordinal() || state == State.STARTUP) {
            throw new PgProtocolException(PgWire.PROTOCOL_VIOLATION,
                    "expected password response, got message type " + (int) m.type());
        }
        switch (state) {
            case SASL_FIRST -> {
                String serverFirst = scram.serverFirst(ScramServerExchange.parseInitialResponse(m.body()));
                state = State.SASL_FINAL;
                ctx.writeAndFlush(PgWire.authentication(ctx.alloc(), PgWire.AUTH_SASL_CONTINUE,
                        serverFirst.getBytes(StandardCharsets.UTF_8)));
            }
            case SASL_FINAL -> {
                String serverFinal = scram.verifyClientFinal(new String(m.body(), StandardCharsets.UTF_8));
                if (serverFinal == null) {
                    throw passwordFailed();
                }
                ctx.write(PgWire.authentication(ctx.alloc(), PgWire.AUTH_SASL_FINAL, serverFinal.getBytes(StandardCharsets.UTF_8)));
                authenticated(ctx);
            }
            case PASSWORD -> {
                byte[] b = m.body();
                int len = b.length > 0 && b[b.length - 1] == 0 ? b.length - 1 : b.length;
                String password = new String(b, 0, len, StandardCharsets.UTF_8);
                Optional<EndpointRoute.PasswordRoute> route = EndpointRoute.fromPassword(password);
                if (route.isEmpty()) {
                    if (unknownSniId != null) {
                        throw new PgProtocolException(PgWire.CONNECTION_REJECTED, "endpoint \"" + unknownSniId
                                + "\" (from the TLS server name) does not exist");
                    }
                    throw new PgProtocolException(PgWire.CONNECTION_REJECTED, "no endpoint id given", EndpointRoute.HOW_TO);
                }
                String id = route.get().endpointId();
                if (!EndpointRoute.looksLikeEndpointId(id)) {
                    throw new PgProtocolException(PgWire.CONNECTION_REJECTED, "endpoint id \"" + id
                            + "\" in the password is not an endpoint id (lowercase letters, digits and hyphens, at most 63)");
                }
                endpoint = lookup(id);
                if (!endpoint.verifier().matches(route.get().password().toCharArray())) {
                    throw passwordFailed();
                }
                authenticated(ctx);
            }
            default -> throw new IllegalStateException(state.toString());
        }
    }

    private PgProtocolException passwordFailed() {
        return new PgProtocolException(PgWire.INVALID_PASSWORD,
                "password authentication failed for user \"" + startup.parameters().get("user") + "\"");
    }

    /** The client proved the endpoint's password: wake its compute and connect. */
    private void authenticated(ChannelHandlerContext ctx) {
        state = State.CONNECTING;
        authenticationTimer.cancel(false);
        ctx.flush();
        ctx.channel().config().setAutoRead(false);
        String id = endpoint.endpointId();
        proxy.directory().sessionOpened(id);
        sessionOpen.set(true);
        if (!ctx.channel().isActive()) { // closed while we were here: the close listener ran already
            onClientClosed();
            return;
        }
        long timeoutMs = proxy.config().wakeTimeout().toMillis();
        proxy.directory().wake(id).orTimeout(timeoutMs, TimeUnit.MILLISECONDS).whenComplete((address, error) ->
                ctx.executor().execute(() -> {
                    if (error != null) {
                        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                        String message = cause instanceof TimeoutException
                                ? "the compute of endpoint \"" + id + "\" did not start within " + timeoutMs / 1000.0 + " s"
                                : cause instanceof ComputeDirectory.WakeException
                                ? cause.getMessage()
                                : "cannot start the compute of endpoint \"" + id + "\": " + cause;
                        fail(ctx, PgWire.CANNOT_CONNECT_NOW, message, null);
                    } else if (ctx.channel().isActive()) {
                        connect(ctx, address);
                    }
                }));
    }

    private void connect(ChannelHandlerContext ctx, ComputeAddress address) {
        Channel client = ctx.channel();
        computeAddress = address;
        Bootstrap b = new Bootstrap().group(client.eventLoop())
                .channel(proxy.transport().channelFor(address))
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (address.tls() != null) {
                            ch.pipeline().addLast(ComputeTlsNegotiator.NAME, new ComputeTlsNegotiator(
                                    ClientConnectionHandler.this, address, () -> ch.writeAndFlush(
                                    PgWire.startupMessage(ch.alloc(), computeStartupParameters()))));
                        }
                        ch.pipeline().addLast(ComputeStartupHandler.FRAME_DECODER, new ComputeFrameDecoder());
                        ch.pipeline().addLast(ComputeStartupHandler.NAME, new ComputeStartupHandler(
                                ClientConnectionHandler.this, client, address, proxy.cancelKeys(), k -> cancelKey = k));
                    }
                });
        if (!address.isUnix()) {
            b.option(ChannelOption.TCP_NODELAY, true);
        }
        proxy.transport().connect(b, address).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                fail(ctx, PgWire.CONNECTION_FAILURE, "cannot connect to the compute of endpoint \"" + endpoint.endpointId()
                        + "\" at " + address + ": " + f.cause().getMessage(), null);
                return;
            }
            compute = f.channel();
            if (!client.isActive()) {
                compute.close();
                return;
            }
            if (address.tls() != null) {
                ComputeTlsNegotiator.sendSslRequest(compute); // the StartupMessage follows the handshake
            } else {
                compute.writeAndFlush(PgWire.startupMessage(compute.alloc(), computeStartupParameters()));
            }
        });
    }

    /** user, database, application_name, the options left after routing, then the client's other parameters. */
    private Map<String, String> computeStartupParameters() {
        Map<String, String> p = new LinkedHashMap<>();
        Map<String, String> sent = startup.parameters();
        p.put("user", sent.get("user"));
        p.put("database", sent.getOrDefault("database", sent.get("user")));
        if (sent.containsKey("application_name")) {
            p.put("application_name", sent.get("application_name"));
        }
        if (forwardedOptions != null) {
            p.put("options", forwardedOptions);
        }
        sent.forEach((k, v) -> {
            if (!k.equals("options") && !k.startsWith("_pq_.")) {
                p.putIfAbsent(k, v);
            }
        });
        return p;
    }

    /**
     * The compute answered ReadyForQuery, not yet written to the client: hands the session to the
     * kernel when the proxy has a {@link KernelRelay}, both channels are epoll channels, neither speaks
     * TLS ({@code computeQuiet} says the compute has none and nothing after ReadyForQuery is buffered)
     * and the client has sent nothing undecoded. The client sends nothing before it gets ReadyForQuery
     * and the compute nothing before the client's next message, so no byte can be reordered.
     *
     * <p>A local compute on loopback TCP takes the SK_MSG shape ({@link MsgRelay}): each side's sends
     * are pushed into the other inside its own {@code sendmsg}; both channels keep reading, since they
     * receive bytes only once a direction fell back to TCP (a stalled client, a client over its byte
     * budget, a client whose socket was not captured), which {@link Splice} then relays with its
     * back-pressure. A periodic check on the client's event loop watches the stall and refills the
     * budget. Otherwise, only with {@link KernelRelay#SKB_PROPERTY}, the SK_SKB shape: both channels
     * stop reading (autoRead off: Netty drops EPOLLIN from their epoll interest, so the kernel's
     * data-ready wake-up that follows every redirected message no longer wakes the event loop);
     * EPOLLRDHUP, EPOLLHUP and EPOLLERR stay, so the {@link Splice} handlers still see EOF and errors
     * and close the other side. Either channel's close unpairs them.
     */
    void relayInKernel(Channel compute, boolean computeQuiet) {
        KernelRelay relay = proxy.kernelRelay();
        Channel client = clientChannel;
        if (relay == null || !computeQuiet || tlsStarted || !(client instanceof UnixChannel c) || !(compute instanceof UnixChannel k)
                || !client.isActive() || !compute.isActive()
                || client.pipeline().get(SslHandler.class) != null || compute.pipeline().get(SslHandler.class) != null) {
            return;
        }
        FrontendStartupDecoder decoder = (FrontendStartupDecoder) client.pipeline().get(DECODER);
        if (decoder == null || decoder.buffered() != 0) {
            return;
        }
        MsgRelay msg = relay.msgRelay();
        ComputeAddress address = computeAddress;
        if (msg != null && address != null && address.local() && backendPid > 0
                && client instanceof EpollSocketChannel && compute instanceof EpollSocketChannel computeTcp) {
            try {
                MsgRelay.Pair pair = msg.pair(c.fd().intValue(), computeTcp.localAddress().getPort(),
                        backendPid, address.port(), socketAddress(client.remoteAddress()), socketAddress(client.localAddress()));
                proxy.stats().sessionsKernelRelayed.incrementAndGet();
                proxy.stats().sessionsMsgRelayed.incrementAndGet();
                if (pair.clientDirect()) {
                    proxy.stats().sessionsClientDirect.incrementAndGet();
                }
                // both channels keep reading: they receive bytes only once a direction fell back to TCP
                int fdA = c.fd().intValue();
                ScheduledFuture<?>[] watch = new ScheduledFuture<?>[1];
                Runnable check = new Runnable() {
                    /** Whether the client's own socket still sends straight into the backend's (refill its budget). */
                    private boolean clientDirect = pair.clientDirect();
                    /** Whether the backend's bytes still go straight to the client socket (watch it for a stall). */
                    private boolean backendDirect = true;

                    @Override
                    public void run() {
                        // on the client's event loop, so fdA is still this channel's while it is open
                        if (!client.isOpen()) {
                            return;
                        }
                        if (clientDirect) {
                            ClientSockets.Budget budget;
                            try {
                                budget = msg.refillClientBudget(pair);
                            } catch (RuntimeException e) {
                                // the program still holds the session to its last limit and falls back past it
                                log.warn("kernel relay: cannot refill a client's budget, it takes TCP once that is spent: {}",
                                        e.getMessage());
                                budget = null;
                            }
                            if (budget == ClientSockets.Budget.FELL_BACK) {
                                proxy.stats().clientDirectFallbacks.incrementAndGet();
                            }
                            clientDirect = budget == ClientSockets.Budget.DIRECT;
                        }
                        int unsent = 0;
                        if (backendDirect) {
                            try {
                                unsent = msg.fallBackIfStalled(pair, fdA);
                            } catch (RuntimeException e) {
                                log.warn("kernel relay: cannot watch a client socket for a stall, its backend's bytes take"
                                        + " TCP and the proxy from now on: {}", e.getMessage());
                                msg.fallBack(pair);
                                unsent = -1;
                            }
                            if (unsent < 0) {
                                proxy.stats().msgRelayFallbacks.incrementAndGet();
                                backendDirect = false;
                                unsent = 0;
                            }
                        }
                        if (backendDirect || clientDirect) {
                            // often while the client lags behind, rarely while it keeps up (each check wakes the loop)
                            watch[0] = client.eventLoop().schedule(this, unsent > 0 ? STALL_CHECK_MILLIS : IDLE_CHECK_MILLIS,
                                    TimeUnit.MILLISECONDS);
                        }
                    }
                };
                watch[0] = client.eventLoop().schedule(check, STALL_CHECK_MILLIS, TimeUnit.MILLISECONDS);
                client.closeFuture().addListener(f -> {
                    watch[0].cancel(false);
                    msg.unpair(pair);
                });
                compute.closeFuture().addListener(f -> msg.unpair(pair));
                return;
            } catch (RuntimeException e) {
                log.warn("kernel relay: the SK_MSG shape refused a session, relaying it {}: {}",
                        KernelRelay.skbShapeRequested() ? "in the SK_SKB shape" : "in user space", e.getMessage());
            }
        }
        if (!KernelRelay.skbShapeRequested()) {
            return;
        }
        try {
            KernelRelay.Pair pair = relay.pair(c.fd().intValue(), k.fd().intValue(),
                    compute instanceof io.netty.channel.unix.DomainSocketChannel);
            proxy.stats().sessionsKernelRelayed.incrementAndGet();
            skbRelayed = true;
            compute.config().setAutoRead(false);
            client.closeFuture().addListener(f -> relay.unpair(pair));
            compute.closeFuture().addListener(f -> relay.unpair(pair));
        } catch (RuntimeException e) {
            log.warn("kernel relay refused a session, relaying it in user space: {}", e.getMessage());
        }
    }

    private static java.net.InetSocketAddress socketAddress(java.net.SocketAddress a) {
        return a instanceof java.net.InetSocketAddress i ? i : null;
    }

    /** The compute's BackendKeyData named its backend process (before ReadyForQuery). */
    void backendPid(int pid) {
        backendPid = pid;
    }

    /** The compute answered ReadyForQuery: relay bytes both ways from now on. */
    void spliceTo(Channel compute) {
        this.compute = compute;
        Channel client = computeClient();
        if (!client.isActive()) {
            compute.close();
            return;
        }
        state = State.SPLICED;
        proxy.stats().sessionsStarted.incrementAndGet();
        ChannelPipeline p = client.pipeline();
        p.addAfter(NAME, "splice", new Splice(compute));
        p.remove(this);
        p.remove(DECODER); // hands anything the client sent early to the splice
        client.config().setAutoRead(!skbRelayed);
    }

    private Channel clientChannel;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        clientChannel = ctx.channel();
    }

    private Channel computeClient() {
        return clientChannel;
    }

    /** The compute answered the login with an ErrorResponse (relayed to the client as it is). */
    void computeRefused() {
        state = State.CLOSING;
        proxy.stats().connectionsRefused.incrementAndGet();
    }

    /** The compute failed or refused before ReadyForQuery: tell the client, close both. */
    void failAfterAuthentication(Channel computeChannel, String sqlState, String message) {
        computeChannel.close();
        if (state == State.SPLICED || state == State.CLOSING) {
            return;
        }
        ChannelHandlerContext ctx = clientChannel.pipeline().context(this);
        if (ctx != null) {
            fail(ctx, sqlState, message, null);
        } else {
            clientChannel.close();
        }
    }

    private void fail(ChannelHandlerContext ctx, String sqlState, String message, String hint) {
        if (state == State.CLOSING || state == State.SPLICED) {
            return;
        }
        state = State.CLOSING;
        proxy.stats().connectionsRefused.incrementAndGet();
        log.debug("refusing {}: {} {}", ctx.channel().remoteAddress(), sqlState, message);
        if (ctx.channel().isActive()) {
            ctx.writeAndFlush(PgWire.fatal(ctx.alloc(), sqlState, message, hint)).addListener(ChannelFutureListener.CLOSE);
        }
        if (compute != null) {
            compute.close();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SniCompletionEvent sni) {
            serverName = sni.hostname();
        } else if (evt instanceof SslHandshakeCompletionEvent hs && !hs.isSuccess()) {
            log.debug("TLS handshake with {} failed: {}", ctx.channel().remoteAddress(), hs.cause().toString());
            state = State.CLOSING;
            ctx.close();
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable c = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (c instanceof PgProtocolException p) {
            fail(ctx, p.sqlState(), p.getMessage(), p.hint());
        } else {
            log.debug("connection from {} failed: {}", ctx.channel().remoteAddress(), c.toString());
            state = State.CLOSING;
            ctx.close();
        }
    }
}
