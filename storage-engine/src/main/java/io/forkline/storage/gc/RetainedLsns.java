package io.forkline.storage.gc;

import io.forkline.storage.id.TimelineId;
import io.forkline.storage.store.PageStore;
import io.forkline.storage.timeline.TimelineMetadata;

import java.util.Arrays;
import java.util.Collection;

/**
 * The retained LSNs of a timeline: the LSNs at which reads of its descendants fall through to it,
 * plus the caller's (leases, backups). A direct child reads this timeline at its branch point; a
 * deeper descendant at the smallest branch point on its path (reads go to
 * {@code min(lsn, ancestorLsn)} at every step, {@code PageStore.get}).
 */
final class RetainedLsns {
    private RetainedLsns() {
    }

    /**
     * @param callerLsns LSNs the caller retains (WAL byte positions); {@code null} elements rejected
     * @return sorted ascending as unsigned values, without duplicates
     * @throws IllegalArgumentException when the timeline does not exist
     * @throws NullPointerException     when {@code callerLsns} or one of its elements is null
     */
    static long[] of(PageStore store, TimelineId timeline, Collection<Long> callerLsns) {
        LongList out = new LongList();
        for (Long lsn : callerLsns) {
            out.add(lsn);
        }
        addDescendants(store, timeline, -1L, out);
        return sortedUnique(out.toArray());
    }

    /** Sorts {@code a} in place ascending as unsigned values and returns it without duplicates. */
    static long[] sortedUnique(long[] a) {
        // sort as unsigned: flip the sign bit, sort signed, flip back
        for (int i = 0; i < a.length; i++) {
            a[i] ^= Long.MIN_VALUE;
        }
        Arrays.sort(a);
        int n = 0;
        for (int i = 0; i < a.length; i++) {
            if (n == 0 || a[n - 1] != a[i]) {
                a[n++] = a[i];
            }
        }
        a = Arrays.copyOf(a, n);
        for (int i = 0; i < a.length; i++) {
            a[i] ^= Long.MIN_VALUE;
        }
        return a;
    }

    private static void addDescendants(PageStore store, TimelineId timeline, long bound, LongList out) {
        for (TimelineMetadata child : store.children(timeline)) {
            long at = Long.compareUnsigned(child.ancestorLsn(), bound) < 0 ? child.ancestorLsn() : bound;
            out.add(at);
            addDescendants(store, child.id(), at, out);
        }
    }

    /**
     * Whether some retained LSN {@code r} satisfies {@code from <= r < to} (unsigned).
     *
     * @param sorted output of {@link #of}
     */
    static boolean anyIn(long[] sorted, long from, long to) {
        int lo = 0;
        int hi = sorted.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(sorted[mid], from) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo < sorted.length && Long.compareUnsigned(sorted[lo], to) < 0;
    }

    /** A growable array of primitive longs. */
    private static final class LongList {
        private long[] a = new long[8];
        private int n;

        void add(long v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, n * 2);
            }
            a[n++] = v;
        }

        long[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }
}
