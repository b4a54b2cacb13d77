package io.forkline.wal.redo;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Replays every fixture under {@code src/test/resources/redo-fixtures}: a real PostgreSQL 15 record
 * (captured by verify mode, {@code forkline.redo.sampleDir} or a past mismatch) redone from its base
 * pages must equal PostgreSQL's post-images after masking and the strict checks. The corpus covers
 * each record type Java redoes.
 */
class RedoFixtureReplayTest {
    @TestFactory
    Stream<DynamicTest> everyFixtureReplays() throws Exception {
        List<Path> files = fixtures();
        assertThat(files).as("fixtures in redo-fixtures").isNotEmpty();
        return files.stream().map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> {
            RedoFixture fixture;
            try (InputStream in = Files.newInputStream(f)) {
                fixture = RedoFixture.read(in);
            }
            assertThat(fixture.record().blocks()).isNotEmpty();
            RedoVerifier.Check check = RedoVerifier.replay(fixture);
            RedoVerifier.Mismatch m = check.mismatch();
            assertThat(m).as(() -> m == null ? "" : RedoVerifier.describe(fixture.record(), m)).isNull();
            assertThat(check.compared()).as("blocks compared").isPositive();
        }));
    }

    @org.junit.jupiter.api.Test
    void aCorruptedExpectationIsReported() throws Exception {
        Path f = fixtures().stream().filter(p -> p.getFileName().toString().startsWith("Heap_DELETE-"))
                .findFirst().orElseThrow();
        RedoFixture fixture;
        try (InputStream in = Files.newInputStream(f)) {
            fixture = RedoFixture.read(in);
        }
        // flip a byte of the first tuple's xmax in the expected page: the comparison must notice it
        byte[] image = fixture.record().blocks().getFirst().image();
        int xmax = BufPage.lpOff(BufPage.itemId(image, 1)) + HeapTuple.XMAX;
        image[xmax] ^= 0x55;
        RedoVerifier.Mismatch m = RedoVerifier.replay(fixture).mismatch();
        assertThat(m).isNotNull();
        assertThat(m.offset()).isEqualTo(xmax);
        assertThat(m.strict()).isFalse();
    }

    static List<Path> fixtures() throws URISyntaxException, java.io.IOException {
        Path dir = Path.of(RedoFixtureReplayTest.class.getResource("/redo-fixtures").toURI());
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".fixture")).sorted().toList();
        }
    }
}
