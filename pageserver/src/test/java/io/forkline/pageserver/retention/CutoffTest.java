package io.forkline.pageserver.retention;

import io.forkline.storage.id.TenantId;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.key.Key;
import io.forkline.storage.store.PageStore;
import io.forkline.storage.store.TimelineWriter;
import io.forkline.storage.timeline.TimelineMetadata;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The cutoff rule of {@link RetentionService#cutoff} on a real page store: a timeline from 0x1000
 * with commits at t=100 s (LSN 0x2000), t=200 s (0x3000), t=300 s (0x4000) and last record LSN 0x5000.
 */
class CutoffTest {
    private static final long START = 0x1000;
    @TempDir
    Path dir;
    private PageStore store;
    private TimelineMetadata md;

    @BeforeEach
    void open() {
        store = PageStore.open(dir.resolve("store"));
        TimelineId tl = TimelineId.generate();
        md = new TimelineMetadata(tl, new TenantId("t"), null, 0, START, 15, Instant.EPOCH);
        store.createTimeline(md);
        try (TimelineWriter w = store.writer(tl)) {
            Key k = Key.control();
            for (int i = 1; i <= 3; i++) {
                w.put(k, START + i * 0x1000L, new byte[] {(byte) i});
                w.putCommitTimestamp(i * 100_000_000L, START + i * 0x1000L);
            }
            w.commit(0x5000);
        }
    }

    @AfterEach
    void close() {
        store.close();
    }

    private RetentionService.Cutoff cut(Duration pitr, long horizon, long nowSeconds, List<Long> retained) {
        return RetentionService.cutoff(store, md, new RetentionConfig(pitr, horizon), Instant.ofEpochSecond(nowSeconds),
                retained);
    }

    @Test
    void smallerOfHorizonAndPitr() {
        // now 250 s, pitr 100 s -> last commit at or before 150 s: 0x2000; horizon 0 -> 0x5000
        assertThat(cut(Duration.ofSeconds(100), 0, 250, List.of()).cutoff()).isEqualTo(0x2000);
        // horizon 0x3800 -> 0x1800 is smaller
        assertThat(cut(Duration.ofSeconds(100), 0x3800, 250, List.of()).cutoff()).isEqualTo(0x1800);
        // pitr 0: the last commit at or before now
        assertThat(cut(Duration.ZERO, 0, 1000, List.of()).cutoff()).isEqualTo(0x4000);
    }

    @Test
    void noCommitThatOldMeansTheStart() {
        assertThat(cut(Duration.ofSeconds(100), 0, 150, List.of()).cutoff()).isEqualTo(START);
        assertThat(cut(Duration.ofDays(7), 0, 1000, List.of()).cutoff()).isEqualTo(START);
        // horizon larger than the LSN itself
        assertThat(cut(Duration.ZERO, 1L << 40, 1000, List.of()).cutoff()).isEqualTo(START);
    }

    @Test
    void retainedLsnsHoldTheCutoff() {
        assertThat(cut(Duration.ZERO, 0, 1000, List.of(0x2500L, 0x4800L)).cutoff()).isEqualTo(0x2500);
        // below the start: not this timeline's history, ignored
        assertThat(cut(Duration.ZERO, 0, 1000, List.of(0x10L)).cutoff()).isEqualTo(0x4000);
    }

    @Test
    void earliestRestorableTimeIsTheFirstCommitAtOrAfterTheCutoff() {
        store.advanceGcCutoff(md.id(), 0x2800);
        EarliestRestorable e = EarliestRestorable.of(store, md.id());
        assertThat(e.lsn()).isEqualTo(0x2800);
        assertThat(e.time()).isEqualTo(Instant.ofEpochSecond(200));
        store.advanceGcCutoff(md.id(), 0x4800);
        assertThat(EarliestRestorable.of(store, md.id()).time()).isNull();
    }
}
