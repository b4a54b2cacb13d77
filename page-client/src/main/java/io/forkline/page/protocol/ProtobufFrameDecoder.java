package io.forkline.page.protocol;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.MessageToMessageDecoder;

import java.io.IOException;
import java.util.List;

/**
 * Decodes one frame body (the bytes after the length prefix, as split by a
 * {@link io.netty.handler.codec.LengthFieldBasedFrameDecoder}) into one protobuf message.
 *
 * <pre>
 *  BEFORE DECODE (one frame body)        AFTER DECODE
 *  +--------------------------+          +---------------------+
 *  | protobuf bytes of a T    |  ----->  | T (e.g. ClientMessage) |
 *  +--------------------------+          +---------------------+
 * </pre>
 *
 * A body that does not parse raises a {@link CorruptedFrameException} naming the frame length and
 * the parser's reason; the stream stays consistent (the frame was consumed whole), but the caller
 * is expected to answer an error and close: the peer does not speak the protocol.
 *
 * @param <T> the message type
 */
public final class ProtobufFrameDecoder<T extends MessageLite> extends MessageToMessageDecoder<ByteBuf> {
    private final Parser<T> parser;
    private final String typeName;

    /**
     * @param parser   the message's parser, e.g. {@code ClientMessage.parser()}
     * @param typeName the message's name, for errors
     */
    public ProtobufFrameDecoder(Parser<T> parser, String typeName) {
        super(ByteBuf.class);
        this.parser = parser;
        this.typeName = typeName;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf frame, List<Object> out) {
        out.add(parse(parser, typeName, frame, frame.readableBytes()));
    }

    /**
     * Parses the next {@code length} bytes of {@code frame} as one message and skips them.
     *
     * @throws CorruptedFrameException when they are not a valid message (names the length and the reason)
     */
    static <T extends MessageLite> T parse(Parser<T> parser, String typeName, ByteBuf frame, int length) {
        try {
            T msg;
            if (frame.hasArray()) {
                msg = parser.parseFrom(frame.array(), frame.arrayOffset() + frame.readerIndex(), length);
                frame.skipBytes(length);
            } else if (frame.nioBufferCount() > 0) {
                // a direct buffer: parsed in place (a frame spanning components of a composite
                // cumulation is gathered into one buffer by nioBuffer), no stream copies
                msg = parser.parseFrom(CodedInputStream.newInstance(frame.nioBuffer(frame.readerIndex(), length)));
                frame.skipBytes(length);
            } else {
                msg = parser.parseFrom(new ByteBufInputStream(frame, length));
            }
            return msg;
        } catch (InvalidProtocolBufferException e) {
            throw new CorruptedFrameException("frame of " + length + " bytes is not a valid " + typeName + ": "
                    + e.getMessage(), e);
        } catch (IOException e) {
            throw new CorruptedFrameException("cannot read frame of " + length + " bytes: " + e.getMessage(), e);
        }
    }
}
