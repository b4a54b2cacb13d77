package io.forkline.compute.lazy;

import io.forkline.page.protocol.proto.RelTag;
import org.cryptomator.jfuse.api.FileInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Sequential read-ahead of {@link LazyFileSystem}: a scan in 128 KiB reads (as the kernel hands it
 * over) is served by a few large page-service requests fetched ahead, with every byte right; random
 * 8 KiB reads fetch their aligned 128 KiB extent in one request (read-around) and, with read-around
 * off, only what they read; a read-ahead that fails because the page service's deadline
 * passed makes the read that waits for it fail with EIO, and the same read works once the service is
 * back. (Callbacks called directly, without a mount; the source stands in for the page service.)
 */
class ReadAheadTest {
    private static final int BLOCK = LazyFileSystem.BLOCK;
    private static final int BLOCKS = 4096;
    private static final RelTag REL = RelTag.newBuilder().setSpcOid(1663).setDbOid(5).setRelNumber(1000).setFork(0).build();

    /** Pages whose first int is the block number; records the size of every request; can be made to fail. */
    private static final class Source implements BlockSource {
        final List<Integer> requests = new CopyOnWriteArrayList<>();
        final Map<Integer, AtomicInteger> fetchesOf = new ConcurrentHashMap<>();
        volatile int failFrom = Integer.MAX_VALUE;

        @Override
        public List<byte[]> fetch(RelTag rel, int[] blocks) throws FetchException {
            if (Arrays.stream(blocks).anyMatch(b -> b >= failFrom)) {
                throw new FetchException("deadline passed (test)", null);
            }
            requests.add(blocks.length);
            List<byte[]> out = new ArrayList<>();
            for (int b : blocks) {
                fetchesOf.computeIfAbsent(b, k -> new AtomicInteger()).incrementAndGet();
                out.add(ByteBuffer.allocate(BLOCK).putInt(0, b).putInt(BLOCK - 4, ~b).array());
            }
            return out;
        }
    }

    private static LazyFileSystem fs(Path upper, Source source, LazyStats stats) throws Exception {
        Files.createDirectories(upper.resolve("base/5"));
        try (RandomAccessFile raf = new RandomAccessFile(upper.resolve("base/5/1000").toFile(), "rw")) {
            raf.setLength((long) BLOCKS * BLOCK);
        }
        Map<String, LazyRelationFile> lazy = new ConcurrentHashMap<>(Map.of("/base/5/1000", new LazyRelationFile(REL, 0, BLOCKS)));
        return new LazyFileSystem(upper, TestErrno.linux(), lazy, source, stats, 0, 0);
    }

    /** Reads {@code n} blocks from {@code block} and checks each page's markers; returns the callback's answer. */
    private static int readAndCheck(LazyFileSystem fs, FileInfo fi, int block, int n) {
        ByteBuffer buf = ByteBuffer.allocate(n * BLOCK);
        int got = fs.read("/base/5/1000", buf, (long) n * BLOCK, (long) block * BLOCK, fi);
        if (got == n * BLOCK) {
            for (int i = 0; i < n; i++) {
                assertThat(buf.getInt(i * BLOCK)).as("block %d", block + i).isEqualTo(block + i);
                assertThat(buf.getInt(i * BLOCK + BLOCK - 4)).as("block %d's end", block + i).isEqualTo(~(block + i));
            }
        }
        return got;
    }

    @Test
    void aSequentialScanIsFetchedAheadInLargeRequests(@TempDir Path upper) throws Exception {
        Source source = new Source();
        LazyStats stats = new LazyStats();
        LazyFileSystem fs = fs(upper, source, stats);
        TestFileInfo fi = new TestFileInfo();
        assertThat(fs.open("/base/5/1000", fi)).isZero();
        for (int b = 0; b < BLOCKS; b += 16) {
            assertThat(readAndCheck(fs, fi, b, 16)).isEqualTo(16 * BLOCK);
        }
        assertThat(source.fetchesOf).hasSize(BLOCKS);
        assertThat(source.fetchesOf.values()).allSatisfy(n -> assertThat(n.get()).as("fetches of one block").isEqualTo(1));
        // without read-ahead: 256 requests of 16 blocks; with it, the first two reads and then 256-block requests
        assertThat(source.requests.size()).as("requests %s", source.requests).isLessThan(BLOCKS / 16 / 8);
        assertThat(stats.readAheadBlocks()).isGreaterThan(BLOCKS * 9L / 10);
        assertThat(stats.failedFetches()).isZero();
        assertThat(fs.release("/base/5/1000", fi)).isZero();
    }

    @Test
    void randomSmallReadsFetchOnlyWhatTheyReadWithoutReadAround(@TempDir Path upper) throws Exception {
        Source source = new Source();
        LazyStats stats = new LazyStats();
        LazyFileSystem fs;
        System.setProperty(LazyFileSystem.READ_AROUND_PROPERTY, "1");
        try {
            fs = fs(upper, source, stats);
        } finally {
            System.clearProperty(LazyFileSystem.READ_AROUND_PROPERTY);
        }
        TestFileInfo fi = new TestFileInfo();
        assertThat(fs.open("/base/5/1000", fi)).isZero();
        java.util.Random r = new java.util.Random(7);
        for (int i = 0; i < 200; i++) {
            int b = r.nextInt(BLOCKS);
            assertThat(readAndCheck(fs, fi, b, 1)).isEqualTo(BLOCK);
            assertThat(readAndCheck(fs, fi, Math.min(BLOCKS - 1, b + 1), 1)).isEqualTo(BLOCK); // neighbours too
        }
        assertThat(stats.readAheadBlocks()).isZero();
        assertThat(source.fetchesOf.size()).isLessThanOrEqualTo(400);
        assertThat(fs.release("/base/5/1000", fi)).isZero();
    }

    @Test
    void aRandomReadThatMissesFetchesItsAlignedExtentInOneRequest(@TempDir Path upper) throws Exception {
        Source source = new Source();
        LazyStats stats = new LazyStats();
        LazyFileSystem fs = fs(upper, source, stats);
        TestFileInfo fi = new TestFileInfo();
        assertThat(fs.open("/base/5/1000", fi)).isZero();
        int extent = LazyFileSystem.DEFAULT_READ_AROUND;
        assertThat(readAndCheck(fs, fi, 37, 1)).isEqualTo(BLOCK);
        assertThat(source.requests).as("one request for the read and its extent").containsExactly(extent);
        assertThat(source.fetchesOf.keySet()).containsExactlyInAnyOrderElementsOf(
                java.util.stream.IntStream.range(32, 32 + extent).boxed().toList());
        // every block of the extent is local now: reading them asks for nothing more, and each is right
        for (int b = 32; b < 32 + extent; b++) {
            assertThat(readAndCheck(fs, fi, b, 1)).isEqualTo(BLOCK);
        }
        assertThat(source.requests).hasSize(1);
        // a block PostgreSQL wrote is never overwritten by a later read-around of its extent
        ByteBuffer mine = ByteBuffer.allocate(BLOCK).putInt(0, 4242);
        assertThat(fs.write("/base/5/1000", mine, BLOCK, 70L * BLOCK, fi)).isEqualTo(BLOCK);
        assertThat(readAndCheck(fs, fi, 65, 1)).isEqualTo(BLOCK);
        assertThat(source.fetchesOf).doesNotContainKey(70).containsKeys(64, 79);
        ByteBuffer back = ByteBuffer.allocate(BLOCK);
        assertThat(fs.read("/base/5/1000", back, BLOCK, 70L * BLOCK, fi)).isEqualTo(BLOCK);
        assertThat(back.getInt(0)).isEqualTo(4242);
        // the last extent is cut at the end of the file; no block is fetched twice
        assertThat(readAndCheck(fs, fi, BLOCKS - 1, 1)).isEqualTo(BLOCK);
        assertThat(source.requests).containsExactly(extent, extent - 1, extent);
        assertThat(source.fetchesOf.values()).allSatisfy(n -> assertThat(n.get()).isEqualTo(1));
        assertThat(stats.readAroundBlocks()).isEqualTo(3L * extent - 1 - 3);
        assertThat(stats.failedFetches()).isZero();
        assertThat(fs.release("/base/5/1000", fi)).isZero();
    }

    @Test
    void theKernelCacheWarmersHandleReadsLocalBlocksOnlyAndFetchesNothing(@TempDir Path upper) throws Exception {
        Source source = new Source();
        LazyStats stats = new LazyStats();
        LazyFileSystem fs = fs(upper, source, stats);
        TestFileInfo pg = new TestFileInfo();
        assertThat(fs.open("/base/5/1000", pg)).isZero();
        assertThat(readAndCheck(fs, pg, 100, 1)).isEqualTo(BLOCK); // fetches blocks 96..111
        TestFileInfo warmer = new TestFileInfo(java.util.Set.of(java.nio.file.StandardOpenOption.READ), 0x1000);
        assertThat(KernelCacheWarmer.isWarmerOpen(warmer.getFlags())).isTrue();
        assertThat(KernelCacheWarmer.isWarmerOpen(pg.getFlags())).isFalse();
        assertThat(KernelCacheWarmer.isWarmerOpen(0)).as("O_RDONLY alone (CREATE DATABASE ... FILE_COPY)").isFalse();
        assertThat(fs.open("/base/5/1000", warmer)).isZero();
        int requests = source.requests.size();
        // the extent, in one 128 KiB read (as the warmer asks), and in kernel-sized sequential reads: all local
        assertThat(readAndCheck(fs, warmer, 96, 16)).isEqualTo(16 * BLOCK);
        // past the extent (the kernel's readahead on the warmer's handle): EIO, nothing fetched, no read-ahead started
        for (int b = 112; b < 112 + 64; b += 16) {
            assertThat(readAndCheck(fs, warmer, b, 16)).isEqualTo(-5);
        }
        assertThat(source.requests).hasSize(requests);
        assertThat(stats.readAheadBlocks()).isZero();
        assertThat(fs.release("/base/5/1000", warmer)).isZero();
        // PostgreSQL's reads of those blocks still fetch them
        assertThat(readAndCheck(fs, pg, 120, 1)).isEqualTo(BLOCK);
        assertThat(source.requests).hasSize(requests + 1);
        assertThat(fs.release("/base/5/1000", pg)).isZero();
    }

    @Test
    void aReadAheadPastTheDeadlineFailsTheReadWithEioAndTheReadWorksOnceTheServiceIsBack(@TempDir Path upper) throws Exception {
        Source source = new Source();
        LazyStats stats = new LazyStats();
        LazyFileSystem fs = fs(upper, source, stats);
        TestFileInfo fi = new TestFileInfo();
        assertThat(fs.open("/base/5/1000", fi)).isZero();
        source.failFrom = 1024;
        int eio = 0;
        int b = 0;
        for (; b < 2048; b += 16) {
            int got = readAndCheck(fs, fi, b, 16);
            if (got < 0) {
                assertThat(got).isEqualTo(-5);
                eio++;
                break;
            }
            assertThat(got).isEqualTo(16 * BLOCK);
        }
        assertThat(eio).as("a read at or past the failing blocks fails").isEqualTo(1);
        assertThat(b).as("no read before the batch holding the failing blocks fails").isGreaterThanOrEqualTo(800);
        assertThat(stats.failedFetches()).isPositive();
        source.failFrom = Integer.MAX_VALUE; // the page service is back
        for (; b < BLOCKS; b += 16) {
            assertThat(readAndCheck(fs, fi, b, 16)).isEqualTo(16 * BLOCK);
        }
        assertThat(source.fetchesOf).hasSize(BLOCKS);
        assertThat(fs.release("/base/5/1000", fi)).isZero();
    }
}

