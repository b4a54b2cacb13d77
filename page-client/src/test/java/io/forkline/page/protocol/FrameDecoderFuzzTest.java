package io.forkline.page.protocol;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.forkline.page.protocol.proto.ClientMessage;
import io.forkline.page.protocol.proto.ServerMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzzes the server's and the client's frame decoding (Jazzer, coverage-guided; the suite runs it for a bounded
 * time with {@code JAZZER_FUZZ=1}, see the module's pom): any bytes, split into any reads, must
 * yield only whole {@link ClientMessage}s or a {@link TooLongFrameException} /
 * {@link CorruptedFrameException} (what the server answers with an error frame before closing),
 * never another exception; every decoded message re-encodes to a frame that decodes to itself;
 * every buffer is released; and nothing is allocated beyond the frame bound (a length prefix above
 * it is refused before its body is buffered).
 */
class FrameDecoderFuzzTest {
    private static final int MAX_FRAME = 64 * 1024;

    /**
     * One target for both sides (Jazzer fuzzes one {@code @FuzzTest} per JVM and skips the others):
     * the first byte picks the server's decoding or the client's.
     */
    @FuzzTest(maxDuration = "60s")
    void frameDecodingSurvivesAnyInput(FuzzedDataProvider data) {
        if (data.consumeBoolean()) {
            serverFrameDecodingSurvivesAnyInput(data);
        } else {
            clientFrameDecodingSurvivesAnyInput(data);
        }
    }

    private static void serverFrameDecodingSurvivesAnyInput(FuzzedDataProvider data) {
        EmbeddedChannel ch = new EmbeddedChannel();
        PageCodecs.addServerCodec(ch.pipeline(), MAX_FRAME);
        List<Throwable> errors = new ArrayList<>();
        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                errors.add(cause);
                ctx.close(); // what the server does after its error frame
            }
        });
        List<ByteBuf> fed = new ArrayList<>();
        while (data.remainingBytes() > 0 && ch.isOpen()) {
            byte[] chunk = data.consumeBytes(data.consumeInt(1, 4096));
            if (chunk.length == 0) {
                break; // Unpooled's shared empty buffer is never released: nothing to feed
            }
            ByteBuf b = Unpooled.wrappedBuffer(chunk);
            fed.add(b);
            ch.writeInbound(b);
        }
        for (Object m; (m = ch.readInbound()) != null; ) {
            ClientMessage msg = (ClientMessage) m;
            EmbeddedChannel again = new EmbeddedChannel();
            PageCodecs.addServerCodec(again.pipeline(), Integer.MAX_VALUE);
            EmbeddedChannel enc = new EmbeddedChannel(new ProtobufFrameEncoder());
            enc.writeOutbound(msg);
            ByteBuf frame = enc.readOutbound();
            again.writeInbound(frame);
            assertThat((Object) again.readInbound()).isEqualTo(msg);
            again.finishAndReleaseAll();
            enc.finishAndReleaseAll();
        }
        for (Throwable t : errors) {
            Throwable c = t instanceof DecoderException && t.getCause() != null && !(t instanceof CorruptedFrameException)
                    && !(t instanceof TooLongFrameException) ? t.getCause() : t;
            assertThat(c).isInstanceOfAny(TooLongFrameException.class, CorruptedFrameException.class);
        }
        ch.finishAndReleaseAll();
        for (ByteBuf b : fed) {
            assertThat(b.refCnt()).as("every fed buffer released").isZero();
        }
    }

    /**
     * The client's side (protocol version 2: plain frames and raw pages frames, whose top length bit
     * is set): any bytes, split into any reads, yield only {@link ServerMessage}s and {@link ServerFrame}s
     * whose page bytes match their header, or a {@link TooLongFrameException} /
     * {@link CorruptedFrameException}; every buffer is released once the frames are.
     */
    private static void clientFrameDecodingSurvivesAnyInput(FuzzedDataProvider data) {
        EmbeddedChannel ch = new EmbeddedChannel();
        PageCodecs.addClientCodec(ch.pipeline(), MAX_FRAME);
        List<Throwable> errors = new ArrayList<>();
        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                errors.add(cause);
                ctx.close(); // what the client does
            }
        });
        List<ByteBuf> fed = new ArrayList<>();
        boolean raw = data.consumeBoolean();
        while (data.remainingBytes() > 0 && ch.isOpen()) {
            byte[] chunk = data.consumeBytes(data.consumeInt(1, 4096));
            if (chunk.length == 0) {
                break;
            }
            if (raw && fed.isEmpty() && chunk.length >= 4) {
                chunk[0] |= (byte) 0x80; // steer the fuzzer into raw pages frames too
            }
            ByteBuf b = Unpooled.wrappedBuffer(chunk);
            fed.add(b);
            ch.writeInbound(b);
        }
        for (Object m; (m = ch.readInbound()) != null; ) {
            if (m instanceof ServerFrame f) {
                assertThat((long) f.content().readableBytes()).isEqualTo(
                        Integer.toUnsignedLong(f.header().getResponse().getGetPage().getRawPages()) * FrameDescriptor.PAGE_BYTES);
                f.release();
            } else {
                assertThat(m).isInstanceOf(ServerMessage.class);
            }
        }
        for (Throwable t : errors) {
            Throwable c = t instanceof DecoderException && t.getCause() != null && !(t instanceof CorruptedFrameException)
                    && !(t instanceof TooLongFrameException) ? t.getCause() : t;
            assertThat(c).isInstanceOfAny(TooLongFrameException.class, CorruptedFrameException.class);
        }
        ch.finishAndReleaseAll();
        for (ByteBuf b : fed) {
            assertThat(b.refCnt()).as("every fed buffer released").isZero();
        }
    }
}
