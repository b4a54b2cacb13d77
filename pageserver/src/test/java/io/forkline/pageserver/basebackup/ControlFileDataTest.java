package io.forkline.pageserver.basebackup;

import io.forkline.wal.xlog.CheckPoint;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ControlFileDataTest {

    static byte[] image() {
        byte[] b = new byte[ControlFileDataDescriptor.FILE_SIZE];
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(0, 42L).putInt(8, 1300).putInt(12, 202209061).putInt(16, 6).putInt(220, 131072)
                .putInt(216, 8192).putInt(224, 8192).putInt(228, 16 << 20);
        buf.putInt(ControlFileDataDescriptor.CRC_OFFSET, ControlFileDataDescriptor.computeCrc(b));
        return b;
    }

    @Test
    void settersChangeOnlyTheirFieldsAndTheCrc() {
        byte[] raw = image();
        ControlFileData c = ControlFileData.parse(raw);
        assertThat(c.toBytes()).isEqualTo(raw);
        CheckPoint cp = new CheckPoint(0x2000028L, 1, 1, true, 800, 20000, 3, 7, 716, 1, 1, 1, 99, 0, 0, 0);
        c.state(ControlFileDataDescriptor.DB_SHUTDOWNED).checkPoint(0x2000028L).checkPointCopy(cp).time(99)
                .minRecoveryPoint(0, 0).backup(0, 0, false);
        ControlFileData back = ControlFileData.parse(c.toBytes());
        assertThat(back.state()).isEqualTo(1);
        assertThat(back.checkPoint()).isEqualTo(0x2000028L);
        assertThat(back.checkPointCopy()).isEqualTo(cp);
        assertThat(back.systemIdentifier()).isEqualTo(42L);
        assertThat(back.relsegSize()).isEqualTo(131072);
    }

    @Test
    void rejectsCorruptShortAndForeignFiles() {
        byte[] raw = image();
        raw[30] ^= 1;
        assertThatThrownBy(() -> ControlFileData.parse(raw)).isInstanceOf(InvalidControlFileException.class)
                .hasMessageContaining("CRC");
        assertThatThrownBy(() -> ControlFileData.parse(new byte[100])).isInstanceOf(InvalidControlFileException.class)
                .hasMessageContaining("100 bytes");
        byte[] v14 = image();
        ByteBuffer.wrap(v14).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 1300 - 1);
        assertThatThrownBy(() -> ControlFileData.parse(v14)).isInstanceOf(InvalidControlFileException.class)
                .hasMessageContaining("1299");
    }
}
