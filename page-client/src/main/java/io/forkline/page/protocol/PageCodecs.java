package io.forkline.page.protocol;

import io.forkline.page.protocol.proto.ClientMessage;
import io.forkline.page.protocol.proto.ServerMessage;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;

/**
 * Installs the page protocol's codec in a pipeline: Netty's {@link LengthFieldBasedFrameDecoder}
 * (4-byte length, stripped; frames above the maximum raise a
 * {@link io.netty.handler.codec.TooLongFrameException} as soon as the length is read, without
 * buffering the body), then {@link ProtobufFrameDecoder} for the inbound message type, and
 * {@link ProtobufFrameEncoder} outbound.
 */
public final class PageCodecs {
    private static final ProtobufFrameEncoder ENCODER = new ProtobufFrameEncoder();

    /** Handler names, for tests and for handlers inserted around them. */
    public static final String FRAME_DECODER = "frame-decoder";
    public static final String MESSAGE_DECODER = "message-decoder";
    public static final String ENCODER_NAME = "frame-encoder";

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
        p.addLast(ENCODER_NAME, ENCODER);
    }

    /**
     * The client side: decodes {@link ServerMessage}s, encodes {@link ClientMessage}s. Its frame
     * decoder gathers socket reads in a composite buffer: responses are 8 KiB pages, so nearly
     * every read ends inside a frame, and the default (merging) cumulation would copy each read
     * once more into a grown buffer.
     */
    public static void addClientCodec(ChannelPipeline p, int maxFrameBytes) {
        LengthFieldBasedFrameDecoder frames = frameDecoder(maxFrameBytes);
        frames.setCumulator(ByteToMessageDecoder.COMPOSITE_CUMULATOR);
        p.addLast(FRAME_DECODER, frames);
        p.addLast(MESSAGE_DECODER, new ProtobufFrameDecoder<>(ServerMessage.parser(), "ServerMessage"));
        p.addLast(ENCODER_NAME, ENCODER);
    }

    private static LengthFieldBasedFrameDecoder frameDecoder(int maxFrameBytes) {
        if (maxFrameBytes < 1) {
            throw new IllegalArgumentException("maxFrameBytes must be at least 1, got " + maxFrameBytes);
        }
        // failFast: the TooLongFrameException comes as soon as the length field is read
        return new LengthFieldBasedFrameDecoder(maxFrameBytes, 0, FrameDescriptor.LENGTH_FIELD_BYTES, 0,
                FrameDescriptor.LENGTH_FIELD_BYTES, true);
    }
}
