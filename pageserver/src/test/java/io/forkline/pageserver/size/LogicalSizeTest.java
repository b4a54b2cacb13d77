package io.forkline.pageserver.size;

import io.forkline.storage.id.TenantId;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.key.Key;
import io.forkline.storage.key.RelSizeValue;
import io.forkline.storage.key.RelTag;
import io.forkline.storage.store.PageStore;
import io.forkline.storage.store.TimelineWriter;
import io.forkline.storage.timeline.TimelineMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class LogicalSizeTest {
    private static final TenantId T = new TenantId("t");
    private static final RelTag A = new RelTag(1663, 5, 16384, 0);
    private static final RelTag A_VM = A.withFork(RelTag.VM_FORK);
    private static final RelTag B = new RelTag(1664, 0, 1262, 0);

    @TempDir
    Path dir;

    private static byte[] size(int nblocks) {
        return new RelSizeValue(nblocks, 100).encode();
    }

    @Test
    void sumsRelSizeKeysAsOfTheLsnWithAncestorsAndDrops() {
        try (PageStore s = PageStore.open(dir)) {
            TimelineId root = TimelineId.generate();
            s.createTimeline(new TimelineMetadata(root, T, null, 0, 100, 15, Instant.now()));
            try (TimelineWriter w = s.writer(root)) {
                w.put(Key.relSize(A), 100, size(10));
                w.put(Key.relSize(A_VM), 100, size(1));
                w.put(Key.relBlock(A, 0), 100, new byte[8192]); // pages do not count, sizes do
                w.put(Key.relSize(B), 200, size(3));
                w.put(Key.relSize(A), 300, size(12));
                w.delete(Key.relSize(A_VM), 400);
                w.commit(400);
            }
            assertThat(LogicalSize.bytes(s, root, 99)).isZero();
            assertThat(LogicalSize.bytes(s, root, 100)).isEqualTo(11 * 8192L);
            assertThat(LogicalSize.bytes(s, root, 250)).isEqualTo(14 * 8192L);
            assertThat(LogicalSize.bytes(s, root, 300)).isEqualTo(16 * 8192L);
            assertThat(LogicalSize.bytes(s, root, 400)).isEqualTo(15 * 8192L);

            // a child at 250 sees the parent as of 250 plus its own writes, not the parent's later ones
            TimelineId child = TimelineId.generate();
            s.createTimeline(new TimelineMetadata(child, T, root, 250, 250, 15, Instant.now()));
            try (TimelineWriter w = s.writer(child)) {
                w.put(Key.relSize(B), 500, size(7));
                w.commit(500);
            }
            assertThat(LogicalSize.bytes(s, child, 499)).isEqualTo(14 * 8192L);
            assertThat(LogicalSize.bytes(s, child, 500)).isEqualTo(18 * 8192L);
        }
    }
}
