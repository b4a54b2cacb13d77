package io.forkline.wal.ingest.rmgr;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SlruRecordDescriptorTest {
    private static byte[] create(int nmembers, int actualMembers) {
        byte[] d = new byte[SlruRecordDescriptor.MULTIXACT_CREATE_HEADER
                + actualMembers * SlruRecordDescriptor.MULTIXACT_MEMBER_SIZE];
        LittleEndianReader.putI32(d, 0, 77);
        LittleEndianReader.putI32(d, 4, 1000);
        LittleEndianReader.putI32(d, 8, nmembers);
        for (int i = 0; i < actualMembers; i++) {
            LittleEndianReader.putI32(d, 12 + 8 * i, 700 + i);
            LittleEndianReader.putI32(d, 16 + 8 * i, 1);
        }
        return d;
    }

    @Test
    void readsMembersOfACreateRecord() {
        byte[] d = create(2, 2);
        assertThat(SlruRecordDescriptor.createMembers(d)).isEqualTo(2);
        assertThat(SlruRecordDescriptor.memberXid(d, 1)).isEqualTo(701);
        assertThat(SlruRecordDescriptor.memberStatus(d, 1)).isEqualTo(1);
    }

    /**
     * {@code nmembers = 2^29 + 1}: {@code n * 8} wraps to 8 in int arithmetic, which a record with one
     * member would satisfy, so callers would loop over half a billion members. Computed in long it is
     * rejected up front.
     */
    @Test
    void hugeMemberCountIsRejected() {
        int huge = (1 << 29) + 1;
        byte[] d = create(huge, 1);
        assertThatThrownBy(() -> SlruRecordDescriptor.createMembers(d))
                .isInstanceOf(RecordFormatException.class)
                .hasMessageContaining("members")
                .hasMessageContaining(Integer.toString(huge))
                .hasMessageContaining(Long.toString(8L * huge));
    }
}
