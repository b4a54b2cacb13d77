package io.forkline.wal.ingest.page;

/**
 * PostgreSQL's data page checksum ({@code pg_checksum_page}, {@code src/include/storage/checksum_impl.h}):
 * 32 parallel FNV-1a-like sums over the page read as {@code uint32[64][32]} (native little-endian)
 * with {@code pd_checksum} treated as zero, two extra rounds of zeros, an XOR fold, the block number
 * mixed in, reduced to {@code (sum % 65535) + 1}. Stateless and thread-safe.
 */
public final class PageChecksum {
    private static final int N_SUMS = 32;
    private static final int FNV_PRIME = 16777619;
    private static final int[] BASE_OFFSETS = {
            0x5B1F36E9, 0xB8525960, 0x02AB50AA, 0x1DE66D2A, 0x79FF467A, 0x9BB9F8A3, 0x217E7CD2, 0x83E13D2C,
            0xF8D4474F, 0xE39EB970, 0x42C6AE16, 0x993216FA, 0x7B093B5D, 0x98DAFF3C, 0xF718902A, 0x0B1C9CDB,
            0xE58F764B, 0x187636BC, 0x5D7B3BB1, 0xE73DE7DE, 0x92BEC979, 0xCCA6C0B2, 0x304A0979, 0x85AA43D4,
            0x783125BB, 0x6CA8EAA2, 0xE407EAC6, 0x4B5CFC3E, 0x9FBF8C76, 0x15CA20BE, 0xF2CA9FD3, 0x959BD756};

    private PageChecksum() {
    }

    /**
     * {@code pg_checksum_page(page, blkno)}.
     *
     * @param page  8192-byte page (not modified)
     * @param blkno block number of the page within its relation fork
     * @return the 16-bit checksum, 1..65535
     * @throws IllegalArgumentException when the page is not 8192 bytes
     */
    public static int compute(byte[] page, int blkno) {
        if (page.length != PageHeaderDescriptor.PAGE_SIZE) {
            throw new IllegalArgumentException("page must be " + PageHeaderDescriptor.PAGE_SIZE + " bytes, got "
                    + page.length);
        }
        // Sum j only ever reads words j, j + 32, j + 64, ... of the page, so the 32 sums are computed
        // one after the other in a local (no per-page array), which gives the same result as
        // checksum_impl.h's interleaved loop.
        int rows = PageHeaderDescriptor.PAGE_SIZE / (4 * N_SUMS);
        int result = 0;
        for (int j = 0; j < N_SUMS; j++) {
            int sum = BASE_OFFSETS[j];
            for (int row = 0; row < rows; row++) {
                int w = row * N_SUMS + j;
                int off = w * 4;
                int value = (page[off] & 0xFF) | (page[off + 1] & 0xFF) << 8 | (page[off + 2] & 0xFF) << 16
                        | (page[off + 3] & 0xFF) << 24;
                if (w == 2) {
                    value &= 0xFFFF0000; // pd_checksum (bytes 8..9) counts as zero
                }
                int tmp = sum ^ value;
                sum = tmp * FNV_PRIME ^ (tmp >>> 17);
            }
            for (int round = 0; round < 2; round++) { // two rounds of zeros
                sum = sum * FNV_PRIME ^ (sum >>> 17);
            }
            result ^= sum;
        }
        result ^= blkno;
        return (int) (Integer.toUnsignedLong(result) % 65535) + 1;
    }

    /**
     * {@code PageSetChecksumInplace}: stores {@link #compute} in {@code pd_checksum}, except on a new
     * (all-zero) page, which Postgres writes without a checksum.
     */
    public static void setInPlace(byte[] page, int blkno) {
        if (PageHeaderDescriptor.isNew(page)) {
            return;
        }
        int c = compute(page, blkno);
        page[PageHeaderDescriptor.CHECKSUM_OFFSET] = (byte) c;
        page[PageHeaderDescriptor.CHECKSUM_OFFSET + 1] = (byte) (c >>> 8);
    }
}
