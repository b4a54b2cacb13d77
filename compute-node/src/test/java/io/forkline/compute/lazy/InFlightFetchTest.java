package io.forkline.compute.lazy;

import io.forkline.page.protocol.proto.RelTag;
import org.cryptomator.jfuse.api.Errno;
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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fetches of one lazy file do not hold the file's lock across the page service's round trip: while
 * a fetch of block 0 waits, a read of another block of the same file fetches and completes; a
 * second read of block 0 waits for the first fetch instead of fetching again; PostgreSQL's write
 * of a block in flight wins over the fetched page. (The file system's callbacks are called
 * directly, without a mount; the source stands in for the page service.)
 */
class InFlightFetchTest {
    private static final int BLOCK = LazyFileSystem.BLOCK;
    private static final RelTag REL = RelTag.newBuilder().setSpcOid(1663).setDbOid(5).setRelNumber(1000).setFork(0).build();

    /** Pages whose bytes are all (block number + 1); a fetch including block 0 waits for {@link #release}. */
    private static final class SlowSource implements BlockSource {
        final CountDownLatch block0Asked = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final Map<Integer, AtomicInteger> fetchesOf = new ConcurrentHashMap<>();

        @Override
        public List<byte[]> fetch(RelTag rel, int[] blocks) throws FetchException {
            List<byte[]> out = new ArrayList<>();
            for (int b : blocks) {
                fetchesOf.computeIfAbsent(b, k -> new AtomicInteger()).incrementAndGet();
                byte[] page = new byte[BLOCK];
                Arrays.fill(page, (byte) (b + 1));
                out.add(page);
            }
            if (Arrays.stream(blocks).anyMatch(b -> b == 0)) {
                block0Asked.countDown();
                try {
                    if (!release.await(20, TimeUnit.SECONDS)) {
                        throw new FetchException("block 0 never released", null);
                    }
                } catch (InterruptedException e) {
                    throw new FetchException("interrupted", e);
                }
            }
            return out;
        }
    }

    private static Errno errno() {
        return TestErrno.linux();
    }

    private static byte firstByteRead(LazyFileSystem fs, FileInfo fi, int block) {
        return read(fs, fi, block, 1)[0];
    }

    /** The first byte of each of {@code n} blocks from {@code block} on, read in one call (like the kernel's read-ahead). */
    private static byte[] read(LazyFileSystem fs, FileInfo fi, int block, int n) {
        ByteBuffer buf = ByteBuffer.allocate(n * BLOCK);
        int got = fs.read("/base/5/1000", buf, (long) n * BLOCK, (long) block * BLOCK, fi);
        assertThat(got).as("bytes read from block %d", block).isEqualTo(n * BLOCK);
        byte[] firsts = new byte[n];
        for (int i = 0; i < n; i++) {
            firsts[i] = buf.get(i * BLOCK);
        }
        return firsts;
    }

    @Test
    void aSlowFetchBlocksNeitherOtherBlocksNorWritesAndIsNotRepeated(@TempDir Path upper) throws Exception {
        Files.createDirectories(upper.resolve("base/5"));
        try (RandomAccessFile raf = new RandomAccessFile(upper.resolve("base/5/1000").toFile(), "rw")) {
            raf.setLength(64L * BLOCK);
        }
        SlowSource source = new SlowSource();
        Map<String, LazyRelationFile> lazy = new ConcurrentHashMap<>(Map.of("/base/5/1000", new LazyRelationFile(REL, 0, 64)));
        // one block per fetch, as the kernel asks (read-around would put blocks 2-15 into block 0's slow fetch)
        System.setProperty(LazyFileSystem.READ_AROUND_PROPERTY, "1");
        LazyFileSystem fs;
        try {
            fs = new LazyFileSystem(upper, errno(), lazy, source, new LazyStats(), 0, 0);
        } finally {
            System.clearProperty(LazyFileSystem.READ_AROUND_PROPERTY);
        }
        TestFileInfo fi = new TestFileInfo();
        assertThat(fs.open("/base/5/1000", fi)).isZero();
        try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            Future<byte[]> first = pool.submit(() -> read(fs, fi, 0, 2)); // blocks 0 and 1 in one fetch
            assertThat(source.block0Asked.await(10, TimeUnit.SECONDS)).isTrue();
            // block 0 is in flight: another block of the file reads at once
            assertThat(pool.submit(() -> firstByteRead(fs, fi, 10)).get(10, TimeUnit.SECONDS)).isEqualTo((byte) 11);
            // a second read of block 0 waits for that fetch
            Future<Byte> second = pool.submit(() -> firstByteRead(fs, fi, 0));
            Thread.sleep(200);
            assertThat(second).isNotDone();
            // PostgreSQL overwrites block 1 while the fetch of blocks 0 and 1 is in flight
            byte[] written = new byte[BLOCK];
            Arrays.fill(written, (byte) 'W');
            assertThat(fs.write("/base/5/1000", ByteBuffer.wrap(written), BLOCK, BLOCK, fi)).isEqualTo(BLOCK);
            source.release.countDown();
            assertThat(first.get(10, TimeUnit.SECONDS)).containsExactly((byte) 1, (byte) 'W');
            assertThat(second.get(10, TimeUnit.SECONDS)).isEqualTo((byte) 1);
        }
        assertThat(source.fetchesOf.get(0).get()).as("fetches of block 0").isEqualTo(1);
        assertThat(source.fetchesOf.get(10).get()).as("fetches of block 10").isEqualTo(1);
        assertThat(source.fetchesOf.get(1).get()).as("fetches of block 1").isEqualTo(1);
        // the fetched page of block 1 did not overwrite the write
        assertThat(firstByteRead(fs, fi, 1)).isEqualTo((byte) 'W');
        assertThat(fs.release("/base/5/1000", fi)).isZero();
    }
}
