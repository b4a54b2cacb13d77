package io.forkline.storage.store;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class DeletedRangeCompactorTest {
    private final List<Byte> compacted = new CopyOnWriteArrayList<>();

    private static byte[] b(int v) {
        return new byte[] {(byte) v};
    }

    @Test
    void rangesWaitForAPauseInDeletesThenAreAllCompacted() throws Exception {
        try (DeletedRangeCompactor c = new DeletedRangeCompactor((from, to) -> compacted.add(from[0]),
                Duration.ofMillis(400))) {
            for (int i = 0; i < 5; i++) {
                c.submit(b(i), b(i + 1));
                Thread.sleep(100); // deletes keep coming faster than the quiet period
            }
            assertThat(compacted).as("nothing compacted while deletes go on").isEmpty();
            assertThat(c.pending()).isEqualTo(5);
            await().atMost(Duration.ofSeconds(10)).until(() -> compacted.size() == 5);
            assertThat(compacted).containsExactly((byte) 0, (byte) 1, (byte) 2, (byte) 3, (byte) 4);
            assertThat(c.pending()).isZero();
        }
    }

    @Test
    void manyWaitingRangesAreCompactedWithoutAPause() {
        try (DeletedRangeCompactor c = new DeletedRangeCompactor((from, to) -> compacted.add(from[0]),
                Duration.ofHours(1))) {
            for (int i = 0; i < DeletedRangeCompactor.MAX_PENDING; i++) {
                c.submit(b(i), b(i + 1));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> compacted.size() == DeletedRangeCompactor.MAX_PENDING);
        }
    }

    @Test
    void closeDropsWaitingRangesAndLaterSubmitsAreIgnored() {
        DeletedRangeCompactor c = new DeletedRangeCompactor((from, to) -> compacted.add(from[0]), Duration.ofHours(1));
        c.submit(b(1), b(2));
        c.close();
        c.submit(b(3), b(4));
        assertThat(compacted).isEmpty();
        assertThat(c.pending()).isZero();
    }
}
