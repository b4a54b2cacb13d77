package io.forkline.wal.record;

import java.util.List;

/**
 * One decoded WAL record: PostgreSQL's {@code DecodedXLogRecord} (see
 * {@code src/include/access/xlogreader.h} and {@code DecodeXLogRecord} in
 * {@code src/backend/access/transam/xlogreader.c}), with every block image already restored to a
 * full 8192-byte page.
 *
 * @param startLsn  WAL position of the record header
 * @param endLsn    position just past the record, MAXALIGNed, as PostgreSQL's {@code EndRecPtr}
 *                  (a page boundary when the record ends exactly at one; the next segment's start
 *                  for {@code XLOG_SWITCH}); a branch at LSN X holds the records with
 *                  {@code endLsn <= X}
 * @param xid       {@code xl_xid}, 0 when none
 * @param topXid    top-level xid from {@code XLR_BLOCK_ID_TOPLEVEL_XID}, 0 when absent
 * @param rmid      resource manager id ({@code src/include/access/rmgrlist.h})
 * @param info      {@code xl_info}; the rmgr's record type is {@code info & 0xF0}
 * @param mainData  the record's main data (never {@code null}, possibly empty)
 * @param blocks    block references in the order of their block ids
 * @param origin    replication origin ({@code RepOriginId}, 0..65535) from {@code XLR_BLOCK_ID_ORIGIN},
 *                  0 ({@code InvalidRepOriginId}) when absent ({@code XLogRecGetOrigin})
 */
public record WalRecord(long startLsn, long endLsn, int xid, int topXid, int rmid, int info, byte[] mainData,
                        List<BlockReference> blocks, int origin) {

    /** A record without replication origin. */
    public WalRecord(long startLsn, long endLsn, int xid, int topXid, int rmid, int info, byte[] mainData,
                     List<BlockReference> blocks) {
        this(startLsn, endLsn, xid, topXid, rmid, info, mainData, blocks, 0);
    }

    /** {@code info & XLR_RMGR_INFO_MASK (0xF0)}: the rmgr-specific record type. */
    public int type() {
        return info & 0xF0;
    }

    /** The block reference with block id {@code id}, or {@code null}. */
    public BlockReference block(int id) {
        for (BlockReference b : blocks) {
            if (b.blockId() == id) {
                return b;
            }
        }
        return null;
    }
}
