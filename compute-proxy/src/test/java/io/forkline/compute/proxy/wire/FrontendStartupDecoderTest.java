package io.forkline.compute.proxy.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FrontendStartupDecoderTest {
    @Test
    void decodesTheFourStartupPacketsEvenWhenSplitAcrossReads() {
        EmbeddedChannel ch = new EmbeddedChannel(new FrontendStartupDecoder());
        ByteBuf all = Unpooled.buffer();
        all.writeInt(8).writeInt(PgWire.SSL_REQUEST_CODE);
        all.writeInt(8).writeInt(PgWire.GSSENC_REQUEST_CODE);
        all.writeInt(16).writeInt(PgWire.CANCEL_REQUEST_CODE).writeInt(42).writeInt(-7);
        byte[] body = "user\0alice\0database\0db\0options\0-c a=b\0\0".getBytes(StandardCharsets.UTF_8);
        all.writeInt(8 + body.length).writeInt(PgWire.PROTOCOL_3_0).writeBytes(body);
        while (all.isReadable()) { // one byte at a time
            ch.writeInbound(all.readRetainedSlice(1));
        }
        all.release();
        assertThat(ch.<Object>readInbound()).isEqualTo(new StartupPacket.SslRequest());
        assertThat(ch.<Object>readInbound()).isEqualTo(new StartupPacket.GssEncRequest());
        assertThat(ch.<Object>readInbound()).isEqualTo(new StartupPacket.CancelRequest(42, -7));
        StartupPacket.Startup s = ch.readInbound();
        assertThat(s.majorVersion()).isEqualTo(3);
        assertThat(s.parameters()).containsExactly(java.util.Map.entry("user", "alice"), java.util.Map.entry("database", "db"),
                java.util.Map.entry("options", "-c a=b"));
        assertThat(ch.finish()).isFalse();
    }

    @Test
    void typedMessagesAfterTheStartup() {
        FrontendStartupDecoder d = new FrontendStartupDecoder();
        EmbeddedChannel ch = new EmbeddedChannel(d);
        d.expectTypedMessages();
        ch.writeInbound(Unpooled.buffer().writeByte('p').writeInt(4 + 3).writeBytes(new byte[]{'a', 'b', 0}));
        FrontendMessage m = ch.readInbound();
        assertThat(m.type()).isEqualTo('p');
        assertThat(m.body()).containsExactly('a', 'b', 0);
        assertThatThrownBy(() -> ch.writeInbound(Unpooled.buffer().writeByte('p').writeInt(1 << 20)))
                .isInstanceOf(DecoderException.class).hasMessageContaining("invalid message length 1048576");
        ch.finishAndReleaseAll();
    }

    @Test
    void rejectsBadLengthsProtocolsAndLayoutsWithPostgresqlsWording() {
        assertError(Unpooled.buffer().writeInt(7).writeInt(0), "08P01", "invalid length of startup packet: 7 bytes");
        assertError(Unpooled.buffer().writeInt(10_001), "08P01", "invalid length of startup packet: 10001 bytes");
        assertError(Unpooled.buffer().writeInt(8).writeInt(2 << 16), "0A000", "unsupported frontend protocol 2.0: server supports 3.0 to 3.0");
        assertError(Unpooled.buffer().writeInt(12).writeInt(PgWire.SSL_REQUEST_CODE).writeInt(0), "08P01", "invalid length of SSLRequest");
        assertError(Unpooled.buffer().writeInt(12).writeInt(PgWire.CANCEL_REQUEST_CODE).writeInt(0), "08P01", "CancelRequest");
        assertError(Unpooled.buffer().writeInt(13).writeInt(PgWire.PROTOCOL_3_0).writeBytes("user\0".getBytes(StandardCharsets.US_ASCII)),
                "08P01", "invalid startup packet layout");
        assertError(Unpooled.buffer().writeInt(15).writeInt(PgWire.PROTOCOL_3_0).writeBytes("x\0y\0\0\0\0".getBytes(StandardCharsets.US_ASCII)),
                "08P01", "invalid startup packet layout");
        assertError(Unpooled.buffer().writeInt(9).writeInt(PgWire.PROTOCOL_3_0).writeByte(0), "28000", "no PostgreSQL user name");
    }

    @Test
    void dropsEverythingAfterAnError() {
        EmbeddedChannel ch = new EmbeddedChannel(new FrontendStartupDecoder());
        assertThatThrownBy(() -> ch.writeInbound(Unpooled.buffer().writeInt(3))).isInstanceOf(DecoderException.class);
        assertThat(ch.writeInbound(Unpooled.buffer().writeInt(8).writeInt(PgWire.SSL_REQUEST_CODE))).isFalse();
        assertThat(ch.<Object>readInbound()).isNull();
        ch.finishAndReleaseAll();
    }

    private static void assertError(ByteBuf packet, String sqlState, String message) {
        EmbeddedChannel ch = new EmbeddedChannel(new FrontendStartupDecoder());
        assertThatThrownBy(() -> ch.writeInbound(packet)).isInstanceOf(DecoderException.class)
                .cause().isInstanceOfSatisfying(PgProtocolException.class, e -> {
                    assertThat(e.sqlState()).isEqualTo(sqlState);
                    assertThat(e.getMessage()).contains(message);
                });
        ch.finishAndReleaseAll();
    }
}
