package io.forkline.pageserver.diff;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link DataDiff.RangePlan} and {@link DataDiff#differing}: how heaps are cut into ranges and which are read again. */
class RangePlanTest {
    @Test
    void aGigabyteHeapIsCutIntoRangesOfAboutSixtyFourRows() {
        // the benchmark's table: 125,000 blocks, 1,000,000 rows (8 a block)
        DataDiff.RangePlan p = DataDiff.RangePlan.of(125_000, DataDiff.buckets(1_000_000));
        assertThat(DataDiff.buckets(1_000_000)).isEqualTo(16_384);
        assertThat(p.width()).isEqualTo(8);
        assertThat(p.ranges()).isEqualTo(15_625);
        assertThat(p.rangeExpr()).isEqualTo("((t.ctid::text::point)[0]::bigint / 8)");
        // an empty heap still has one (empty) range
        assertThat(DataDiff.RangePlan.of(0, 16)).isEqualTo(new DataDiff.RangePlan(1, 1));
        assertThat(DataDiff.RangePlan.of(17, 16)).isEqualTo(new DataDiff.RangePlan(2, 9));
    }

    @Test
    void adjacentDifferingRangesAreReadAsOneRunOfBlocks() {
        DataDiff.RangePlan p = new DataDiff.RangePlan(8, 100);
        List<long[]> runs = p.runs(List.of(0L, 1L, 5L, 7L, 8L, 9L, 99L));
        assertThat(runs).containsExactly(new long[]{0, 16}, new long[]{40, 48}, new long[]{56, 80}, new long[]{792, 800});
    }

    @Test
    void rangesAreReadAgainOnlyWhileAtMostHalfDiffer() {
        DataDiff.RangePlan p = new DataDiff.RangePlan(8, 100);
        assertThat(p.worthReading(1)).isTrue();
        assertThat(p.worthReading(50)).isTrue();
        assertThat(p.worthReading(51)).isFalse();
    }

    @Test
    void aGroupDiffersByCountOrHashOrWhenOneSideLacksIt() {
        Map<Long, long[]> from = Map.of(1L, new long[]{64, 7}, 2L, new long[]{64, 9}, 3L, new long[]{64, 11}, 4L, new long[]{1, 1});
        Map<Long, long[]> to = Map.of(1L, new long[]{64, 7}, 2L, new long[]{63, 9}, 3L, new long[]{64, 12}, 5L, new long[]{1, 1});
        assertThat(DataDiff.differing(from, to)).containsExactly(2L, 3L, 4L, 5L);
        assertThat(DataDiff.differing(Map.of(), Map.of())).isEmpty();
    }
}
