package io.forkline.compute.lazy;

/**
 * Read-ahead state of one lazy relation file: whether its reads run sequentially, and up to which
 * block the blocks ahead of them were asked for.
 *
 * <p>Only reads of at least {@link #MIN_BLOCKS} blocks count (the kernel sends FUSE reads that large
 * only once its own read-ahead saw a sequential reader; PostgreSQL's random 8 KiB reads stay 8 KiB and
 * are ignored here). Such a read is sequential when it starts within {@link #SLACK} blocks of the
 * furthest block read so far: the kernel's asynchronous reads may arrive out of order, and a parallel
 * sequential scan's workers read chunks of the file side by side, each through its own descriptor,
 * so the state is kept per file, not per open handle. From the {@link #MIN_STREAK}th sequential read
 * in a row on, {@link #onRead} answers the blocks to fetch ahead: up to {@code window} blocks past the
 * furthest read, topped up in whole batches of {@code batch} blocks (one page-service request each),
 * so a scan keeps between {@code window - batch} and {@code window} blocks fetched or in flight ahead
 * of itself. A large read elsewhere starts over. Thread-safe.
 */
final class SequentialReads {
    /** Blocks a read must span to count as sequential (32 KiB). */
    static final int MIN_BLOCKS = 4;
    /** Blocks a sequential read may start before or after the furthest read's end (2 MiB). */
    static final int SLACK = 256;
    /** Sequential reads in a row before blocks are fetched ahead. */
    static final int MIN_STREAK = 2;

    private int next = -1;
    private int streak;
    private int aheadEnd;

    /**
     * Notes a read of blocks {@code first..last} (inclusive) of the file, of which {@code fileBlocks}
     * blocks may have to be fetched.
     *
     * @param window blocks to keep asked for past the read (0: never)
     * @param batch  blocks per page-service request
     * @return {@code [from, to)}: the blocks to fetch ahead now (those not local nor in flight), or
     *         {@code null} for none
     */
    synchronized int[] onRead(int first, int last, int window, int batch, int fileBlocks) {
        if (last - first + 1 < MIN_BLOCKS) {
            return null;
        }
        boolean sequential = next >= 0 && first >= next - SLACK && first <= next + SLACK;
        if (sequential) {
            streak++;
            next = Math.max(next, last + 1);
        } else {
            streak = 1;
            next = last + 1;
            aheadEnd = 0;
        }
        if (window <= 0 || streak < MIN_STREAK) {
            return null;
        }
        int from = Math.max(next, aheadEnd);
        int to = (int) Math.min(fileBlocks, (long) next + window);
        if (from >= to || (to - from < batch && to < fileBlocks)) {
            return null;
        }
        aheadEnd = to;
        return new int[]{from, to};
    }
}
