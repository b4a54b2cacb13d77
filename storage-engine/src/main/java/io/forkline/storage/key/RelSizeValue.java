package io.forkline.storage.key;

/**
 * Value stored under a {@link Key#REL_SIZE} key: the fork's length in blocks and the LSN at which
 * this incarnation of the relation fork was created. Page versions older than {@code createdLsn}
 * belong to an earlier relation that had the same relfilenode and must read as zero pages.
 *
 * <pre>
 *   0         4                 12
 *   +---------+-----------------+
 *   | nblocks |   createdLsn    |   big-endian
 *   +---------+-----------------+
 * </pre>
 */
public record RelSizeValue(int nblocks, long createdLsn) {
    /** Encoded length in bytes. */
    public static final int LENGTH = 12;

    public byte[] encode() {
        byte[] b = new byte[LENGTH];
        Key.putInt(b, 0, nblocks);
        for (int i = 0; i < 8; i++) {
            b[4 + i] = (byte) (createdLsn >>> (56 - 8 * i));
        }
        return b;
    }

    /**
     * @throws IllegalArgumentException when {@code b} is not {@value #LENGTH} bytes
     */
    public static RelSizeValue decode(byte[] b) {
        if (b.length != LENGTH) {
            throw new IllegalArgumentException("relation size value must be " + LENGTH + " bytes, got " + b.length);
        }
        long lsn = 0;
        for (int i = 0; i < 8; i++) {
            lsn = (lsn << 8) | (b[4 + i] & 0xFF);
        }
        return new RelSizeValue(Key.getInt(b, 0), lsn);
    }
}
