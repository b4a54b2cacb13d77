package io.forkline.page.protocol;

import io.forkline.page.protocol.proto.ServerMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

import java.util.Objects;

/**
 * A raw pages frame ({@link FrameDescriptor#RAW_PAGES_FLAG}, protocol version 2): a
 * {@link ServerMessage} header (a GetPage response with {@code raw_pages} set) and the pages
 * themselves, {@code raw_pages x 8192} bytes in block order, outside protobuf.
 *
 * <p>Reference-counted through its pages buffer: whoever receives one releases it (Netty's
 * {@code SimpleChannelInboundHandler} does; an encoder releases what it wrote). On the client the
 * buffer is a slice of the socket's receive buffer: read the pages out before releasing it.
 */
public final class ServerFrame extends DefaultByteBufHolder {
    private final ServerMessage header;

    /**
     * @param header the response, whose {@code GetPageResponse.raw_pages} x 8192 must equal the pages' length
     * @param pages  the raw pages; ownership passes to this frame
     */
    public ServerFrame(ServerMessage header, ByteBuf pages) {
        super(pages);
        this.header = Objects.requireNonNull(header, "header");
    }

    /** The protobuf header (its {@code GetPageResponse} carries {@code raw_pages}, not the pages). */
    public ServerMessage header() {
        return header;
    }

    /** Page {@code i} of the frame (8192 bytes), copied into an array of its own. */
    public byte[] page(int i) {
        byte[] out = new byte[FrameDescriptor.PAGE_BYTES];
        content().getBytes(content().readerIndex() + i * FrameDescriptor.PAGE_BYTES, out);
        return out;
    }

    /** Pages in the frame. */
    public int pageCount() {
        return content().readableBytes() / FrameDescriptor.PAGE_BYTES;
    }

    @Override
    public ServerFrame replace(ByteBuf content) {
        return new ServerFrame(header, content);
    }

    @Override
    public String toString() {
        return "ServerFrame(" + header.getResponse().getRequestId() + ", " + pageCount() + " raw pages)";
    }
}
