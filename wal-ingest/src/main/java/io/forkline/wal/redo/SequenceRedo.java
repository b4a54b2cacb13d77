package io.forkline.wal.redo;

import io.forkline.wal.record.WalRecord;

/**
 * Redo of the Sequence resource manager ({@code seq_redo}, {@code src/backend/commands/sequence.c}):
 * {@code XLOG_SEQ_LOG} always rebuilds the page: {@code PageInit} with 4 bytes of special space
 * holding {@code SEQ_MAGIC} (0x1717), then the tuple that follows the 12-byte {@code xl_seq_rec}
 * (the relation's {@code RelFileNode}) in the main data at offset 1.
 */
public final class SequenceRedo {
    public static final int XLOG_SEQ_LOG = 0x00;
    static final int SEQ_MAGIC = 0x1717;
    static final int XL_SEQ_REC_SIZE = 12;

    private SequenceRedo() {
    }

    /** {@code seq_redo}. */
    public static void redo(RedoBuffers bufs) {
        WalRecord rec = bufs.record();
        if ((rec.info() & 0xF0) != XLOG_SEQ_LOG) {
            throw new RedoException("unknown sequence record type 0x" + Integer.toHexString(rec.info()));
        }
        byte[] d = rec.mainData();
        HeapRedo.need(d, XL_SEQ_REC_SIZE + 1, "xl_seq_rec");
        byte[] page = bufs.init(0);
        if (page == null) {
            return;
        }
        BufPage.init(page, 4);
        BufPage.putI32(page, BufPage.special(page), SEQ_MAGIC);
        if (BufPage.addItem(page, d, XL_SEQ_REC_SIZE, d.length - XL_SEQ_REC_SIZE, 1, 0) == 0) {
            throw new RedoException("seq_redo: failed to add item to page");
        }
        BufPage.setLsn(page, rec.endLsn());
    }
}
