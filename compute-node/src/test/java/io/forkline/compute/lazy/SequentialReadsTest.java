package io.forkline.compute.lazy;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link SequentialReads}: when a handle's reads count as sequential and what is asked for ahead. */
class SequentialReadsTest {
    @Test
    void aScanIsFetchedAheadFromItsSecondLargeReadInWholeBatches() {
        SequentialReads s = new SequentialReads();
        assertThat(s.onRead(0, 15, 1024, 256, 100_000)).isNull();
        assertThat(s.onRead(16, 31, 1024, 256, 100_000)).containsExactly(32, 32 + 1024);
        // the next reads advance 16 blocks each: nothing until a whole batch is missing from the window
        for (int b = 32; b < 32 + 15 * 16; b += 16) {
            assertThat(s.onRead(b, b + 15, 1024, 256, 100_000)).as("read at %d", b).isNull();
        }
        int b = 32 + 15 * 16;
        assertThat(s.onRead(b, b + 15, 1024, 256, 100_000)).containsExactly(32 + 1024, b + 16 + 1024);
    }

    @Test
    void outOfOrderReadsStaySequentialAndTheFileEndIsTheLimit() {
        SequentialReads s = new SequentialReads();
        assertThat(s.onRead(16, 31, 1024, 256, 100)).isNull();
        assertThat(s.onRead(0, 15, 1024, 256, 100)).containsExactly(32, 100); // within the slack; short of a batch at the end
        assertThat(s.onRead(32, 47, 1024, 256, 100)).isNull(); // already asked for
    }

    @Test
    void theInterleavedChunksOfAParallelScanAreOneSequentialReader() {
        SequentialReads s = new SequentialReads();
        // three workers, chunks of 64 blocks handed out in turn, each read in 16-block reads
        int asked = 0;
        for (int round = 0; round < 10; round++) {
            for (int step = 0; step < 4; step++) {
                for (int worker = 0; worker < 3; worker++) {
                    int b = (round * 3 + worker) * 64 + step * 16;
                    int[] span = s.onRead(b, b + 15, 1024, 256, 100_000);
                    if (span != null) {
                        assertThat(span[0]).isEqualTo(asked == 0 ? span[0] : asked);
                        asked = span[1];
                    }
                }
            }
        }
        assertThat(asked).as("asked for ahead of the scan's frontier (1920)").isGreaterThanOrEqualTo(1920 + 1024 - 256);
    }

    @Test
    void smallOrScatteredReadsAndAZeroWindowFetchNothingAhead() {
        SequentialReads s = new SequentialReads();
        for (int b = 0; b < 64; b++) {
            assertThat(s.onRead(b, b, 1024, 256, 100_000)).isNull(); // 8 KiB reads
        }
        assertThat(s.onRead(1000, 1015, 1024, 256, 100_000)).isNull();
        assertThat(s.onRead(5000, 5015, 1024, 256, 100_000)).isNull(); // a jump starts over
        assertThat(s.onRead(5016, 5031, 1024, 256, 100_000)).isNotNull();
        SequentialReads off = new SequentialReads();
        off.onRead(0, 15, 0, 256, 100_000);
        assertThat(off.onRead(16, 31, 0, 256, 100_000)).isNull();
    }
}
