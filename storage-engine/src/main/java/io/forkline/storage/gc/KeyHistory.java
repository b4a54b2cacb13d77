package io.forkline.storage.gc;

import io.forkline.storage.key.Key;
import io.forkline.storage.store.PageStore;

import java.util.Arrays;
import java.util.function.BooleanSupplier;

/**
 * The versions of one key on one timeline, in ascending LSN order, and the GC decision for each
 * (the rule is stated in the package javadoc). Reused from key to key by one GC run; not
 * thread-safe.
 */
final class KeyHistory {
    private Key key;
    private long[] lsns = new long[16];
    private int[] valueLengths = new int[16];
    private long[] baseLsns = new long[16];
    private boolean[] removed = new boolean[16];
    private int size;

    /** Starts the history of {@code key}, forgetting the previous one. */
    void reset(Key key) {
        this.key = key;
        size = 0;
    }

    Key key() {
        return key;
    }

    int size() {
        return size;
    }

    long lsn(int i) {
        return lsns[i];
    }

    int valueLength(int i) {
        return valueLengths[i];
    }

    /** The delta base LSN of version {@code i}, or {@link PageStore#NO_BASE} when it is not a delta. */
    long baseLsn(int i) {
        return baseLsns[i];
    }

    boolean tombstone(int i) {
        return valueLengths[i] == 0;
    }

    boolean removed(int i) {
        return removed[i];
    }

    /** Appends a version that is not a delta. */
    void add(long lsn, int valueLength) {
        add(lsn, valueLength, PageStore.NO_BASE);
    }

    /**
     * Appends a version.
     *
     * @param baseLsn for a delta, the LSN of its base (a full image of this key on this timeline);
     *                {@link PageStore#NO_BASE} otherwise
     * @throws IllegalArgumentException when {@code lsn} is not above the previous version's LSN
     */
    void add(long lsn, int valueLength, long baseLsn) {
        if (size > 0 && Long.compareUnsigned(lsn, lsns[size - 1]) <= 0) {
            throw new IllegalArgumentException("versions of " + key + " out of order: " + Long.toUnsignedString(lsn)
                    + " after " + Long.toUnsignedString(lsns[size - 1]));
        }
        if (size == lsns.length) {
            lsns = Arrays.copyOf(lsns, size * 2);
            valueLengths = Arrays.copyOf(valueLengths, size * 2);
            baseLsns = Arrays.copyOf(baseLsns, size * 2);
            removed = Arrays.copyOf(removed, size * 2);
        }
        lsns[size] = lsn;
        valueLengths[size] = valueLength;
        baseLsns[size] = baseLsn;
        removed[size] = false;
        size++;
    }

    /**
     * Decides which versions to remove; read the answer with {@link #removed(int)}.
     *
     * @param cutoffLsn        nothing at or above it is removed (WAL byte position)
     * @param retainedSorted   retained LSNs, ascending unsigned ({@link RetainedLsns#of})
     * @param fallThroughEmpty answers whether a read of this key that finds no version on this
     *                         timeline finds no value on its ancestors either, at every protected
     *                         LSN and for good; asked at most once, only for a leading tombstone
     * @return how many versions are removed
     */
    int decide(long cutoffLsn, long[] retainedSorted, BooleanSupplier fallThroughEmpty) {
        int count = 0;
        // 1. shadowed: a newer version at or below the cutoff, and no retained LSN in [lsn, next)
        for (int i = 0; i + 1 < size; i++) {
            long next = lsns[i + 1];
            if (Long.compareUnsigned(next, cutoffLsn) <= 0 && !RetainedLsns.anyIn(retainedSorted, lsns[i], next)) {
                removed[i] = true;
                count++;
            }
        }
        // 3 (before 2, which then stops at a kept base). the base of every kept delta stays
        for (int i = 0; i < size; i++) {
            if (!removed[i] && baseLsns[i] != PageStore.NO_BASE) {
                int b = indexOf(baseLsns[i], i);
                if (b >= 0 && removed[b]) {
                    removed[b] = false;
                    count--;
                }
            }
        }
        // 2. leading tombstones below the cutoff, when nothing can show through them
        Boolean empty = null;
        for (int i = 0; i < size; i++) {
            if (removed[i]) {
                continue;
            }
            if (!tombstone(i) || Long.compareUnsigned(lsns[i], cutoffLsn) >= 0) {
                break;
            }
            if (empty == null) {
                empty = fallThroughEmpty.getAsBoolean();
            }
            if (!empty) {
                break;
            }
            removed[i] = true;
            count++;
        }
        return count;
    }

    /** Index of the version at {@code lsn} among the first {@code before} versions, or -1. */
    private int indexOf(long lsn, int before) {
        int lo = 0;
        int hi = before - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int c = Long.compareUnsigned(lsns[mid], lsn);
            if (c == 0) {
                return mid;
            }
            if (c < 0) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return -1;
    }
}
