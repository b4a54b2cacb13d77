package io.forkline.storage.gc;

import io.forkline.storage.key.Key;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KeyHistoryTest {
    private static List<Long> removed(KeyHistory h) {
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < h.size(); i++) {
            if (h.removed(i)) {
                out.add(h.lsn(i));
            }
        }
        return out;
    }

    private static KeyHistory history(long[] lsns, int[] lengths) {
        KeyHistory h = new KeyHistory();
        h.reset(Key.control());
        for (int i = 0; i < lsns.length; i++) {
            h.add(lsns[i], lengths[i]);
        }
        return h;
    }

    @Test
    void keepsNewestAtOrBelowCutoffAndEachRetainedLsnAndEverythingAbove() {
        KeyHistory h = history(new long[]{10, 20, 30, 40, 50, 60}, new int[]{1, 1, 1, 1, 1, 1});
        // 20 is the newest at or below 25, 30 at or below 30, 50 at or below the cutoff
        assertThat(h.decide(50, new long[]{25, 30}, () -> true)).isEqualTo(2);
        assertThat(removed(h)).containsExactly(10L, 40L);
    }

    @Test
    void leadingTombstonesGoOnlyWhenTheFallThroughIsEmptyAndAskItOnce() {
        KeyHistory h = history(new long[]{10, 20, 30, 40}, new int[]{0, 0, 1, 0});
        AtomicInteger asked = new AtomicInteger();
        assertThat(h.decide(35, new long[]{15}, () -> {
            asked.incrementAndGet();
            return true;
        })).isEqualTo(2);
        assertThat(removed(h)).containsExactly(10L, 20L);
        assertThat(asked).hasValue(1);

        KeyHistory kept = history(new long[]{10, 20}, new int[]{0, 0});
        assertThat(kept.decide(35, new long[0], () -> false)).isEqualTo(1);
        assertThat(removed(kept)).containsExactly(10L);
    }

    @Test
    void rejectsVersionsOutOfOrder() {
        KeyHistory h = history(new long[]{10}, new int[]{1});
        assertThatThrownBy(() -> h.add(10, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("10 after 10");
    }

    @Test
    void unsignedLsnsAboveTwoToThe63() {
        long high = 0x8000_0000_0000_0010L;
        KeyHistory h = history(new long[]{5, high, high + 16}, new int[]{1, 1, 1});
        long[] retained = RetainedLsns.sortedUnique(new long[]{high + 1, 7, high + 1});
        assertThat(retained).containsExactly(7, high + 1);
        assertThat(h.decide(high + 16, retained, () -> true)).isZero();
        KeyHistory h2 = history(new long[]{5, high, high + 16}, new int[]{1, 1, 1});
        assertThat(h2.decide(high + 16, new long[0], () -> true)).isEqualTo(2);
        assertThat(history(new long[]{5, high}, new int[]{1, 1}).decide(6, new long[0], () -> true)).isZero();
    }
}
