package io.forkline.pageserver.size;

import io.forkline.storage.id.TenantId;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.key.Key;
import io.forkline.storage.key.RelSizeValue;
import io.forkline.storage.key.RelTag;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;
import io.forkline.storage.store.TimelineWriter;
import io.forkline.storage.timeline.TimelineMetadata;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link SizeService#listed} for a timeline it has not seen: answered from an ancestor's recent
 * logical size at or below the branch point (exact at that LSN, no scan on the call), then
 * refreshed to the timeline's own LSN in the background.
 */
class SizeServiceTest {
    private static final TenantId T = new TenantId("t");
    private static final RelTag A = new RelTag(1663, 5, 16384, 0);
    private static final RelTag B = new RelTag(1663, 5, 16385, 0);

    @TempDir
    Path dir;

    private static void setSize(PageStore s, TimelineId tl, RelTag rel, long lsn, int nblocks) {
        try (TimelineWriter w = s.writer(tl)) {
            w.put(Key.relSize(rel), lsn, new RelSizeValue(nblocks, 100).encode());
            w.commit(lsn);
        }
    }

    private static TimelineId branch(PageStore s, TimelineId parent, long at) {
        TimelineId child = TimelineId.generate();
        s.createTimeline(new TimelineMetadata(child, T, parent, at, at, 15, Instant.now()));
        return child;
    }

    @Test
    void aNewBranchIsAnsweredFromItsParentsSizeAtOrBelowTheBranchPointThenRefreshed() {
        try (PageStore s = PageStore.open(dir); SizeService sizes = new SizeService(s)) {
            TimelineId main = TimelineId.generate();
            s.createTimeline(new TimelineMetadata(main, T, null, 0, 100, 15, Instant.now()));
            setSize(s, main, A, 100, 10);
            assertThat(sizes.listed(main, List.of("main")).logicalSizeBytes()).isEqualTo(10 * 8192L); // cached at 100
            setSize(s, main, B, 200, 5); // main moves on (its compute writes); the cache is still at 100

            // a branch at main's current LSN: answered at 100 (exact there), not scanned at 200 in the call
            TimelineId dev = branch(s, main, 200);
            TimelineSize first = sizes.listed(dev, List.of("dev"));
            assertThat(first.lastRecordLsn()).isEqualTo(Lsn.format(100));
            assertThat(first.logicalSizeBytes()).isEqualTo(10 * 8192L);
            // and refreshed to its own LSN in the background
            Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                TimelineSize now = sizes.listed(dev, List.of("dev"));
                assertThat(now.lastRecordLsn()).isEqualTo(Lsn.format(200));
                assertThat(now.logicalSizeBytes()).isEqualTo(15 * 8192L);
            });

            // main refreshed at 300; a branch at 150 (PITR) must not take main's size at 300 (not its history)
            setSize(s, main, A, 300, 40);
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(
                    () -> sizes.listed(main, List.of("main")).lastRecordLsn().equals(Lsn.format(300)));
            TimelineId past = branch(s, main, 150);
            TimelineSize pastFirst = sizes.listed(past, List.of("past"));
            assertThat(pastFirst.lastRecordLsn()).isEqualTo(Lsn.format(100));
            assertThat(pastFirst.logicalSizeBytes()).isEqualTo(10 * 8192L);

            // a grandchild below its parent's ancestor LSN takes the grandparent's size at or below its own point
            TimelineId grand = branch(s, past, 150);
            TimelineSize grandFirst = sizes.listed(grand, List.of("grand"));
            assertThat(Lsn.parse(grandFirst.lastRecordLsn())).isLessThanOrEqualTo(150L);
            assertThat(grandFirst.logicalSizeBytes()).isEqualTo(10 * 8192L);
        }
    }

    @Test
    void aBranchBelowEverySizeItsAncestorsHadIsComputedInTheCall() {
        try (PageStore s = PageStore.open(dir); SizeService sizes = new SizeService(s)) {
            TimelineId main = TimelineId.generate();
            s.createTimeline(new TimelineMetadata(main, T, null, 0, 100, 15, Instant.now()));
            setSize(s, main, A, 100, 10);
            setSize(s, main, B, 200, 5);
            assertThat(sizes.listed(main, List.of("main")).lastRecordLsn()).isEqualTo(Lsn.format(200));
            TimelineId early = branch(s, main, 150);
            TimelineSize first = sizes.listed(early, List.of("early"));
            assertThat(first.lastRecordLsn()).isEqualTo(Lsn.format(150));
            assertThat(first.logicalSizeBytes()).isEqualTo(10 * 8192L);
        }
    }

    @Test
    void historyKeepsTheNewestSizesAndFindsTheNewestAtOrBelow() {
        LogicalHistory h = new LogicalHistory();
        for (int i = 1; i <= LogicalHistory.CAPACITY + 4; i++) {
            h.add(i * 10L, i);
        }
        h.add(55, 99); // between kept entries
        assertThat(h.atOrBelow(10)).isNull(); // dropped as the oldest
        assertThat(h.atOrBelow(59)).containsExactly(55, 99);
        assertThat(h.atOrBelow(1000)).containsExactly(200, 20);
        assertThat(h.atOrBelow(0x8000_0000_0000_0000L)).containsExactly(200, 20); // unsigned
        h.add(200, 1); // an LSN already recorded keeps its size
        assertThat(h.atOrBelow(200)).containsExactly(200, 20);
    }
}
