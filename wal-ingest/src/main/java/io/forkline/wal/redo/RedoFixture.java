package io.forkline.wal.redo;

import io.forkline.wal.record.BlockReference;
import io.forkline.wal.record.WalRecord;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A replayable redo case: one decoded record (its block images are the expected post-images) and
 * the base page each block started from. Written by {@link RedoVerifier} on a mismatch (and, when
 * asked, one per record type); read by unit tests that replay it.
 *
 * <p>Format (big-endian, {@link DataOutputStream}): {@code "FLRD"} magic, version 1, note (UTF),
 * startLsn, endLsn (8 each), xid, topXid, rmid, info (4 each), main data (int length + bytes), block
 * count (int), then per block: blockId, spc, db, rel, fork, blkno, flags (int each), applyImage
 * (boolean), data (int length + bytes), image and base (int length, -1 when absent, + bytes).
 *
 * @param note   why it was written (the mismatch, or "sample")
 * @param record the record, images included
 * @param bases  block id to the page redo started from (absent: not found / not read)
 */
public record RedoFixture(String note, WalRecord record, Map<Integer, byte[]> bases) {
    private static final int MAGIC = 0x464C5244; // "FLRD"
    private static final int VERSION = 1;

    /** Writes the fixture to {@code out} (not closed). */
    public void write(OutputStream out) throws IOException {
        DataOutputStream o = new DataOutputStream(out);
        o.writeInt(MAGIC);
        o.writeInt(VERSION);
        o.writeUTF(note);
        o.writeLong(record.startLsn());
        o.writeLong(record.endLsn());
        o.writeInt(record.xid());
        o.writeInt(record.topXid());
        o.writeInt(record.rmid());
        o.writeInt(record.info());
        bytes(o, record.mainData());
        o.writeInt(record.blocks().size());
        for (BlockReference b : record.blocks()) {
            o.writeInt(b.blockId());
            o.writeInt(b.spcOid());
            o.writeInt(b.dbOid());
            o.writeInt(b.relNumber());
            o.writeInt(b.forkNum());
            o.writeInt(b.blockNo());
            o.writeInt(b.flags());
            o.writeBoolean(b.applyImage());
            bytes(o, b.data());
            bytes(o, b.image());
            bytes(o, bases.get(b.blockId()));
        }
        o.flush();
    }

    private static void bytes(DataOutputStream o, byte[] b) throws IOException {
        if (b == null) {
            o.writeInt(-1);
        } else {
            o.writeInt(b.length);
            o.write(b);
        }
    }

    private static byte[] bytes(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0) {
            return null;
        }
        if (n > 1 << 24) {
            throw new IOException("fixture field of " + n + " bytes");
        }
        byte[] b = new byte[n];
        in.readFully(b);
        return b;
    }

    /**
     * Reads a fixture written by {@link #write}.
     *
     * @throws IOException when the stream is not a version-1 fixture or ends early
     */
    public static RedoFixture read(InputStream input) throws IOException {
        DataInputStream in = new DataInputStream(input);
        if (in.readInt() != MAGIC) {
            throw new IOException("not a redo fixture (magic)");
        }
        int version = in.readInt();
        if (version != VERSION) {
            throw new IOException("redo fixture version " + version + ", expected " + VERSION);
        }
        String note = in.readUTF();
        long start = in.readLong();
        long end = in.readLong();
        int xid = in.readInt();
        int topXid = in.readInt();
        int rmid = in.readInt();
        int info = in.readInt();
        byte[] main = bytes(in);
        int n = in.readInt();
        List<BlockReference> blocks = new ArrayList<>();
        Map<Integer, byte[]> bases = new HashMap<>();
        for (int i = 0; i < n; i++) {
            int id = in.readInt();
            int spc = in.readInt();
            int db = in.readInt();
            int rel = in.readInt();
            int fork = in.readInt();
            int blk = in.readInt();
            int flags = in.readInt();
            boolean apply = in.readBoolean();
            byte[] data = bytes(in);
            byte[] image = bytes(in);
            byte[] base = bytes(in);
            blocks.add(new BlockReference(id, spc, db, rel, fork, blk, flags, image, apply, data));
            if (base != null) {
                bases.put(id, base);
            }
        }
        return new RedoFixture(note, new WalRecord(start, end, xid, topXid, rmid, info, main == null ? new byte[0] : main,
                List.copyOf(blocks)), bases);
    }
}
