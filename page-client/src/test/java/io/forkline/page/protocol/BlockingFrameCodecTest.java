package io.forkline.page.protocol;

import io.forkline.page.protocol.proto.ClientMessage;
import io.forkline.page.protocol.proto.GetPageRequest;
import io.forkline.page.protocol.proto.GetPageResponse;
import io.forkline.page.protocol.proto.RelSizeResponse;
import io.forkline.page.protocol.proto.RelTag;
import io.forkline.page.protocol.proto.Request;
import io.forkline.page.protocol.proto.Response;
import io.forkline.page.protocol.proto.ServerMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The blocking client's codec against the server's Netty encoders: the frames the server writes
 * (raw pages frames of 1 and 256 pages, plain frames) read back whole from a stream that hands out
 * any number of bytes per read; a request it writes decodes on the server's codec; a stream that
 * ends inside a frame, an over-long frame and a corrupt raw frame are refused naming their sizes.
 */
class BlockingFrameCodecTest {
    /** A source over fixed bytes that returns 1..maxChunk bytes per read, then -1. */
    private static BlockingFrameCodec.Source chunks(byte[] bytes, int maxChunk, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] pos = {0};
        return (b, off, len) -> {
            if (pos[0] == bytes.length) {
                return -1;
            }
            int n = Math.min(Math.min(len, bytes.length - pos[0]), 1 + rnd.nextInt(maxChunk));
            System.arraycopy(bytes, pos[0], b, off, n);
            pos[0] += n;
            return n;
        };
    }

    private static byte[] encodeOnServer(Object... msgs) {
        EmbeddedChannel server = new EmbeddedChannel();
        PageCodecs.addServerCodec(server.pipeline(), FrameDescriptor.DEFAULT_MAX_FRAME_BYTES);
        ByteBuf all = Unpooled.buffer();
        for (Object m : msgs) {
            assertThat(server.writeOutbound(m)).isTrue();
            for (ByteBuf b; (b = server.readOutbound()) != null; ) {
                all.writeBytes(b);
                b.release();
            }
        }
        server.finishAndReleaseAll();
        byte[] out = ByteBufUtil.getBytes(all);
        all.release();
        return out;
    }

    private static ServerMessage header(long id, int rawPages) {
        return ServerMessage.newBuilder().setResponse(Response.newBuilder().setRequestId(id)
                .setGetPage(GetPageResponse.newBuilder().setRawPages(rawPages))).build();
    }

    private static byte[][] pages(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        byte[][] out = new byte[n][FrameDescriptor.PAGE_BYTES];
        for (byte[] p : out) {
            rnd.nextBytes(p);
        }
        return out;
    }

    @Test
    void readsTheServersFramesWholeFromAnySplitOfTheStream() throws Exception {
        byte[][] one = pages(1, 1);
        byte[][] many = pages(FrameDescriptor.MAX_BLOCKS_PER_GET_PAGE, 2);
        ServerMessage plain = ServerMessage.newBuilder().setResponse(Response.newBuilder().setRequestId(2)
                .setRelSize(RelSizeResponse.newBuilder().setNblocks(7))).build();
        byte[] wire = encodeOnServer(new ServerFrame(header(1, 1), Unpooled.wrappedBuffer(one)), plain,
                new ServerFrame(header(3, many.length), Unpooled.wrappedBuffer(many)), plain,
                new ServerFrame(header(4, 1), Unpooled.wrappedBuffer(one)));
        for (int maxChunk : new int[]{1, 7, 8200, 100_000, wire.length}) {
            BlockingFrameCodec codec = new BlockingFrameCodec(FrameDescriptor.DEFAULT_MAX_FRAME_BYTES);
            BlockingFrameCodec.Source src = chunks(wire, maxChunk, maxChunk);
            ServerFrame f1 = (ServerFrame) codec.read(src);
            assertThat(f1.header()).isEqualTo(header(1, 1));
            assertThat(f1.page(0)).isEqualTo(one[0]);
            assertThat(codec.read(src)).isEqualTo(plain);
            ServerFrame f3 = (ServerFrame) codec.read(src);
            assertThat(f3.pageCount()).isEqualTo(many.length);
            for (int i = 0; i < many.length; i++) {
                assertThat(f3.page(i)).as("chunks of %d, page %d", maxChunk, i).isEqualTo(many[i]);
            }
            assertThat(codec.read(src)).isEqualTo(plain);
            assertThat(((ServerFrame) codec.read(src)).page(0)).isEqualTo(one[0]);
            assertThatThrownBy(() -> codec.read(src)).isInstanceOf(EOFException.class);
        }
    }

    @Test
    void aRequestItWritesDecodesOnTheServersCodec() throws Exception {
        ClientMessage m = ClientMessage.newBuilder().setRequest(Request.newBuilder().setRequestId(9).setRequestLsn(77)
                .setGetPage(GetPageRequest.newBuilder().setRel(RelTag.newBuilder().setRelNumber(16384)).addBlocks(3)
                        .addBlocks(4))).build();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BlockingFrameCodec codec = new BlockingFrameCodec(1024);
        codec.write(out, m);
        codec.write(out, m);
        EmbeddedChannel server = new EmbeddedChannel();
        PageCodecs.addServerCodec(server.pipeline(), FrameDescriptor.DEFAULT_MAX_FRAME_BYTES);
        server.writeInbound(Unpooled.wrappedBuffer(out.toByteArray()));
        assertThat((Object) server.readInbound()).isEqualTo(m);
        assertThat((Object) server.readInbound()).isEqualTo(m);
        assertThat((Object) server.readInbound()).isNull();
        server.finishAndReleaseAll();
    }

    @Test
    void truncatedOverLongAndCorruptFramesAreRefusedNamingTheirSizes() {
        byte[] wire = encodeOnServer(new ServerFrame(header(1, 1), Unpooled.wrappedBuffer(pages(1, 3))));
        byte[] cut = java.util.Arrays.copyOf(wire, wire.length - 100);
        assertThatThrownBy(() -> new BlockingFrameCodec(FrameDescriptor.DEFAULT_MAX_FRAME_BYTES).read(chunks(cut, 5000, 1)))
                .isInstanceOf(EOFException.class).hasMessageContaining("100 bytes before the end of a " + wire.length);
        // the flag does not count towards the length: 8192 + header is above a 8000-byte maximum
        assertThatThrownBy(() -> new BlockingFrameCodec(8000).read(chunks(wire, 5000, 1)))
                .isInstanceOf(TooLongFrameException.class).hasMessageContaining((wire.length - 4) + " bytes")
                .hasMessageContaining("8000");
        byte[] h = header(1, 2).toByteArray(); // names 2 pages, holds 1
        ByteBuf bad = Unpooled.buffer().writeInt(FrameDescriptor.RAW_PAGES_FLAG | (4 + h.length + 8192)).writeInt(h.length)
                .writeBytes(h).writeZero(8192);
        byte[] corrupt = ByteBufUtil.getBytes(bad);
        bad.release();
        assertThatThrownBy(() -> new BlockingFrameCodec(FrameDescriptor.DEFAULT_MAX_FRAME_BYTES).read(chunks(corrupt, 5000, 1)))
                .isInstanceOf(CorruptedFrameException.class)
                .hasMessageContaining("raw pages frame of " + (4 + h.length + 8192) + " bytes")
                .hasMessageContaining("2 raw pages matching its 8192 page bytes");
        assertThatThrownBy(() -> new BlockingFrameCodec(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("got 0");
    }
}
