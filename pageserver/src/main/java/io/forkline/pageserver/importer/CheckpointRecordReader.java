package io.forkline.pageserver.importer;

import io.forkline.pageserver.basebackup.XLogPageHeaderDescriptor;
import io.forkline.pageserver.basebackup.XLogRecordDescriptor;
import io.forkline.storage.lsn.Lsn;
import io.forkline.wal.xlog.CheckPoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Reads the checkpoint record named by {@code pg_control} from a data directory's {@code pg_wal}
 * and returns where it ends, checking that it is an intact {@code XLOG_CHECKPOINT_SHUTDOWN} record
 * carrying the same {@link CheckPoint} as {@code pg_control}'s {@code checkPointCopy}.
 *
 * <p>The record may span WAL pages (and segments); page headers are skipped as
 * {@code xlogreader.c} does, and the end is MAXALIGNed: the returned LSN is the position of the
 * next record ({@code EndRecPtr}), the LSN {@code pg_waldump} reports the next read at.
 */
final class CheckpointRecordReader {
    private final Path walDir;
    private final int tli;
    private long pos;

    private CheckpointRecordReader(Path walDir, int tli, long pos) {
        this.walDir = walDir;
        this.tli = tli;
        this.pos = pos;
    }

    /**
     * @param walDir         the {@code pg_wal} directory
     * @param tli            PostgreSQL timeline of the checkpoint ({@code checkPointCopy.ThisTimeLineID})
     * @param checkpointLsn  {@code pg_control}'s {@code checkPoint}
     * @param expected       {@code pg_control}'s {@code checkPointCopy}
     * @return the end LSN of the record (MAXALIGNed)
     * @throws ImportException when the segment is missing, a page header or the record is invalid,
     *                         the CRC does not match, or the record is not that shutdown checkpoint
     */
    static long recordEnd(Path walDir, int tli, long checkpointLsn, CheckPoint expected) {
        long inPage = Long.remainderUnsigned(checkpointLsn, Lsn.WAL_PAGE_SIZE);
        long pageStart = checkpointLsn - inPage;
        if (inPage < XLogPageHeaderDescriptor.headerSize(pageStart, Lsn.WAL_SEGMENT_SIZE)
                || checkpointLsn % XLogRecordDescriptor.MAXALIGN != 0) {
            throw new ImportException("checkpoint location " + Lsn.format(checkpointLsn)
                    + " in pg_control is not a valid record position");
        }
        CheckpointRecordReader r = new CheckpointRecordReader(walDir, tli, checkpointLsn);
        byte[] header = r.read(XLogRecordDescriptor.SIZE);
        ByteBuffer h = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
        int totLen = h.getInt(XLogRecordDescriptor.TOT_LEN_OFFSET);
        int rmid = header[XLogRecordDescriptor.RMID_OFFSET] & 0xFF;
        int info = header[XLogRecordDescriptor.INFO_OFFSET] & 0xF0;
        if (rmid != XLogRecordDescriptor.RM_XLOG_ID || info != XLogRecordDescriptor.XLOG_CHECKPOINT_SHUTDOWN) {
            throw new ImportException("record at " + Lsn.format(checkpointLsn) + " has rmid " + rmid + " info 0x"
                    + Integer.toHexString(info) + ", expected a shutdown checkpoint (rmid 0, info 0x00): "
                    + "the cluster was not shut down cleanly");
        }
        if (totLen < XLogRecordDescriptor.SIZE + 2 + CheckPoint.SIZE || totLen > 1 << 20) {
            throw new ImportException("checkpoint record at " + Lsn.format(checkpointLsn) + " has invalid length " + totLen);
        }
        byte[] record = Arrays.copyOf(header, totLen);
        System.arraycopy(r.read(totLen - XLogRecordDescriptor.SIZE), 0, record, XLogRecordDescriptor.SIZE,
                totLen - XLogRecordDescriptor.SIZE);
        int crc = XLogRecordDescriptor.computeCrc(record, 0, totLen);
        int stored = h.getInt(XLogRecordDescriptor.CRC_OFFSET);
        if (crc != stored) {
            throw new ImportException(String.format("checkpoint record at %s has CRC 0x%08X, computed 0x%08X",
                    Lsn.format(checkpointLsn), stored, crc));
        }
        int data = XLogRecordDescriptor.SIZE;
        if ((record[data] & 0xFF) != XLogRecordDescriptor.XLR_BLOCK_ID_DATA_SHORT
                || (record[data + 1] & 0xFF) != CheckPoint.SIZE
                || !Arrays.equals(record, data + 2, data + 2 + CheckPoint.SIZE, expected.encode(), 0, CheckPoint.SIZE)) {
            throw new ImportException("checkpoint record at " + Lsn.format(checkpointLsn)
                    + " does not carry pg_control's checkPointCopy");
        }
        return XLogRecordDescriptor.maxAlign(r.pos);
    }

    /** Reads {@code n} record bytes from {@link #pos}, skipping page headers. */
    private byte[] read(int n) {
        byte[] out = new byte[n];
        int done = 0;
        while (done < n) {
            long inPage = Long.remainderUnsigned(pos, Lsn.WAL_PAGE_SIZE);
            if (inPage == 0) {
                checkPageHeader(pos);
                pos += XLogPageHeaderDescriptor.headerSize(pos, Lsn.WAL_SEGMENT_SIZE);
                inPage = Long.remainderUnsigned(pos, Lsn.WAL_PAGE_SIZE);
            }
            int chunk = (int) Math.min(n - done, Lsn.WAL_PAGE_SIZE - inPage);
            readAt(pos, out, done, chunk);
            done += chunk;
            pos += chunk;
        }
        return out;
    }

    private void checkPageHeader(long pageAddr) {
        byte[] hdr = new byte[XLogPageHeaderDescriptor.SHORT_SIZE];
        readAt(pageAddr, hdr, 0, hdr.length);
        ByteBuffer b = ByteBuffer.wrap(hdr).order(ByteOrder.LITTLE_ENDIAN);
        int magic = b.getShort(XLogPageHeaderDescriptor.MAGIC_OFFSET) & 0xFFFF;
        long addr = b.getLong(XLogPageHeaderDescriptor.PAGEADDR_OFFSET);
        if (magic != XLogPageHeaderDescriptor.XLOG_PAGE_MAGIC || addr != pageAddr) {
            throw new ImportException(String.format("WAL page at %s has magic 0x%04X and address %s, expected 0x%04X and %s",
                    Lsn.format(pageAddr), magic, Lsn.format(addr), XLogPageHeaderDescriptor.XLOG_PAGE_MAGIC,
                    Lsn.format(pageAddr)));
        }
    }

    private void readAt(long lsn, byte[] dst, int off, int len) {
        Path file = walDir.resolve(Lsn.walFileName(tli, Lsn.segmentNo(lsn)));
        long fileOff = Long.remainderUnsigned(lsn, Lsn.WAL_SEGMENT_SIZE);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.wrap(dst, off, len);
            while (buf.hasRemaining()) {
                if (ch.read(buf, fileOff + buf.position() - off) < 0) {
                    throw new ImportException("WAL segment " + file + " ends before " + Lsn.format(lsn + len));
                }
            }
        } catch (java.nio.file.NoSuchFileException e) {
            throw new ImportException("WAL segment " + file + " holding " + Lsn.format(lsn) + " is missing", e);
        } catch (IOException e) {
            throw new ImportException("cannot read WAL segment " + file + ": " + e.getMessage(), e);
        }
    }
}
