package io.forkline.page.protocol;

import io.forkline.page.protocol.proto.GetPageResponse;
import io.forkline.page.protocol.proto.RelSizeResponse;
import io.forkline.page.protocol.proto.Response;
import io.forkline.page.protocol.proto.ServerMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Raw pages frames (protocol version 2) through the server's encoder and the client's decoder on
 * {@link EmbeddedChannel}s: pages byte for byte, mixed with plain frames, split into any reads;
 * corrupt raw frames refused with their sizes named; every buffer released (and Netty's leak
 * detector on PARANOID meanwhile).
 */
class RawPagesFrameTest {
    private static ResourceLeakDetector.Level before;

    @BeforeAll
    static void paranoid() {
        before = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    }

    @AfterAll
    static void restore() {
        ResourceLeakDetector.setLevel(before);
    }

    private static byte[][] pages(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        byte[][] out = new byte[n][FrameDescriptor.PAGE_BYTES];
        for (byte[] p : out) {
            rnd.nextBytes(p);
        }
        return out;
    }

    private static ServerMessage header(long id, int rawPages) {
        return ServerMessage.newBuilder().setResponse(Response.newBuilder().setRequestId(id).setLsn(0x1_0000_0028L)
                .setGetPage(GetPageResponse.newBuilder().setRawPages(rawPages))).build();
    }

    private static EmbeddedChannel server() {
        EmbeddedChannel ch = new EmbeddedChannel();
        PageCodecs.addServerCodec(ch.pipeline(), FrameDescriptor.DEFAULT_MAX_FRAME_BYTES);
        return ch;
    }

    private static EmbeddedChannel client(int max) {
        EmbeddedChannel ch = new EmbeddedChannel();
        PageCodecs.addClientCodec(ch.pipeline(), max);
        return ch;
    }

    /** Encodes on the server codec, returns the frame bytes (the caller releases them). */
    private static ByteBuf encode(EmbeddedChannel server, Object msg) {
        assertThat(server.writeOutbound(msg)).isTrue();
        ByteBuf all = Unpooled.buffer();
        for (ByteBuf b; (b = server.readOutbound()) != null; ) {
            all.writeBytes(b);
            b.release();
        }
        return all;
    }

    @Test
    void rawFramesAndPlainFramesInterleavedRoundTripEvenWhenSplitIntoSmallReads() {
        EmbeddedChannel server = server();
        EmbeddedChannel client = client(FrameDescriptor.DEFAULT_MAX_FRAME_BYTES);
        byte[][] one = pages(1, 1);
        byte[][] many = pages(FrameDescriptor.MAX_BLOCKS_PER_GET_PAGE, 2);
        ServerMessage plain = ServerMessage.newBuilder().setResponse(Response.newBuilder().setRequestId(2)
                .setRelSize(RelSizeResponse.newBuilder().setNblocks(7))).build();
        ByteBuf wire = Unpooled.buffer();
        ServerFrame f1 = new ServerFrame(header(1, 1), Unpooled.wrappedBuffer(one));
        ByteBuf b1 = encode(server, f1);
        assertThat(f1.refCnt()).as("the encoder released the frame").isZero();
        assertThat(b1.getInt(0)).isEqualTo(FrameDescriptor.RAW_PAGES_FLAG
                | (4 + header(1, 1).getSerializedSize() + FrameDescriptor.PAGE_BYTES));
        assertThat(b1.getInt(4)).isEqualTo(header(1, 1).getSerializedSize());
        wire.writeBytes(b1);
        b1.release();
        ByteBuf b2 = encode(server, plain);
        wire.writeBytes(b2);
        b2.release();
        ByteBuf b3 = encode(server, new ServerFrame(header(3, many.length), Unpooled.wrappedBuffer(many)));
        wire.writeBytes(b3);
        b3.release();

        List<Object> got = new ArrayList<>();
        SplittableRandom rnd = new SplittableRandom(9);
        while (wire.isReadable()) {
            client.writeInbound(wire.readRetainedSlice(Math.min(wire.readableBytes(), 1 + rnd.nextInt(20_000))));
            for (Object m; (m = client.readInbound()) != null; ) {
                got.add(m);
            }
        }
        assertThat(got).hasSize(3);
        ServerFrame r1 = (ServerFrame) got.get(0);
        assertThat(r1.header()).isEqualTo(header(1, 1));
        assertThat(r1.pageCount()).isEqualTo(1);
        assertThat(r1.page(0)).isEqualTo(one[0]);
        assertThat(got.get(1)).isEqualTo(plain);
        ServerFrame r3 = (ServerFrame) got.get(2);
        assertThat(r3.pageCount()).isEqualTo(many.length);
        for (int i = 0; i < many.length; i++) {
            assertThat(r3.page(i)).as("page %d", i).isEqualTo(many[i]);
        }
        r1.release(); // slices share the count of what they slice: true only for the last holder
        r3.release();
        assertThat(client.finishAndReleaseAll()).isFalse();
        assertThat(server.finishAndReleaseAll()).isFalse();
        // the pages were slices of the received bytes: with the frames released, so is every read
        assertThat(wire.release()).as("every received byte released").isTrue();
    }

    /** A raw pages frame with the given header length field, header and page bytes. */
    private static ByteBuf rawFrame(long headerLengthField, ServerMessage header, int pageBytes) {
        byte[] h = header.toByteArray();
        ByteBuf b = Unpooled.buffer();
        b.writeInt(FrameDescriptor.RAW_PAGES_FLAG | (4 + h.length + pageBytes));
        b.writeInt((int) headerLengthField);
        b.writeBytes(h);
        b.writeZero(pageBytes);
        return b;
    }

    private static void assertCorrupt(ByteBuf frame, String messagePart) {
        EmbeddedChannel client = client(FrameDescriptor.DEFAULT_MAX_FRAME_BYTES);
        assertThatThrownBy(() -> client.writeInbound(frame))
                .isInstanceOfAny(CorruptedFrameException.class, DecoderException.class)
                .hasMessageContaining(messagePart);
        assertThat(frame.refCnt()).isZero();
        client.finishAndReleaseAll();
    }

    @Test
    void corruptRawFramesAreRefusedNamingTheirSizes() {
        int h = header(1, 1).getSerializedSize();
        assertCorrupt(rawFrame(h + 8193, header(1, 1), 8192), "names a header of " + (h + 8193) + " bytes");
        assertCorrupt(rawFrame(0xFFFF_FFFFL, header(1, 1), 8192), "names a header of 4294967295 bytes");
        assertCorrupt(rawFrame(h, header(1, 2), 8192), "2 raw pages matching its 8192 page bytes");
        assertCorrupt(rawFrame(h, header(1, 1), 100), "1 raw pages matching its 100 page bytes");
        ServerMessage notGetPage = ServerMessage.newBuilder().setResponse(Response.newBuilder().setRequestId(1)
                .setRelSize(RelSizeResponse.newBuilder().setNblocks(1))).build();
        assertCorrupt(rawFrame(notGetPage.getSerializedSize(), notGetPage, 0), "header RESPONSE/REL_SIZE");
        ByteBuf garbage = Unpooled.buffer().writeInt(FrameDescriptor.RAW_PAGES_FLAG | 7).writeInt(3)
                .writeBytes(new byte[]{(byte) 0xFF, (byte) 0xFF, (byte) 0xFF});
        assertCorrupt(garbage, "frame of 3 bytes is not a valid ServerMessage header");
        ByteBuf tooShort = Unpooled.buffer().writeInt(FrameDescriptor.RAW_PAGES_FLAG | 2).writeShort(0);
        assertCorrupt(tooShort, "raw pages frame of 2 bytes is shorter than its header length field");
    }

    @Test
    void aRawFrameAboveTheMaximumIsRefusedByItsLengthWithoutTheFlag() {
        EmbeddedChannel client = client(1024);
        ByteBuf frame = Unpooled.buffer().writeInt(FrameDescriptor.RAW_PAGES_FLAG | 1021).writeZero(8);
        assertThatThrownBy(() -> client.writeInbound(frame)).isInstanceOf(TooLongFrameException.class)
                .hasMessageContaining("1025");
        assertThat(frame.refCnt()).isZero();
        client.finishAndReleaseAll();
    }
}
