package io.forkline.compute.proxy.wire;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decodes what a client sends before its session is spliced to a compute: first untyped startup
 * packets into {@link StartupPacket}s, then (after {@link #expectTypedMessages()}) typed messages
 * into {@link FrontendMessage}s. Follows PostgreSQL 15 {@code postmaster.c}, {@code ProcessStartupPacket}.
 *
 * <pre>
 * startup packet:  +--------------+------------+--------------------------------------+
 *                  | int32 length | int32 code | body (length - 8 bytes)              |
 *                  +--------------+------------+--------------------------------------+
 *   code 80877103 SSLRequest, 80877104 GSSENCRequest (length 8),
 *   code 80877102 CancelRequest: body int32 pid | int32 secret (length 16),
 *   code (major << 16 | minor) StartupMessage: body (name NUL value NUL)* NUL
 *
 * typed message:   +------------+--------------+-----------------------------------+
 *                  | byte1 type | int32 length | body (length - 4 bytes)           |
 *                  +------------+--------------+-----------------------------------+
 * </pre>
 *
 * <p>Errors are {@link PgProtocolException}s (wrapped by Netty in a {@code DecoderException}) with
 * PostgreSQL's SQLSTATE and wording: a length below 8 or above {@link PgWire#MAX_STARTUP_PACKET_LENGTH}
 * ("invalid length of startup packet"), a protocol other than 3.x ("unsupported frontend protocol"),
 * a bad layout, no user. After an error the decoder drops all further input (the handler closes
 * the connection). Not thread-safe: one per channel.
 */
public final class FrontendStartupDecoder extends ByteToMessageDecoder {
    /** The largest typed message accepted during authentication (SASL and password messages), bytes. */
    public static final int MAX_AUTH_MESSAGE_LENGTH = 16 * 1024;

    private boolean typed;
    private boolean failed;

    /** Bytes received but not yet decoded (0 when the client sent nothing more). */
    public int buffered() {
        return actualReadableBytes();
    }

    /** From now on, decode typed messages (after the StartupMessage). */
    public void expectTypedMessages() {
        typed = true;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        try {
            Object decoded = typed ? decodeTyped(in) : decodeStartup(in);
            if (decoded != null) {
                out.add(decoded);
            }
        } catch (PgProtocolException e) {
            failed = true;
            in.skipBytes(in.readableBytes());
            throw e;
        }
    }

    private static FrontendMessage decodeTyped(ByteBuf in) {
        if (in.readableBytes() < 5) {
            return null;
        }
        int start = in.readerIndex();
        char type = (char) in.getUnsignedByte(start);
        int length = in.getInt(start + 1);
        if (length < 4 || length > MAX_AUTH_MESSAGE_LENGTH) {
            throw new PgProtocolException(PgWire.PROTOCOL_VIOLATION, "invalid message length " + length
                    + " of message type '" + printable(type) + "' (4 to " + MAX_AUTH_MESSAGE_LENGTH + " bytes during authentication)");
        }
        if (in.readableBytes() < 1 + length) {
            return null;
        }
        in.skipBytes(5);
        byte[] body = new byte[length - 4];
        in.readBytes(body);
        return new FrontendMessage(type, body);
    }

    private static String printable(char c) {
        return c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\x%02x", (int) c);
    }

    private static StartupPacket decodeStartup(ByteBuf in) {
        if (in.readableBytes() < 4) {
            return null;
        }
        int length = in.getInt(in.readerIndex());
        if (length < PgWire.MIN_STARTUP_PACKET_LENGTH || length > PgWire.MAX_STARTUP_PACKET_LENGTH) {
            throw new PgProtocolException(PgWire.PROTOCOL_VIOLATION, "invalid length of startup packet: " + length
                    + " bytes (" + PgWire.MIN_STARTUP_PACKET_LENGTH + " to " + PgWire.MAX_STARTUP_PACKET_LENGTH + ")");
        }
        if (in.readableBytes() < length) {
            return null;
        }
        in.skipBytes(4);
        int code = in.readInt();
        ByteBuf body = in.readSlice(length - 8);
        return parse(code, length, body);
    }

    /** Parses one complete startup packet whose length field was {@code length}. */
    static StartupPacket parse(int code, int length, ByteBuf body) {
        switch (code) {
            case PgWire.SSL_REQUEST_CODE, PgWire.GSSENC_REQUEST_CODE -> {
                if (length != 8) {
                    throw new PgProtocolException(PgWire.PROTOCOL_VIOLATION, "invalid length of "
                            + (code == PgWire.SSL_REQUEST_CODE ? "SSLRequest" : "GSSENCRequest") + " packet: " + length + " bytes (8)");
                }
                return code == PgWire.SSL_REQUEST_CODE ? new StartupPacket.SslRequest() : new StartupPacket.GssEncRequest();
            }
            case PgWire.CANCEL_REQUEST_CODE -> {
                if (length != 16) {
                    throw new PgProtocolException(PgWire.PROTOCOL_VIOLATION, "invalid length of CancelRequest packet: "
                            + length + " bytes (16)");
                }
                return new StartupPacket.CancelRequest(body.readInt(), body.readInt());
            }
            default -> {
                int major = code >>> 16;
                int minor = code & 0xffff;
                if (major != 3) {
                    throw new PgProtocolException(PgWire.FEATURE_NOT_SUPPORTED, "unsupported frontend protocol "
                            + major + "." + minor + ": server supports 3.0 to 3.0");
                }
                return new StartupPacket.Startup(major, minor, parameters(body));
            }
        }
    }

    private static Map<String, String> parameters(ByteBuf body) {
        Map<String, String> params = new LinkedHashMap<>();
        while (true) {
            if (!body.isReadable()) {
                throw new PgProtocolException(PgWire.PROTOCOL_VIOLATION,
                        "invalid startup packet layout: expected terminator as last byte");
            }
            String name = cstring(body);
            if (name.isEmpty()) {
                break;
            }
            if (!body.isReadable()) {
                throw new PgProtocolException(PgWire.PROTOCOL_VIOLATION,
                        "invalid startup packet layout: no value for parameter \"" + name + "\"");
            }
            params.put(name, cstring(body));
        }
        if (body.isReadable()) {
            throw new PgProtocolException(PgWire.PROTOCOL_VIOLATION,
                    "invalid startup packet layout: expected terminator as last byte");
        }
        String user = params.get("user");
        if (user == null || user.isEmpty()) {
            throw new PgProtocolException(PgWire.INVALID_AUTHORIZATION, "no PostgreSQL user name specified in startup packet");
        }
        return params;
    }

    private static String cstring(ByteBuf b) {
        int nul = b.indexOf(b.readerIndex(), b.writerIndex(), (byte) 0);
        if (nul < 0) {
            throw new PgProtocolException(PgWire.PROTOCOL_VIOLATION,
                    "invalid startup packet layout: expected terminator as last byte");
        }
        String s = b.toString(b.readerIndex(), nul - b.readerIndex(), StandardCharsets.UTF_8);
        b.readerIndex(nul + 1);
        return s;
    }
}
