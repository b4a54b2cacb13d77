package io.forkline.wal.record;

import static io.forkline.wal.record.XLogRecordBlockDescriptor.BKPBLOCK_FORK_MASK;
import static io.forkline.wal.record.XLogRecordBlockDescriptor.BKPBLOCK_HAS_DATA;
import static io.forkline.wal.record.XLogRecordBlockDescriptor.BKPBLOCK_HAS_IMAGE;
import static io.forkline.wal.record.XLogRecordBlockDescriptor.BKPBLOCK_SAME_REL;
import static io.forkline.wal.record.XLogRecordBlockDescriptor.BKPIMAGE_APPLY;
import static io.forkline.wal.record.XLogRecordBlockDescriptor.BKPIMAGE_COMPRESS_LZ4;
import static io.forkline.wal.record.XLogRecordBlockDescriptor.BKPIMAGE_COMPRESS_PGLZ;
import static io.forkline.wal.record.XLogRecordBlockDescriptor.BKPIMAGE_COMPRESS_ZSTD;
import static io.forkline.wal.record.XLogRecordBlockDescriptor.BKPIMAGE_HAS_HOLE;
import static io.forkline.wal.record.XLogRecordBlockDescriptor.BLCKSZ;
import static io.forkline.wal.record.XLogRecordBlockDescriptor.XLR_BLOCK_ID_DATA_LONG;
import static io.forkline.wal.record.XLogRecordBlockDescriptor.XLR_BLOCK_ID_DATA_SHORT;
import static io.forkline.wal.record.XLogRecordBlockDescriptor.XLR_BLOCK_ID_ORIGIN;
import static io.forkline.wal.record.XLogRecordBlockDescriptor.XLR_BLOCK_ID_TOPLEVEL_XID;
import static io.forkline.wal.record.XLogRecordBlockDescriptor.XLR_MAX_BLOCK_ID;
import static io.forkline.wal.record.XLogRecordBlockDescriptor.isCompressed;

import com.github.luben.zstd.Zstd;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

/**
 * Decodes one complete, CRC-checked record into a {@link WalRecord}: the fragment headers, block
 * references with restored page images, and main data. Follows {@code DecodeXLogRecord} and
 * {@code RestoreBlockImage} of PostgreSQL 15 {@code src/backend/access/transam/xlogreader.c}.
 *
 * <p>Not thread-safe: holds per-block scratch arrays reused across records. Allocates only the
 * outputs (arrays for main data, block data and 8192-byte pages, and the record objects).
 */
final class RecordDecoder {
    private static final byte[] EMPTY = new byte[0];
    private static final int SLOTS = XLR_MAX_BLOCK_ID + 1;
    private static final LZ4SafeDecompressor LZ4 = LZ4Factory.fastestInstance().safeDecompressor();

    // Per-block scratch, indexed by block id; valid for ids 0..maxBlockId with inUse set.
    private final boolean[] inUse = new boolean[SLOTS];
    private final int[] forkFlags = new int[SLOTS];
    private final int[] dataLength = new int[SLOTS];
    private final int[] imageLength = new int[SLOTS];
    private final int[] holeOffset = new int[SLOTS];
    private final int[] holeLength = new int[SLOTS];
    private final int[] imageInfo = new int[SLOTS];
    private final int[] spcOid = new int[SLOTS];
    private final int[] dbOid = new int[SLOTS];
    private final int[] relNumber = new int[SLOTS];
    private final int[] blockNo = new int[SLOTS];

    /**
     * Decodes the record at {@code b[off, off + totLen)}, whose header and CRC were already validated.
     *
     * @param startLsn the record's LSN (for the result and error messages)
     * @param endLsn   the record's end LSN ({@code EndRecPtr}) for the result
     * @throws WalDecodeException naming {@code startLsn} on malformed fragment headers, lengths that
     *                            do not add up, or an image that cannot be restored
     */
    WalRecord decode(byte[] b, int off, int totLen, long startLsn, long endLsn) {
        int ptr = off + XLogRecordDescriptor.HEADER_LENGTH;
        long remaining = totLen - XLogRecordDescriptor.HEADER_LENGTH;
        long dataTotal = 0;
        long mainDataLength = 0;
        int topXid = 0;
        int origin = 0;
        int maxBlockId = -1;
        int blockCount = 0;
        boolean haveRel = false;
        int relSpc = 0;
        int relDb = 0;
        int relNum = 0;

        while (remaining > dataTotal) {
            remaining = need(remaining, 1, startLsn);
            int id = LittleEndian.u8(b, ptr++);
            if (id == XLR_BLOCK_ID_DATA_SHORT) {
                remaining = need(remaining, 1, startLsn);
                mainDataLength = LittleEndian.u8(b, ptr++);
                dataTotal += mainDataLength;
                break; // the main data header is always last
            } else if (id == XLR_BLOCK_ID_DATA_LONG) {
                remaining = need(remaining, 4, startLsn);
                mainDataLength = LittleEndian.i32(b, ptr) & 0xFFFFFFFFL;
                ptr += 4;
                dataTotal += mainDataLength;
                break;
            } else if (id == XLR_BLOCK_ID_ORIGIN) {
                remaining = need(remaining, XLogRecordBlockDescriptor.ORIGIN_LENGTH, startLsn);
                origin = LittleEndian.u16(b, ptr);
                ptr += XLogRecordBlockDescriptor.ORIGIN_LENGTH;
            } else if (id == XLR_BLOCK_ID_TOPLEVEL_XID) {
                remaining = need(remaining, XLogRecordBlockDescriptor.XID_LENGTH, startLsn);
                topXid = LittleEndian.i32(b, ptr);
                ptr += XLogRecordBlockDescriptor.XID_LENGTH;
            } else if (id <= XLR_MAX_BLOCK_ID) {
                if (id <= maxBlockId) {
                    throw new WalDecodeException(startLsn, "out-of-order block_id " + id + " (after " + maxBlockId
                            + ") in record");
                }
                for (int i = maxBlockId + 1; i < id; i++) {
                    inUse[i] = false;
                }
                maxBlockId = id;
                inUse[id] = true;
                blockCount++;

                remaining = need(remaining, 3, startLsn);
                int flags = LittleEndian.u8(b, ptr);
                int dataLen = LittleEndian.u16(b, ptr + 1);
                ptr += 3;
                forkFlags[id] = flags;
                dataLength[id] = dataLen;
                boolean hasData = (flags & BKPBLOCK_HAS_DATA) != 0;
                if (hasData && dataLen == 0) {
                    throw new WalDecodeException(startLsn, "BKPBLOCK_HAS_DATA set, but no data included for block "
                            + id + " of record");
                }
                if (!hasData && dataLen != 0) {
                    throw new WalDecodeException(startLsn, "BKPBLOCK_HAS_DATA not set, but data length is " + dataLen
                            + " for block " + id + " of record");
                }
                dataTotal += dataLen;

                if ((flags & BKPBLOCK_HAS_IMAGE) != 0) {
                    remaining = need(remaining, XLogRecordBlockDescriptor.IMAGE_HEADER_LENGTH, startLsn);
                    int bimgLen = LittleEndian.u16(b, ptr + XLogRecordBlockDescriptor.IMAGE_LENGTH_OFFSET);
                    int hOff = LittleEndian.u16(b, ptr + XLogRecordBlockDescriptor.HOLE_OFFSET_OFFSET);
                    int info = LittleEndian.u8(b, ptr + XLogRecordBlockDescriptor.BIMG_INFO_OFFSET);
                    ptr += XLogRecordBlockDescriptor.IMAGE_HEADER_LENGTH;
                    int hLen;
                    if (isCompressed(info)) {
                        if ((info & BKPIMAGE_HAS_HOLE) != 0) {
                            remaining = need(remaining, XLogRecordBlockDescriptor.COMPRESS_HEADER_LENGTH, startLsn);
                            hLen = LittleEndian.u16(b, ptr);
                            ptr += XLogRecordBlockDescriptor.COMPRESS_HEADER_LENGTH;
                        } else {
                            hLen = 0;
                        }
                    } else {
                        hLen = BLCKSZ - bimgLen;
                    }
                    dataTotal += bimgLen;
                    checkImageHeader(id, bimgLen, hOff, hLen, info, startLsn);
                    imageLength[id] = bimgLen;
                    holeOffset[id] = hOff;
                    holeLength[id] = hLen;
                    imageInfo[id] = info;
                }
                if ((flags & BKPBLOCK_SAME_REL) == 0) {
                    remaining = need(remaining, XLogRecordBlockDescriptor.REL_FILE_NODE_LENGTH, startLsn);
                    relSpc = LittleEndian.i32(b, ptr);
                    relDb = LittleEndian.i32(b, ptr + 4);
                    relNum = LittleEndian.i32(b, ptr + 8);
                    ptr += XLogRecordBlockDescriptor.REL_FILE_NODE_LENGTH;
                    haveRel = true;
                } else if (!haveRel) {
                    throw new WalDecodeException(startLsn, "BKPBLOCK_SAME_REL set but no previous rel for block "
                            + id + " of record");
                }
                spcOid[id] = relSpc;
                dbOid[id] = relDb;
                relNumber[id] = relNum;
                remaining = need(remaining, XLogRecordBlockDescriptor.BLOCK_NUMBER_LENGTH, startLsn);
                blockNo[id] = LittleEndian.i32(b, ptr);
                ptr += XLogRecordBlockDescriptor.BLOCK_NUMBER_LENGTH;
            } else {
                throw new WalDecodeException(startLsn, "invalid block_id " + id + " in record");
            }
        }
        if (remaining != dataTotal) {
            throw new WalDecodeException(startLsn, "record with invalid length: fragment headers announce " + dataTotal
                    + " payload bytes but " + remaining + " remain in record");
        }

        // Payloads: per block (in id order) image then data, then the main data.
        BlockReference[] refs = blockCount == 0 ? null : new BlockReference[blockCount];
        int n = 0;
        for (int id = 0; id <= maxBlockId; id++) {
            if (!inUse[id]) {
                continue;
            }
            int flags = forkFlags[id];
            byte[] image = null;
            boolean apply = false;
            if ((flags & BKPBLOCK_HAS_IMAGE) != 0) {
                image = restoreImage(id, b, ptr, startLsn);
                apply = (imageInfo[id] & BKPIMAGE_APPLY) != 0;
                ptr += imageLength[id];
            }
            byte[] data = EMPTY;
            if (dataLength[id] > 0) {
                data = new byte[dataLength[id]];
                System.arraycopy(b, ptr, data, 0, data.length);
                ptr += data.length;
            }
            refs[n++] = new BlockReference(id, spcOid[id], dbOid[id], relNumber[id], flags & BKPBLOCK_FORK_MASK,
                    blockNo[id], flags, image, apply, data);
        }
        byte[] mainData = EMPTY;
        if (mainDataLength > 0) {
            mainData = new byte[(int) mainDataLength];
            System.arraycopy(b, ptr, mainData, 0, mainData.length);
        }
        int xid = XLogRecordDescriptor.xid(b, off);
        int rmid = XLogRecordDescriptor.rmid(b, off);
        int info = XLogRecordDescriptor.info(b, off);
        // refs is private to this record: wrap it instead of copying it (List.of copies the array).
        return new WalRecord(startLsn, endLsn, xid, topXid, rmid, info, mainData,
                refs == null ? List.of() : Collections.unmodifiableList(Arrays.asList(refs)), origin);
    }

    private static long need(long remaining, int bytes, long lsn) {
        if (remaining < bytes) {
            throw new WalDecodeException(lsn, "record with invalid length: fragment header needs " + bytes
                    + " bytes but only " + remaining + " remain in record");
        }
        return remaining - bytes;
    }

    /** The cross-checks of {@code DecodeXLogRecord}, plus bounds that {@code RestoreBlockImage} assumes. */
    private static void checkImageHeader(int id, int bimgLen, int hOff, int hLen, int info, long lsn) {
        boolean hasHole = (info & BKPIMAGE_HAS_HOLE) != 0;
        boolean compressed = isCompressed(info);
        if (hasHole && (hOff == 0 || hLen == 0 || bimgLen == BLCKSZ)) {
            throw new WalDecodeException(lsn, "BKPIMAGE_HAS_HOLE set, but hole offset " + hOff + " length " + hLen
                    + " block image length " + bimgLen + " for block " + id + " of record");
        }
        if (!hasHole && (hOff != 0 || hLen != 0)) {
            throw new WalDecodeException(lsn, "BKPIMAGE_HAS_HOLE not set, but hole offset " + hOff + " length " + hLen
                    + " for block " + id + " of record");
        }
        if (compressed && bimgLen == BLCKSZ) {
            throw new WalDecodeException(lsn, "BKPIMAGE_COMPRESSED set, but block image length " + bimgLen
                    + " for block " + id + " of record");
        }
        if (!hasHole && !compressed && bimgLen != BLCKSZ) {
            throw new WalDecodeException(lsn, "neither BKPIMAGE_HAS_HOLE nor BKPIMAGE_COMPRESSED set, but block image"
                    + " length is " + bimgLen + " for block " + id + " of record");
        }
        if (bimgLen > BLCKSZ || hOff + hLen > BLCKSZ) {
            throw new WalDecodeException(lsn, "block image length " + bimgLen + " with hole offset " + hOff
                    + " length " + hLen + " does not fit a " + BLCKSZ + "-byte page, block " + id + " of record");
        }
        int methods = info & (BKPIMAGE_COMPRESS_PGLZ | BKPIMAGE_COMPRESS_LZ4 | BKPIMAGE_COMPRESS_ZSTD);
        if (compressed && Integer.bitCount(methods) != 1) {
            throw new WalDecodeException(lsn, "block image compressed with several methods, bimg_info 0x"
                    + Integer.toHexString(info) + ", block " + id + " of record");
        }
    }

    /** {@code RestoreBlockImage}: the full 8192-byte page, decompressed, hole filled with zeros. */
    private byte[] restoreImage(int id, byte[] b, int ptr, long lsn) {
        int info = imageInfo[id];
        int bimgLen = imageLength[id];
        int hOff = holeOffset[id];
        int hLen = holeLength[id];
        int rawLen = BLCKSZ - hLen;
        byte[] page = new byte[BLCKSZ];
        if (isCompressed(info)) {
            // Decompress into the page, then open the hole by moving the tail up.
            int got;
            String method;
            if ((info & BKPIMAGE_COMPRESS_PGLZ) != 0) {
                method = "pglz";
                got = PglzDecompressor.decompress(b, ptr, bimgLen, page, 0, rawLen, true);
            } else if ((info & BKPIMAGE_COMPRESS_LZ4) != 0) {
                method = "lz4";
                try {
                    got = LZ4.decompress(b, ptr, bimgLen, page, 0, rawLen);
                } catch (LZ4Exception e) {
                    throw new WalDecodeException(lsn, "could not decompress lz4 image of block " + id + " ("
                            + bimgLen + " bytes, expected " + rawLen + " raw): " + e.getMessage(), e);
                }
            } else {
                method = "zstd";
                long r = Zstd.decompressByteArray(page, 0, rawLen, b, ptr, bimgLen);
                if (Zstd.isError(r)) {
                    throw new WalDecodeException(lsn, "could not decompress zstd image of block " + id + " ("
                            + bimgLen + " bytes, expected " + rawLen + " raw): " + Zstd.getErrorName(r));
                }
                got = (int) r;
            }
            if (got != rawLen) {
                throw new WalDecodeException(lsn, "could not decompress " + method + " image of block " + id + ": "
                        + (got < 0 ? "corrupt compressed data" : "got " + got + " bytes") + ", expected " + rawLen
                        + " (" + BLCKSZ + " - hole length " + hLen + ") from " + bimgLen + " compressed bytes");
            }
            if (hLen > 0) {
                System.arraycopy(page, hOff, page, hOff + hLen, rawLen - hOff);
                java.util.Arrays.fill(page, hOff, hOff + hLen, (byte) 0);
            }
        } else if (hLen == 0) {
            System.arraycopy(b, ptr, page, 0, BLCKSZ);
        } else {
            System.arraycopy(b, ptr, page, 0, hOff);
            System.arraycopy(b, ptr + hOff, page, hOff + hLen, BLCKSZ - hOff - hLen);
        }
        return page;
    }
}
