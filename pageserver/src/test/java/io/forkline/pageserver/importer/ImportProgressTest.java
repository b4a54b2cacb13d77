package io.forkline.pageserver.importer;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ImportProgressTest {
    @Test
    void tracksPhasesBytesAndGoesAwayWhenClosed() {
        ImportProgress board = new ImportProgress();
        assertThat(board.views()).isEmpty();
        try (ImportProgress.Tracker t = board.start("m", "postgresql://repl:***@h:5432/postgres")) {
            ImportProgress.View v = board.view("m");
            assertThat(v.phase()).isEqualTo("starting");
            assertThat(v.bytesTotal()).isNull();
            assertThat(v.percent()).isNull();
            t.phase("base backup", -1);
            t.bytes(512 * 1024, 2048 * 1024);
            v = board.view("m");
            assertThat(v.phase()).isEqualTo("base backup");
            assertThat(v.bytesDone()).isEqualTo(512 * 1024);
            assertThat(v.bytesTotal()).isEqualTo(2048 * 1024);
            assertThat(v.percent()).isEqualTo(25.0);
            assertThat(v.rateBytesPerSecond()).as("no rate before a second passed").isNull();
            assertThat(v.etaSeconds()).isNull();
            t.bytes(4096 * 1024, -1);
            assertThat(board.view("m").percent()).as("capped").isEqualTo(100.0);
            t.phase("catching up", 1000);
            assertThat(board.view("m").bytesDone()).isZero();
            assertThat(board.view("m").bytesTotal()).isEqualTo(1000);
            assertThat(board.views()).extracting(ImportProgress.View::tenant).containsExactly("m");
        }
        assertThat(board.view("m")).isNull();
        assertThat(board.views()).isEmpty();
    }

    @Test
    void estimatesRateAndTimeLeft() {
        ImportProgress.Estimate e = ImportProgress.estimate(300, 100, 1100L, 2.0);
        assertThat(e.rateBytesPerSecond()).isEqualTo(100);
        assertThat(e.percent()).isEqualTo(27.3);
        assertThat(e.etaSeconds()).isEqualTo(8);
        assertThat(ImportProgress.estimate(300, 100, null, 2.0).etaSeconds()).isNull();
        assertThat(ImportProgress.estimate(300, 100, 1100L, 0.5).rateBytesPerSecond()).isNull();
    }
}
