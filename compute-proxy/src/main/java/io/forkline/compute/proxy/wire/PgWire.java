package io.forkline.compute.proxy.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * PostgreSQL frontend/backend protocol 3.0 constants and the few messages the proxy writes itself
 * (PostgreSQL 15 {@code src/include/libpq/pqcomm.h}, {@code src/backend/libpq/auth.c},
 * {@code src/backend/utils/error/elog.c}; "Message Formats" in the PostgreSQL documentation).
 *
 * <pre>
 * startup packets (no type byte):   int32 length (including itself) | int32 code | body
 * typed messages:                   byte1 type | int32 length (including itself, not the type) | body
 * </pre>
 *
 * <p>Every method returns a new buffer from {@code alloc} that the caller writes (and so releases).
 */
public final class PgWire {
    /** {@code MAX_STARTUP_PACKET_LENGTH}: the largest startup packet PostgreSQL accepts, bytes. */
    public static final int MAX_STARTUP_PACKET_LENGTH = 10000;
    /** The smallest startup packet: length and code, bytes. */
    public static final int MIN_STARTUP_PACKET_LENGTH = 8;
    /** {@code CANCEL_REQUEST_CODE} = 1234 << 16 | 5678. */
    public static final int CANCEL_REQUEST_CODE = 80877102;
    /** {@code NEGOTIATE_SSL_CODE} = 1234 << 16 | 5679. */
    public static final int SSL_REQUEST_CODE = 80877103;
    /** {@code NEGOTIATE_GSS_CODE} = 1234 << 16 | 5680. */
    public static final int GSSENC_REQUEST_CODE = 80877104;
    /** Protocol 3.0 ({@code PG_PROTOCOL(3,0)}). */
    public static final int PROTOCOL_3_0 = 3 << 16;

    /** Authentication request codes ({@code AUTH_REQ_*}, pqcomm.h). */
    public static final int AUTH_OK = 0;
    public static final int AUTH_CLEARTEXT_PASSWORD = 3;
    public static final int AUTH_SASL = 10;
    public static final int AUTH_SASL_CONTINUE = 11;
    public static final int AUTH_SASL_FINAL = 12;

    /** SQLSTATEs the proxy sends (PostgreSQL {@code src/backend/utils/errcodes.txt}). */
    public static final String FEATURE_NOT_SUPPORTED = "0A000";
    public static final String PROTOCOL_VIOLATION = "08P01";
    public static final String CONNECTION_FAILURE = "08006";
    public static final String CONNECTION_REJECTED = "08004";
    public static final String INVALID_PASSWORD = "28P01";
    public static final String INVALID_AUTHORIZATION = "28000";
    public static final String CANNOT_CONNECT_NOW = "57P03";

    private PgWire() {
    }

    /**
     * An ErrorResponse ('E') of severity FATAL with fields S, V, C, M and, when not null, H (hint).
     */
    public static ByteBuf fatal(ByteBufAllocator alloc, String sqlState, String message, String hint) {
        ByteBuf b = alloc.buffer(64 + message.length() * 2);
        b.writeByte('E');
        int lengthAt = b.writerIndex();
        b.writeInt(0);
        field(b, 'S', "FATAL");
        field(b, 'V', "FATAL");
        field(b, 'C', sqlState);
        field(b, 'M', message);
        if (hint != null) {
            field(b, 'H', hint);
        }
        b.writeByte(0);
        b.setInt(lengthAt, b.writerIndex() - lengthAt);
        return b;
    }

    private static void field(ByteBuf b, char type, String value) {
        b.writeByte(type);
        cstring(b, value);
    }

    /** Writes {@code s} in UTF-8 followed by a NUL. */
    public static void cstring(ByteBuf b, String s) {
        b.writeCharSequence(s, StandardCharsets.UTF_8);
        b.writeByte(0);
    }

    /** An Authentication request ('R') with {@code code} and {@code data} (may be empty). */
    public static ByteBuf authentication(ByteBufAllocator alloc, int code, byte[] data) {
        ByteBuf b = alloc.buffer(9 + data.length);
        b.writeByte('R').writeInt(8 + data.length).writeInt(code).writeBytes(data);
        return b;
    }

    /** AuthenticationSASL offering only {@code SCRAM-SHA-256} (no channel binding: no -PLUS). */
    public static ByteBuf authenticationSasl(ByteBufAllocator alloc) {
        byte[] mechs = "SCRAM-SHA-256\0\0".getBytes(StandardCharsets.US_ASCII);
        return authentication(alloc, AUTH_SASL, mechs);
    }

    /** BackendKeyData ('K'): the key a client later cancels with. */
    public static ByteBuf backendKeyData(ByteBufAllocator alloc, int pid, int secret) {
        return alloc.buffer(13).writeByte('K').writeInt(12).writeInt(pid).writeInt(secret);
    }

    /** CancelRequest: {@code int32 16 | int32 80877102 | int32 pid | int32 secret}. */
    public static ByteBuf cancelRequest(ByteBufAllocator alloc, int pid, int secret) {
        return alloc.buffer(16).writeInt(16).writeInt(CANCEL_REQUEST_CODE).writeInt(pid).writeInt(secret);
    }

    /** A protocol 3.0 StartupMessage with {@code parameters} in iteration order. */
    public static ByteBuf startupMessage(ByteBufAllocator alloc, Map<String, String> parameters) {
        ByteBuf b = alloc.buffer(256);
        b.writeInt(0).writeInt(PROTOCOL_3_0);
        parameters.forEach((k, v) -> {
            cstring(b, k);
            cstring(b, v);
        });
        b.writeByte(0);
        b.setInt(0, b.writerIndex());
        return b;
    }

    /**
     * NegotiateProtocolVersion ('v'): the newest minor version of 3 supported (0) and the
     * {@code _pq_.} options that were not recognized.
     */
    public static ByteBuf negotiateProtocolVersion(ByteBufAllocator alloc, java.util.List<String> unrecognized) {
        ByteBuf b = alloc.buffer(64);
        b.writeByte('v').writeInt(0).writeInt(PROTOCOL_3_0).writeInt(unrecognized.size());
        unrecognized.forEach(o -> cstring(b, o));
        b.setInt(1, b.writerIndex() - 1);
        return b;
    }
}
