package io.forkline.page.protocol;

import io.forkline.page.protocol.proto.ClientMessage;
import io.forkline.page.protocol.proto.ServerMessage;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;

import java.nio.ByteOrder;

/**
 * Installs the page protocol's codec in a pipeline: Netty's {@link LengthFieldBasedFrameDecoder}
 * (4-byte length, stripped; frames above the maximum raise a
 * {@link io.netty.handler.codec.TooLongFrameException} as soon as the length is read, without
 * buffering the body), then {@link ProtobufFrameDecoder} for the inbound message type, and
 * {@link ProtobufFrameEncoder} outbound; the server also encodes {@link ServerFrame}s as raw pages
 * frames ({@link RawPagesFrameEncoder}), which the client's {@link ServerFrameDecoder} reads.
 */
public final class PageCodecs {
    private static final ProtobufFrameEncoder ENCODER = new ProtobufFrameEncoder();
    private static final RawPagesFrameEncoder RAW_ENCODER = new RawPagesFrameEncoder();

    /** Handler names, for tests and for handlers inserted around them. */
    public static final String FRAME_DECODER = "frame-decoder";
    public static final String MESSAGE_DECODER = "message-decoder";
    public static final String ENCODER_NAME = "frame-encoder";
    public static final String RAW_ENCODER_NAME = "raw-pages-encoder";

    private PageCodecs() {
    }

    /**
     * The server side: decodes {@link ClientMessage}s, encodes {@link ServerMessage}s.
     *
     * @param maxFrameBytes largest accepted body, bytes (at least 1)
     * @throws IllegalArgumentException when {@code maxFrameBytes} is below 1 (names it)
     */
    public static void addServerCodec(ChannelPipeline p, int maxFrameBytes) {
        p.addLast(FRAME_DECODER, frameDecoder(maxFrameBytes));
        p.addLast(MESSAGE_DECODER, new ProtobufFrameDecoder<>(ClientMessage.parser(), "ClientMessage"));
        p.addLast(RAW_ENCODER_NAME, RAW_ENCODER);
        p.addLast(ENCODER_NAME, ENCODER);
    }

    /**
     * The client side: decodes {@link ServerMessage}s and raw pages {@link ServerFrame}s (protocol
     * version 2), encodes {@link ClientMessage}s. Its frame
     * decoder gathers socket reads in a composite buffer: responses are 8 KiB pages, so nearly
     * every read ends inside a frame, and the default (merging) cumulation would copy each read
     * once more into a grown buffer.
     */
    public static void addClientCodec(ChannelPipeline p, int maxFrameBytes) {
        checkMax(maxFrameBytes);
        // the length word stays in the frame: its top bit marks a raw pages frame (protocol version 2)
        LengthFieldBasedFrameDecoder frames = new LengthFieldBasedFrameDecoder(maxFrameBytes, 0,
                FrameDescriptor.LENGTH_FIELD_BYTES, 0, 0, true) {
            @Override
            protected long getUnadjustedFrameLength(ByteBuf buf, int offset, int length, ByteOrder order) {
                return buf.getUnsignedInt(offset) & ~FrameDescriptor.RAW_PAGES_FLAG & 0xFFFF_FFFFL;
            }
        };
        frames.setCumulator(ByteToMessageDecoder.COMPOSITE_CUMULATOR);
        p.addLast(FRAME_DECODER, frames);
        p.addLast(MESSAGE_DECODER, new ServerFrameDecoder());
        p.addLast(ENCODER_NAME, ENCODER);
    }

    private static void checkMax(int maxFrameBytes) {
        if (maxFrameBytes < 1) {
            throw new IllegalArgumentException("maxFrameBytes must be at least 1, got " + maxFrameBytes);
        }
    }

    private static LengthFieldBasedFrameDecoder frameDecoder(int maxFrameBytes) {
        checkMax(maxFrameBytes);
        // failFast: the TooLongFrameException comes as soon as the length field is read
        return new LengthFieldBasedFrameDecoder(maxFrameBytes, 0, FrameDescriptor.LENGTH_FIELD_BYTES, 0,
                FrameDescriptor.LENGTH_FIELD_BYTES, true);
    }
}
