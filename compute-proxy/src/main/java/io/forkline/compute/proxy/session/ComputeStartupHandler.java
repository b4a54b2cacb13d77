package io.forkline.compute.proxy.session;

import io.forkline.compute.proxy.ComputeAddress;
import io.forkline.compute.proxy.cancel.CancelKeys;
import io.forkline.compute.proxy.wire.PgWire;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;

import java.util.function.Consumer;

/**
 * The compute side of a session until its first ReadyForQuery: sits after a frame decoder that
 * yields whole backend messages ({@code byte1 type | int32 length | body}). Relays
 * AuthenticationOk, ParameterStatus, NoticeResponse and ErrorResponse to the client, replaces
 * BackendKeyData with a proxy-issued key ({@link CancelKeys}), refuses any other authentication
 * request (computes trust the proxy on their socket), and on ReadyForQuery relays it and splices
 * the two channels ({@link Splice}), in the kernel where it can
 * ({@link ClientConnectionHandler#relayInKernel}). Runs on the client channel's event loop.
 */
final class ComputeStartupHandler extends ChannelInboundHandlerAdapter {
    static final String FRAME_DECODER = "compute-frames";
    static final String NAME = "compute-startup";

    private final ClientConnectionHandler client;
    private final Channel clientChannel;
    private final ComputeAddress address;
    private final CancelKeys cancelKeys;
    private final Consumer<CancelKeys.Key> keyIssued;

    ComputeStartupHandler(ClientConnectionHandler client, Channel clientChannel, ComputeAddress address, CancelKeys cancelKeys,
                          Consumer<CancelKeys.Key> keyIssued) {
        this.client = client;
        this.clientChannel = clientChannel;
        this.address = address;
        this.cancelKeys = cancelKeys;
        this.keyIssued = keyIssued;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        char type = (char) frame.getUnsignedByte(frame.readerIndex());
        switch (type) {
            case 'R' -> {
                int code = frame.getInt(frame.readerIndex() + 5);
                if (code != PgWire.AUTH_OK) {
                    frame.release();
                    client.failAfterAuthentication(ctx.channel(), PgWire.CONNECTION_FAILURE, "the compute at " + address
                            + " asked for authentication (request code " + code + "); the proxy expects it to trust connections on its socket");
                    return;
                }
                clientChannel.write(frame);
            }
            case 'K' -> {
                int pid = frame.getInt(frame.readerIndex() + 5);
                int secret = frame.getInt(frame.readerIndex() + 9);
                frame.release();
                client.backendPid(pid);
                CancelKeys.Key key = cancelKeys.issue(new CancelKeys.Target(address, pid, secret));
                keyIssued.accept(key);
                clientChannel.write(PgWire.backendKeyData(clientChannel.alloc(), key.pid(), key.secret()));
            }
            case 'E' -> {
                client.computeRefused();
                clientChannel.writeAndFlush(frame);
                Splice.closeOnFlush(clientChannel);
                ctx.close();
            }
            case 'Z' -> {
                // before the client can see ReadyForQuery (and so send anything): no byte can pass the kernel relay
                ComputeFrameDecoder frames = (ComputeFrameDecoder) ctx.pipeline().get(FRAME_DECODER);
                client.relayInKernel(ctx.channel(), address.tls() == null && frames.buffered() == 0);
                clientChannel.writeAndFlush(frame);
                splice(ctx);
            }
            default -> clientChannel.write(frame);
        }
    }

    private void splice(ChannelHandlerContext ctx) {
        Channel compute = ctx.channel();
        ChannelPipeline pipeline = compute.pipeline();
        pipeline.addLast("splice", new Splice(clientChannel));
        pipeline.remove(this);
        pipeline.remove(FRAME_DECODER); // hands bytes after ReadyForQuery to the splice
        client.spliceTo(compute);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        clientChannel.flush();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        client.failAfterAuthentication(ctx.channel(), PgWire.CONNECTION_FAILURE,
                "the compute at " + address + " closed the connection during startup");
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        client.failAfterAuthentication(ctx.channel(), PgWire.CONNECTION_FAILURE,
                "connection to the compute at " + address + " failed during startup: " + cause.getMessage());
    }
}
