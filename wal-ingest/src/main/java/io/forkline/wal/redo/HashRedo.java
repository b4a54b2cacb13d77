package io.forkline.wal.redo;

import io.forkline.wal.redo.HashRecordDescriptor.AddOvflPage;
import io.forkline.wal.redo.HashRecordDescriptor.Delete;
import io.forkline.wal.redo.HashRecordDescriptor.InitBitmapPage;
import io.forkline.wal.redo.HashRecordDescriptor.InitMetaPage;
import io.forkline.wal.redo.HashRecordDescriptor.Insert;
import io.forkline.wal.redo.HashRecordDescriptor.MovePageContents;
import io.forkline.wal.redo.HashRecordDescriptor.SplitAllocatePage;
import io.forkline.wal.redo.HashRecordDescriptor.SplitComplete;
import io.forkline.wal.redo.HashRecordDescriptor.SqueezePage;
import io.forkline.wal.redo.HashRecordDescriptor.UpdateMetaPage;
import io.forkline.wal.redo.HashRecordDescriptor.VacuumOnePage;
import io.forkline.wal.record.WalRecord;

/**
 * Redo of the Hash resource manager ({@code hash_redo}, {@code src/backend/access/hash/hash_xlog.c}
 * of PostgreSQL 15). Page layout and initializers in {@link HashPage}, record layouts in
 * {@link HashRecordDescriptor}.
 *
 * <p>Blocks that PostgreSQL's redo reads only to take a cleanup lock on the primary bucket page
 * (block 0 of {@code MOVE_PAGE_CONTENTS}, {@code SQUEEZE_PAGE} and {@code DELETE} when the page
 * written is another one; registered with {@code REGBUF_NO_IMAGE}) are not read here: their page
 * does not change, not even its LSN. {@code SPLIT_ALLOCATE_PAGE} and {@code SPLIT_COMPLETE} change a
 * restored page again in PostgreSQL; the image already holds those changes (it was taken after
 * them), so a restored block is left as the image.
 */
public final class HashRedo {
    private HashRedo() {
    }

    /** {@code hash_redo}. */
    public static void redo(RedoBuffers bufs) {
        WalRecord rec = bufs.record();
        byte[] d = rec.mainData();
        switch (rec.info() & 0xF0) {
            case HashRecordDescriptor.INIT_META_PAGE -> initMetaPage(bufs, InitMetaPage.parse(d));
            case HashRecordDescriptor.INIT_BITMAP_PAGE -> initBitmapPage(bufs, InitBitmapPage.parse(d));
            case HashRecordDescriptor.INSERT -> insert(bufs, Insert.parse(d));
            case HashRecordDescriptor.ADD_OVFL_PAGE -> addOvflPage(bufs, AddOvflPage.parse(d));
            case HashRecordDescriptor.SPLIT_ALLOCATE_PAGE -> splitAllocatePage(bufs, SplitAllocatePage.parse(d));
            case HashRecordDescriptor.SPLIT_PAGE -> splitPage(bufs);
            case HashRecordDescriptor.SPLIT_COMPLETE -> splitComplete(bufs, SplitComplete.parse(d));
            case HashRecordDescriptor.MOVE_PAGE_CONTENTS -> movePageContents(bufs, MovePageContents.parse(d));
            case HashRecordDescriptor.SQUEEZE_PAGE -> squeezePage(bufs, SqueezePage.parse(d));
            case HashRecordDescriptor.DELETE -> delete(bufs, Delete.parse(d));
            case HashRecordDescriptor.SPLIT_CLEANUP -> splitCleanup(bufs);
            case HashRecordDescriptor.UPDATE_META_PAGE -> updateMetaPage(bufs, UpdateMetaPage.parse(d));
            case HashRecordDescriptor.VACUUM_ONE_PAGE -> vacuumOnePage(bufs, VacuumOnePage.parse(d));
            default -> throw new RedoException("hash_redo: unknown op code 0x" + Integer.toHexString(rec.info()));
        }
    }

    /** {@code hash_xlog_init_meta_page}: block 0 by {@code _hash_init_metabuffer}. */
    private static void initMetaPage(RedoBuffers bufs, InitMetaPage x) {
        byte[] meta = bufs.init(0);
        if (meta != null) {
            HashPage.initMetabuffer(meta, x.numTuples(), x.procid(), x.ffactor());
            setLsn(bufs, meta);
        }
    }

    /** {@code hash_xlog_init_bitmap_page}: the bitmap page (block 0), added to the metapage's {@code hashm_mapp} (block 1). */
    private static void initBitmapPage(RedoBuffers bufs, InitBitmapPage x) {
        byte[] bitmap = bufs.init(0);
        if (bitmap != null) {
            HashPage.initbitmapbuffer(bitmap, x.bmsize());
            setLsn(bufs, bitmap);
        }
        byte[] meta = bufs.forRedo(1);
        if (meta != null) {
            int numBuckets = HashPage.u32(meta, HashPage.META_MAXBUCKET) + 1;
            int nmaps = HashPage.u32(meta, HashPage.META_NMAPS);
            HashPage.putU32(meta, HashPage.mapp(nmaps), numBuckets + 1);
            HashPage.putU32(meta, HashPage.META_NMAPS, nmaps + 1);
            setLsn(bufs, meta);
        }
    }

    /** {@code hash_xlog_insert}: the tuple at its offset (block 0), {@code hashm_ntuples + 1} (block 1). */
    private static void insert(RedoBuffers bufs, Insert x) {
        byte[] page = bufs.forRedo(0);
        if (page != null) {
            byte[] tuple = bufs.block(0).data();
            if (BufPage.addItem(page, tuple, 0, tuple.length, x.offnum(), 0) == 0) {
                throw new RedoException("hash_xlog_insert: failed to add item");
            }
            setLsn(bufs, page);
        }
        byte[] meta = bufs.forRedo(1);
        if (meta != null) {
            HashPage.setNtuples(meta, HashPage.ntuples(meta) + 1);
            setLsn(bufs, meta);
        }
    }

    /**
     * {@code hash_xlog_add_ovfl_page}: the new overflow page (block 0, its bucket in the block data)
     * linked after block 1; the bitmap bit set (block 2) or a new bitmap page (block 3); the
     * metapage's {@code hashm_firstfree}, spares and bitmaps (block 4).
     */
    private static void addOvflPage(RedoBuffers bufs, AddOvflPage x) {
        int rightblk = bufs.block(0).blockNo();
        int leftblk = bufs.block(1).blockNo();
        byte[] ovfl = bufs.init(0);
        if (ovfl != null) {
            int bucket = HashRecordDescriptor.u32(bufs.block(0).data(), 0, "hash_xlog_add_ovfl_page bucket");
            HashPage.initbuf(ovfl, HashPage.INVALID_BLOCK, bucket, HashPage.LH_OVERFLOW_PAGE);
            HashPage.setPrevblkno(ovfl, leftblk);
            setLsn(bufs, ovfl);
        }
        byte[] left = bufs.forRedo(1);
        if (left != null) {
            HashPage.setNextblkno(left, rightblk);
            setLsn(bufs, left);
        }
        if (bufs.has(2)) {
            byte[] map = bufs.forRedo(2);
            if (map != null) {
                int bit = HashRecordDescriptor.u32(bufs.block(2).data(), 0, "hash_xlog_add_ovfl_page bitmap bit");
                HashPage.setBitmapBit(map, bit, true);
                setLsn(bufs, map);
            }
        }
        boolean newBmpage = false;
        int newmapblk = HashPage.INVALID_BLOCK;
        if (bufs.has(3)) {
            byte[] newmap = bufs.init(3);
            if (newmap != null) {
                HashPage.initbitmapbuffer(newmap, x.bmsize());
                setLsn(bufs, newmap);
            }
            newBmpage = true;
            newmapblk = bufs.block(3).blockNo();
        }
        byte[] meta = bufs.forRedo(4);
        if (meta != null) {
            int firstfree = HashRecordDescriptor.u32(bufs.block(4).data(), 0, "hash_xlog_add_ovfl_page firstfree");
            HashPage.putU32(meta, HashPage.META_FIRSTFREE, firstfree);
            if (!x.bmpageFound()) {
                int spare = HashPage.spare(HashPage.u32(meta, HashPage.META_OVFLPOINT));
                HashPage.putU32(meta, spare, HashPage.u32(meta, spare) + 1);
                if (newBmpage) {
                    int nmaps = HashPage.u32(meta, HashPage.META_NMAPS);
                    HashPage.putU32(meta, HashPage.mapp(nmaps), newmapblk);
                    HashPage.putU32(meta, HashPage.META_NMAPS, nmaps + 1);
                    HashPage.putU32(meta, spare, HashPage.u32(meta, spare) + 1);
                }
            }
            setLsn(bufs, meta);
        }
    }

    /**
     * {@code hash_xlog_split_allocate_page}: the old bucket's flag and {@code hasho_prevblkno} (block 0),
     * the new bucket's primary page (block 1, {@code _hash_initbuf}), the metapage's
     * {@code hashm_maxbucket}, masks and splitpoint (block 2, from its block data).
     */
    private static void splitAllocatePage(RedoBuffers bufs, SplitAllocatePage x) {
        byte[] old = bufs.forRedo(0);
        if (old != null) {
            HashPage.setFlag(old, x.oldBucketFlag());
            HashPage.setPrevblkno(old, x.newBucket());
            setLsn(bufs, old);
        }
        byte[] nw = bufs.init(1);
        if (nw != null) {
            HashPage.initbuf(nw, x.newBucket(), x.newBucket(), x.newBucketFlag());
            setLsn(bufs, nw);
        }
        byte[] meta = bufs.forRedo(2);
        if (meta != null) {
            HashPage.putU32(meta, HashPage.META_MAXBUCKET, x.newBucket());
            byte[] data = bufs.block(2).data();
            int at = 0;
            if ((x.flags() & HashRecordDescriptor.SPLIT_META_UPDATE_MASKS) != 0) {
                int lowmask = HashRecordDescriptor.u32(data, at, "hash_xlog_split_allocate_page lowmask");
                int highmask = HashRecordDescriptor.u32(data, at + 4, "hash_xlog_split_allocate_page highmask");
                HashPage.putU32(meta, HashPage.META_LOWMASK, lowmask);
                HashPage.putU32(meta, HashPage.META_HIGHMASK, highmask);
                at += 8;
            }
            if ((x.flags() & HashRecordDescriptor.SPLIT_META_UPDATE_SPLITPOINT) != 0) {
                int ovflpoint = HashRecordDescriptor.u32(data, at, "hash_xlog_split_allocate_page ovflpoint");
                int ovflpages = HashRecordDescriptor.u32(data, at + 4, "hash_xlog_split_allocate_page ovflpages");
                HashPage.putU32(meta, HashPage.spare(ovflpoint), ovflpages);
                HashPage.putU32(meta, HashPage.META_OVFLPOINT, ovflpoint);
            }
            setLsn(bufs, meta);
        }
    }

    /** {@code hash_xlog_split_page}: block 0 always carries an image to restore ({@code REGBUF_FORCE_IMAGE}). */
    private static void splitPage(RedoBuffers bufs) {
        bufs.forRedo(0);
        if (bufs.outcome(0) != RedoBuffers.Outcome.RESTORED) {
            throw new RedoException("Hash split record did not contain a full-page image");
        }
    }

    /** {@code hash_xlog_split_complete}: the old (block 0) and new (block 1) buckets' flags. */
    private static void splitComplete(RedoBuffers bufs, SplitComplete x) {
        byte[] old = bufs.forRedo(0);
        if (old != null) {
            HashPage.setFlag(old, x.oldBucketFlag());
            setLsn(bufs, old);
        }
        byte[] nw = bufs.forRedo(1);
        if (nw != null) {
            HashPage.setFlag(nw, x.newBucketFlag());
            setLsn(bufs, nw);
        }
    }

    /**
     * {@code hash_xlog_move_page_contents}: tuples added to the write page (block 1) at their
     * offsets, deleted from the page they came from (block 2).
     */
    private static void movePageContents(RedoBuffers bufs, MovePageContents x) {
        byte[] write = bufs.forRedo(1);
        if (write != null) {
            addTuples(write, bufs.block(1).data(), x.ntups(), "hash_xlog_move_page_contents");
            setLsn(bufs, write);
        }
        byte[] del = bufs.forRedo(2);
        if (del != null) {
            multiDelete(del, bufs.block(2).data());
            setLsn(bufs, del);
        }
    }

    /**
     * {@code hash_xlog_squeeze_page}: tuples of the freed overflow page added to the write page
     * (block 1, whose next link is updated when it precedes the freed page); the freed page
     * reinitialized as unused (block 2); the links of its previous (block 3) and next (block 4)
     * pages; its bitmap bit cleared (block 5); the metapage's {@code hashm_firstfree} (block 6).
     */
    private static void squeezePage(RedoBuffers bufs, SqueezePage x) {
        byte[] write = bufs.forRedo(1);
        if (write != null) {
            addTuples(write, bufs.block(1).data(), x.ntups(), "hash_xlog_squeeze_page");
            if (x.isPrevBucketSameWrt()) {
                HashPage.setNextblkno(write, x.nextblkno());
            }
            setLsn(bufs, write);
        }
        byte[] ovfl = bufs.forRedo(2);
        if (ovfl != null) {
            HashPage.pageinit(ovfl);
            HashPage.setPrevblkno(ovfl, HashPage.INVALID_BLOCK);
            HashPage.setNextblkno(ovfl, HashPage.INVALID_BLOCK);
            HashPage.setBucket(ovfl, HashPage.INVALID_BUCKET);
            HashPage.setFlag(ovfl, HashPage.LH_UNUSED_PAGE);
            HashPage.setPageId(ovfl);
            setLsn(bufs, ovfl);
        }
        if (!x.isPrevBucketSameWrt()) {
            byte[] prev = bufs.forRedo(3);
            if (prev != null) {
                HashPage.setNextblkno(prev, x.nextblkno());
                setLsn(bufs, prev);
            }
        }
        if (bufs.has(4)) {
            byte[] next = bufs.forRedo(4);
            if (next != null) {
                HashPage.setPrevblkno(next, x.prevblkno());
                setLsn(bufs, next);
            }
        }
        byte[] map = bufs.forRedo(5);
        if (map != null) {
            int bit = HashRecordDescriptor.u32(bufs.block(5).data(), 0, "hash_xlog_squeeze_page bitmap bit");
            HashPage.setBitmapBit(map, bit, false);
            setLsn(bufs, map);
        }
        if (bufs.has(6)) {
            byte[] meta = bufs.forRedo(6);
            if (meta != null) {
                int firstfree = HashRecordDescriptor.u32(bufs.block(6).data(), 0, "hash_xlog_squeeze_page firstfree");
                HashPage.putU32(meta, HashPage.META_FIRSTFREE, firstfree);
                setLsn(bufs, meta);
            }
        }
    }

    /**
     * {@code hash_xlog_delete}: the offsets in block 1's data deleted from its page; with
     * {@code clear_dead_marking}, {@code LH_PAGE_HAS_DEAD_TUPLES} cleared.
     */
    private static void delete(RedoBuffers bufs, Delete x) {
        byte[] page = bufs.forRedo(1);
        if (page != null) {
            multiDelete(page, bufs.block(1).data());
            if (x.clearDeadMarking()) {
                HashPage.setFlag(page, HashPage.flag(page) & ~HashPage.LH_PAGE_HAS_DEAD_TUPLES);
            }
            setLsn(bufs, page);
        }
    }

    /** {@code hash_xlog_split_cleanup}: {@code LH_BUCKET_NEEDS_SPLIT_CLEANUP} cleared on the primary bucket page. */
    private static void splitCleanup(RedoBuffers bufs) {
        byte[] page = bufs.forRedo(0);
        if (page != null) {
            HashPage.setFlag(page, HashPage.flag(page) & ~HashPage.LH_BUCKET_NEEDS_SPLIT_CLEANUP);
            setLsn(bufs, page);
        }
    }

    /** {@code hash_xlog_update_meta_page}: {@code hashm_ntuples} after a vacuum. */
    private static void updateMetaPage(RedoBuffers bufs, UpdateMetaPage x) {
        byte[] meta = bufs.forRedo(0);
        if (meta != null) {
            HashPage.setNtuples(meta, x.ntuples());
            setLsn(bufs, meta);
        }
    }

    /**
     * {@code hash_xlog_vacuum_one_page}: the dead tuples an insert found deleted from the bucket page
     * (block 0), {@code LH_PAGE_HAS_DEAD_TUPLES} cleared; {@code hashm_ntuples} lowered (block 1).
     */
    private static void vacuumOnePage(RedoBuffers bufs, VacuumOnePage x) {
        byte[] page = bufs.forRedo(0);
        if (page != null) {
            if (x.offsets().length > 0) {
                BufPage.indexMultiDelete(page, x.offsets(), x.offsets().length);
            }
            HashPage.setFlag(page, HashPage.flag(page) & ~HashPage.LH_PAGE_HAS_DEAD_TUPLES);
            setLsn(bufs, page);
        }
        byte[] meta = bufs.forRedo(1);
        if (meta != null) {
            HashPage.setNtuples(meta, HashPage.ntuples(meta) - x.ntuples());
            setLsn(bufs, meta);
        }
    }

    /**
     * The loop of {@code hash_xlog_move_page_contents} / {@code hash_xlog_squeeze_page}: {@code ntups}
     * target offsets, then tuples of {@code MAXALIGN(IndexTupleSize)} bytes each, added in order.
     */
    private static void addTuples(byte[] page, byte[] data, int ntups, String routine) {
        if (ntups == 0) {
            return;
        }
        HeapRedo.need(data, 2 * ntups, routine + " offsets");
        int[] towrite = HashRecordDescriptor.offsets(data, 0, ntups);
        int pos = 2 * ntups;
        int ninserted = 0;
        while (pos < data.length) {
            HeapRedo.need(data, pos + IndexTuple.HEADER_SIZE, routine + " tuple header");
            int itemsz = BufPage.maxAlign(IndexTuple.size(data, pos));
            if (itemsz == 0 || pos + itemsz > data.length || ninserted >= ntups) {
                throw new RedoException(routine + ": malformed tuple data at " + pos + " (size " + itemsz + ", "
                        + ninserted + " of " + ntups + " inserted)");
            }
            if (BufPage.addItem(page, data, pos, itemsz, towrite[ninserted], 0) == 0) {
                throw new RedoException(routine + ": failed to add item to hash index page, size " + itemsz + " bytes");
            }
            pos += itemsz;
            ninserted++;
        }
        if (ninserted != ntups) {
            throw new RedoException(routine + ": " + ninserted + " tuples in the record, " + ntups + " announced");
        }
    }

    /** {@code PageIndexMultiDelete} of the offsets that make up {@code data} (none when empty). */
    private static void multiDelete(byte[] page, byte[] data) {
        int n = data.length / 2;
        if (n > 0) {
            BufPage.indexMultiDelete(page, HashRecordDescriptor.offsets(data, 0, n), n);
        }
    }

    private static void setLsn(RedoBuffers bufs, byte[] page) {
        BufPage.setLsn(page, bufs.record().endLsn());
    }
}
