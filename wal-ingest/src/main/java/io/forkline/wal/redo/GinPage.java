package io.forkline.wal.redo;

/**
 * GIN index pages ({@code src/include/access/ginblock.h} of PostgreSQL 15), the initializers redo
 * shares with the AM ({@code GinInitPage}, {@code GinInitMetabuffer} in {@code ginutil.c}), the
 * posting-tree page edits of {@code gindatapage.c} ({@code GinDataPageAddPostingItem},
 * {@code GinPageDeletePostingItem}), and {@code gin_mask} ({@code ginxlog.c}).
 *
 * <pre>
 *   special (GinPageOpaqueData, 8 B at pd_special = 8184): rightlink(4) maxoff(2) flags(2)
 *   metapage (block 0): GinMetaPageData at PageGetContents = 24, 56 B, pd_lower = 80:
 *       head(4) tail(4) tailFreeSize(4) nPendingPages(4) nPendingHeapTuples(8)
 *       nTotalPages(4) nEntryPages(4) nDataPages(4) pad(4) nEntries(8) ginVersion(4) pad(4)
 *   entry pages, pending-list pages: index tuples as line pointer items
 *   posting-tree (data) pages: right bound ItemPointerData at 24, data from 32 to pd_lower:
 *       leaf: compressed posting-list segments ({@link GinPostingList}); internal: PostingItems of
 *       10 B each, child_blkno(bi_hi 2, bi_lo 2) key(ItemPointerData 6); maxoff = their count
 * </pre>
 */
final class GinPage {
    static final int GIN_DATA = 1;
    static final int GIN_LEAF = 1 << 1;
    static final int GIN_DELETED = 1 << 2;
    static final int GIN_META = 1 << 3;
    static final int GIN_LIST = 1 << 4;
    static final int GIN_LIST_FULLROW = 1 << 5;
    static final int GIN_INCOMPLETE_SPLIT = 1 << 6;
    static final int GIN_COMPRESSED = 1 << 7;

    static final int INVALID_BLOCK = 0xFFFFFFFF;
    /** {@code MAXALIGN(sizeof(GinPageOpaqueData))}. */
    static final int OPAQUE_SIZE = 8;
    /** {@code sizeof(GinMetaPageData)}. */
    static final int META_SIZE = 56;
    static final int GIN_CURRENT_VERSION = 2;
    /** {@code PageGetContents}. */
    static final int CONTENTS = BufPage.HEADER_SIZE;
    /** {@code GinDataPageGetData}, {@code GinDataLeafPageGetPostingList}. */
    static final int DATA = CONTENTS + 8;
    /** {@code GinDataPageMaxDataSize}: 8152. */
    static final int DATA_MAX_SIZE = BufPage.BLCKSZ - CONTENTS - 8 - OPAQUE_SIZE;
    /** {@code sizeof(PostingItem)}. */
    static final int POSTING_ITEM_SIZE = 10;

    static final int META_HEAD = CONTENTS;
    static final int META_TAIL = CONTENTS + 4;
    static final int META_VERSION = CONTENTS + 48;

    private GinPage() {
    }

    // ------------------------------------------------------------------ special space

    static int rightlink(byte[] p) {
        return BufPage.i32(p, BufPage.special(p));
    }

    static void setRightlink(byte[] p, int blk) {
        BufPage.putI32(p, BufPage.special(p), blk);
    }

    static int maxoff(byte[] p) {
        return BufPage.u16(p, BufPage.special(p) + 4);
    }

    static void setMaxoff(byte[] p, int v) {
        BufPage.putU16(p, BufPage.special(p) + 4, v);
    }

    static int flags(byte[] p) {
        return BufPage.u16(p, BufPage.special(p) + 6);
    }

    static void setFlags(byte[] p, int f) {
        BufPage.putU16(p, BufPage.special(p) + 6, f);
    }

    // ------------------------------------------------------------------ ginutil.c

    /** {@code GinInitPage}: {@code PageInit} with 8 bytes of special space, {@code flags}, no right link. */
    static void initPage(byte[] p, int flags) {
        BufPage.init(p, OPAQUE_SIZE);
        setFlags(p, flags);
        setRightlink(p, INVALID_BLOCK);
    }

    /**
     * {@code GinInitMetabuffer}: a {@code GIN_META} page with an empty pending list, zero statistics,
     * version 2, {@code pd_lower} just past the metadata.
     */
    static void initMetabuffer(byte[] p) {
        initPage(p, GIN_META);
        BufPage.putI32(p, META_HEAD, INVALID_BLOCK);
        BufPage.putI32(p, META_TAIL, INVALID_BLOCK);
        BufPage.putI32(p, META_VERSION, GIN_CURRENT_VERSION);
        BufPage.setLower(p, CONTENTS + META_SIZE);
    }

    // ------------------------------------------------------------------ posting-tree pages

    /** {@code GinDataPageSetDataSize}: {@code pd_lower = 32 + size}. */
    static void setDataSize(byte[] p, int size) {
        if (size < 0 || size > DATA_MAX_SIZE) {
            throw new RedoException("GIN data page size " + size + " out of range 0.." + DATA_MAX_SIZE);
        }
        BufPage.setLower(p, DATA + size);
    }

    /** {@code GinDataLeafPageGetPostingListSize}: {@code pd_lower - 32}. */
    static int postingListSize(byte[] p) {
        return BufPage.lower(p) - DATA;
    }

    /** {@code GinDataPageGetPostingItem}: the byte offset of posting item {@code i} (1-based). */
    static int postingItem(int i) {
        return DATA + (i - 1) * POSTING_ITEM_SIZE;
    }

    /** {@code PostingItemSetBlockNumber} of the posting item at byte offset {@code at}. */
    static void setPostingItemBlock(byte[] p, int at, int blk) {
        BufPage.putU16(p, at, blk >>> 16);
        BufPage.putU16(p, at + 2, blk & 0xFFFF);
    }

    /**
     * {@code GinDataPageAddPostingItem}: the 10-byte posting item {@code item[from..]} inserted at
     * {@code offset} (0: appended), later items shifted right; {@code maxoff} and {@code pd_lower}
     * follow.
     */
    static void addPostingItem(byte[] p, byte[] item, int from, int offset) {
        int maxoff = maxoff(p);
        int at;
        if (offset == 0) {
            at = postingItem(maxoff + 1);
        } else {
            if (offset < 1 || offset > maxoff + 1) {
                throw new RedoException("GinDataPageAddPostingItem: offset " + offset + " beyond maxoff " + maxoff);
            }
            at = postingItem(offset);
            if (offset != maxoff + 1) {
                System.arraycopy(p, at, p, at + POSTING_ITEM_SIZE, (maxoff - offset + 1) * POSTING_ITEM_SIZE);
            }
        }
        if (at + POSTING_ITEM_SIZE > DATA + DATA_MAX_SIZE) {
            throw new RedoException("GinDataPageAddPostingItem: no room for item " + (maxoff + 1));
        }
        System.arraycopy(item, from, p, at, POSTING_ITEM_SIZE);
        maxoff++;
        setMaxoff(p, maxoff);
        setDataSize(p, maxoff * POSTING_ITEM_SIZE);
    }

    /** {@code GinPageDeletePostingItem}: posting item {@code offset} removed, later items shifted left. */
    static void deletePostingItem(byte[] p, int offset) {
        int maxoff = maxoff(p);
        if (offset < 1 || offset > maxoff) {
            throw new RedoException("GinPageDeletePostingItem: offset " + offset + " not in 1.." + maxoff);
        }
        if (offset != maxoff) {
            System.arraycopy(p, postingItem(offset + 1), p, postingItem(offset), (maxoff - offset) * POSTING_ITEM_SIZE);
        }
        maxoff--;
        setMaxoff(p, maxoff);
        setDataSize(p, maxoff * POSTING_ITEM_SIZE);
    }

    // ------------------------------------------------------------------ gin_mask

    /**
     * {@code gin_mask}: LSN, checksum and hint bits; a {@code GIN_DELETED} page's whole content, else
     * the hole between {@code pd_lower} and {@code pd_upper} when {@code pd_lower} is set.
     */
    static void mask(byte[] p) {
        PageMasks.maskLsnAndChecksum(p);
        PageMasks.maskHintBits(p);
        int special = BufPage.special(p);
        int flags = special + 8 <= BufPage.BLCKSZ ? BufPage.u16(p, special + 6) : 0;
        if ((flags & GIN_DELETED) != 0) {
            PageMasks.maskPageContent(p);
        } else if (BufPage.lower(p) > BufPage.HEADER_SIZE) {
            PageMasks.maskUnusedSpace(p);
        }
    }
}
