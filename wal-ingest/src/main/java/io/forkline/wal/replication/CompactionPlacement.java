package io.forkline.wal.replication;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.List;

/**
 * Where RocksDB's compaction threads run ({@code rocksdb:low} and {@code rocksdb:bottom}, the LOW and
 * BOTTOM pools of its {@code Env}, named by {@code ThreadPoolImpl}): in the idle cpu group of
 * {@link CpuGroups} while every streaming receiver runs there, else in this process's own cpu cgroup.
 * Compaction is ingest's deferred work (it rewrites what the receivers wrote), so while the receivers
 * yield the CPU to the computes it does too; as soon as any receiver leaves the background (someone
 * waits for the store, or a stream passed its bounds) compaction returns, so that neither a waiter's
 * catch-up nor a receiver over its bounds stalls behind an L0 backlog that only idle time would clear.
 * Flushes ({@code rocksdb:high}) stay where they are: a full memtable stops every write, the API's
 * metadata writes included.
 *
 * <p>Compaction threads are found by name in {@code /proc/self/task/<tid>/comm} when the placement
 * changes, and again every {@link #RESCAN_NANOS} ns while they are idle (a store opened later has new
 * threads). Off with {@value #PROPERTY}{@code =false} (read once). Thread-safe.
 */
final class CompactionPlacement {
    private static final Logger LOG = LoggerFactory.getLogger(CompactionPlacement.class);
    /** System property: {@code false} keeps RocksDB's compaction threads at the server's priority. */
    static final String PROPERTY = "forkline.ingest.background.idleCompaction";
    private static final long RESCAN_NANOS = 10_000_000_000L;
    private static final List<String> NAMES = List.of("rocksdb:low", "rocksdb:bottom");

    private final boolean on = !"false".equals(System.getProperty(PROPERTY, "true").trim());
    private final Object lock = new Object();
    /** Guarded by lock. */
    private boolean idle;
    private long scannedNanos;
    private int moved;

    /**
     * Puts the compaction threads in the idle group when {@code receiversIdle}, else home; a repeated
     * call with the same state rescans for new threads only every {@link #RESCAN_NANOS} ns while idle.
     *
     * @param groups        the groups, or null (nothing to do)
     * @param receiversIdle whether at least one receiver streams and every one runs in the idle group
     */
    void update(CpuGroups groups, boolean receiversIdle) {
        if (!on || groups == null) {
            return;
        }
        synchronized (lock) {
            long now = System.nanoTime();
            if (receiversIdle == idle && (!idle || now - scannedNanos < RESCAN_NANOS)) {
                return;
            }
            int n = 0;
            try {
                for (int tid : CpuGroups.threadsNamed(NAMES)) {
                    try {
                        if (receiversIdle) {
                            groups.toIdle(tid);
                        } else {
                            groups.toHome(tid);
                        }
                        n++;
                    } catch (IllegalStateException e) { // the thread ended meanwhile
                        LOG.debug("compaction thread {}: {}", tid, e.getMessage());
                    }
                }
            } catch (IOException e) {
                LOG.warn("compaction threads: listing this process's threads failed: {}", e.toString());
                return;
            }
            if (receiversIdle != idle) {
                LOG.debug("{} RocksDB compaction threads {}", n, receiversIdle ? "into the idle cpu group" : "home");
            }
            idle = receiversIdle;
            scannedNanos = now;
            moved = n;
        }
    }

    /** Whether the compaction threads are in the idle group now (for tests). */
    boolean idle() {
        synchronized (lock) {
            return idle;
        }
    }

    /** How many compaction threads the last change or rescan moved (for tests). */
    int moved() {
        synchronized (lock) {
            return moved;
        }
    }
}
