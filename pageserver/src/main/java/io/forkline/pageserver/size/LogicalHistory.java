package io.forkline.pageserver.size;

/**
 * The recent logical sizes of one timeline, by LSN: at most {@link #CAPACITY} pairs of (LSN,
 * logical size in bytes), oldest dropped first. {@link SizeService} answers a new descendant's
 * first listing from it ({@link #atOrBelow}): a child timeline's history up to its ancestor LSN is
 * this timeline's, so a size recorded here at or below that LSN is exact for the child at that LSN.
 * LSNs compare unsigned ({@code XLogRecPtr}). Thread-safe.
 */
final class LogicalHistory {
    /** Pairs kept per timeline (16). */
    static final int CAPACITY = 16;

    private final long[] lsns = new long[CAPACITY];
    private final long[] sizes = new long[CAPACITY];
    private int count;

    /** Records the logical size at {@code lsn}; an LSN already recorded keeps its first size. */
    synchronized void add(long lsn, long logicalBytes) {
        int i = 0;
        while (i < count && Long.compareUnsigned(lsns[i], lsn) < 0) {
            i++;
        }
        if (i < count && lsns[i] == lsn) {
            return;
        }
        if (count == CAPACITY) {
            if (i == 0) {
                return; // older than everything kept
            }
            System.arraycopy(lsns, 1, lsns, 0, i - 1);
            System.arraycopy(sizes, 1, sizes, 0, i - 1);
            i--;
        } else {
            System.arraycopy(lsns, i, lsns, i + 1, count - i);
            System.arraycopy(sizes, i, sizes, i + 1, count - i);
            count++;
        }
        lsns[i] = lsn;
        sizes[i] = logicalBytes;
    }

    /**
     * The newest recorded size at an LSN at or below {@code lsn}.
     *
     * @return {@code {lsn, logicalBytes}}, or {@code null} when every recorded LSN is above it
     */
    synchronized long[] atOrBelow(long lsn) {
        for (int i = count - 1; i >= 0; i--) {
            if (Long.compareUnsigned(lsns[i], lsn) <= 0) {
                return new long[]{lsns[i], sizes[i]};
            }
        }
        return null;
    }
}
