package io.forkline.wal.ingest.xact;

import io.forkline.wal.ingest.rmgr.LittleEndianReader;
import io.forkline.wal.ingest.rmgr.RecordFormatException;

import java.util.zip.CRC32C;

/**
 * A {@code pg_twophase/<XID>} state file built from the main data of an {@code XLOG_XACT_PREPARE}
 * record ({@code src/backend/access/transam/twophase.c}: the record data is the state content as
 * {@code EndPrepare} assembled it, and {@code RecreateTwoPhaseFile} writes that content followed by
 * its CRC-32C):
 *
 * <pre>
 *   TwoPhaseFileHeader: magic 0x57F94534 (4) | total_len (4) | xid (4) | database (4) | prepared_at (8) | ...
 *   ... records ... | CRC-32C of everything before (4, little-endian)
 * </pre>
 *
 * {@code total_len} counts the CRC too, so {@code total_len == data.length + 4}.
 */
public final class TwoPhaseStateFile {
    /** {@code TWOPHASE_MAGIC}. */
    public static final int MAGIC = 0x57F94534;

    private TwoPhaseStateFile() {
    }

    /** The prepared transaction's xid from the state header (offset 8). */
    public static int xid(byte[] prepareData) {
        validate(prepareData);
        return LittleEndianReader.i32(prepareData, 8);
    }

    /**
     * The exact file content: {@code prepareData} followed by its CRC-32C.
     *
     * @throws RecordFormatException when the magic or total length do not match
     */
    public static byte[] fileContent(byte[] prepareData) {
        validate(prepareData);
        CRC32C crc = new CRC32C();
        crc.update(prepareData, 0, prepareData.length);
        byte[] out = new byte[prepareData.length + 4];
        System.arraycopy(prepareData, 0, out, 0, prepareData.length);
        LittleEndianReader.putI32(out, prepareData.length, (int) crc.getValue());
        return out;
    }

    private static void validate(byte[] d) {
        int magic = LittleEndianReader.i32(d, 0);
        if (magic != MAGIC) {
            throw new RecordFormatException("two-phase state magic is 0x" + Integer.toHexString(magic) + ", expected 0x"
                    + Integer.toHexString(MAGIC));
        }
        int totalLen = LittleEndianReader.i32(d, 4);
        if (totalLen != d.length + 4) {
            throw new RecordFormatException("two-phase state total_len " + totalLen + " does not match record data length "
                    + d.length + " + 4-byte CRC");
        }
    }
}
