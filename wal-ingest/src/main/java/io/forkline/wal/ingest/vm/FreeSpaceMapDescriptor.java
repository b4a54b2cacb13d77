package io.forkline.wal.ingest.vm;

import io.forkline.wal.ingest.page.PageHeaderDescriptor;

/**
 * Layout of free space map pages ({@code src/backend/storage/freespace/fsmpage.c},
 * {@code freespace.c}, {@code fsm_internals.h}): after the 24-byte page header an
 * {@code FSMPageData} = {@code int fp_next_slot} followed by a binary max-tree of
 * {@code NodesPerPage = 8164} one-byte nodes, of which the first {@code 4095} are inner nodes and
 * the last {@code 4069} ({@code SlotsPerFSMPage}) are leaves, one per heap block (bottom level) or
 * per child FSM page. The tree of FSM pages is 3 levels deep.
 *
 * <pre>
 *   | PageHeaderData (24) | fp_next_slot (4) | node 0 (root) | ... | node 4094 | leaf 0 | ... | leaf 4068 |
 * </pre>
 *
 * The FSM is a hint, not WAL-logged; a zero page is valid.
 */
public final class FreeSpaceMapDescriptor {
    /** Offset of {@code fp_nodes[0]} in the page. */
    public static final int NODES_OFFSET = PageHeaderDescriptor.CONTENTS_OFFSET + 4;
    /** {@code NodesPerPage}. */
    public static final int NODES_PER_PAGE = PageHeaderDescriptor.PAGE_SIZE - NODES_OFFSET;
    /** {@code NonLeafNodesPerPage}. */
    public static final int NON_LEAF_NODES_PER_PAGE = PageHeaderDescriptor.PAGE_SIZE / 2 - 1;
    /** {@code LeafNodesPerPage} = {@code SlotsPerFSMPage}. */
    public static final int SLOTS_PER_PAGE = NODES_PER_PAGE - NON_LEAF_NODES_PER_PAGE;
    /** {@code FSM_TREE_DEPTH}. */
    public static final int TREE_DEPTH = 3;

    private FreeSpaceMapDescriptor() {
    }

    /** Bottom-level logical page holding heap block {@code heapBlk} ({@code fsm_get_location}). */
    public static long logicalPage(long heapBlk) {
        return heapBlk / SLOTS_PER_PAGE;
    }

    /** Slot of heap block {@code heapBlk} on its bottom-level page ({@code fsm_get_location}). */
    public static int slot(long heapBlk) {
        return (int) (heapBlk % SLOTS_PER_PAGE);
    }

    /**
     * {@code fsm_logical_to_physical} for a bottom-level page: the physical block number of logical
     * leaf page {@code logpageno}, counting the upper-level pages that precede it.
     */
    public static long physicalBlock(long logpageno) {
        long leafno = logpageno;
        long pages = 0;
        for (int l = 0; l < TREE_DEPTH; l++) {
            pages += leafno + 1;
            leafno /= SLOTS_PER_PAGE;
        }
        return pages - 1;
    }

    /**
     * The FSM fork length after truncating the heap to {@code nheapblocks}
     * ({@code FreeSpaceMapPrepareTruncateRel}, before comparing with the current FSM size).
     */
    public static long truncatedBlocks(long nheapblocks) {
        long addr = logicalPage(nheapblocks);
        return slot(nheapblocks) > 0 ? physicalBlock(addr) + 1 : physicalBlock(addr);
    }

    /**
     * {@code fsm_truncate_avail}: zeroes leaves {@code >= nslots} and, if any changed, rebuilds the
     * inner nodes ({@code fsm_rebuild_page}).
     *
     * @return whether the page changed
     */
    public static boolean truncateAvail(byte[] page, int nslots) {
        boolean changed = false;
        int leaves = NODES_OFFSET + NON_LEAF_NODES_PER_PAGE;
        for (int i = nslots; i < SLOTS_PER_PAGE; i++) {
            if (page[leaves + i] != 0) {
                page[leaves + i] = 0;
                changed = true;
            }
        }
        if (changed) {
            for (int node = NON_LEAF_NODES_PER_PAGE - 1; node >= 0; node--) {
                int l = 2 * node + 1;
                int r = l + 1;
                int v = 0;
                if (l < NODES_PER_PAGE) {
                    v = page[NODES_OFFSET + l] & 0xFF;
                }
                if (r < NODES_PER_PAGE) {
                    v = Math.max(v, page[NODES_OFFSET + r] & 0xFF);
                }
                page[NODES_OFFSET + node] = (byte) v;
            }
        }
        return changed;
    }
}
