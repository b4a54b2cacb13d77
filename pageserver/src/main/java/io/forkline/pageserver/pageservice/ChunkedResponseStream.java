package io.forkline.pageserver.pageservice;

import com.google.protobuf.ByteString;
import io.forkline.page.protocol.FrameDescriptor;
import io.forkline.page.protocol.proto.BasebackupChunk;
import io.forkline.page.protocol.proto.Response;
import io.forkline.page.protocol.proto.ServerMessage;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;

import java.io.IOException;
import java.io.OutputStream;

/**
 * The bytes of one streamed answer (a basebackup) as {@code BasebackupChunk} responses of
 * {@link FrameDescriptor#BASEBACKUP_CHUNK_BYTES} each, all carrying the request's id. Written from
 * a worker thread; when the socket's outbound buffer is above its high-water mark the writer waits
 * until the chunk is flushed, so memory stays bounded whatever the client's speed. The final chunk
 * ({@code last = true}) is not sent here: {@link #lastChunk()} returns it for the caller to send as
 * the request's answer.
 */
final class ChunkedResponseStream extends OutputStream {
    private final Channel channel;
    private final long requestId;
    private final long lsn;
    private final byte[] buf = new byte[FrameDescriptor.BASEBACKUP_CHUNK_BYTES];
    private int used;

    ChunkedResponseStream(Channel channel, long requestId, long lsn) {
        this.channel = channel;
        this.requestId = requestId;
        this.lsn = lsn;
    }

    @Override
    public void write(int b) throws IOException {
        if (used == buf.length) {
            send();
        }
        buf[used++] = (byte) b;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            if (used == buf.length) {
                send();
            }
            int n = Math.min(len, buf.length - used);
            System.arraycopy(b, off, buf, used, n);
            used += n;
            off += n;
            len -= n;
        }
    }

    private ServerMessage chunk(boolean last) {
        ServerMessage m = ServerMessage.newBuilder().setResponse(Response.newBuilder().setRequestId(requestId)
                .setLsn(lsn).setBasebackupChunk(BasebackupChunk.newBuilder()
                        .setData(ByteString.copyFrom(buf, 0, used)).setLast(last))).build();
        used = 0;
        return m;
    }

    private void send() throws IOException {
        if (!channel.isActive()) {
            throw new IOException("the client closed the connection");
        }
        ChannelFuture f = channel.writeAndFlush(chunk(false));
        if (!channel.isWritable()) {
            f.awaitUninterruptibly();
            if (!f.isSuccess()) {
                throw new IOException("cannot send basebackup chunk: " + f.cause(), f.cause());
            }
        }
    }

    /** The final chunk: what is buffered, with {@code last = true}. */
    ServerMessage lastChunk() {
        return chunk(true);
    }
}
