package io.forkline.page.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.EncoderException;
import io.netty.handler.codec.MessageToByteEncoder;

/**
 * Encodes a {@link ServerFrame} as a raw pages frame ({@link FrameDescriptor}, protocol version 2):
 * the flagged length word, the header's length and bytes, then the pages, written into one buffer
 * of exactly the frame's size (the pages' only copy on the server: from the page cache's arrays
 * into the socket's direct buffer; protobuf never sees them).
 *
 * <pre>
 *  BEFORE ENCODE                          AFTER ENCODE (8 + M + P bytes)
 *  +------------+-----------+             +------------+-----+--------------+-----------+
 *  | header (M) | pages (P) |  ----->     | 1|4+M+P    | M   | header bytes | pages     |
 *  +------------+-----------+             +------------+-----+--------------+-----------+
 * </pre>
 *
 * Stateless: one instance may serve every channel.
 */
@ChannelHandler.Sharable
public final class RawPagesFrameEncoder extends MessageToByteEncoder<ServerFrame> {
    public RawPagesFrameEncoder() {
        super(ServerFrame.class);
    }

    @Override
    protected ByteBuf allocateBuffer(ChannelHandlerContext ctx, ServerFrame msg, boolean preferDirect) {
        int size = frameBytes(msg);
        return preferDirect ? ctx.alloc().ioBuffer(size, size) : ctx.alloc().heapBuffer(size, size);
    }

    private static int frameBytes(ServerFrame msg) {
        long size = (long) FrameDescriptor.LENGTH_FIELD_BYTES + FrameDescriptor.HEADER_LENGTH_BYTES
                + msg.header().getSerializedSize() + msg.content().readableBytes();
        if (size - FrameDescriptor.LENGTH_FIELD_BYTES > Integer.MAX_VALUE >>> 1) {
            throw new EncoderException("raw pages frame of " + size + " bytes is too large");
        }
        return (int) size;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, ServerFrame msg, ByteBuf out) {
        int m = msg.header().getSerializedSize();
        int p = msg.content().readableBytes();
        out.writeInt(FrameDescriptor.RAW_PAGES_FLAG | (FrameDescriptor.HEADER_LENGTH_BYTES + m + p));
        out.writeInt(m);
        ProtobufFrameEncoder.writeMessage(msg.header(), m, out);
        out.writeBytes(msg.content(), msg.content().readerIndex(), p);
    }
}
