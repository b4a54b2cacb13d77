package io.forkline.storage.key;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Key hashes spread: hash maps of keys (the page cache) must not degrade into long bins. */
class KeyTest {
    private static final RelTag REL = new RelTag(1663, 5, 16384, 0);

    @Test
    void hashesOfTheBlocksOfOneRelationAreDistinctAndSpreadOverBuckets() {
        Set<Integer> hashes = new HashSet<>();
        Set<Integer> buckets = new HashSet<>();
        for (int b = 0; b < 20_000; b++) {
            int h = Key.relBlock(REL, b).hashCode();
            hashes.add(h);
            buckets.add((h ^ (h >>> 16)) & (32_768 - 1)); // as ConcurrentHashMap spreads into 32,768 bins
        }
        // Arrays.hashCode of the 18 bytes gave 2,674 distinct values here
        assertThat(hashes).hasSize(20_000);
        assertThat(buckets.size()).isGreaterThan(14_000); // random placement fills ~14,950
    }

    @Test
    void equalKeysHashEqual() {
        assertThat(Key.relBlock(REL, 42).hashCode()).isEqualTo(Key.fromBytes(Key.relBlock(REL, 42).toBytes(), 0).hashCode());
        assertThat(Key.relBlock(REL, 42)).isEqualTo(Key.fromBytes(Key.relBlock(REL, 42).toBytes(), 0));
    }
}
