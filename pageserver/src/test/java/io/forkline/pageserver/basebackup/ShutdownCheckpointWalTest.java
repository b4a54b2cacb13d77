package io.forkline.pageserver.basebackup;

import io.forkline.wal.record.XLogPageHeaderDescriptor;
import io.forkline.wal.record.XLogRecordDescriptor;

import io.forkline.storage.lsn.Lsn;
import io.forkline.wal.xlog.CheckPoint;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ShutdownCheckpointWalTest {
    private static final CheckPoint CP = new CheckPoint(Lsn.parse("0/2000028"), 1, 1, true, 724, 13572, 1, 0, 716, 1,
            1, 1, 1_700_000_000L, 0, 0, 0);

    @Test
    void placesTheRecordAfterTheLongHeaderOfTheNextSegment() {
        assertThat(Lsn.format(ShutdownCheckpointWal.checkpointLsn(Lsn.parse("0/1500790")))).isEqualTo("0/2000028");
        assertThat(Lsn.format(ShutdownCheckpointWal.checkpointLsn(Lsn.parse("0/2000000")))).isEqualTo("0/3000028");
        assertThat(Lsn.format(ShutdownCheckpointWal.checkpointEndLsn(Lsn.parse("0/2000028")))).isEqualTo("0/20000A0");
        assertThat(ShutdownCheckpointWal.RECORD_LENGTH).isEqualTo(114);
    }

    @Test
    void writesLongHeaderAndCheckpointRecordWithValidCrc() {
        long cpLsn = Lsn.parse("0/2000028");
        byte[] page = ShutdownCheckpointWal.firstPage(cpLsn, 1, 0x1234_5678_9ABC_DEF0L, CP);
        ByteBuffer b = ByteBuffer.wrap(page).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(page).hasSize(8192);
        assertThat(b.getShort(0) & 0xFFFF).isEqualTo(0xD110);
        assertThat(b.getShort(2)).isEqualTo((short) XLogPageHeaderDescriptor.XLP_LONG_HEADER);
        assertThat(b.getInt(4)).isEqualTo(1);
        assertThat(b.getLong(8)).isEqualTo(Lsn.parse("0/2000000"));
        assertThat(b.getInt(16)).isZero();
        assertThat(b.getLong(24)).isEqualTo(0x1234_5678_9ABC_DEF0L);
        assertThat(b.getInt(32)).isEqualTo(16 * 1024 * 1024);
        assertThat(b.getInt(36)).isEqualTo(8192);
        int rec = 40;
        assertThat(b.getInt(rec)).isEqualTo(114);
        assertThat(b.getLong(rec + 8)).isZero();
        assertThat(page[rec + 16]).isEqualTo((byte) 0);
        assertThat(page[rec + 17]).isEqualTo((byte) 0);
        assertThat(page[rec + 24] & 0xFF).isEqualTo(255);
        assertThat(page[rec + 25] & 0xFF).isEqualTo(88);
        assertThat(CheckPoint.decode(page, rec + 26)).isEqualTo(CP);
        assertThat(b.getInt(rec + 20)).isEqualTo(XLogRecordDescriptor.computeCrc(page, rec, 114));
        // flipping any payload byte breaks the CRC
        byte[] bad = page.clone();
        bad[rec + 60] ^= 1;
        assertThat(XLogRecordDescriptor.computeCrc(bad, rec, 114)).isNotEqualTo(b.getInt(rec + 20));
        assertThat(Arrays.copyOfRange(page, rec + 114, 8192)).containsOnly(0);
    }

    @Test
    void rejectsMisplacedCheckpoint() {
        assertThatThrownBy(() -> ShutdownCheckpointWal.firstPage(Lsn.parse("0/2000030"), 1, 1, CP))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0/2000030");
    }
}
