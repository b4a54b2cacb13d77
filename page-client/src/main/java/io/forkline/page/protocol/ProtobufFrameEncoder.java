package io.forkline.page.protocol;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.MessageLite;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.EncoderException;
import io.netty.handler.codec.MessageToByteEncoder;

import java.io.IOException;

/**
 * Encodes a protobuf message as one frame ({@link FrameDescriptor}): the 4-byte big-endian body
 * length, then the message's bytes, written straight into one buffer of exactly that size.
 *
 * <pre>
 *  BEFORE ENCODE             AFTER ENCODE (4 + N bytes)
 *  +-------------+           +--------+----------------+
 *  | message (N) |  ----->   | N      | message bytes  |
 *  +-------------+           +--------+----------------+
 * </pre>
 *
 * Stateless: one instance may serve every channel.
 */
@ChannelHandler.Sharable
public final class ProtobufFrameEncoder extends MessageToByteEncoder<MessageLite> {
    public ProtobufFrameEncoder() {
        super(MessageLite.class);
    }

    @Override
    protected ByteBuf allocateBuffer(ChannelHandlerContext ctx, MessageLite msg, boolean preferDirect) {
        int size = FrameDescriptor.LENGTH_FIELD_BYTES + msg.getSerializedSize();
        return preferDirect ? ctx.alloc().ioBuffer(size, size) : ctx.alloc().heapBuffer(size, size);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, MessageLite msg, ByteBuf out) {
        int n = msg.getSerializedSize();
        out.writeInt(n);
        writeMessage(msg, n, out);
    }

    /** Writes the {@code n} bytes of {@code msg} at {@code out}'s writer index (which must have room) and advances it. */
    public static void writeMessage(MessageLite msg, int n, ByteBuf out) {
        try {
            if (out.hasArray()) {
                CodedOutputStream cos = CodedOutputStream.newInstance(out.array(), out.arrayOffset() + out.writerIndex(), n);
                msg.writeTo(cos);
                cos.checkNoSpaceLeft();
            } else {
                CodedOutputStream cos = CodedOutputStream.newInstance(out.nioBuffer(out.writerIndex(), n));
                msg.writeTo(cos);
                cos.flush();
            }
        } catch (IOException e) {
            throw new EncoderException("cannot encode " + msg.getClass().getSimpleName() + " of " + n + " bytes", e);
        }
        out.writerIndex(out.writerIndex() + n);
    }
}
