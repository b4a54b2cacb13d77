package io.forkline.page.protocol;

import io.forkline.page.protocol.proto.ClientMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.TooLongFrameException;

import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;

/**
 * The page protocol's frames ({@link FrameDescriptor}) over a blocking byte stream, for a client
 * that writes one request and reads its answer on the calling thread (the synchronous client,
 * {@code io.forkline.page.client.BlockingPageConnection}): the same frames as the Netty codecs of
 * {@link PageCodecs}, decoded by the same code ({@link ServerFrameDecoder#decodeFrame}).
 *
 * <pre>
 *  write: ClientMessage  ----->  | N (u32) | ClientMessage (N bytes) |            one write call
 *  read:  | N | ServerMessage (N) |              ----->  ServerMessage
 *         |1|N| M | header (M) | pages (N-4-M) | ----->  ServerFrame (pages: a slice of this codec's buffer)
 * </pre>
 *
 * <p>Reads fill one receive buffer with as many bytes as the stream gives per call (an 8 KiB
 * page's frame usually arrives in one read), grown to the largest frame seen (at most the maximum
 * frame size: 2 MiB for a 256-page answer) and shrunk back to {@value #INITIAL_BUFFER_BYTES} bytes
 * after {@value #SHRINK_AFTER} frames in a row that would have fit in it (a caller of many large
 * reads does not allocate megabytes per answer; an idle one does not keep them long). Bytes read
 * past a frame are kept for the next {@link #read}.
 *
 * <p>Not thread-safe: one codec per connection, used by one thread at a time.
 */
public final class BlockingFrameCodec {
    /** Where the codec reads from, e.g. a socket's input stream with a read timeout. */
    @FunctionalInterface
    public interface Source {
        /**
         * Reads up to {@code len} bytes into {@code b} at {@code off}, blocking until at least one
         * arrives; -1 at the end of the stream. May throw (a {@link java.net.SocketTimeoutException} at
         * a deadline, a closed socket's error).
         */
        int read(byte[] b, int off, int len) throws IOException;
    }

    /** Initial (and shrunk-back) size of the receive buffer, bytes: a few one-page answers. */
    public static final int INITIAL_BUFFER_BYTES = 64 << 10;
    /** Frames in a row that fit in {@link #INITIAL_BUFFER_BYTES} after which a grown buffer is given up. */
    public static final int SHRINK_AFTER = 64;

    private final int maxFrameBytes;
    private byte[] in = new byte[INITIAL_BUFFER_BYTES];
    /** Unread bytes of {@link #in} are {@code [start, end)}. */
    private int start;
    private int end;
    private byte[] out = new byte[256];
    /** Frames in a row, up to the last, that would have fit in {@link #INITIAL_BUFFER_BYTES}. */
    private int smallFrames;

    /**
     * @param maxFrameBytes largest frame body accepted, bytes (at least 1;
     *                      {@link FrameDescriptor#DEFAULT_MAX_FRAME_BYTES} holds every answer)
     * @throws IllegalArgumentException when {@code maxFrameBytes} is below 1 (names it)
     */
    public BlockingFrameCodec(int maxFrameBytes) {
        if (maxFrameBytes < 1) {
            throw new IllegalArgumentException("maxFrameBytes must be at least 1, got " + maxFrameBytes);
        }
        this.maxFrameBytes = maxFrameBytes;
    }

    /**
     * Writes {@code m} as one frame (length word and body) with one {@code write} call, without
     * flushing (a socket's stream has no buffer to flush).
     *
     * @throws IOException what {@code os} throws
     */
    public void write(OutputStream os, ClientMessage m) throws IOException {
        int n = m.getSerializedSize();
        int total = FrameDescriptor.LENGTH_FIELD_BYTES + n;
        if (out.length < total) {
            out = new byte[Math.max(total, out.length * 2)];
        }
        ByteBuf buf = Unpooled.wrappedBuffer(out).clear();
        buf.writeInt(n);
        ProtobufFrameEncoder.writeMessage(m, n, buf);
        os.write(out, 0, total);
    }

    /**
     * Reads the next server frame whole.
     *
     * @return a {@link io.forkline.page.protocol.proto.ServerMessage}, or for a raw pages frame
     *         (protocol version 2) a {@link ServerFrame} whose pages are a slice of this codec's
     *         buffer: read them out ({@link ServerFrame#page}) before the next call
     * @throws EOFException           when the stream ends before a whole frame (names how many bytes were missing)
     * @throws TooLongFrameException  when the length word names a body above the maximum (names both);
     *                                the stream is then unusable
     * @throws io.netty.handler.codec.CorruptedFrameException when the frame does not decode (see
     *                                {@link ServerFrameDecoder}); the stream is then unusable
     * @throws IOException            what the source throws (e.g. a read timeout)
     */
    public Object read(Source src) throws IOException {
        if (start == end && in.length > INITIAL_BUFFER_BYTES && smallFrames >= SHRINK_AFTER) {
            in = new byte[INITIAL_BUFFER_BYTES]; // large answers have stopped: do not keep megabytes per connection
            start = end = 0;
        }
        fill(src, FrameDescriptor.LENGTH_FIELD_BYTES);
        long body = ((in[start] & 0x7fL) << 24) | ((in[start + 1] & 0xffL) << 16) | ((in[start + 2] & 0xffL) << 8)
                | (in[start + 3] & 0xffL);
        if (body > maxFrameBytes) {
            throw new TooLongFrameException("server frame of " + body + " bytes exceeds the maximum of "
                    + maxFrameBytes + " bytes");
        }
        int frame = FrameDescriptor.LENGTH_FIELD_BYTES + (int) body;
        smallFrames = frame <= INITIAL_BUFFER_BYTES ? smallFrames + 1 : 0;
        fill(src, frame);
        ByteBuf buf = Unpooled.wrappedBuffer(in, start, frame);
        start += frame;
        if (start == end) {
            start = end = 0;
        }
        return ServerFrameDecoder.decodeFrame(buf);
    }

    /** Drops every buffered byte (the stream they came from is gone: a new connection starts afresh). */
    public void reset() {
        start = end = 0;
        if (in.length > INITIAL_BUFFER_BYTES) {
            in = new byte[INITIAL_BUFFER_BYTES];
        }
    }

    /** Reads until at least {@code need} unread bytes are buffered (moving or growing the buffer as needed). */
    private void fill(Source src, int need) throws IOException {
        if (end - start >= need) {
            return;
        }
        if (in.length - start < need) {
            byte[] to = need > in.length ? new byte[Math.max(need, Math.min(in.length * 2,
                    maxFrameBytes + FrameDescriptor.LENGTH_FIELD_BYTES))] : in;
            System.arraycopy(in, start, to, 0, end - start);
            in = to;
            end -= start;
            start = 0;
        }
        while (end - start < need) {
            int n = src.read(in, end, in.length - end);
            if (n < 0) {
                throw new EOFException("stream ended " + (need - (end - start)) + " bytes before the end of a "
                        + need + "-byte server frame part");
            }
            end += n;
        }
    }
}
