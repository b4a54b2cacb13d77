package io.forkline.wal.record;

/**
 * One block reference of a WAL record ({@code DecodedBkpBlock}, {@code src/include/access/xlogreader.h}).
 *
 * @param blockId    0..32, the id the record registered the block under
 * @param spcOid     tablespace OID of the relation ({@code RelFileNode.spcNode})
 * @param dbOid      database OID ({@code RelFileNode.dbNode})
 * @param relNumber  relfilenode ({@code RelFileNode.relNode})
 * @param forkNum    0 main, 1 fsm, 2 vm, 3 init
 * @param blockNo    block number in the fork
 * @param flags      raw {@code fork_flags} byte (BKPBLOCK_*)
 * @param image      the full 8192-byte page image, hole filled with zeros and decompressed, or
 *                   {@code null} when the reference carries no image
 * @param applyImage {@code BKPIMAGE_APPLY}: the image is to be applied at redo (else it was
 *                   included only for {@code wal_consistency_checking}); with consistency
 *                   checking on, both kinds are post-images of the page
 * @param data       the block's rmgr-specific data ({@code BKPBLOCK_HAS_DATA}), or an empty array
 */
public record BlockReference(int blockId, int spcOid, int dbOid, int relNumber, int forkNum, int blockNo, int flags,
                             byte[] image, boolean applyImage, byte[] data) {
    /** Whether the reference carries a full page image ({@code BKPBLOCK_HAS_IMAGE}): {@link #image()} is not null. */
    public boolean hasImage() {
        return image != null;
    }

    /** The relation fork this block belongs to. */
    public io.forkline.storage.key.RelTag relTag() {
        return new io.forkline.storage.key.RelTag(spcOid, dbOid, relNumber, forkNum);
    }

    /**
     * {@code BKPBLOCK_WILL_INIT} ({@link XLogRecordBlockDescriptor#BKPBLOCK_WILL_INIT}) in {@link #flags()}:
     * redo reinitializes the page instead of reading it first (e.g. the first insert into a new page).
     */
    public boolean willInit() {
        return (flags & XLogRecordBlockDescriptor.BKPBLOCK_WILL_INIT) != 0;
    }
}
