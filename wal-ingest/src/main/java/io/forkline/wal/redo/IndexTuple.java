package io.forkline.wal.redo;

/**
 * {@code IndexTupleData} ({@code src/include/access/itup.h}) and nbtree's use of its fields
 * ({@code src/include/access/nbtree.h}): {@code t_tid} (bi_hi(2) bi_lo(2) ip_posid(2)) then
 * {@code t_info}(2) whose low 13 bits are the size. A posting list tuple has
 * {@code INDEX_ALT_TID_MASK} in {@code t_info}, {@code BT_IS_POSTING | nhtids} in {@code ip_posid} and
 * the posting list offset in the block number; its heap TIDs are 6-byte item pointers there.
 * Tuples are {@code byte[]} slices: an array and the tuple's start offset.
 */
final class IndexTuple {
    static final int HEADER_SIZE = 8;
    static final int INDEX_SIZE_MASK = 0x1FFF;
    static final int INDEX_ALT_TID_MASK = 0x2000;
    static final int BT_OFFSET_MASK = 0x0FFF;
    static final int BT_IS_POSTING = 0x2000;
    static final int TID_SIZE = 6;

    private IndexTuple() {
    }

    static int info(byte[] p, int t) {
        return BufPage.u16(p, t + 6);
    }

    /** {@code IndexTupleSize}. */
    static int size(byte[] p, int t) {
        return info(p, t) & INDEX_SIZE_MASK;
    }

    static int blockNumber(byte[] p, int t) {
        return BufPage.u16(p, t) << 16 | BufPage.u16(p, t + 2);
    }

    static void setBlockNumber(byte[] p, int t, int blk) {
        BufPage.putU16(p, t, blk >>> 16);
        BufPage.putU16(p, t + 2, blk & 0xFFFF);
    }

    static int offsetNumber(byte[] p, int t) {
        return BufPage.u16(p, t + 4);
    }

    static void setOffsetNumber(byte[] p, int t, int off) {
        BufPage.putU16(p, t + 4, off);
    }

    /** {@code BTreeTupleIsPosting}. */
    static boolean isPosting(byte[] p, int t) {
        return (info(p, t) & INDEX_ALT_TID_MASK) != 0 && (offsetNumber(p, t) & BT_IS_POSTING) != 0;
    }

    /** {@code BTreeTupleGetNPosting}. */
    static int nPosting(byte[] p, int t) {
        return offsetNumber(p, t) & BT_OFFSET_MASK;
    }

    /** {@code BTreeTupleGetPostingOffset}. */
    static int postingOffset(byte[] p, int t) {
        return blockNumber(p, t);
    }

    /** A copy of the tuple ({@code CopyIndexTuple}): {@code IndexTupleSize} bytes. */
    static byte[] copy(byte[] p, int t) {
        return java.util.Arrays.copyOfRange(p, t, t + size(p, t));
    }

    /**
     * {@code _bt_form_posting}: {@code keysize} bytes of {@code base} (its posting list excluded), then
     * {@code nhtids} TIDs (a plain tuple with that TID when one).
     */
    static byte[] formPosting(byte[] base, int baseOff, int keySize, byte[] htids, int nhtids) {
        int newSize = nhtids > 1 ? BufPage.maxAlign(keySize + nhtids * TID_SIZE) : keySize;
        byte[] t = new byte[newSize];
        System.arraycopy(base, baseOff, t, 0, keySize);
        int info = (info(t, 0) & ~INDEX_SIZE_MASK) | newSize;
        if (nhtids > 1) {
            info |= INDEX_ALT_TID_MASK;
            BufPage.putU16(t, 6, info);
            setOffsetNumber(t, 0, nhtids | BT_IS_POSTING);
            setBlockNumber(t, 0, keySize);
            System.arraycopy(htids, 0, t, keySize, nhtids * TID_SIZE);
        } else {
            info &= ~INDEX_ALT_TID_MASK;
            BufPage.putU16(t, 6, info);
            System.arraycopy(htids, 0, t, 0, TID_SIZE);
        }
        return t;
    }

    /**
     * {@code _bt_swap_posting}: returns the new posting list (a copy of {@code oposting} with
     * {@code newitem}'s TID inserted at {@code postingoff}, the last TID dropped) and changes
     * {@code newitem}'s TID to {@code oposting}'s last one.
     */
    static byte[] swapPosting(byte[] newItem, byte[] page, int oposting, int postingoff) {
        int n = nPosting(page, oposting);
        if (!(postingoff > 0 && postingoff < n)) {
            throw new RedoException("posting list tuple with " + n + " items cannot be split at offset " + postingoff);
        }
        byte[] np = copy(page, oposting);
        int list = postingOffset(np, 0);
        int replacePos = list + postingoff * TID_SIZE;
        System.arraycopy(np, replacePos, np, replacePos + TID_SIZE, (n - postingoff - 1) * TID_SIZE);
        System.arraycopy(newItem, 0, np, replacePos, TID_SIZE);
        System.arraycopy(page, oposting + list + (n - 1) * TID_SIZE, newItem, 0, TID_SIZE);
        return np;
    }

    /**
     * {@code _bt_update_posting}: the posting list tuple at {@code t} without the TIDs at the
     * (ascending) posting list positions {@code deleted}.
     */
    static byte[] updatePosting(byte[] p, int t, int[] deleted) {
        int n = nPosting(p, t);
        int nhtids = n - deleted.length;
        if (nhtids <= 0) {
            throw new RedoException("posting list update deletes " + deleted.length + " of " + n + " TIDs");
        }
        int keySize = postingOffset(p, t);
        byte[] htids = new byte[nhtids * TID_SIZE];
        int ui = 0;
        int d = 0;
        for (int i = 0; i < n; i++) {
            if (d < deleted.length && deleted[d] == i) {
                d++;
                continue;
            }
            System.arraycopy(p, t + keySize + i * TID_SIZE, htids, ui++ * TID_SIZE, TID_SIZE);
        }
        return formPosting(p, t, keySize, htids, nhtids);
    }
}
