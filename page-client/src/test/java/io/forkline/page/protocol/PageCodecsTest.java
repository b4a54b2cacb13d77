package io.forkline.page.protocol;

import com.google.protobuf.ByteString;
import com.google.protobuf.MessageLite;
import io.forkline.page.protocol.proto.BasebackupChunk;
import io.forkline.page.protocol.proto.ClientMessage;
import io.forkline.page.protocol.proto.DbSizeRequest;
import io.forkline.page.protocol.proto.DbSizeResponse;
import io.forkline.page.protocol.proto.Error;
import io.forkline.page.protocol.proto.ErrorCode;
import io.forkline.page.protocol.proto.GetBasebackupRequest;
import io.forkline.page.protocol.proto.GetPageRequest;
import io.forkline.page.protocol.proto.GetPageResponse;
import io.forkline.page.protocol.proto.GetSlruSegmentRequest;
import io.forkline.page.protocol.proto.GetSlruSegmentResponse;
import io.forkline.page.protocol.proto.Handshake;
import io.forkline.page.protocol.proto.HandshakeResponse;
import io.forkline.page.protocol.proto.ListRelationsRequest;
import io.forkline.page.protocol.proto.ListRelationsResponse;
import io.forkline.page.protocol.proto.PingRequest;
import io.forkline.page.protocol.proto.PongResponse;
import io.forkline.page.protocol.proto.RelExistsRequest;
import io.forkline.page.protocol.proto.RelExistsResponse;
import io.forkline.page.protocol.proto.RelSizeRequest;
import io.forkline.page.protocol.proto.RelSizeResponse;
import io.forkline.page.protocol.proto.RelTag;
import io.forkline.page.protocol.proto.RelationEntry;
import io.forkline.page.protocol.proto.Request;
import io.forkline.page.protocol.proto.Response;
import io.forkline.page.protocol.proto.ServerMessage;
import io.forkline.page.protocol.proto.SlruKind;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The page protocol's codecs on {@link EmbeddedChannel}s, no sockets: every message type both ways,
 * frames split anywhere, oversized and corrupt frames; every buffer released.
 */
class PageCodecsTest {
    private static final RelTag REL = RelTag.newBuilder().setSpcOid(1663).setDbOid(5).setRelNumber(16384).setFork(2).build();

    static List<ClientMessage> everyClientMessage() {
        List<Request.Builder> bodies = List.of(
                Request.newBuilder().setRelExists(RelExistsRequest.newBuilder().setRel(REL)),
                Request.newBuilder().setRelSize(RelSizeRequest.newBuilder().setRel(REL)),
                Request.newBuilder().setGetPage(GetPageRequest.newBuilder().setRel(REL).addBlocks(0).addBlocks(0xFFFFFFFE)),
                Request.newBuilder().setDbSize(DbSizeRequest.newBuilder().setSpcOid(1663).setDbOid(5)),
                Request.newBuilder().setGetSlruSegment(GetSlruSegmentRequest.newBuilder()
                        .setKind(SlruKind.SLRU_KIND_MULTIXACT_MEMBERS).setSegno(7)),
                Request.newBuilder().setListRelations(ListRelationsRequest.newBuilder()),
                Request.newBuilder().setGetBasebackup(GetBasebackupRequest.newBuilder().setOmitRelationPages(true)),
                Request.newBuilder().setPing(PingRequest.newBuilder().setPayload(ByteString.copyFromUtf8("hi"))));
        List<ClientMessage> out = new ArrayList<>();
        out.add(ClientMessage.newBuilder().setHandshake(Handshake.newBuilder().setProtocolVersion(1).setTenant("t")
                .setBranch("feat/x").setToken("a.b.c")).build());
        long id = 1;
        for (Request.Builder b : bodies) {
            out.add(ClientMessage.newBuilder().setRequest(b.setRequestId(id++).setRequestLsn(0x1_6B37_4D48L)
                    .setNotModifiedSinceLsn(0x1_0000_0000L)).build());
        }
        out.add(ClientMessage.newBuilder().setRequest(Request.newBuilder().setRequestId(-1L).setLatest(true)
                .setPing(PingRequest.getDefaultInstance())).build());
        return out;
    }

    static List<ServerMessage> everyServerMessage() {
        byte[] page = new byte[8192];
        page[0] = 1;
        page[8191] = (byte) 0xFF;
        List<Response.Builder> bodies = List.of(
                Response.newBuilder().setRelExists(RelExistsResponse.newBuilder().setExists(true)),
                Response.newBuilder().setRelSize(RelSizeResponse.newBuilder().setNblocks(131072)),
                Response.newBuilder().setGetPage(GetPageResponse.newBuilder().addPages(ByteString.copyFrom(page))
                        .addPages(ByteString.copyFrom(new byte[8192]))),
                Response.newBuilder().setDbSize(DbSizeResponse.newBuilder().setBytes(1L << 40)),
                Response.newBuilder().setGetSlruSegment(GetSlruSegmentResponse.newBuilder()
                        .setSegment(ByteString.copyFrom(new byte[32 * 8192]))),
                Response.newBuilder().setListRelations(ListRelationsResponse.newBuilder()
                        .addRelations(RelationEntry.newBuilder().setRel(REL).setNblocks(3))),
                Response.newBuilder().setBasebackupChunk(BasebackupChunk.newBuilder()
                        .setData(ByteString.copyFromUtf8("tar bytes")).setLast(true)),
                Response.newBuilder().setPong(PongResponse.newBuilder().setPayload(ByteString.copyFromUtf8("hi"))),
                Response.newBuilder().setError(Error.newBuilder().setCode(ErrorCode.BELOW_GC_CUTOFF)
                        .setMessage("LSN 0/16 is below the GC cutoff 1/0").setEarliestLsn(1L << 32)));
        List<ServerMessage> out = new ArrayList<>();
        out.add(ServerMessage.newBuilder().setHandshake(HandshakeResponse.newBuilder().setProtocolVersion(1)
                .setTimelineId("0123456789abcdef0123456789abcdef").setLastRecordLsn(99).setEarliestLsn(42)).build());
        long id = 1;
        for (Response.Builder b : bodies) {
            out.add(ServerMessage.newBuilder().setResponse(b.setRequestId(id++).setLsn(0x2_0000_0028L)).build());
        }
        return out;
    }

    private static EmbeddedChannel server(int max) {
        EmbeddedChannel ch = new EmbeddedChannel();
        PageCodecs.addServerCodec(ch.pipeline(), max);
        return ch;
    }

    private static EmbeddedChannel client(int max) {
        EmbeddedChannel ch = new EmbeddedChannel();
        PageCodecs.addClientCodec(ch.pipeline(), max);
        return ch;
    }

    /** Encodes on {@code from}, returns the bytes of all frames in one buffer (the caller releases it). */
    private static ByteBuf encode(EmbeddedChannel from, List<? extends MessageLite> messages) {
        ByteBuf all = Unpooled.buffer();
        for (MessageLite m : messages) {
            assertThat(from.writeOutbound(m)).isTrue();
            ByteBuf b = from.readOutbound();
            assertThat(b.getInt(b.readerIndex())).isEqualTo(m.getSerializedSize());
            all.writeBytes(b);
            b.release();
        }
        return all;
    }

    @Test
    void everyClientMessageRoundTripsThroughBothCodecs() {
        EmbeddedChannel client = client(FrameDescriptor.DEFAULT_MAX_FRAME_BYTES);
        EmbeddedChannel server = server(FrameDescriptor.DEFAULT_MAX_FRAME_BYTES);
        List<ClientMessage> sent = everyClientMessage();
        ByteBuf wire = encode(client, sent);
        server.writeInbound(wire);
        for (ClientMessage m : sent) {
            assertThat((ClientMessage) server.readInbound()).isEqualTo(m);
        }
        assertThat((Object) server.readInbound()).isNull();
        assertThat(wire.refCnt()).isZero();
        assertThat(client.finishAndReleaseAll()).isFalse();
        assertThat(server.finishAndReleaseAll()).isFalse();
    }

    @Test
    void everyServerMessageRoundTripsEvenWhenSplitIntoOneByteReads() {
        EmbeddedChannel server = server(FrameDescriptor.DEFAULT_MAX_FRAME_BYTES);
        EmbeddedChannel client = client(FrameDescriptor.DEFAULT_MAX_FRAME_BYTES);
        List<ServerMessage> sent = everyServerMessage();
        ByteBuf wire = encode(server, sent);
        List<ServerMessage> got = new ArrayList<>();
        // the first frames byte by byte (truncated frames wait for the rest), the others at once
        int prefix = Math.min(wire.readableBytes(), 600);
        for (int i = 0; i < prefix; i++) {
            client.writeInbound(wire.readRetainedSlice(1));
            for (Object m; (m = client.readInbound()) != null; ) {
                got.add((ServerMessage) m);
            }
        }
        client.writeInbound(wire.readRetainedSlice(wire.readableBytes()));
        for (Object m; (m = client.readInbound()) != null; ) {
            got.add((ServerMessage) m);
        }
        assertThat(got).containsExactlyElementsOf(sent);
        assertThat(wire.release()).isTrue();
        assertThat(client.finishAndReleaseAll()).isFalse();
        assertThat(server.finishAndReleaseAll()).isFalse();
    }

    @Test
    void aFrameAboveTheMaximumIsRefusedAsSoonAsItsLengthIsRead() {
        EmbeddedChannel server = server(1024);
        ByteBuf frame = Unpooled.buffer().writeInt(1025).writeBytes(new byte[10]);
        assertThatThrownBy(() -> server.writeInbound(frame)).isInstanceOf(TooLongFrameException.class)
                .hasMessageContaining("1024");
        assertThat(frame.refCnt()).isZero();
        server.finishAndReleaseAll();
    }

    @Test
    void aTruncatedFrameYieldsNothingAndACorruptOneIsNamedWithItsLength() {
        EmbeddedChannel server = server(1024);
        ByteBuf partial = Unpooled.buffer().writeInt(100).writeBytes(new byte[40]);
        assertThat(server.writeInbound(partial)).isFalse();
        assertThat((Object) server.readInbound()).isNull();
        assertThat(server.finishAndReleaseAll()).isFalse();

        EmbeddedChannel other = server(1024);
        ByteBuf corrupt = Unpooled.buffer().writeInt(3).writeBytes(new byte[]{(byte) 0xFF, (byte) 0xFF, (byte) 0xFF});
        assertThatThrownBy(() -> other.writeInbound(corrupt))
                .isInstanceOfAny(CorruptedFrameException.class, DecoderException.class)
                .hasMessageContaining("frame of 3 bytes is not a valid ClientMessage");
        assertThat(corrupt.refCnt()).isZero();
        other.finishAndReleaseAll();
    }

    @Test
    void anInvalidMaximumIsRefusedWithTheValue() {
        assertThatThrownBy(() -> server(0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0");
    }
}
