package io.forkline.wal.redo;

/** {@code TransactionIdPrecedes} and friends ({@code src/backend/access/transam/transam.c}). */
public final class TransactionIds {
    /** {@code FirstNormalTransactionId}. */
    public static final int FIRST_NORMAL = 3;
    /** {@code FrozenTransactionId}. */
    public static final int FROZEN = 2;

    private TransactionIds() {
    }

    /** {@code TransactionIdPrecedes(a, b)}: modulo-2^32 comparison for normal xids, unsigned otherwise. */
    public static boolean precedes(int a, int b) {
        if (Integer.compareUnsigned(a, FIRST_NORMAL) < 0 || Integer.compareUnsigned(b, FIRST_NORMAL) < 0) {
            return Integer.compareUnsigned(a, b) < 0;
        }
        return a - b < 0;
    }
}
