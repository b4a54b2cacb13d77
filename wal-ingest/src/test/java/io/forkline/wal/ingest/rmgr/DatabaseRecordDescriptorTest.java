package io.forkline.wal.ingest.rmgr;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class DatabaseRecordDescriptorTest {
    private static byte[] drop(int dbId, int count, int... tablespaces) {
        byte[] d = new byte[8 + 4 * tablespaces.length];
        LittleEndianReader.putI32(d, 0, dbId);
        LittleEndianReader.putI32(d, 4, count);
        for (int i = 0; i < tablespaces.length; i++) {
            LittleEndianReader.putI32(d, 8 + 4 * i, tablespaces[i]);
        }
        return d;
    }

    @Test
    void readsTheTablespacesOfADropRecord() {
        byte[] d = drop(16384, 2, 1663, 16500);
        assertThat(DatabaseRecordDescriptor.dbId(d)).isEqualTo(16384);
        assertThat(DatabaseRecordDescriptor.dropTablespaces(d)).containsExactly(1663, 16500);
    }

    /**
     * {@code ntablespaces = 2^30 + 1}: {@code n * 4} wraps to 4 in int arithmetic, which the 12-byte
     * record would satisfy, and a 4 GiB array would be allocated. Computed in long it is rejected.
     */
    @Test
    void hugeCountIsRejectedWithoutAllocating() {
        int huge = (1 << 30) + 1;
        byte[] d = drop(16384, huge, 1663);
        assertThatThrownBy(() -> DatabaseRecordDescriptor.dropTablespaces(d))
                .isInstanceOf(RecordFormatException.class)
                .hasMessageContaining("tablespace_ids")
                .hasMessageContaining(Integer.toString(huge))
                .hasMessageContaining(Long.toString(4L * huge));
    }

    @Test
    void negativeAndTruncatedCountsAreRejected() {
        assertThatThrownBy(() -> DatabaseRecordDescriptor.dropTablespaces(drop(1, -1)))
                .isInstanceOf(RecordFormatException.class).hasMessageContaining("-1");
        assertThatThrownBy(() -> DatabaseRecordDescriptor.dropTablespaces(drop(1, 3, 1663)))
                .isInstanceOf(RecordFormatException.class).hasMessageContaining("needs 12 bytes");
    }
}
