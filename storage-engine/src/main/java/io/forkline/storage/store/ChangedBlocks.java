package io.forkline.storage.store;

import io.forkline.storage.id.TimelineId;

import java.util.BitSet;
import java.util.List;

/**
 * Which blocks of one relation fork may differ between two points of a tenant's history, from the
 * store's version keys alone ({@link PageStore#changedBlocks}): a block not in {@link #changed} resolves
 * to the same stored version (same timeline, same LSN) on both sides, so its page bytes are the same.
 *
 * @param fromBlocks the fork's length in blocks at the FROM point, {@code -1} when it does not exist there
 * @param toBlocks   the same at the TO point
 * @param changed    block numbers (below {@code max(fromBlocks, toBlocks)}) whose resolved version may
 *                   differ, blocks beyond the smaller length included; all blocks when the fork was
 *                   created again (another {@code createdLsn}) between the points
 * @param windows    the LSN windows of the timeline levels both sides read at different LSNs (the
 *                   history between the common point and each side on shared timelines); empty when the
 *                   two sides read every shared level at the same LSN (a branch and its parent)
 * @param ownLevels  the timeline levels only one side reads (whole, up to that side's LSN there)
 * @param common     the two sides' common point: the first timeline of FROM's chain that TO's chain
 *                   holds too, and the lower of the two LSNs read there (as {@code upToLsn});
 *                   {@code null} when the chains share no timeline
 * @param versionsRead how many version keys the walk read (its cost)
 */
public record ChangedBlocks(long fromBlocks, long toBlocks, BitSet changed, List<Window> windows,
                            List<Window> ownLevels, Window common, long versionsRead) {
    /**
     * A timeline level and the versions read on it: version LSN in {@code (afterLsn, upToLsn]}
     * (unsigned WAL positions; {@code afterLsn} 0 for a level one side reads whole).
     */
    public record Window(TimelineId timeline, long afterLsn, long upToLsn) {
    }

    /** Whether the fork exists at both points. */
    public boolean existsOnBoth() {
        return fromBlocks >= 0 && toBlocks >= 0;
    }

    /** The larger of the two lengths, blocks (0 when it exists on neither side). */
    public long maxBlocks() {
        return Math.max(0, Math.max(fromBlocks, toBlocks));
    }
}
