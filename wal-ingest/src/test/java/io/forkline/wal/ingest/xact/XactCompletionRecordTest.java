package io.forkline.wal.ingest.xact;

import io.forkline.storage.key.RelTag;
import io.forkline.wal.ingest.rmgr.RecordFormatException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32C;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class XactCompletionRecordTest {
    /** A commit with every optional part, laid out as XactLogCommitRecord writes it. */
    static byte[] fullCommit() {
        ByteBuffer b = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(123_456_789L); // xact_time
        int xinfo = XactCompletionRecord.XINFO_HAS_DBINFO | XactCompletionRecord.XINFO_HAS_SUBXACTS
                | XactCompletionRecord.XINFO_HAS_RELFILENODES | XactCompletionRecord.XINFO_HAS_DROPPED_STATS
                | XactCompletionRecord.XINFO_HAS_INVALS | XactCompletionRecord.XINFO_HAS_TWOPHASE
                | XactCompletionRecord.XINFO_HAS_GID | XactCompletionRecord.XINFO_HAS_ORIGIN;
        b.putInt(xinfo);
        b.putInt(5).putInt(1663); // dbinfo
        b.putInt(2).putInt(801).putInt(802); // subxacts
        b.putInt(1).putInt(1663).putInt(5).putInt(16400); // one relfilenode
        b.putInt(1).putInt(1).putInt(5).putInt(16400); // one dropped stats item
        b.putInt(2).put(new byte[32]); // two invalidation messages
        b.putInt(800); // twophase xid
        b.put("gid-1".getBytes(StandardCharsets.US_ASCII)).put((byte) 0);
        b.putLong(0x1234L).putLong(99L); // origin
        return Arrays.copyOf(b.array(), b.position());
    }

    @Test
    void parsesEveryPartInOrder() {
        XactCompletionRecord r = XactCompletionRecord.parse(0x30 | 0x80, fullCommit(), true);
        assertThat(r.xactTime()).isEqualTo(123_456_789L);
        assertThat(r.unixMicros()).isEqualTo(123_456_789L + 946_684_800_000_000L);
        assertThat(r.subxacts()).containsExactly(801, 802);
        assertThat(r.droppedRels()).containsExactly(new RelTag(1663, 5, 16400, 0));
        assertThat(r.twophaseXid()).isEqualTo(800);
    }

    @Test
    void withoutHasInfoOnlyTheTimeIsRead() {
        byte[] d = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(42).array();
        XactCompletionRecord r = XactCompletionRecord.parse(0x00, d, true);
        assertThat(r.xinfo()).isZero();
        assertThat(r.subxacts()).isEmpty();
    }

    /** {@code nsubxacts = 2^30 + 1}: its byte length, 4 GiB + 4, is computed without wrapping and rejected. */
    @Test
    void hugeSubxactCountIsRejected() {
        int huge = (1 << 30) + 1;
        byte[] d = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN).putLong(42)
                .putInt(XactCompletionRecord.XINFO_HAS_SUBXACTS).putInt(huge).putInt(801).array();
        assertThatThrownBy(() -> XactCompletionRecord.parse(XactCompletionRecord.XLOG_XACT_HAS_INFO, d, true))
                .isInstanceOf(RecordFormatException.class)
                .hasMessageContaining("nsubxacts")
                .hasMessageContaining(Long.toString(4L * huge));
    }

    @Test
    void truncatedDataIsRejectedWithOffset() {
        byte[] d = Arrays.copyOf(fullCommit(), 30);
        assertThatThrownBy(() -> XactCompletionRecord.parse(0x80, d, true))
                .isInstanceOf(RecordFormatException.class).hasMessageContaining("offset");
    }

    @Test
    void twoPhaseFileAppendsCrc32c() {
        ByteBuffer b = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(TwoPhaseStateFile.MAGIC).putInt(28).putInt(777).putInt(5).putLong(0);
        byte[] d = b.array();
        byte[] file = TwoPhaseStateFile.fileContent(d);
        CRC32C crc = new CRC32C();
        crc.update(d);
        assertThat(file).hasSize(28);
        assertThat(ByteBuffer.wrap(file, 24, 4).order(ByteOrder.LITTLE_ENDIAN).getInt()).isEqualTo((int) crc.getValue());
        assertThat(TwoPhaseStateFile.xid(d)).isEqualTo(777);
        byte[] bad = d.clone();
        bad[4] = 99;
        assertThatThrownBy(() -> TwoPhaseStateFile.fileContent(bad)).hasMessageContaining("total_len 99");
    }
}
