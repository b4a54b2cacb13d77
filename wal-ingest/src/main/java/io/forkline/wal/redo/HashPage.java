package io.forkline.wal.redo;

/**
 * Hash index pages ({@code src/include/access/hash.h} of PostgreSQL 15) and the page initializers
 * redo shares with the AM ({@code _hash_pageinit}, {@code _hash_initbuf},
 * {@code _hash_init_metabuffer} in {@code hashpage.c}; {@code _hash_initbitmapbuffer} in
 * {@code hashovfl.c}), plus {@code hash_mask} ({@code hash_xlog.c}).
 *
 * <pre>
 *   special (HashPageOpaqueData, 16 B at pd_special = 8176):
 *       hasho_prevblkno(4) hasho_nextblkno(4) hasho_bucket(4) hasho_flag(2) hasho_page_id(2) = 0xFF80
 *   metapage (block 0), HashMetaPageData at PageGetContents = 24, 4544 B, pd_lower = 4568:
 *       magic(4) version(4) ntuples(f8) ffactor(2) bsize(2) bmsize(2) bmshift(2) maxbucket(4)
 *       highmask(4) lowmask(4) ovflpoint(4) firstfree(4) nmaps(4) procid(4)
 *       spares[98](4 each) mapp[1024](4 each)
 *   bitmap page: uint32 words from offset 24, bmsize bytes; pd_lower = 24 + bmsize
 *   bucket / overflow pages: index tuples as line pointer items
 * </pre>
 */
final class HashPage {
    static final int LH_UNUSED_PAGE = 0;
    static final int LH_OVERFLOW_PAGE = 1;
    static final int LH_BUCKET_PAGE = 1 << 1;
    static final int LH_BITMAP_PAGE = 1 << 2;
    static final int LH_META_PAGE = 1 << 3;
    static final int LH_BUCKET_BEING_POPULATED = 1 << 4;
    static final int LH_BUCKET_BEING_SPLIT = 1 << 5;
    static final int LH_BUCKET_NEEDS_SPLIT_CLEANUP = 1 << 6;
    static final int LH_PAGE_HAS_DEAD_TUPLES = 1 << 7;
    static final int LH_PAGE_TYPE = LH_OVERFLOW_PAGE | LH_BUCKET_PAGE | LH_BITMAP_PAGE | LH_META_PAGE;
    static final int HASHO_PAGE_ID = 0xFF80;
    static final int OPAQUE_SIZE = 16;
    static final int INVALID_BLOCK = 0xFFFFFFFF;
    static final int INVALID_BUCKET = 0xFFFFFFFF;

    static final int HASH_MAGIC = 0x6440640;
    static final int HASH_VERSION = 4;
    static final int HASH_MAX_SPLITPOINTS = (32 - 10) * 4 + 10;
    static final int HASH_MAX_BITMAPS = Math.min(BufPage.BLCKSZ / 8, 1024);
    static final int SPLITPOINT_PHASE_BITS = 2;
    static final int SPLITPOINT_PHASE_MASK = (1 << SPLITPOINT_PHASE_BITS) - 1;
    static final int SPLITPOINT_GROUPS_WITH_ONE_PHASE = 10;

    /** {@code PageGetContents}: {@code MAXALIGN(SizeOfPageHeaderData)}. */
    static final int CONTENTS = BufPage.HEADER_SIZE;
    static final int META_MAGIC = CONTENTS;
    static final int META_VERSION = CONTENTS + 4;
    static final int META_NTUPLES = CONTENTS + 8;
    static final int META_FFACTOR = CONTENTS + 16;
    static final int META_BSIZE = CONTENTS + 18;
    static final int META_BMSIZE = CONTENTS + 20;
    static final int META_BMSHIFT = CONTENTS + 22;
    static final int META_MAXBUCKET = CONTENTS + 24;
    static final int META_HIGHMASK = CONTENTS + 28;
    static final int META_LOWMASK = CONTENTS + 32;
    static final int META_OVFLPOINT = CONTENTS + 36;
    static final int META_FIRSTFREE = CONTENTS + 40;
    static final int META_NMAPS = CONTENTS + 44;
    static final int META_PROCID = CONTENTS + 48;
    static final int META_SPARES = CONTENTS + 52;
    static final int META_MAPP = META_SPARES + 4 * HASH_MAX_SPLITPOINTS;
    /** {@code sizeof(HashMetaPageData)}: 4540 bytes of fields, padded to the double's alignment. */
    static final int META_SIZE = BufPage.maxAlign(META_MAPP + 4 * HASH_MAX_BITMAPS - CONTENTS);

    private HashPage() {
    }

    // ------------------------------------------------------------------ special space

    static int prevblkno(byte[] p) {
        return BufPage.i32(p, BufPage.special(p));
    }

    static void setPrevblkno(byte[] p, int blk) {
        BufPage.putI32(p, BufPage.special(p), blk);
    }

    static int nextblkno(byte[] p) {
        return BufPage.i32(p, BufPage.special(p) + 4);
    }

    static void setNextblkno(byte[] p, int blk) {
        BufPage.putI32(p, BufPage.special(p) + 4, blk);
    }

    static void setBucket(byte[] p, int bucket) {
        BufPage.putI32(p, BufPage.special(p) + 8, bucket);
    }

    static int flag(byte[] p) {
        return BufPage.u16(p, BufPage.special(p) + 12);
    }

    static void setFlag(byte[] p, int flag) {
        BufPage.putU16(p, BufPage.special(p) + 12, flag);
    }

    static void setPageId(byte[] p) {
        BufPage.putU16(p, BufPage.special(p) + 14, HASHO_PAGE_ID);
    }

    // ------------------------------------------------------------------ metapage fields

    static int u32(byte[] p, int off) {
        return BufPage.i32(p, off);
    }

    static void putU32(byte[] p, int off, int v) {
        BufPage.putI32(p, off, v);
    }

    static double ntuples(byte[] meta) {
        return HashRecordDescriptor.f64(meta, META_NTUPLES);
    }

    static void setNtuples(byte[] meta, double v) {
        HashRecordDescriptor.putF64(meta, META_NTUPLES, v);
    }

    /** Offset of {@code hashm_spares[i]}. */
    static int spare(int i) {
        if (i < 0 || i >= HASH_MAX_SPLITPOINTS) {
            throw new RedoException("hash metapage: splitpoint " + Integer.toUnsignedString(i) + " out of range");
        }
        return META_SPARES + 4 * i;
    }

    /** Offset of {@code hashm_mapp[i]}. */
    static int mapp(int i) {
        if (i < 0 || i >= HASH_MAX_BITMAPS) {
            throw new RedoException("hash metapage: bitmap " + Integer.toUnsignedString(i) + " out of range");
        }
        return META_MAPP + 4 * i;
    }

    // ------------------------------------------------------------------ bitmap pages

    /** {@code SETBIT(HashPageGetBitmap(page), bit)} / {@code CLRBIT}: bit {@code bit % 32} of uint32 word {@code bit / 32}. */
    static void setBitmapBit(byte[] p, int bit, boolean on) {
        long n = Integer.toUnsignedLong(bit);
        long pos = CONTENTS + n / 8;
        if (pos >= BufPage.special(p)) {
            throw new RedoException("hash bitmap bit " + n + " beyond the bitmap page");
        }
        int mask = 1 << (int) (n % 8); // little-endian words: bit n%32 of word n/32 is bit n%8 of byte n/8
        p[(int) pos] = (byte) (on ? p[(int) pos] | mask : p[(int) pos] & ~mask);
    }

    // ------------------------------------------------------------------ initializers

    /** {@code _hash_pageinit}: {@code PageInit} with {@code sizeof(HashPageOpaqueData)} of special space. */
    static void pageinit(byte[] p) {
        BufPage.init(p, OPAQUE_SIZE);
    }

    /** {@code _hash_initbuf} with {@code initpage}. */
    static void initbuf(byte[] p, int maxBucket, int numBucket, int flag) {
        pageinit(p);
        setPrevblkno(p, maxBucket);
        setNextblkno(p, INVALID_BLOCK);
        setBucket(p, numBucket);
        setFlag(p, flag);
        setPageId(p);
    }

    /** {@code _hash_initbitmapbuffer} with {@code initpage}: every bit set ("in use"). */
    static void initbitmapbuffer(byte[] p, int bmsize) {
        pageinit(p);
        setPrevblkno(p, INVALID_BLOCK);
        setNextblkno(p, INVALID_BLOCK);
        setBucket(p, INVALID_BUCKET);
        setFlag(p, LH_BITMAP_PAGE);
        setPageId(p);
        if (CONTENTS + bmsize > BufPage.special(p)) {
            throw new RedoException("hash bitmap size " + bmsize + " does not fit a page");
        }
        java.util.Arrays.fill(p, CONTENTS, CONTENTS + bmsize, (byte) 0xFF);
        BufPage.setLower(p, CONTENTS + bmsize);
    }

    /** {@code _hash_init_metabuffer} with {@code initpage}. */
    static void initMetabuffer(byte[] p, double numTuples, int procid, int ffactor) {
        double dnumbuckets = numTuples / ffactor;
        int numBuckets;
        if (dnumbuckets <= 2.0) {
            numBuckets = 2;
        } else if (dnumbuckets >= (double) 0x40000000) {
            numBuckets = 0x40000000;
        } else {
            numBuckets = getTotalbuckets(spareindex((int) (long) dnumbuckets));
        }
        int spareIndex = spareindex(numBuckets);
        pageinit(p);
        setPrevblkno(p, INVALID_BLOCK);
        setNextblkno(p, INVALID_BLOCK);
        setBucket(p, INVALID_BUCKET);
        setFlag(p, LH_META_PAGE);
        setPageId(p);
        putU32(p, META_MAGIC, HASH_MAGIC);
        putU32(p, META_VERSION, HASH_VERSION);
        setNtuples(p, 0);
        putU32(p, META_NMAPS, 0);
        BufPage.putU16(p, META_FFACTOR, ffactor);
        int bsize = BufPage.BLCKSZ - (CONTENTS + BufPage.maxAlign(OPAQUE_SIZE)); // HashGetMaxBitmapSize
        BufPage.putU16(p, META_BSIZE, bsize);
        int lshift = 31 - Integer.numberOfLeadingZeros(bsize); // pg_leftmost_one_pos32
        BufPage.putU16(p, META_BMSIZE, 1 << lshift);
        BufPage.putU16(p, META_BMSHIFT, lshift + 3); // + BYTE_TO_BIT
        putU32(p, META_PROCID, procid);
        putU32(p, META_MAXBUCKET, numBuckets - 1);
        int highmask = nextPower2(numBuckets + 1) - 1;
        putU32(p, META_HIGHMASK, highmask);
        putU32(p, META_LOWMASK, highmask >>> 1);
        // spares and mapp are zero after PageInit
        putU32(p, spare(spareIndex), 1);
        putU32(p, META_OVFLPOINT, spareIndex);
        putU32(p, META_FIRSTFREE, 0);
        BufPage.setLower(p, CONTENTS + META_SIZE);
    }

    /** {@code _hash_spareindex} ({@code hashutil.c}): the splitpoint phase of bucket count {@code numBucket}. */
    static int spareindex(int numBucket) {
        int group = ceilLog2(numBucket);
        if (group < SPLITPOINT_GROUPS_WITH_ONE_PHASE) {
            return group;
        }
        int phases = SPLITPOINT_GROUPS_WITH_ONE_PHASE;
        phases += (group - SPLITPOINT_GROUPS_WITH_ONE_PHASE) << SPLITPOINT_PHASE_BITS;
        phases += ((numBucket - 1) >>> (group - (SPLITPOINT_PHASE_BITS + 1))) & SPLITPOINT_PHASE_MASK;
        return phases;
    }

    /** {@code _hash_get_totalbuckets} ({@code hashutil.c}): buckets allocated up to splitpoint phase {@code phase}. */
    static int getTotalbuckets(int phase) {
        if (phase < SPLITPOINT_GROUPS_WITH_ONE_PHASE) {
            return 1 << phase;
        }
        int group = SPLITPOINT_GROUPS_WITH_ONE_PHASE
                + ((phase - SPLITPOINT_GROUPS_WITH_ONE_PHASE) >>> SPLITPOINT_PHASE_BITS);
        int total = 1 << (group - 1);
        int phasesWithinGroup = ((phase - SPLITPOINT_GROUPS_WITH_ONE_PHASE) & SPLITPOINT_PHASE_MASK) + 1;
        total += ((1 << (group - 1)) >>> SPLITPOINT_PHASE_BITS) * phasesWithinGroup;
        return total;
    }

    /** {@code pg_ceil_log2_32}. */
    static int ceilLog2(int num) {
        return Integer.compareUnsigned(num, 2) < 0 ? 0 : 32 - Integer.numberOfLeadingZeros(num - 1);
    }

    /** {@code pg_nextpower2_32} (num > 0). */
    static int nextPower2(int num) {
        return (num & (num - 1)) == 0 ? num : 1 << (32 - Integer.numberOfLeadingZeros(num));
    }

    // ------------------------------------------------------------------ masking

    /**
     * {@code hash_mask}: the common masks and unused space; an unused page's whole content; on bucket
     * and overflow pages the line pointer flags ({@code LP_DEAD} hints of {@code _hash_kill_items});
     * {@code LH_PAGE_HAS_DEAD_TUPLES} everywhere.
     */
    static void mask(byte[] p) {
        PageMasks.maskLsnAndChecksum(p);
        PageMasks.maskHintBits(p);
        PageMasks.maskUnusedSpace(p);
        int special = BufPage.special(p);
        if (special + OPAQUE_SIZE > BufPage.BLCKSZ) {
            return;
        }
        int pagetype = flag(p) & LH_PAGE_TYPE;
        if (pagetype == LH_UNUSED_PAGE) {
            PageMasks.maskPageContent(p);
        } else if (pagetype == LH_BUCKET_PAGE || pagetype == LH_OVERFLOW_PAGE) {
            PageMasks.maskLpFlags(p);
        }
        setFlag(p, flag(p) & ~LH_PAGE_HAS_DEAD_TUPLES);
    }
}
