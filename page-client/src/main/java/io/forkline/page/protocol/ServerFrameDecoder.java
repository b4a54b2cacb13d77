package io.forkline.page.protocol;

import io.forkline.page.protocol.proto.GetPageResponse;
import io.forkline.page.protocol.proto.Response;
import io.forkline.page.protocol.proto.ServerMessage;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.MessageToMessageDecoder;

import java.util.List;

/**
 * The client's decoder of one server frame, length word included (as split by the client's frame
 * decoder, {@link PageCodecs#addClientCodec}): a plain frame becomes a {@link ServerMessage}; a
 * raw pages frame ({@link FrameDescriptor#RAW_PAGES_FLAG}, protocol version 2) becomes a
 * {@link ServerFrame} whose pages are a retained slice of the received bytes (no copy; the
 * receiver releases it).
 *
 * <pre>
 *  plain:  | N | ServerMessage (N)                         |  ----->  ServerMessage
 *  raw:    |1|N| M | ServerMessage (M) | raw_pages x 8192  |  ----->  ServerFrame(header, pages slice)
 * </pre>
 *
 * A raw pages frame is corrupt ({@link CorruptedFrameException}, naming the sizes; the client
 * closes the connection) when its body is shorter than the header length field, when M exceeds
 * the body, when the header does not parse or is not a GetPage response without inline pages, or
 * when {@code raw_pages x 8192} is not the number of bytes after the header.
 */
public final class ServerFrameDecoder extends MessageToMessageDecoder<ByteBuf> {
    public ServerFrameDecoder() {
        super(ByteBuf.class);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf frame, List<Object> out) {
        out.add(decodeFrame(frame));
    }

    /**
     * Decodes one whole server frame, length word included, as {@link #decode} does (shared with
     * {@link BlockingFrameCodec}, the blocking client's codec).
     *
     * @param frame the frame's bytes from the length word to the end of its body (consumed)
     * @return a {@link ServerMessage}, or for a raw pages frame a {@link ServerFrame} holding a
     *         retained slice of {@code frame} (the caller releases it)
     * @throws CorruptedFrameException as described on the class
     */
    public static Object decodeFrame(ByteBuf frame) {
        int word = frame.readInt();
        int n = frame.readableBytes();
        if ((word & FrameDescriptor.RAW_PAGES_FLAG) == 0) {
            return ProtobufFrameDecoder.parse(ServerMessage.parser(), "ServerMessage", frame, n);
        }
        if (n < FrameDescriptor.HEADER_LENGTH_BYTES) {
            throw new CorruptedFrameException("raw pages frame of " + n + " bytes is shorter than its header length field");
        }
        long m = frame.readUnsignedInt();
        int rest = n - FrameDescriptor.HEADER_LENGTH_BYTES;
        if (m > rest) {
            throw new CorruptedFrameException("raw pages frame of " + n + " bytes names a header of " + m
                    + " bytes, more than the " + rest + " bytes after the header length");
        }
        ServerMessage header = ProtobufFrameDecoder.parse(ServerMessage.parser(), "ServerMessage header", frame, (int) m);
        int pageBytes = rest - (int) m;
        GetPageResponse g = header.getResponse().getGetPage();
        if (header.getBodyCase() != ServerMessage.BodyCase.RESPONSE
                || header.getResponse().getBodyCase() != Response.BodyCase.GET_PAGE || g.getPagesCount() != 0
                || Integer.toUnsignedLong(g.getRawPages()) * FrameDescriptor.PAGE_BYTES != pageBytes) {
            throw new CorruptedFrameException("raw pages frame of " + n + " bytes is not a GetPage response of "
                    + Integer.toUnsignedLong(g.getRawPages()) + " raw pages matching its " + pageBytes
                    + " page bytes (header " + header.getBodyCase() + "/" + header.getResponse().getBodyCase()
                    + ", " + g.getPagesCount() + " inline pages)");
        }
        return new ServerFrame(header, frame.readRetainedSlice(pageBytes));
    }
}
