package io.forkline.pageserver.testing;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * What a test leaves behind: {@link TestServer#close()} deletes the server's data directory unless
 * the test asked for {@link TestServer.Option#KEEP_DATA} or the run keeps test data
 * ({@value TestData#KEEP_PROPERTY}).
 */
class TestServerTest {
    @Test
    void closeDeletesTheDataDirectoryUnlessTheTestKeepsIt() throws Exception {
        assumeFalse(TestData.keep(), "this run keeps test data");
        Path dir;
        try (TestServer server = TestServer.start("test-server")) {
            dir = server.dir();
            assertThat(dir.resolve("store")).isDirectory();
        }
        assertThat(dir).doesNotExist();

        Path kept;
        try (TestServer server = TestServer.start("test-server-kept", TestServer.Option.KEEP_DATA)) {
            kept = server.dir();
        }
        try {
            assertThat(kept.resolve("store")).isDirectory();
        } finally {
            TestData.delete(kept);
        }
        assertThat(kept).doesNotExist();
    }

    @Test
    void theKeepPropertyKeepsTestData(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("data");
        Files.createDirectories(dir.resolve("a/b"));
        Files.writeString(dir.resolve("a/b/file"), "x");
        String before = System.getProperty(TestData.KEEP_PROPERTY);
        try {
            System.setProperty(TestData.KEEP_PROPERTY, "true");
            TestData.deleteUnlessKept(dir);
            assertThat(dir.resolve("a/b/file")).hasContent("x");
            System.setProperty(TestData.KEEP_PROPERTY, "false");
            TestData.deleteUnlessKept(dir);
            assertThat(dir).doesNotExist();
        } finally {
            if (before == null) {
                System.clearProperty(TestData.KEEP_PROPERTY);
            } else {
                System.setProperty(TestData.KEEP_PROPERTY, before);
            }
        }
    }
}
