package io.forkline.pageserver.size;

import io.forkline.storage.id.TimelineId;
import io.forkline.storage.key.Key;
import io.forkline.storage.key.RelSizeValue;
import io.forkline.storage.key.RelTag;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;

import java.util.Map;

/**
 * The logical size of a cluster as of {@code (timeline, lsn)}: the sum over every stored relation
 * fork but the free space maps of {@code nblocks × 8192} bytes, read from the page store's
 * {@code REL_SIZE} keys (ancestors merged, dropped relations excluded), over every database
 * ({@code template0} and {@code template1} included) and the shared catalogs. This is what a data
 * directory built at that point holds in relation files: the basebackup omits FSM forks (they are
 * not WAL-logged, so the stored ones are only initdb's or an import's, never current; a compute
 * rebuilds its own), and SLRUs, WAL and other small files are not relations. It is Neon's "logical
 * size" (see neon {@code pageserver/src/tenant/timeline.rs}, {@code get_current_logical_size}).
 *
 * <p>It therefore differs from PostgreSQL's {@code pg_database_size(db)}, which is one database's
 * directory: that database's relation files including the FSM forks its server built, plus
 * {@code pg_internal.init}, {@code PG_VERSION} and {@code pg_filenode.map}, without the other
 * databases and the shared catalogs. The same number from SQL is the sum over every database of
 * {@code pg_relation_size(oid, fork)} for forks {@code main}, {@code vm}, {@code init}, shared
 * relations counted once.
 *
 * <p>Cost: one range scan over the {@code REL_SIZE} keys of the timeline and its ancestors, linear
 * in the number of relation forks (not pages). Thread-safe.
 */
public final class LogicalSize {
    /** PostgreSQL's {@code BLCKSZ}, bytes. */
    public static final int PAGE_SIZE = 8192;

    private LogicalSize() {
    }

    /**
     * The logical size as of {@code lsn}.
     *
     * @param timeline an existing timeline
     * @param lsn      WAL position, bytes; versions at or below it count
     * @return bytes, a multiple of 8192, at least 0
     * @throws IllegalArgumentException when the timeline does not exist, or a {@code REL_SIZE} value is
     *                                  malformed (the message names the key and LSN)
     */
    public static long bytes(PageStore store, TimelineId timeline, long lsn) {
        long blocks = 0;
        for (Map.Entry<Key, byte[]> e : store.scan(timeline, Key.kindStart(Key.REL_SIZE), Key.kindEnd(Key.REL_SIZE), lsn)
                .entrySet()) {
            RelSizeValue v;
            try {
                v = RelSizeValue.decode(e.getValue());
            } catch (RuntimeException ex) {
                throw new IllegalArgumentException("malformed REL_SIZE value of " + e.getKey() + " on timeline "
                        + timeline + " at " + Lsn.format(lsn) + ": " + ex.getMessage(), ex);
            }
            if (e.getKey().relTag().forkNum() == RelTag.FSM_FORK) {
                continue; // not what a compute gets (see the class comment)
            }
            blocks += Integer.toUnsignedLong(v.nblocks());
        }
        return blocks * PAGE_SIZE;
    }
}
