package io.forkline.wal.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.forkline.storage.id.TenantId;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.key.Key;
import io.forkline.storage.store.PageStore;
import io.forkline.storage.timeline.TimelineMetadata;
import io.forkline.wal.record.WalRecord;
import io.forkline.wal.testing.WalPages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.UUID;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link TimelineWalSink} over the hand-built WAL page of {@link WalPages} (two records), with the
 * ingest step replaced so that failures can be injected; a real {@link PageStore} underneath.
 */
class TimelineWalSinkTest {
    private static final long SEG = WalPages.SEG_START;
    private static final Key HALF_STAGED = Key.twoPhase(4242);

    private Path dir;
    private PageStore store;
    private TimelineId tl;

    @BeforeEach
    void openStore() {
        dir = Path.of("target", "test-data", "TimelineWalSinkTest-" + UUID.randomUUID()).toAbsolutePath();
        store = PageStore.open(dir);
        tl = TimelineId.generate();
        store.createTimeline(new TimelineMetadata(tl, new TenantId("t"), null, 0, SEG, 15, Instant.now()));
    }

    @AfterEach
    void closeStore() throws Exception {
        try {
            if (store != null) {
                store.close();
            }
        } finally {
            try (var paths = Files.walk(dir)) {
                for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /**
     * An Error (here OutOfMemoryError) thrown while the second record is being ingested, after it
     * staged part of its versions: the sink is broken and refuses to commit, so neither the half
     * staged version nor the first record becomes durable, and the Error reaches the caller as is.
     */
    @Test
    void errorDuringIngestBreaksTheSinkSoNothingHalfStagedIsCommitted() {
        byte[] page = WalPages.page(21, WalPages.REC1);
        OutOfMemoryError oom = new OutOfMemoryError("injected");
        TimelineWalSink sink = new TimelineWalSink(store, tl, SEG, null, writer -> rec -> {
            if (rec.startLsn() == WalPages.REC2) {
                writer.put(HALF_STAGED, rec.startLsn(), new byte[] {1, 2, 3});
                throw oom;
            }
        });
        try (sink) {
            assertThatThrownBy(() -> sink.accept(SEG, page, 0, page.length)).isSameAs(oom);
            assertThat(sink.isBroken()).as("broken after an Error in ingest").isTrue();
            assertThatThrownBy(sink::commit).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("partial batch");
            assertThatThrownBy(() -> sink.accept(SEG + page.length, page, 0, 1))
                    .isInstanceOf(IllegalStateException.class);
        }
        assertThat(store.lastRecordLsn(tl)).isEqualTo(SEG);
        assertThat(store.get(tl, HALF_STAGED, WalPages.REC2_END)).isNull();
    }

    /**
     * {@link TimelineWalSink#receivedLsn()} passes the fed position only when no record is
     * incomplete there ({@code WalDecoder.hasPartialRecord()}): it stays at the last record's end
     * while part of the next record was fed, moves over alignment padding, and stays put once
     * bytes past the end of written WAL (zeros) were fed.
     */
    @Test
    void receivedLsnNeverPassesAnIncompleteRecord() {
        byte[] page = WalPages.page(21, WalPages.REC1);
        Consumer<WalRecord> noIngest = rec -> { };
        try (TimelineWalSink sink = new TimelineWalSink(store, tl, SEG, null, writer -> noIngest)) {
            int midRec2 = (int) (WalPages.REC2 - SEG) + 10;
            sink.accept(SEG, page, 0, midRec2);
            assertThat(sink.commit()).isEqualTo(WalPages.REC2);
            assertThat(sink.receivedLsn()).as("10 bytes of the second record fed").isEqualTo(WalPages.REC2);

            int inPadding = (int) (WalPages.REC2 - SEG) + WalPages.REC2_LENGTH + 3;
            sink.accept(SEG + midRec2, page, midRec2, inPadding - midRec2);
            assertThat(sink.commit()).isEqualTo(WalPages.REC2_END);
            assertThat(sink.receivedLsn()).isEqualTo(WalPages.REC2_END);

            int pastEnd = (int) (WalPages.REC2_END - SEG) + 16;
            sink.accept(SEG + inPadding, page, inPadding, pastEnd - inPadding);
            assertThat(sink.commit()).isEqualTo(WalPages.REC2_END);
            assertThat(sink.receivedLsn()).as("zeros past the last record are not a reached position")
                    .isEqualTo(WalPages.REC2_END);
        }
        assertThat(store.lastRecordLsn(tl)).isEqualTo(WalPages.REC2_END);
    }
}
