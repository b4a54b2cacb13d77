package io.forkline.wal.redo;

/**
 * The main data of the Hash resource manager's records ({@code src/include/access/hash_xlog.h} of
 * PostgreSQL 15), each parsed from its C layout (little-endian, natural alignment; sizes are the
 * {@code SizeOfHash*} macros, without trailing padding):
 *
 * <pre>
 *   xl_hash_init_meta_page       num_tuples(f8) procid(4) ffactor(2)                         14 B
 *   xl_hash_init_bitmap_page     bmsize(2)                                                    2 B
 *   xl_hash_insert               offnum(2)                                                    2 B
 *   xl_hash_add_ovfl_page        bmsize(2) bmpage_found(1)                                    3 B
 *   xl_hash_split_allocate_page  new_bucket(4) old_bucket_flag(2) new_bucket_flag(2) flags(1) 9 B
 *   xl_hash_split_complete       old_bucket_flag(2) new_bucket_flag(2)                        4 B
 *   xl_hash_move_page_contents   ntups(2) is_prim_bucket_same_wrt(1)                          3 B
 *   xl_hash_squeeze_page         prevblkno(4) nextblkno(4) ntups(2) is_prim_bucket_same_wrt(1)
 *                                is_prev_bucket_same_wrt(1)                                  12 B
 *   xl_hash_delete               clear_dead_marking(1) is_primary_bucket_page(1)              2 B
 *   xl_hash_update_meta_page     ntuples(f8)                                                  8 B
 *   xl_hash_vacuum_one_page      latestRemovedXid(4) ntuples(4), then ntuples offsets(2)      8 B + 2n
 * </pre>
 *
 * Block data: {@code INSERT} block 0 the index tuple; {@code ADD_OVFL_PAGE} block 0 the bucket
 * (u32), block 2 the bitmap bit to set (u32), block 4 the new {@code hashm_firstfree} (u32);
 * {@code SPLIT_ALLOCATE_PAGE} block 2 {@code lowmask, highmask} (with
 * {@link #SPLIT_META_UPDATE_MASKS}) then {@code ovflpoint, spares[ovflpoint]} (with
 * {@link #SPLIT_META_UPDATE_SPLITPOINT}); {@code MOVE_PAGE_CONTENTS} / {@code SQUEEZE_PAGE} block 1
 * {@code ntups} target offsets then the tuples (each {@code MAXALIGN(IndexTupleSize)} bytes),
 * {@code MOVE_PAGE_CONTENTS} / {@code DELETE} block 2 / 1 the offsets to delete; {@code SQUEEZE_PAGE}
 * block 5 the bitmap bit to clear, block 6 the new {@code hashm_firstfree}.
 */
final class HashRecordDescriptor {
    static final int INIT_META_PAGE = 0x00;
    static final int INIT_BITMAP_PAGE = 0x10;
    static final int INSERT = 0x20;
    static final int ADD_OVFL_PAGE = 0x30;
    static final int SPLIT_ALLOCATE_PAGE = 0x40;
    static final int SPLIT_PAGE = 0x50;
    static final int SPLIT_COMPLETE = 0x60;
    static final int MOVE_PAGE_CONTENTS = 0x70;
    static final int SQUEEZE_PAGE = 0x80;
    static final int DELETE = 0x90;
    static final int SPLIT_CLEANUP = 0xA0;
    static final int UPDATE_META_PAGE = 0xB0;
    static final int VACUUM_ONE_PAGE = 0xC0;

    /** {@code XLH_SPLIT_META_UPDATE_MASKS}. */
    static final int SPLIT_META_UPDATE_MASKS = 1;
    /** {@code XLH_SPLIT_META_UPDATE_SPLITPOINT}. */
    static final int SPLIT_META_UPDATE_SPLITPOINT = 1 << 1;

    private HashRecordDescriptor() {
    }

    /** {@code xl_hash_init_meta_page}. */
    record InitMetaPage(double numTuples, int procid, int ffactor) {
        static InitMetaPage parse(byte[] d) {
            HeapRedo.need(d, 14, "xl_hash_init_meta_page");
            return new InitMetaPage(f64(d, 0), BufPage.i32(d, 8), BufPage.u16(d, 12));
        }
    }

    /** {@code xl_hash_init_bitmap_page}. */
    record InitBitmapPage(int bmsize) {
        static InitBitmapPage parse(byte[] d) {
            HeapRedo.need(d, 2, "xl_hash_init_bitmap_page");
            return new InitBitmapPage(BufPage.u16(d, 0));
        }
    }

    /** {@code xl_hash_insert}. */
    record Insert(int offnum) {
        static Insert parse(byte[] d) {
            HeapRedo.need(d, 2, "xl_hash_insert");
            return new Insert(BufPage.u16(d, 0));
        }
    }

    /** {@code xl_hash_add_ovfl_page}. */
    record AddOvflPage(int bmsize, boolean bmpageFound) {
        static AddOvflPage parse(byte[] d) {
            HeapRedo.need(d, 3, "xl_hash_add_ovfl_page");
            return new AddOvflPage(BufPage.u16(d, 0), d[2] != 0);
        }
    }

    /** {@code xl_hash_split_allocate_page}. */
    record SplitAllocatePage(int newBucket, int oldBucketFlag, int newBucketFlag, int flags) {
        static SplitAllocatePage parse(byte[] d) {
            HeapRedo.need(d, 9, "xl_hash_split_allocate_page");
            return new SplitAllocatePage(BufPage.i32(d, 0), BufPage.u16(d, 4), BufPage.u16(d, 6), d[8] & 0xFF);
        }
    }

    /** {@code xl_hash_split_complete}. */
    record SplitComplete(int oldBucketFlag, int newBucketFlag) {
        static SplitComplete parse(byte[] d) {
            HeapRedo.need(d, 4, "xl_hash_split_complete");
            return new SplitComplete(BufPage.u16(d, 0), BufPage.u16(d, 2));
        }
    }

    /** {@code xl_hash_move_page_contents}. */
    record MovePageContents(int ntups, boolean isPrimBucketSameWrt) {
        static MovePageContents parse(byte[] d) {
            HeapRedo.need(d, 3, "xl_hash_move_page_contents");
            return new MovePageContents(BufPage.u16(d, 0), d[2] != 0);
        }
    }

    /** {@code xl_hash_squeeze_page}. */
    record SqueezePage(int prevblkno, int nextblkno, int ntups, boolean isPrimBucketSameWrt,
                       boolean isPrevBucketSameWrt) {
        static SqueezePage parse(byte[] d) {
            HeapRedo.need(d, 12, "xl_hash_squeeze_page");
            return new SqueezePage(BufPage.i32(d, 0), BufPage.i32(d, 4), BufPage.u16(d, 8), d[10] != 0, d[11] != 0);
        }
    }

    /** {@code xl_hash_delete}. */
    record Delete(boolean clearDeadMarking, boolean isPrimaryBucketPage) {
        static Delete parse(byte[] d) {
            HeapRedo.need(d, 2, "xl_hash_delete");
            return new Delete(d[0] != 0, d[1] != 0);
        }
    }

    /** {@code xl_hash_update_meta_page}. */
    record UpdateMetaPage(double ntuples) {
        static UpdateMetaPage parse(byte[] d) {
            HeapRedo.need(d, 8, "xl_hash_update_meta_page");
            return new UpdateMetaPage(f64(d, 0));
        }
    }

    /**
     * {@code xl_hash_vacuum_one_page} and the offsets after it ({@code offsets} is empty when the
     * main data ends at {@code SizeOfHashVacuumOnePage}).
     */
    record VacuumOnePage(int latestRemovedXid, int ntuples, int[] offsets) {
        static final int SIZE = 8;

        static VacuumOnePage parse(byte[] d) {
            HeapRedo.need(d, SIZE, "xl_hash_vacuum_one_page");
            int ntuples = BufPage.i32(d, 4);
            int[] offsets = new int[0];
            if (d.length > SIZE) {
                if (ntuples < 0 || d.length < SIZE + 2 * ntuples) {
                    throw new RedoException("xl_hash_vacuum_one_page: " + ntuples + " offsets in "
                            + (d.length - SIZE) + " bytes");
                }
                offsets = HashRecordDescriptor.offsets(d, SIZE, ntuples);
            }
            return new VacuumOnePage(BufPage.i32(d, 0), ntuples, offsets);
        }
    }

    /** {@code n} {@code OffsetNumber}s (u16) at {@code d[from..]}. */
    static int[] offsets(byte[] d, int from, int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            r[i] = BufPage.u16(d, from + 2 * i);
        }
        return r;
    }

    /** A little-endian u32 of block data, or a {@link RedoException} naming it when the data is shorter. */
    static int u32(byte[] d, int at, String what) {
        HeapRedo.need(d, at + 4, what);
        return BufPage.i32(d, at);
    }

    /** A little-endian IEEE double. */
    static double f64(byte[] d, int at) {
        return Double.longBitsToDouble(Integer.toUnsignedLong(BufPage.i32(d, at)) | (long) BufPage.i32(d, at + 4) << 32);
    }

    /** Writes {@code v} as a little-endian IEEE double. */
    static void putF64(byte[] d, int at, double v) {
        long bits = Double.doubleToRawLongBits(v);
        BufPage.putI32(d, at, (int) bits);
        BufPage.putI32(d, at + 4, (int) (bits >>> 32));
    }
}
