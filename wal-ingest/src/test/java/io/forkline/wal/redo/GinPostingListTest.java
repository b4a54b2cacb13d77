package io.forkline.wal.redo;

import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The GIN posting-list codec ({@link GinPostingList}) against hand-computed bytes, round trips over
 * every varbyte length, the size limit of {@code ginCompressPostingList}, the merge, and bytes of real
 * PostgreSQL 15 pages and records (the captured {@code Gin_*} fixtures): every segment PostgreSQL
 * wrote re-encodes to the same bytes.
 */
class GinPostingListTest {
    private static final HexFormat HEX = HexFormat.of();

    @Test
    void encodesAsPostgresDoes() {
        // (0,1) (0,2) (1,1): as 43-bit integers 1, 2, 2049; deltas 1 and 2047 = 0x7FF -> 0x01, 0xFF 0x0F
        long[] items = {GinPostingList.tid(0, 1), GinPostingList.tid(0, 2), GinPostingList.tid(1, 1)};
        byte[] seg = GinPostingList.compress(items, 3, BufPage.BLCKSZ, null);
        assertThat(HEX.formatHex(seg)).isEqualTo("000000000100" + "0300" + "01ff0f" + "00");
        assertThat(GinPostingList.segmentSize(seg, 0)).isEqualTo(12);
        assertThat(GinPostingList.decode(seg, 0)).containsExactly(items);
        // block numbers above 65535 use bi_hi; a single item has no varbytes
        long big = GinPostingList.tid(0x12345, 7);
        assertThat(HEX.formatHex(GinPostingList.compress(new long[] {big}, 1, 100, null)))
                .isEqualTo("0100" + "4523" + "0700" + "0000");
    }

    @Test
    void everyVarbyteLengthRoundTrips() {
        // deltas at each boundary of the 7-bit groups, up to the 43-bit maximum (7 bytes)
        long[] deltas = {1, 0x7F, 0x80, 0x3FFF, 0x4000, (1L << 21) - 1, 1L << 21, (1L << 28) - 1, 1L << 28,
                (1L << 35) - 1, 1L << 35, (1L << 42) - 1, 1L << 42};
        int[] lengths = {1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7};
        for (int i = 0; i < deltas.length; i++) {
            byte[] buf = new byte[8];
            assertThat(GinPostingList.encodeVarbyte(deltas[i], buf, 0)).as("bytes of delta %x", deltas[i])
                    .isEqualTo(lengths[i]);
            long first = GinPostingList.tid(0, 1);
            long second = GinPostingList.fromUint64(GinPostingList.toUint64(first) + deltas[i]);
            if (i < deltas.length - 1) {
                long[] items = {first, second};
                byte[] seg = GinPostingList.compress(items, 2, BufPage.BLCKSZ, null);
                assertThat(seg.length).isEqualTo(8 + BufPage.shortAlign(lengths[i]));
                assertThat(GinPostingList.decode(seg, 0)).containsExactly(items);
            }
        }
    }

    @Test
    void randomListsRoundTripAcrossSegments() {
        Random rnd = new Random(7);
        for (int round = 0; round < 200; round++) {
            int n = 1 + rnd.nextInt(3000);
            long[] items = ascending(rnd, n);
            // split into segments the way a leaf holds them, then decode them all at once
            byte[] page = new byte[n * 8 + 16];
            int len = 0;
            int done = 0;
            int max = 16 + rnd.nextInt(400);
            while (done < n) {
                int[] written = new int[1];
                byte[] seg = GinPostingList.compress(Arrays.copyOfRange(items, done, n), n - done, max, written);
                assertThat(seg.length).isLessThanOrEqualTo(max & ~1);
                assertThat(written[0]).isPositive();
                assertThat(GinPostingList.decode(seg, 0)).containsExactly(Arrays.copyOfRange(items, done, done + written[0]));
                System.arraycopy(seg, 0, page, len, seg.length);
                len += seg.length;
                done += written[0];
            }
            assertThat(GinPostingList.decodeAllSegments(page, 0, len)).containsExactly(items);
        }
    }

    @Test
    void theSizeLimitStopsBeforeAnItemThatDoesNotFit() {
        long[] items = new long[100];
        for (int i = 0; i < items.length; i++) {
            items[i] = GinPostingList.tid(i * 3, 1); // delta 3 << 11 = 6144: 2 bytes each
        }
        int[] written = new int[1];
        byte[] seg = GinPostingList.compress(items, items.length, 8 + 9, written); // SHORTALIGN_DOWN: 16
        assertThat(written[0]).isEqualTo(5); // 4 deltas of 2 bytes fill the 8 bytes
        assertThat(seg).hasSize(16);
        assertThatThrownBy(() -> GinPostingList.compress(items, 1, 8, null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void mergeKeepsOneCopyOfEqualItems() {
        long a1 = GinPostingList.tid(1, 1);
        long a2 = GinPostingList.tid(1, 5);
        long b1 = GinPostingList.tid(1, 3);
        long c1 = GinPostingList.tid(2, 1);
        assertThat(GinPostingList.merge(new long[] {a1, a2}, new long[] {c1})).containsExactly(a1, a2, c1);
        assertThat(GinPostingList.merge(new long[] {c1}, new long[] {a1, a2})).containsExactly(a1, a2, c1);
        assertThat(GinPostingList.merge(new long[] {a1, a2, c1}, new long[] {b1, a2})).containsExactly(a1, b1, a2, c1);
        assertThat(GinPostingList.merge(new long[0], new long[] {b1})).containsExactly(b1);
    }

    @Test
    void truncatedInputIsAnErrorNotAnException() {
        byte[] seg = GinPostingList.compress(new long[] {GinPostingList.tid(0, 1), GinPostingList.tid(9, 1)}, 2,
                BufPage.BLCKSZ, null);
        assertThatThrownBy(() -> GinPostingList.decode(Arrays.copyOf(seg, 9), 0)).isInstanceOf(RedoException.class);
        assertThatThrownBy(() -> GinPostingList.decodeAllSegments(seg, 4, seg.length)).isInstanceOf(RedoException.class);
    }

    /**
     * {@code createPostingTree} writes the root leaf as segments of {@code ginCompressPostingList(..,
     * GinPostingListSegmentMaxSize = 384, ..)} over the remaining items; the CREATE_PTREE record
     * carries them: re-encoding gives PostgreSQL's bytes, segment by segment.
     */
    @Test
    void createPostingTreeSegmentsOfARealRecordReencodeByteForByte() throws Exception {
        RedoFixture f = fixture("Gin_CREATE_PTREE-");
        byte[] d = f.record().mainData();
        int size = BufPage.i32(d, 0);
        long[] items = GinPostingList.decodeAllSegments(d, 4, size);
        assertThat(items.length).isGreaterThan(100);
        int pos = 4;
        int done = 0;
        int segments = 0;
        while (pos < 4 + size) {
            int[] written = new int[1];
            byte[] seg = GinPostingList.compress(Arrays.copyOfRange(items, done, items.length), items.length - done,
                    384, written);
            int len = GinPostingList.segmentSize(d, pos);
            assertThat(HEX.formatHex(seg)).as("segment %d", segments).isEqualTo(HEX.formatHex(d, pos, pos + len));
            pos += len;
            done += written[0];
            segments++;
        }
        assertThat(done).isEqualTo(items.length);
        assertThat(segments).isGreaterThan(1);
    }

    /** Every segment on real posting-tree leaves (the post-images of captured records) re-encodes to its bytes. */
    @Test
    void segmentsOfRealLeafPagesReencodeByteForByte() throws Exception {
        int checked = 0;
        for (Path p : RedoFixtureReplayTest.fixtures()) {
            String name = p.getFileName().toString();
            if (!name.startsWith("Gin_VACUUM_DATA_LEAF_PAGE-") && !name.startsWith("Gin_INSERT-")) {
                continue;
            }
            RedoFixture f = read(p);
            byte[] page = f.record().block(0).image();
            if ((GinPage.flags(page) & (GinPage.GIN_DATA | GinPage.GIN_LEAF)) != (GinPage.GIN_DATA | GinPage.GIN_LEAF)) {
                continue;
            }
            int end = BufPage.lower(page);
            for (int pos = GinPage.DATA; pos < end; pos += GinPostingList.segmentSize(page, pos)) {
                long[] items = GinPostingList.decode(page, pos);
                byte[] seg = GinPostingList.compress(items, items.length, BufPage.BLCKSZ, null);
                int len = GinPostingList.segmentSize(page, pos);
                assertThat(HEX.formatHex(seg)).as("%s segment at %d", name, pos)
                        .isEqualTo(HEX.formatHex(page, pos, pos + len));
                checked++;
            }
        }
        assertThat(checked).isGreaterThan(50);
    }

    /** A pre-9.4 leaf (uncompressed item pointers, {@code maxoff} of them) is compressed before the actions apply. */
    @Test
    void anUncompressedLeafIsConvertedFirst() {
        byte[] page = new byte[BufPage.BLCKSZ];
        GinPage.initPage(page, GinPage.GIN_DATA | GinPage.GIN_LEAF);
        long[] items = {GinPostingList.tid(3, 1), GinPostingList.tid(3, 2), GinPostingList.tid(70000, 9)};
        for (int i = 0; i < items.length; i++) {
            GinPostingList.writeItemPointer(page, GinPage.DATA + 6 * i, items[i]);
        }
        GinPage.setMaxoff(page, items.length);
        // one ADDITEMS action on segment 0 adding (4,4)
        long added = GinPostingList.tid(4, 4);
        byte[] data = new byte[2 + 2 + 2 + 6];
        BufPage.putU16(data, 0, 1);
        data[2] = 0;
        data[3] = GinRecordDescriptor.SEGMENT_ADDITEMS;
        BufPage.putU16(data, 4, 1);
        GinPostingList.writeItemPointer(data, 6, added);
        GinRedo.recompress(page, data);
        assertThat(GinPage.flags(page) & GinPage.GIN_COMPRESSED).isNotZero();
        assertThat(GinPage.maxoff(page)).isZero();
        assertThat(GinPostingList.decodeAllSegments(page, GinPage.DATA, GinPage.postingListSize(page)))
                .containsExactly(items[0], items[1], added, items[2]);
    }

    private static long[] ascending(Random rnd, int n) {
        List<Long> out = new ArrayList<>();
        long blk = rnd.nextInt(1000);
        int off = 1;
        for (int i = 0; i < n; i++) {
            out.add(GinPostingList.tid((int) blk, off));
            if (rnd.nextInt(4) == 0) {
                blk += rnd.nextInt(10) == 0 ? rnd.nextInt(1 << 24) : 1 + rnd.nextInt(50);
                off = 1 + rnd.nextInt(5);
            } else {
                off += 1 + rnd.nextInt(rnd.nextBoolean() ? 3 : 200);
                if (off > 2000) {
                    blk++;
                    off = 1;
                }
            }
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    private static RedoFixture fixture(String prefix) throws Exception {
        Path p = RedoFixtureReplayTest.fixtures().stream().filter(x -> x.getFileName().toString().startsWith(prefix))
                .findFirst().orElseThrow();
        return read(p);
    }

    private static RedoFixture read(Path p) throws Exception {
        try (InputStream in = Files.newInputStream(p)) {
            return RedoFixture.read(in);
        }
    }
}
