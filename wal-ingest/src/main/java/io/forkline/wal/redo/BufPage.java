package io.forkline.wal.redo;

/**
 * The page primitives of {@code src/backend/storage/page/bufpage.c} (PostgreSQL 15) on an 8192-byte
 * little-endian page held in a {@code byte[]}, plus the header and line pointer accessors of
 * {@code src/include/storage/bufpage.h} and {@code itemid.h}.
 *
 * <pre>
 *   header (24 B): pd_lsn(8) pd_checksum(2) pd_flags(2) pd_lower(2) pd_upper(2) pd_special(2)
 *                  pd_pagesize_version(2) pd_prune_xid(4)
 *   line pointer (ItemIdData, 4 B, at 24 + 4 * (offnum - 1)): lp_off:15 | lp_flags:2 | lp_len:15
 * </pre>
 *
 * Offsets and lengths are bytes; offset numbers are 1-based as in PostgreSQL. Errors that
 * PostgreSQL reports with {@code elog(PANIC/ERROR)} during redo throw {@link RedoException}. Stateless.
 */
public final class BufPage {
    /** {@code BLCKSZ}. */
    public static final int BLCKSZ = 8192;
    /** {@code SizeOfPageHeaderData}. */
    public static final int HEADER_SIZE = 24;
    /** {@code sizeof(ItemIdData)}. */
    public static final int ITEM_ID_SIZE = 4;
    /** {@code PG_PAGE_LAYOUT_VERSION}. */
    public static final int LAYOUT_VERSION = 4;
    /** {@code MaxHeapTuplesPerPage} for 8 KiB pages. */
    public static final int MAX_HEAP_TUPLES_PER_PAGE = 291;

    public static final int FLAGS_OFFSET = 10;
    public static final int LOWER_OFFSET = 12;
    public static final int UPPER_OFFSET = 14;
    public static final int SPECIAL_OFFSET = 16;
    public static final int PAGESIZE_VERSION_OFFSET = 18;
    public static final int PRUNE_XID_OFFSET = 20;

    /** {@code PD_HAS_FREE_LINES}. */
    public static final int PD_HAS_FREE_LINES = 0x0001;
    /** {@code PD_PAGE_FULL}. */
    public static final int PD_PAGE_FULL = 0x0002;
    /** {@code PD_ALL_VISIBLE}. */
    public static final int PD_ALL_VISIBLE = 0x0004;

    /** {@code LP_UNUSED}. */
    public static final int LP_UNUSED = 0;
    /** {@code LP_NORMAL}. */
    public static final int LP_NORMAL = 1;
    /** {@code LP_REDIRECT}. */
    public static final int LP_REDIRECT = 2;
    /** {@code LP_DEAD}. */
    public static final int LP_DEAD = 3;

    /** {@code PAI_OVERWRITE}. */
    public static final int PAI_OVERWRITE = 1;
    /** {@code PAI_IS_HEAP}. */
    public static final int PAI_IS_HEAP = 2;

    private BufPage() {
    }

    // ------------------------------------------------------------------ little-endian fields

    static int u16(byte[] p, int off) {
        return (p[off] & 0xFF) | (p[off + 1] & 0xFF) << 8;
    }

    static void putU16(byte[] p, int off, int v) {
        p[off] = (byte) v;
        p[off + 1] = (byte) (v >>> 8);
    }

    static int i32(byte[] p, int off) {
        return (p[off] & 0xFF) | (p[off + 1] & 0xFF) << 8 | (p[off + 2] & 0xFF) << 16 | (p[off + 3] & 0xFF) << 24;
    }

    static void putI32(byte[] p, int off, int v) {
        p[off] = (byte) v;
        p[off + 1] = (byte) (v >>> 8);
        p[off + 2] = (byte) (v >>> 16);
        p[off + 3] = (byte) (v >>> 24);
    }

    /** {@code MAXALIGN} (8 on x86-64). */
    public static int maxAlign(int len) {
        return (len + 7) & ~7;
    }

    /** {@code SHORTALIGN}. */
    public static int shortAlign(int len) {
        return (len + 1) & ~1;
    }

    // ------------------------------------------------------------------ header

    public static int lower(byte[] p) {
        return u16(p, LOWER_OFFSET);
    }

    public static int upper(byte[] p) {
        return u16(p, UPPER_OFFSET);
    }

    public static int special(byte[] p) {
        return u16(p, SPECIAL_OFFSET);
    }

    public static int flags(byte[] p) {
        return u16(p, FLAGS_OFFSET);
    }

    static void setLower(byte[] p, int v) {
        putU16(p, LOWER_OFFSET, v);
    }

    static void setUpper(byte[] p, int v) {
        putU16(p, UPPER_OFFSET, v);
    }

    static void setFlag(byte[] p, int flag, boolean on) {
        int f = flags(p);
        putU16(p, FLAGS_OFFSET, on ? f | flag : f & ~flag);
    }

    /** {@code PageSetLSN}: {@code pd_lsn} as xlogid (high word) then xrecoff, each little-endian. */
    public static void setLsn(byte[] p, long lsn) {
        putI32(p, 0, (int) (lsn >>> 32));
        putI32(p, 4, (int) lsn);
    }

    /** {@code PageGetLSN}. */
    public static long lsn(byte[] p) {
        return (i32(p, 0) & 0xFFFFFFFFL) << 32 | (i32(p, 4) & 0xFFFFFFFFL);
    }

    /** {@code PageIsNew}: {@code pd_upper == 0}. */
    public static boolean isNew(byte[] p) {
        return upper(p) == 0;
    }

    /** {@code PageSetAllVisible}. */
    public static void setAllVisible(byte[] p) {
        setFlag(p, PD_ALL_VISIBLE, true);
    }

    /** {@code PageClearAllVisible}. */
    public static void clearAllVisible(byte[] p) {
        setFlag(p, PD_ALL_VISIBLE, false);
    }

    /** {@code PageSetPrunable(page, xid)}: keeps the oldest normal xid in {@code pd_prune_xid}. */
    public static void setPrunable(byte[] p, int xid) {
        int cur = i32(p, PRUNE_XID_OFFSET);
        if (cur == 0 || TransactionIds.precedes(xid, cur)) {
            putI32(p, PRUNE_XID_OFFSET, xid);
        }
    }

    /**
     * {@code PageInit}: zeroes the page, {@code pd_lower = 24}, {@code pd_upper = pd_special =
     * BLCKSZ - MAXALIGN(specialSize)}, layout version 4.
     */
    public static void init(byte[] p, int specialSize) {
        specialSize = maxAlign(specialSize);
        java.util.Arrays.fill(p, (byte) 0);
        setLower(p, HEADER_SIZE);
        setUpper(p, BLCKSZ - specialSize);
        putU16(p, SPECIAL_OFFSET, BLCKSZ - specialSize);
        putU16(p, PAGESIZE_VERSION_OFFSET, BLCKSZ | LAYOUT_VERSION);
    }

    // ------------------------------------------------------------------ line pointers

    /** {@code PageGetMaxOffsetNumber}: 0 when {@code pd_lower <= 24}. */
    public static int maxOffset(byte[] p) {
        int lower = lower(p);
        return lower <= HEADER_SIZE ? 0 : (lower - HEADER_SIZE) / ITEM_ID_SIZE;
    }

    static int itemIdPos(int offnum) {
        return HEADER_SIZE + (offnum - 1) * ITEM_ID_SIZE;
    }

    /** The raw {@code ItemIdData} word of {@code offnum}. */
    public static int itemId(byte[] p, int offnum) {
        return i32(p, itemIdPos(offnum));
    }

    public static int lpOff(int itemId) {
        return itemId & 0x7FFF;
    }

    public static int lpFlags(int itemId) {
        return (itemId >>> 15) & 3;
    }

    public static int lpLen(int itemId) {
        return (itemId >>> 17) & 0x7FFF;
    }

    /** Packs {@code lp_off | lp_flags << 15 | lp_len << 17}. */
    public static int makeItemId(int off, int flags, int len) {
        return (off & 0x7FFF) | (flags & 3) << 15 | (len & 0x7FFF) << 17;
    }

    public static void setItemId(byte[] p, int offnum, int itemId) {
        putI32(p, itemIdPos(offnum), itemId);
    }

    /** {@code ItemIdSetUnused}. */
    public static void setUnused(byte[] p, int offnum) {
        setItemId(p, offnum, 0);
    }

    /** {@code ItemIdSetDead}. */
    public static void setDead(byte[] p, int offnum) {
        setItemId(p, offnum, makeItemId(0, LP_DEAD, 0));
    }

    /** {@code ItemIdMarkDead}: keeps offset and length, flags become {@code LP_DEAD}. */
    public static void markDead(byte[] p, int offnum) {
        int id = itemId(p, offnum);
        setItemId(p, offnum, makeItemId(lpOff(id), LP_DEAD, lpLen(id)));
    }

    /** {@code ItemIdSetRedirect}. */
    public static void setRedirect(byte[] p, int offnum, int link) {
        setItemId(p, offnum, makeItemId(link, LP_REDIRECT, 0));
    }

    /**
     * The byte offset of the item at {@code offnum} when its line pointer is {@code LP_NORMAL}.
     *
     * @throws RedoException when {@code offnum} is beyond the line pointer array or not normal, as
     *                       the heap redo routines' {@code PANIC "invalid lp"}
     */
    public static int normalItem(byte[] p, int offnum) {
        if (offnum < 1 || offnum > maxOffset(p)) {
            throw new RedoException("offset " + offnum + " beyond the " + maxOffset(p) + " line pointers");
        }
        int id = itemId(p, offnum);
        if (lpFlags(id) != LP_NORMAL) {
            throw new RedoException("line pointer " + offnum + " is not normal (flags " + lpFlags(id) + ")");
        }
        return lpOff(id);
    }

    /**
     * The byte offset of the item at {@code offnum}, whatever its flags (btree leaf items may be
     * {@code LP_DEAD} hints), when it has storage.
     *
     * @throws RedoException when {@code offnum} is beyond the line pointer array or has no storage
     */
    public static int normalItemAnyFlags(byte[] p, int offnum) {
        if (offnum < 1 || offnum > maxOffset(p)) {
            throw new RedoException("offset " + offnum + " beyond the " + maxOffset(p) + " line pointers");
        }
        int id = itemId(p, offnum);
        if (lpLen(id) == 0) {
            throw new RedoException("line pointer " + offnum + " has no storage");
        }
        return lpOff(id);
    }

    // ------------------------------------------------------------------ bufpage.c

    /**
     * {@code PageAddItemExtended}: places {@code size} bytes of {@code item} at {@code item[from..]}
     * on the page at {@code offnum} (0 = {@code InvalidOffsetNumber}: first free slot).
     *
     * @return the offset number used, or 0 where PostgreSQL returns {@code InvalidOffsetNumber}
     */
    public static int addItem(byte[] p, byte[] item, int from, int size, int offnum, int flags) {
        int lower0 = lower(p);
        int upper0 = upper(p);
        if (lower0 < HEADER_SIZE || lower0 > upper0 || upper0 > special(p) || special(p) > BLCKSZ) {
            throw new RedoException("corrupted page pointers: lower = " + lower0 + ", upper = " + upper0
                    + ", special = " + special(p));
        }
        int limit = maxOffset(p) + 1;
        boolean needShuffle = false;
        if (offnum != 0) {
            if ((flags & PAI_OVERWRITE) != 0) {
                if (offnum < limit) {
                    int id = itemId(p, offnum);
                    if (lpFlags(id) != LP_UNUSED || lpLen(id) != 0) {
                        return 0; // will not overwrite a used ItemId
                    }
                }
            } else if (offnum < limit) {
                needShuffle = true;
            }
        } else {
            if ((flags(p) & PD_HAS_FREE_LINES) != 0) {
                for (offnum = 1; offnum < limit; offnum++) {
                    int id = itemId(p, offnum);
                    if (lpFlags(id) == LP_UNUSED && lpLen(id) == 0) {
                        break;
                    }
                }
                if (offnum >= limit) {
                    setFlag(p, PD_HAS_FREE_LINES, false);
                }
            } else {
                offnum = limit;
            }
        }
        if (offnum > limit) {
            return 0;
        }
        if ((flags & PAI_IS_HEAP) != 0 && offnum > MAX_HEAP_TUPLES_PER_PAGE) {
            return 0;
        }
        int lower = (offnum == limit || needShuffle) ? lower0 + ITEM_ID_SIZE : lower0;
        int upper = upper0 - maxAlign(size);
        if (lower > upper) {
            return 0;
        }
        if (needShuffle) {
            int pos = itemIdPos(offnum);
            System.arraycopy(p, pos, p, pos + ITEM_ID_SIZE, (limit - offnum) * ITEM_ID_SIZE);
        }
        setItemId(p, offnum, makeItemId(upper, LP_NORMAL, size));
        System.arraycopy(item, from, p, upper, size);
        setLower(p, lower);
        setUpper(p, upper);
        return offnum;
    }

    /**
     * {@code compactify_tuples} (PostgreSQL 14+): packs the given items downward from {@code pd_special}
     * in the order given (line pointer order), each {@code MAXALIGN(len)} bytes copied from its old
     * place, and sets each line pointer's {@code lp_off}; {@code pd_upper} becomes the lowest offset.
     *
     * @param offnums   offset numbers whose line pointers receive the new offsets
     * @param itemOffs  the items' current offsets
     * @param alignLens {@code MAXALIGN} of the items' lengths
     */
    static void compactifyTuples(byte[] p, int[] offnums, int[] itemOffs, int[] alignLens, int n) {
        byte[] scratch = p.clone();
        int upper = special(p);
        for (int i = 0; i < n; i++) {
            upper -= alignLens[i];
            System.arraycopy(scratch, itemOffs[i], p, upper, alignLens[i]);
            int id = itemId(p, offnums[i]);
            setItemId(p, offnums[i], makeItemId(upper, lpFlags(id), lpLen(id)));
        }
        setUpper(p, upper);
    }

    private static void checkPointers(byte[] p) {
        int lower = lower(p);
        int upper = upper(p);
        int special = special(p);
        if (lower < HEADER_SIZE || lower > upper || upper > special || special > BLCKSZ
                || special != maxAlign(special)) {
            throw new RedoException("corrupted page pointers: lower = " + lower + ", upper = " + upper
                    + ", special = " + special);
        }
    }

    /**
     * {@code PageRepairFragmentation} (PostgreSQL 15): compacts the storage of the used line pointers
     * that have storage ({@link #compactifyTuples}), zeroes unused line pointers, truncates the
     * trailing unused ones (all of them when none is used), sets or clears {@code PD_HAS_FREE_LINES}.
     */
    public static void repairFragmentation(byte[] p) {
        checkPointers(p);
        int upper0 = upper(p);
        int special = special(p);
        int nline = maxOffset(p);
        int[] offnums = new int[nline];
        int[] offs = new int[nline];
        int[] lens = new int[nline];
        int n = 0;
        int nunused = 0;
        int total = 0;
        int finalUsed = 0;
        for (int i = 1; i <= nline; i++) {
            int id = itemId(p, i);
            if (lpFlags(id) != LP_UNUSED) {
                finalUsed = i;
                if (lpLen(id) != 0) {
                    int off = lpOff(id);
                    if (off < upper0 || off >= special) {
                        throw new RedoException("corrupted line pointer: " + off);
                    }
                    offnums[n] = i;
                    offs[n] = off;
                    lens[n] = maxAlign(lpLen(id));
                    total += lens[n];
                    n++;
                }
            } else {
                setUnused(p, i);
                nunused++;
            }
        }
        if (n == 0) {
            setUpper(p, special);
        } else {
            if (total > special - lower(p)) {
                throw new RedoException("corrupted item lengths: total " + total + ", available space "
                        + (special - lower(p)));
            }
            compactifyTuples(p, offnums, offs, lens, n);
        }
        if (finalUsed != nline) {
            int unusedEnd = nline - finalUsed;
            nunused -= unusedEnd;
            setLower(p, lower(p) - ITEM_ID_SIZE * unusedEnd);
        }
        setFlag(p, PD_HAS_FREE_LINES, nunused > 0);
    }

    /**
     * {@code PageTruncateLinePointerArray}: drops the trailing {@code LP_UNUSED} line pointers (always
     * keeping the first), and sets {@code PD_HAS_FREE_LINES} when an unused one remains.
     */
    public static void truncateLinePointerArray(byte[] p) {
        boolean countDone = false;
        boolean setHint = false;
        int unusedEnd = 0;
        for (int i = maxOffset(p); i >= 1; i--) {
            boolean used = lpFlags(itemId(p, i)) != LP_UNUSED;
            if (!countDone && i > 1) {
                if (!used) {
                    unusedEnd++;
                } else {
                    countDone = true;
                }
            } else if (!used) {
                setHint = true;
                break;
            }
        }
        if (unusedEnd > 0) {
            setLower(p, lower(p) - ITEM_ID_SIZE * unusedEnd);
        }
        setFlag(p, PD_HAS_FREE_LINES, setHint);
    }

    /** {@code PageGetExactFreeSpace}. */
    public static int exactFreeSpace(byte[] p) {
        return Math.max(0, upper(p) - lower(p));
    }

    /** {@code PageGetFreeSpace}: exact free space less one line pointer, at least 0. */
    public static int freeSpace(byte[] p) {
        int space = upper(p) - lower(p);
        return space < ITEM_ID_SIZE ? 0 : space - ITEM_ID_SIZE;
    }

    /**
     * {@code PageIndexTupleDelete}: removes the item and its line pointer (later line pointers move
     * down one slot), closing the gap in tuple space.
     */
    public static void indexTupleDelete(byte[] p, int offnum) {
        int nline = maxOffset(p);
        int id = checkedIndexItem(p, offnum);
        int size = maxAlign(lpLen(id));
        int offset = lpOff(id);
        int upper = upper(p);
        int pos = itemIdPos(offnum);
        int nbytes = lower(p) - (pos + ITEM_ID_SIZE);
        if (nbytes > 0) {
            System.arraycopy(p, pos + ITEM_ID_SIZE, p, pos, nbytes);
        }
        setLower(p, lower(p) - ITEM_ID_SIZE);
        closeGap(p, upper, offset, size, nline - 1, false);
    }

    /**
     * {@code PageIndexTupleDeleteNoCompact}: removes the item's storage but keeps the line pointer
     * array: the line pointer becomes unused (or, for the last one, goes), and the tuples before it in
     * tuple space move up to close the gap. BRIN uses it so that other items keep their offsets.
     */
    public static void indexTupleDeleteNoCompact(byte[] p, int offnum) {
        int nline = maxOffset(p);
        int id = checkedIndexItem(p, offnum);
        int size = maxAlign(lpLen(id));
        int offset = lpOff(id);
        int upper = upper(p);
        if (offnum < nline) {
            setUnused(p, offnum);
        } else {
            setLower(p, lower(p) - ITEM_ID_SIZE);
            nline--;
        }
        closeGap(p, upper, offset, size, nline, true);
    }

    /**
     * The checks both {@code PageIndexTupleDelete} variants make of {@code offnum}'s line pointer
     * (bufpage.c): a valid offset number, storage inside the tuple space, MAXALIGNed.
     *
     * @return the line pointer
     * @throws RedoException naming the offset number or the line pointer when the page disagrees
     */
    private static int checkedIndexItem(byte[] p, int offnum) {
        checkPointers(p);
        if (offnum <= 0 || offnum > maxOffset(p)) {
            throw new RedoException("invalid index offnum: " + offnum);
        }
        int id = itemId(p, offnum);
        int size = lpLen(id);
        int offset = lpOff(id);
        if (offset < upper(p) || offset + size > special(p) || offset != maxAlign(offset)) {
            throw new RedoException("corrupted line pointer: offset = " + offset + ", size = " + size);
        }
        return id;
    }

    /**
     * Closes the {@code size}-byte gap a deleted item left at {@code offset} (the tuples between
     * {@code upper} and it move up, {@code pd_upper} follows) and moves the line pointers
     * {@code 1..nline} of the tuples that moved; {@code onlyWithStorage}: skip pointers without storage
     * ({@code ItemIdHasStorage}, as the NoCompact variant does).
     */
    private static void closeGap(byte[] p, int upper, int offset, int size, int nline, boolean onlyWithStorage) {
        if (offset > upper) {
            System.arraycopy(p, upper, p, upper + size, offset - upper);
        }
        setUpper(p, upper + size);
        if (isEmpty(p)) {
            return;
        }
        for (int i = 1; i <= nline; i++) {
            int ii = itemId(p, i);
            if ((!onlyWithStorage || lpLen(ii) != 0) && lpOff(ii) <= offset) {
                setItemId(p, i, makeItemId(lpOff(ii) + size, lpFlags(ii), lpLen(ii)));
            }
        }
    }

    /** {@code PageIsEmpty}: no line pointers. */
    public static boolean isEmpty(byte[] p) {
        return lower(p) <= HEADER_SIZE;
    }

    /**
     * {@code PageIndexMultiDelete}: deletes the items {@code itemnos[0..nitems)} (ascending offset
     * numbers) and their line pointers; at most two go through {@link #indexTupleDelete} (last first),
     * more are removed at once and the rest compacted in the new line pointer order.
     */
    public static void indexMultiDelete(byte[] p, int[] itemnos, int nitems) {
        if (nitems <= 2) {
            while (--nitems >= 0) {
                indexTupleDelete(p, itemnos[nitems]);
            }
            return;
        }
        checkPointers(p);
        int upper = upper(p);
        int special = special(p);
        int nline = maxOffset(p);
        int[] kept = new int[nline];
        int[] offnums = new int[nline];
        int[] offs = new int[nline];
        int[] lens = new int[nline];
        int nused = 0;
        int next = 0;
        int total = 0;
        for (int off = 1; off <= nline; off++) {
            int id = itemId(p, off);
            int size = lpLen(id);
            int offset = lpOff(id);
            if (offset < upper || offset + size > special || offset != maxAlign(offset)) {
                throw new RedoException("corrupted line pointer: offset = " + offset + ", size = " + size);
            }
            if (next < nitems && off == itemnos[next]) {
                next++;
            } else {
                kept[nused] = id;
                offnums[nused] = nused + 1;
                offs[nused] = offset;
                lens[nused] = maxAlign(size);
                total += lens[nused];
                nused++;
            }
        }
        if (next != nitems) {
            throw new RedoException("incorrect index offsets supplied");
        }
        if (total > special - lower(p)) {
            throw new RedoException("corrupted item lengths: total " + total);
        }
        for (int i = 0; i < nused; i++) {
            setItemId(p, i + 1, kept[i]);
        }
        setLower(p, HEADER_SIZE + nused * ITEM_ID_SIZE);
        compactifyTuples(p, offnums, offs, lens, nused);
    }

    /**
     * {@code PageIndexTupleOverwrite}: replaces the item at {@code offnum} with {@code newSize} bytes of
     * {@code item}, shifting the tuple data below it so the page stays compact; keeps the line pointer's
     * flags.
     *
     * @return false when there is not enough free space
     */
    public static boolean indexTupleOverwrite(byte[] p, int offnum, byte[] item, int from, int newSize) {
        checkPointers(p);
        int nline = maxOffset(p);
        if (offnum <= 0 || offnum > nline) {
            throw new RedoException("invalid index offnum: " + offnum);
        }
        int id = itemId(p, offnum);
        int oldSize = lpLen(id);
        int offset = lpOff(id);
        int upper = upper(p);
        if (offset < upper || offset + oldSize > special(p) || offset != maxAlign(offset)) {
            throw new RedoException("corrupted line pointer: offset = " + offset + ", size = " + oldSize);
        }
        oldSize = maxAlign(oldSize);
        int alignedNew = maxAlign(newSize);
        if (alignedNew > oldSize + (upper - lower(p))) {
            return false;
        }
        int diff = oldSize - alignedNew;
        if (diff != 0) {
            System.arraycopy(p, upper, p, upper + diff, offset - upper);
            setUpper(p, upper + diff);
            for (int i = 1; i <= nline; i++) {
                int ii = itemId(p, i);
                if (lpLen(ii) != 0 && lpOff(ii) <= offset) {
                    setItemId(p, i, makeItemId(lpOff(ii) + diff, lpFlags(ii), lpLen(ii)));
                }
            }
        }
        int newOff = lpOff(itemId(p, offnum));
        int cur = itemId(p, offnum);
        setItemId(p, offnum, makeItemId(newOff, lpFlags(cur), newSize));
        System.arraycopy(item, from, p, newOff, newSize);
        return true;
    }
}
