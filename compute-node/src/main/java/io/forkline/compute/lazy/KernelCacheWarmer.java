package io.forkline.compute.lazy;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Reads extents of relation files <em>through the mount</em>, in the background, so that the
 * kernel's page cache of the FUSE file holds them before PostgreSQL asks.
 *
 * <p>Why: the kernel reads a random 8 KiB {@code pread} of a FUSE file as one 8 KiB FUSE request
 * (no readahead for random reads), so every block PostgreSQL reads for the first time costs a round
 * trip into the daemon even when the daemon has it locally (read-around, {@link LazyFileSystem}
 * {@code READ_AROUND_PROPERTY}), where a full compute's read of the same block is a page-cache copy.
 * After a read-around fetched an extent, one 128 KiB read of it through the mount makes the kernel
 * ask for the rest of the extent in one request and keep it ({@code kernel_cache}): PostgreSQL's
 * later first reads of those blocks stay in the kernel (benchmarks README 11o).
 *
 * <p>The daemon serves the warmer's handle ({@link #isWarmerOpen}) from local blocks only: a read of
 * one that is not local (the kernel may read ahead past the extent) fails with EIO instead of
 * fetching, and none counts as a sequential scan.
 *
 * <p>Correctness: this is an ordinary reader of the mount; the kernel serializes it with
 * PostgreSQL's reads and writes of the same pages as it does for any two readers, and a page
 * PostgreSQL wrote (dirty in the writeback cache) is never asked of the daemon. Best effort: one
 * thread, a bounded queue (extents past it are dropped), errors ignored (a file unlinked or
 * truncated meanwhile). {@link #close} stops it before the unmount, so that it holds no file of the
 * mount open.
 */
final class KernelCacheWarmer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(KernelCacheWarmer.class);
    /** System property: {@code false} turns the warming off (default on). */
    static final String PROPERTY = "forkline.lazy.warmKernelCache";

    private final Path mountPoint;
    private final ThreadPoolExecutor executor;
    private final ByteBuffer buf;
    private final LazyStats stats;

    /** {@code O_ACCMODE}, {@code O_RDONLY} and {@code O_DSYNC} of Linux. */
    private static final int O_ACCMODE = 3;
    private static final int O_RDONLY = 0;
    private static final int O_DSYNC = 0x1000;

    /**
     * Whether raw open flags are the warmer's: read-only with {@code O_DSYNC}, which no reader of a
     * PostgreSQL 15 data directory uses (it opens relation files {@code O_RDWR}; {@code CREATE
     * DATABASE ... FILE_COPY} reads them {@code O_RDONLY} without it), so the daemon can tell the
     * warmer's reads apart: they, and the kernel's readahead on the warmer's handle, must neither
     * fetch blocks nor count as a sequential scan (which starts an 8 MiB read-ahead).
     */
    static boolean isWarmerOpen(int flags) {
        return (flags & O_ACCMODE) == O_RDONLY && (flags & O_DSYNC) != 0;
    }

    static boolean enabled() {
        return !"false".equalsIgnoreCase(System.getProperty(PROPERTY, "true").strip());
    }

    /**
     * @param mountPoint where the lazy data directory is mounted
     * @param maxBlocks  the largest extent asked for, in 8 KiB blocks
     * @param stats      counts extents read ({@code warm}) and dropped ({@code warm.dropped}) in {@link LazyStats#ops()}
     */
    KernelCacheWarmer(Path mountPoint, int maxBlocks, LazyStats stats) {
        this.mountPoint = mountPoint;
        this.stats = stats;
        this.buf = ByteBuffer.allocateDirect(maxBlocks * LazyFileSystem.BLOCK);
        this.executor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(1024),
                r -> Thread.ofPlatform().daemon().name("forkline-lazy-warm").unstarted(r),
                (r, e) -> stats.op("warm.dropped", 0));
    }

    /** Asks for blocks {@code first..first+blocks-1} of the file at FUSE path {@code path} (e.g. {@code /base/5/16384}). */
    void warm(String path, int first, int blocks) {
        executor.execute(() -> read(path, first, blocks));
    }

    private void read(String path, int first, int blocks) {
        long t0 = System.nanoTime();
        try (FileChannel ch = FileChannel.open(mountPoint.resolve(path.substring(1)), StandardOpenOption.READ,
                StandardOpenOption.DSYNC)) { // O_RDONLY | O_DSYNC: isWarmerOpen
            buf.clear().limit(blocks * LazyFileSystem.BLOCK);
            long offset = (long) first * LazyFileSystem.BLOCK;
            while (buf.hasRemaining()) {
                if (ch.read(buf, offset + buf.position()) <= 0) {
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            log.trace("warming {} from block {}: {}", path, first, e.toString());
        }
        stats.op("warm", System.nanoTime() - t0);
    }

    /** Drops what is queued and waits (up to 5 s) for the read in progress. */
    @Override
    public void close() {
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
