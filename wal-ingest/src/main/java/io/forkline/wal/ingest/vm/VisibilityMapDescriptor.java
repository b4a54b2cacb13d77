package io.forkline.wal.ingest.vm;

import io.forkline.wal.ingest.page.PageHeaderDescriptor;

/**
 * Layout of visibility map pages ({@code src/backend/access/heap/visibilitymap.c}): after the
 * 24-byte page header, {@code MAPSIZE = 8192 - 24 = 8168} bytes of map, 2 bits per heap block
 * (bit 0 all-visible, bit 1 all-frozen), 4 heap blocks per byte, lowest heap block in the lowest
 * bits:
 *
 * <pre>
 *   page:  | PageHeaderData (24) | map byte 0 | map byte 1 | ... | map byte 8167 |
 *   byte:  | blk+3 (b7..6) | blk+2 (b5..4) | blk+1 (b3..2) | blk (b1 frozen, b0 visible) |
 * </pre>
 *
 * Heap block {@code h} lives on VM page {@code h / 32672}, byte {@code (h % 32672) / 4}, bit offset
 * {@code (h % 4) * 2} ({@code HEAPBLK_TO_MAPBLOCK}, {@code HEAPBLK_TO_MAPBYTE}, {@code HEAPBLK_TO_OFFSET}).
 * All block numbers are unsigned 32-bit values carried in {@code int}.
 */
public final class VisibilityMapDescriptor {
    /** {@code MAPSIZE}. */
    public static final int MAP_SIZE = PageHeaderDescriptor.PAGE_SIZE - PageHeaderDescriptor.CONTENTS_OFFSET;
    public static final int BITS_PER_HEAPBLOCK = 2;
    public static final int HEAPBLOCKS_PER_BYTE = 4;
    /** {@code HEAPBLOCKS_PER_PAGE} = 32672. */
    public static final int HEAPBLOCKS_PER_PAGE = MAP_SIZE * HEAPBLOCKS_PER_BYTE;
    /** {@code VISIBILITYMAP_ALL_VISIBLE}. */
    public static final int ALL_VISIBLE = 0x01;
    /** {@code VISIBILITYMAP_ALL_FROZEN}. */
    public static final int ALL_FROZEN = 0x02;
    /** {@code VISIBILITYMAP_VALID_BITS}. */
    public static final int VALID_BITS = 0x03;

    private VisibilityMapDescriptor() {
    }

    /** {@code HEAPBLK_TO_MAPBLOCK}: VM page holding heap block {@code heapBlk}. */
    public static int mapBlock(int heapBlk) {
        return Integer.divideUnsigned(heapBlk, HEAPBLOCKS_PER_PAGE);
    }

    /** {@code HEAPBLK_TO_MAPBYTE}: byte index within the map area (0..8167). */
    public static int mapByte(int heapBlk) {
        return Integer.remainderUnsigned(heapBlk, HEAPBLOCKS_PER_PAGE) / HEAPBLOCKS_PER_BYTE;
    }

    /** {@code HEAPBLK_TO_OFFSET}: bit offset within the map byte (0, 2, 4 or 6). */
    public static int mapOffset(int heapBlk) {
        return Integer.remainderUnsigned(heapBlk, HEAPBLOCKS_PER_BYTE) * BITS_PER_HEAPBLOCK;
    }

    /**
     * {@code visibilitymap_clear}: clears {@code flags} (a subset of {@link #VALID_BITS}) of
     * {@code heapBlk} in {@code vmPage}, which must be the VM page {@link #mapBlock}{@code (heapBlk)}.
     *
     * @return whether a bit changed
     */
    public static boolean clear(byte[] vmPage, int heapBlk, int flags) {
        int idx = PageHeaderDescriptor.CONTENTS_OFFSET + mapByte(heapBlk);
        int mask = (flags & VALID_BITS) << mapOffset(heapBlk);
        int old = vmPage[idx] & 0xFF;
        if ((old & mask) == 0) {
            return false;
        }
        vmPage[idx] = (byte) (old & ~mask);
        return true;
    }

    /** The 2 bits of {@code heapBlk} in {@code vmPage} ({@code visibilitymap_get_status}). */
    public static int status(byte[] vmPage, int heapBlk) {
        int idx = PageHeaderDescriptor.CONTENTS_OFFSET + mapByte(heapBlk);
        return ((vmPage[idx] & 0xFF) >>> mapOffset(heapBlk)) & VALID_BITS;
    }

    /**
     * The VM fork length after truncating the heap to {@code nheapblocks}, as
     * {@code visibilitymap_prepare_truncate} computes it (before comparing with the current VM size):
     * the page holding the first removed heap block is kept when it also holds remaining blocks.
     */
    public static int truncatedMapBlocks(int nheapblocks) {
        boolean partial = mapByte(nheapblocks) != 0 || mapOffset(nheapblocks) != 0;
        return mapBlock(nheapblocks) + (partial ? 1 : 0);
    }

    /**
     * Clears the bits of heap blocks {@code >= nheapblocks} on the last remaining VM page
     * ({@code visibilitymap_prepare_truncate}: zero the bytes after the truncation byte, mask the
     * truncation byte). Call only when {@link #truncatedMapBlocks} keeps a partial page, on VM page
     * {@link #mapBlock}{@code (nheapblocks)}.
     *
     * @return whether the page changed
     */
    public static boolean clearTail(byte[] vmPage, int nheapblocks) {
        int truncByte = mapByte(nheapblocks);
        int truncOffset = mapOffset(nheapblocks);
        boolean changed = false;
        int base = PageHeaderDescriptor.CONTENTS_OFFSET;
        for (int i = base + truncByte + 1; i < base + MAP_SIZE; i++) {
            if (vmPage[i] != 0) {
                vmPage[i] = 0;
                changed = true;
            }
        }
        int keep = (1 << truncOffset) - 1;
        int old = vmPage[base + truncByte] & 0xFF;
        if ((old & ~keep) != 0) {
            vmPage[base + truncByte] = (byte) (old & keep);
            changed = true;
        }
        return changed;
    }
}
