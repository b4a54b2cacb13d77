package io.forkline.pageserver.importer;

import io.forkline.storage.lsn.Lsn;
import io.forkline.wal.record.WalDecodeException;
import io.forkline.wal.record.WalDecoder;
import io.forkline.wal.record.WalRecord;
import io.forkline.wal.record.XLogRecordDescriptor;
import io.forkline.wal.xlog.CheckPoint;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Finds the end LSN of initdb's final shutdown checkpoint record, the LSN at which a tenant's
 * cluster is imported. Reads {@code pg_wal} with the {@link WalDecoder} from the start of the WAL
 * page holding pg_control's {@code checkPoint} (the decoder checks page headers and the record's
 * CRC), and returns the record's {@code endLsn} (PostgreSQL's {@code EndRecPtr}).
 */
final class CheckpointRecordReader {
    private CheckpointRecordReader() {
    }

    /**
     * @param walDir        the {@code pg_wal} directory
     * @param tli           PostgreSQL timeline of the checkpoint ({@code checkPointCopy.ThisTimeLineID})
     * @param checkpointLsn {@code pg_control}'s {@code checkPoint}
     * @param expected      {@code pg_control}'s {@code checkPointCopy}
     * @return the end LSN of the record (MAXALIGNed)
     * @throws ImportException when the segment is missing or corrupt, or the record at
     *                         {@code checkpointLsn} is not that shutdown checkpoint
     */
    static long recordEnd(Path walDir, int tli, long checkpointLsn, CheckPoint expected) {
        return check(recordAt(walDir, tli, checkpointLsn), checkpointLsn, expected);
    }

    /**
     * The WAL record that starts at {@code checkpointLsn}, read from {@code walDir}.
     *
     * @throws ImportException when a segment is missing or corrupt, or no record starts there
     */
    static WalRecord recordAt(Path walDir, int tli, long checkpointLsn) {
        long pageStart = Lsn.pageStart(checkpointLsn);
        WalDecoder decoder = new WalDecoder(pageStart);
        byte[] buf = new byte[Lsn.WAL_PAGE_SIZE];
        long pos = pageStart;
        try {
            while (true) {
                WalRecord rec = decoder.next();
                if (rec != null) {
                    if (rec.startLsn() == checkpointLsn) {
                        return rec;
                    }
                    if (Long.compareUnsigned(rec.startLsn(), checkpointLsn) > 0) {
                        throw new ImportException("no WAL record starts at the checkpoint location "
                                + Lsn.format(checkpointLsn) + " in pg_control");
                    }
                    continue;
                }
                Path file = walDir.resolve(Lsn.walFileName(tli, Lsn.segmentNo(pos)));
                try (InputStream in = Files.newInputStream(file)) {
                    in.skipNBytes(Long.remainderUnsigned(pos, Lsn.WAL_SEGMENT_SIZE));
                    int n = in.readNBytes(buf, 0, buf.length);
                    if (n < buf.length) {
                        throw new ImportException("WAL segment " + file + " ends before " + Lsn.format(pos + buf.length));
                    }
                }
                decoder.feed(buf, 0, buf.length);
                pos += buf.length;
            }
        } catch (NoSuchFileException e) {
            throw new ImportException("WAL segment holding " + Lsn.format(pos) + " is missing: " + e.getFile(), e);
        } catch (IOException e) {
            throw new ImportException("cannot read WAL at " + Lsn.format(pos) + ": " + e.getMessage(), e);
        } catch (WalDecodeException e) {
            throw new ImportException("corrupt WAL while looking for the checkpoint record: " + e.getMessage(), e);
        }
    }

    private static long check(WalRecord rec, long checkpointLsn, CheckPoint expected) {
        if (rec.rmid() != XLogRecordDescriptor.RM_XLOG_ID || rec.type() != XLogRecordDescriptor.XLOG_CHECKPOINT_SHUTDOWN) {
            throw new ImportException("record at " + Lsn.format(checkpointLsn) + " has rmid " + rec.rmid() + " info 0x"
                    + Integer.toHexString(rec.info()) + ", expected a shutdown checkpoint (rmid 0, info 0x00): "
                    + "the cluster was not shut down cleanly");
        }
        if (rec.mainData().length != CheckPoint.SIZE || !Arrays.equals(rec.mainData(), expected.encode())) {
            throw new ImportException("checkpoint record at " + Lsn.format(checkpointLsn)
                    + " does not carry pg_control's checkPointCopy");
        }
        return rec.endLsn();
    }
}
