package io.forkline.wal.record;

/**
 * Layouts of the fragment headers that follow the {@link XLogRecordDescriptor fixed record header}
 * (PostgreSQL 15 {@code src/include/access/xlogrecord.h}). None of them is aligned; each starts with
 * a one-byte id: 0..{@link #XLR_MAX_BLOCK_ID} for a block reference, or one of the reserved ids
 * {@link #XLR_BLOCK_ID_DATA_SHORT}, {@link #XLR_BLOCK_ID_DATA_LONG}, {@link #XLR_BLOCK_ID_ORIGIN},
 * {@link #XLR_BLOCK_ID_TOPLEVEL_XID}. All multi-byte fields little-endian.
 *
 * <pre>
 * XLogRecordBlockHeader (4 bytes), then optional parts in this order:
 *  +--------+------------+-------------------+
 *  |   id   | fork_flags |    data_length    |   fork = fork_flags &amp; 0x0F, flags = BKPBLOCK_*
 *  +--------+------------+-------------------+
 *  XLogRecordBlockImageHeader (5 bytes), if BKPBLOCK_HAS_IMAGE:
 *  +-------------------+-------------------+-----------+
 *  |  length (bimg_len)|    hole_offset    | bimg_info |   bimg_info = BKPIMAGE_*
 *  +-------------------+-------------------+-----------+
 *  XLogRecordBlockCompressHeader (2 bytes), if BKPIMAGE_HAS_HOLE and compressed:
 *  +-------------------+
 *  |    hole_length    |
 *  +-------------------+
 *  RelFileNode (12 bytes), unless BKPBLOCK_SAME_REL:
 *  +-----------+-----------+-----------+
 *  |  spcNode  |  dbNode   |  relNode  |
 *  +-----------+-----------+-----------+
 *  BlockNumber (4 bytes)
 *
 * XLogRecordDataHeaderShort: | 255 | len (1 byte)  |      main data length &lt; 256
 * XLogRecordDataHeaderLong:  | 254 | len (4 bytes) |
 * origin:                    | 253 | RepOriginId (2 bytes) |
 * top-level xid:             | 252 | TransactionId (4 bytes) |
 * </pre>
 *
 * After all headers (the main-data header is always last) come, in block-id order, each block's
 * image ({@code bimg_len} bytes) then its data ({@code data_length} bytes), then the main data.
 * An uncompressed image omits the hole, so its hole length is {@code 8192 - bimg_len}.
 */
public final class XLogRecordBlockDescriptor {
    /** {@code XLR_MAX_BLOCK_ID}: block ids are 0..32. */
    public static final int XLR_MAX_BLOCK_ID = 32;
    /** {@code XLR_BLOCK_ID_DATA_SHORT}: main data with a 1-byte length. */
    public static final int XLR_BLOCK_ID_DATA_SHORT = 255;
    /** {@code XLR_BLOCK_ID_DATA_LONG}: main data with a 4-byte length. */
    public static final int XLR_BLOCK_ID_DATA_LONG = 254;
    /** {@code XLR_BLOCK_ID_ORIGIN}: a 2-byte replication origin id follows. */
    public static final int XLR_BLOCK_ID_ORIGIN = 253;
    /** {@code XLR_BLOCK_ID_TOPLEVEL_XID}: a 4-byte top-level transaction id follows. */
    public static final int XLR_BLOCK_ID_TOPLEVEL_XID = 252;

    /** {@code BKPBLOCK_FORK_MASK}. */
    public static final int BKPBLOCK_FORK_MASK = 0x0F;
    /** {@code BKPBLOCK_FLAG_MASK}. */
    public static final int BKPBLOCK_FLAG_MASK = 0xF0;
    /** {@code BKPBLOCK_HAS_IMAGE}: an image header follows and the block has a full-page image. */
    public static final int BKPBLOCK_HAS_IMAGE = 0x10;
    /** {@code BKPBLOCK_HAS_DATA}: the block has {@code data_length} &gt; 0 bytes of rmgr data. */
    public static final int BKPBLOCK_HAS_DATA = 0x20;
    /** {@code BKPBLOCK_WILL_INIT}: redo reinitializes the page. */
    public static final int BKPBLOCK_WILL_INIT = 0x40;
    /** {@code BKPBLOCK_SAME_REL}: the RelFileNode is omitted, same as the previous block's. */
    public static final int BKPBLOCK_SAME_REL = 0x80;

    /** {@code BKPIMAGE_HAS_HOLE}: the image omits a run of zeros ("hole"). */
    public static final int BKPIMAGE_HAS_HOLE = 0x01;
    /** {@code BKPIMAGE_APPLY}: the image is restored at redo (else only for consistency checking). */
    public static final int BKPIMAGE_APPLY = 0x02;
    /** {@code BKPIMAGE_COMPRESS_PGLZ}. */
    public static final int BKPIMAGE_COMPRESS_PGLZ = 0x04;
    /** {@code BKPIMAGE_COMPRESS_LZ4}. */
    public static final int BKPIMAGE_COMPRESS_LZ4 = 0x08;
    /** {@code BKPIMAGE_COMPRESS_ZSTD}. */
    public static final int BKPIMAGE_COMPRESS_ZSTD = 0x10;

    /** {@code SizeOfXLogRecordBlockHeader}. */
    public static final int BLOCK_HEADER_LENGTH = 4;
    /** Offset of {@code fork_flags} in the block header. */
    public static final int FORK_FLAGS_OFFSET = 1;
    /** Offset of {@code data_length} (uint16) in the block header. */
    public static final int DATA_LENGTH_OFFSET = 2;
    /** {@code SizeOfXLogRecordBlockImageHeader}. */
    public static final int IMAGE_HEADER_LENGTH = 5;
    /** Offset of {@code length} (uint16, {@code bimg_len}) in the image header. */
    public static final int IMAGE_LENGTH_OFFSET = 0;
    /** Offset of {@code hole_offset} (uint16) in the image header. */
    public static final int HOLE_OFFSET_OFFSET = 2;
    /** Offset of {@code bimg_info} (uint8) in the image header. */
    public static final int BIMG_INFO_OFFSET = 4;
    /** {@code SizeOfXLogRecordBlockCompressHeader}: {@code hole_length} (uint16). */
    public static final int COMPRESS_HEADER_LENGTH = 2;
    /** {@code sizeof(RelFileNode)}: spcNode, dbNode, relNode (uint32 each). */
    public static final int REL_FILE_NODE_LENGTH = 12;
    /** {@code sizeof(BlockNumber)}. */
    public static final int BLOCK_NUMBER_LENGTH = 4;
    /** {@code sizeof(RepOriginId)}. */
    public static final int ORIGIN_LENGTH = 2;
    /** {@code sizeof(TransactionId)}. */
    public static final int XID_LENGTH = 4;
    /**
     * {@code BLCKSZ}: size of a data page (a restored page image, a relation or SLRU page), bytes.
     * The one source of this value in wal-ingest; {@code PageHeaderDescriptor.PAGE_SIZE},
     * {@code ClogDescriptor.PAGE_SIZE} and {@code MultiXactDescriptor.PAGE_SIZE} refer to it.
     */
    public static final int BLCKSZ = 8192;

    private XLogRecordBlockDescriptor() {
    }

    /** {@code BKPIMAGE_COMPRESSED(bimg_info)}: whether any compression bit is set. */
    public static boolean isCompressed(int bimgInfo) {
        return (bimgInfo & (BKPIMAGE_COMPRESS_PGLZ | BKPIMAGE_COMPRESS_LZ4 | BKPIMAGE_COMPRESS_ZSTD)) != 0;
    }
}
