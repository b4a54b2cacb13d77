package io.forkline.wal.redo;

import io.forkline.wal.record.BlockReference;
import io.forkline.wal.record.WalRecord;

/**
 * Redo of generic WAL records ({@code generic_redo} and {@code applyPageRedo},
 * {@code src/backend/access/transam/generic_xlog.c}): each block's data is a sequence of fragments
 * {@code [uint16 offset][uint16 length][length bytes]} copied onto the page, after which the gap
 * between {@code pd_lower} and {@code pd_upper} is zeroed.
 */
public final class GenericRedo {
    private GenericRedo() {
    }

    /** {@code generic_redo}. */
    public static void redo(RedoBuffers bufs) {
        WalRecord rec = bufs.record();
        for (BlockReference b : rec.blocks()) {
            byte[] page = bufs.forRedo(b.blockId());
            if (page == null) {
                continue;
            }
            byte[] delta = b.data();
            int p = 0;
            while (p < delta.length) {
                HeapRedo.need(delta, p + 4, "generic fragment header");
                int offset = BufPage.u16(delta, p);
                int length = BufPage.u16(delta, p + 2);
                p += 4;
                HeapRedo.need(delta, p + length, "generic fragment");
                if (offset + length > BufPage.BLCKSZ) {
                    throw new RedoException("generic fragment " + offset + "+" + length + " beyond the page");
                }
                System.arraycopy(delta, p, page, offset, length);
                p += length;
            }
            int lower = BufPage.lower(page);
            int upper = BufPage.upper(page);
            if (upper > lower) {
                java.util.Arrays.fill(page, lower, upper, (byte) 0);
            }
            BufPage.setLsn(page, rec.endLsn());
        }
    }
}
