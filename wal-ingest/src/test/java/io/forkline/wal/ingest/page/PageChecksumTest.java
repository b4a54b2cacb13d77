package io.forkline.wal.ingest.page;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link PageChecksum} (which walks the page one sum at a time) against a literal transcription of
 * {@code pg_checksum_block} / {@code pg_checksum_page} ({@code src/include/storage/checksum_impl.h}),
 * which interleaves the 32 sums word by word. The real-cluster check is {@code WalIngestIT}.
 */
class PageChecksumTest {
    private static final int[] BASE = {
        0x5B1F36E9, 0xB8525960, 0x02AB50AA, 0x1DE66D2A, 0x79FF467A, 0x9BB9F8A3, 0x217E7CD2, 0x83E13D2C,
        0xF8D4474F, 0xE39EB970, 0x42C6AE16, 0x993216FA, 0x7B093B5D, 0x98DAFF3C, 0xF718902A, 0x0B1C9CDB,
        0xE58F764B, 0x187636BC, 0x5D7B3BB1, 0xE73DE7DE, 0x92BEC979, 0xCCA6C0B2, 0x304A0979, 0x85AA43D4,
        0x783125BB, 0x6CA8EAA2, 0xE407EAC6, 0x4B5CFC3E, 0x9FBF8C76, 0x15CA20BE, 0xF2CA9FD3, 0x959BD756};

    private static int comp(int checksum, int value) {
        int tmp = checksum ^ value;
        return tmp * 16777619 ^ (tmp >>> 17);
    }

    private static int reference(byte[] page, int blkno) {
        byte[] p = page.clone();
        p[8] = 0; // pd_checksum is zero while computing
        p[9] = 0;
        int[] sums = BASE.clone();
        for (int i = 0; i < 8192 / (4 * 32); i++) {
            for (int j = 0; j < 32; j++) {
                int off = (i * 32 + j) * 4;
                int v = (p[off] & 0xFF) | (p[off + 1] & 0xFF) << 8 | (p[off + 2] & 0xFF) << 16 | (p[off + 3] & 0xFF) << 24;
                sums[j] = comp(sums[j], v);
            }
        }
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 32; j++) {
                sums[j] = comp(sums[j], 0);
            }
        }
        int result = 0;
        for (int s : sums) {
            result ^= s;
        }
        result ^= blkno;
        return (int) (Integer.toUnsignedLong(result) % 65535) + 1;
    }

    @Test
    void agreesWithChecksumImplOnRandomPages() {
        Random rnd = new Random(20240501);
        for (int n = 0; n < 200; n++) {
            byte[] page = new byte[8192];
            rnd.nextBytes(page);
            int blkno = n < 100 ? n : rnd.nextInt();
            byte[] before = page.clone();
            assertThat(PageChecksum.compute(page, blkno)).as("page %d, block %d", n, blkno)
                    .isEqualTo(reference(page, blkno));
            assertThat(page).as("page not modified").isEqualTo(before);
        }
    }

    @Test
    void ignoresTheStoredChecksumAndStoresItInPlace() {
        byte[] page = new byte[8192];
        new Random(7).nextBytes(page);
        int c = PageChecksum.compute(page, 3);
        page[8] ^= 0x55;
        page[9] ^= 0x11;
        assertThat(PageChecksum.compute(page, 3)).isEqualTo(c);
        page[14] = 0x40; // non-zero pd_upper: not a new page
        PageChecksum.setInPlace(page, 3);
        assertThat(PageHeaderDescriptor.checksum(page)).isEqualTo(PageChecksum.compute(page, 3));
    }

    @Test
    void rejectsPagesOfAnotherSize() {
        assertThatThrownBy(() -> PageChecksum.compute(new byte[4096], 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("4096");
    }
}
