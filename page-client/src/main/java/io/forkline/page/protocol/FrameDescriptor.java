package io.forkline.page.protocol;

/**
 * Layout of one page-protocol frame on the wire.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                     body length N (unsigned, big-endian)      |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |  N bytes: one protobuf message (ClientMessage from the client,  |
 *  |  ServerMessage from the server; forkline/page/v1/page_service.proto)
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * <p><b>Raw pages frames</b> (protocol version 2, server to client, GetPage answers only): the
 * top bit of the length word is set ({@link #RAW_PAGES_FLAG}); the low 31 bits are N as above,
 * and the body is a header length and the header, then the pages as they are, so that neither
 * side copies them through protobuf:
 *
 * <pre>
 *  +-+-----------------------------+--------------------+----------------+---------------------+
 *  |1|  N (31 bits, big-endian)    | M (u32, big-endian)| M bytes:       | N - 4 - M bytes:    |
 *  | |                             |                    | ServerMessage  | raw_pages x 8192    |
 *  +-+-----------------------------+--------------------+----------------+---------------------+
 * </pre>
 *
 * The header is a {@code Response} whose {@code GetPageResponse} has no {@code pages} and
 * {@code raw_pages} = (N - 4 - M) / 8192; anything else (M above N - 4, a header of another type,
 * a page count that does not match the bytes) is a corrupt frame. A version-1 session never gets
 * one (a version-1 reader would refuse it as too long).
 *
 * <p>A frame whose N exceeds the receiver's maximum ({@link #DEFAULT_MAX_FRAME_BYTES} unless
 * configured) is refused before its body is read: the receiver answers an error and closes the
 * connection. Source of the shape: Neon's pagestream framing (a length-prefixed CopyData stream),
 * simplified to raw TCP.
 */
public final class FrameDescriptor {
    /** Bytes of the length prefix. */
    public static final int LENGTH_FIELD_BYTES = 4;
    /** Top bit of the length word: a raw pages frame (protocol version 2). */
    public static final int RAW_PAGES_FLAG = 0x8000_0000;
    /** Bytes of a raw pages frame's header length field. */
    public static final int HEADER_LENGTH_BYTES = 4;
    /**
     * Default maximum body length, bytes: 16 MiB holds the largest response (a GetPage of
     * {@link #MAX_BLOCKS_PER_GET_PAGE} pages, a ListRelations of ~500,000 relation forks).
     */
    public static final int DEFAULT_MAX_FRAME_BYTES = 16 << 20;
    /** Most blocks one GetPage request may name. */
    public static final int MAX_BLOCKS_PER_GET_PAGE = 256;
    /** Size of a PostgreSQL page ({@code BLCKSZ}), bytes. */
    public static final int PAGE_BYTES = 8192;
    /** Bytes of basebackup data per {@code BasebackupChunk}. */
    public static final int BASEBACKUP_CHUNK_BYTES = 1 << 20;
    /** Pages per SLRU segment file ({@code SLRU_PAGES_PER_SEGMENT}, src/include/access/slru.h). */
    public static final int SLRU_PAGES_PER_SEGMENT = 32;

    private FrameDescriptor() {
    }
}
