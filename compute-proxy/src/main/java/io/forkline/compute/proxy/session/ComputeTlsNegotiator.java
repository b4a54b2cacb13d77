package io.forkline.compute.proxy.session;

import io.forkline.compute.proxy.ComputeAddress;
import io.forkline.compute.proxy.tls.ComputeClientTls;
import io.forkline.compute.proxy.wire.PgWire;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The proxy's TLS handshake with a compute that requires it (a compute node's, see
 * {@link ComputeClientTls}): the first handler of the compute channel. Sends PostgreSQL's
 * {@code SSLRequest} ({@code int32 8 | int32 80877103}, {@code src/include/libpq/pqcomm.h}
 * {@code NEGOTIATE_SSL_CODE}), reads the one-byte answer, and on {@code 'S'} replaces itself with
 * Netty's {@link SslHandler} presenting the server's client certificate; once the handshake is
 * done it runs {@code afterHandshake} (which sends the StartupMessage). {@code 'N'}, anything else
 * or a failed handshake fails the client's session with a message naming the compute.
 */
final class ComputeTlsNegotiator extends ChannelInboundHandlerAdapter {
    static final String NAME = "compute-tls-negotiation";
    private static final int SSL_REQUEST_CODE = 80877103;
    private static final Map<ComputeClientTls, SslContext> CONTEXTS = new ConcurrentHashMap<>();

    private final ClientConnectionHandler client;
    private final ComputeAddress address;
    private final Runnable afterHandshake;

    ComputeTlsNegotiator(ClientConnectionHandler client, ComputeAddress address, Runnable afterHandshake) {
        this.client = client;
        this.address = address;
        this.afterHandshake = afterHandshake;
    }

    /** Writes the SSLRequest on {@code compute}, whose pipeline starts with this handler. */
    static void sendSslRequest(Channel compute) {
        compute.writeAndFlush(compute.alloc().buffer(8).writeInt(8).writeInt(SSL_REQUEST_CODE));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        try {
            if (in.readableBytes() != 1 || in.getByte(in.readerIndex()) != 'S') {
                String answer = in.readableBytes() == 0 ? "nothing" : in.readableBytes() == 1
                        ? "'" + (char) in.getByte(in.readerIndex()) + "'" : in.readableBytes() + " bytes";
                client.failAfterAuthentication(ctx.channel(), PgWire.CONNECTION_FAILURE, "the compute at " + address
                        + " refused TLS (answered " + answer + " to SSLRequest); it must accept the server's client certificate");
                return;
            }
        } finally {
            in.release();
        }
        SslContext context = CONTEXTS.computeIfAbsent(address.tls(), ComputeClientTls::nettyClientContext);
        SslHandler ssl = context.newHandler(ctx.alloc(), address.host(), address.port());
        ctx.pipeline().replace(this, "compute-tls", ssl);
        ssl.handshakeFuture().addListener(f -> {
            if (f.isSuccess()) {
                afterHandshake.run();
            } else {
                client.failAfterAuthentication(ctx.channel(), PgWire.CONNECTION_FAILURE, "TLS handshake with the compute at "
                        + address + " failed: " + f.cause().getMessage());
            }
        });
    }
}
