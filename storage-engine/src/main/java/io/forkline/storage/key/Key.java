package io.forkline.storage.key;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * One versioned object of a cluster, encoded in 18 big-endian bytes so that byte order is logical
 * order (the idea of Neon's 18-byte key, {@code libs/pageserver_api/src/key.rs}; the layout is
 * Forkline's own):
 *
 * <pre>
 *   0      1          5          9          13     14         18
 *   +------+----------+----------+----------+------+----------+
 *   | kind |  field1  |  field2  |  field3  |  f4  |  field5  |
 *   +------+----------+----------+----------+------+----------+
 *
 *   kind 0x10 REL_BLOCK   spcOid  dbOid  relNumber  fork  blockNo   value: 8192-byte page
 *   kind 0x20 REL_SIZE    spcOid  dbOid  relNumber  fork  0         value: {@link RelSizeValue}
 *   kind 0x30 DB_DIR      spcOid  dbOid  0          0     0         value: 1 byte (present)
 *   kind 0x31 RELMAP      spcOid  dbOid  0          0     0         value: 512-byte pg_filenode.map
 *   kind 0x40 SLRU_PAGE   slru(1 byte at offset 1) pageNo at 5      value: 8192-byte SLRU page
 *   kind 0x50 TWOPHASE    xid     0...                              value: pg_twophase state file
 *   kind 0x60 CONTROL     0...                                      value: checkpoint/control state
 *   kind 0x61 PARAMETERS  0...                                      value: xl_parameter_change (28 bytes)
 * </pre>
 *
 * An empty value stored for a key is a tombstone: the object does not exist from that LSN on.
 * Instances are immutable and thread-safe.
 */
public final class Key implements Comparable<Key> {
    /** Encoded length in bytes. */
    public static final int LENGTH = 18;

    public static final byte REL_BLOCK = 0x10;
    public static final byte REL_SIZE = 0x20;
    public static final byte DB_DIR = 0x30;
    public static final byte RELMAP = 0x31;
    public static final byte SLRU_PAGE = 0x40;
    public static final byte TWOPHASE = 0x50;
    public static final byte CONTROL = 0x60;
    /**
     * The cluster's parameters that {@code pg_control} records and {@code XLOG_PARAMETER_CHANGE}
     * replaces (PostgreSQL's {@code xl_parameter_change}: max_connections ... track_commit_timestamp).
     */
    public static final byte PARAMETERS = 0x61;

    /** SLRU kinds for {@link #slruPage}. */
    public static final int SLRU_CLOG = 0;
    public static final int SLRU_MULTIXACT_OFFSETS = 1;
    public static final int SLRU_MULTIXACT_MEMBERS = 2;
    /** {@code pg_commit_ts}: commit timestamp and replication origin of each transaction. */
    public static final int SLRU_COMMIT_TS = 3;

    private final byte[] bytes;

    private Key(byte[] bytes) {
        this.bytes = bytes;
    }

    /** Decodes 18 bytes at {@code offset} of {@code src}. */
    public static Key fromBytes(byte[] src, int offset) {
        return new Key(Arrays.copyOfRange(src, offset, offset + LENGTH));
    }

    private static Key of(byte kind, int f1, int f2, int f3, int f4, int f5) {
        byte[] b = new byte[LENGTH];
        b[0] = kind;
        putInt(b, 1, f1);
        putInt(b, 5, f2);
        putInt(b, 9, f3);
        b[13] = (byte) f4;
        putInt(b, 14, f5);
        return new Key(b);
    }

    /** Page {@code blockNo} of a relation fork. */
    public static Key relBlock(RelTag rel, int blockNo) {
        return of(REL_BLOCK, rel.spcOid(), rel.dbOid(), rel.relNumber(), rel.forkNum(), blockNo);
    }

    /** Size (and existence) of a relation fork. */
    public static Key relSize(RelTag rel) {
        return of(REL_SIZE, rel.spcOid(), rel.dbOid(), rel.relNumber(), rel.forkNum(), 0);
    }

    /** Existence of database directory {@code base/<dbOid>} (or the global directory when dbOid is 0). */
    public static Key dbDir(int spcOid, int dbOid) {
        return of(DB_DIR, spcOid, dbOid, 0, 0, 0);
    }

    /** The {@code pg_filenode.map} of a database, or of {@code global/} with spc 1664 and db 0. */
    public static Key relmap(int spcOid, int dbOid) {
        return of(RELMAP, spcOid, dbOid, 0, 0, 0);
    }

    /** Page {@code pageNo} of an SLRU ({@link #SLRU_CLOG} ...); 32 pages per segment file. */
    public static Key slruPage(int slru, int pageNo) {
        Key k = of(SLRU_PAGE, 0, pageNo, 0, 0, 0);
        k.bytes[1] = (byte) slru;
        return k;
    }

    /** Two-phase state file of prepared transaction {@code xid}. */
    public static Key twoPhase(int xid) {
        return of(TWOPHASE, xid, 0, 0, 0, 0);
    }

    /** The cluster's checkpoint / control state. */
    public static Key control() {
        return of(CONTROL, 0, 0, 0, 0, 0);
    }

    /** The cluster's {@code xl_parameter_change} parameters ({@link #PARAMETERS}). */
    public static Key parameters() {
        return of(PARAMETERS, 0, 0, 0, 0, 0);
    }

    /** Smallest key of a kind (inclusive range start). */
    public static Key kindStart(byte kind) {
        return of(kind, 0, 0, 0, 0, 0);
    }

    /** Smallest key of the next kind value (exclusive range end for {@code kind}). */
    public static Key kindEnd(byte kind) {
        return of((byte) (kind + 1), 0, 0, 0, 0, 0);
    }

    /** First REL_SIZE or REL_BLOCK key of database {@code (spc, db)} for the given kind. */
    public static Key dbStart(byte kind, int spcOid, int dbOid) {
        return of(kind, spcOid, dbOid, 0, 0, 0);
    }

    /** Exclusive end of {@link #dbStart}'s range. */
    public static Key dbEnd(byte kind, int spcOid, int dbOid) {
        long next = Integer.toUnsignedLong(dbOid) + 1;
        if (next > 0xFFFFFFFFL) {
            return of(kind, spcOid + 1, 0, 0, 0, 0);
        }
        return of(kind, spcOid, (int) next, 0, 0, 0);
    }

    /** First key of all blocks of one relation fork. */
    public static Key relBlocksStart(RelTag rel) {
        return relBlock(rel, 0);
    }

    /** Exclusive end of all blocks of one relation fork. */
    public static Key relBlocksEnd(RelTag rel) {
        Key k = relBlock(rel, 0);
        // increment the fork byte: the next fork (or next relation) sorts after every block
        int fork = (k.bytes[13] & 0xFF) + 1;
        k.bytes[13] = (byte) fork;
        return k;
    }

    public byte kind() {
        return bytes[0];
    }

    /** The relation fork of a REL_BLOCK or REL_SIZE key. */
    public RelTag relTag() {
        return new RelTag(getInt(bytes, 1), getInt(bytes, 5), getInt(bytes, 9), bytes[13]);
    }

    /** Block number of a REL_BLOCK key. */
    public int blockNo() {
        return getInt(bytes, 14);
    }

    /** spcOid of DB_DIR / RELMAP keys. */
    public int spcOid() {
        return getInt(bytes, 1);
    }

    /** dbOid of DB_DIR / RELMAP keys. */
    public int dbOid() {
        return getInt(bytes, 5);
    }

    /** SLRU kind of an SLRU_PAGE key. */
    public int slru() {
        return bytes[1];
    }

    /** Page number of an SLRU_PAGE key. */
    public int slruPageNo() {
        return getInt(bytes, 5);
    }

    /** Xid of a TWOPHASE key. */
    public int xid() {
        return getInt(bytes, 1);
    }

    /** Copies the 18 bytes into {@code dst} at {@code offset}. */
    public void writeTo(byte[] dst, int offset) {
        System.arraycopy(bytes, 0, dst, offset, LENGTH);
    }

    /** A copy of the 18 bytes. */
    public byte[] toBytes() {
        return bytes.clone();
    }

    static void putInt(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }

    /** The big-endian int at {@code off} of {@code b} (e.g. a block number inside an encoded key). */
    public static int getIntAt(byte[] b, int off) {
        return getInt(b, off);
    }

    static int getInt(byte[] b, int off) {
        return ((b[off] & 0xFF) << 24) | ((b[off + 1] & 0xFF) << 16) | ((b[off + 2] & 0xFF) << 8) | (b[off + 3] & 0xFF);
    }

    @Override
    public int compareTo(Key o) {
        return Arrays.compareUnsigned(bytes, o.bytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Key k && Arrays.equals(bytes, k.bytes);
    }

    /**
     * A well-mixed hash of the 18 bytes. Not {@code Arrays.hashCode}: its polynomial gives the
     * blocks of one relation only ~2,700 distinct values per 20,000 blocks (the last two bytes
     * weigh 31 and 1), so hash maps of keys (the page cache) degraded into tree bins.
     */
    @Override
    public int hashCode() {
        long h = (long) LONGS.get(bytes, 0) * 0x9E3779B97F4A7C15L + (long) LONGS.get(bytes, 8);
        h = h * 0x9E3779B97F4A7C15L + (((bytes[16] & 0xFF) << 8) | (bytes[17] & 0xFF));
        h = (h ^ (h >>> 30)) * 0xBF58476D1CE4E5B9L; // splitmix64's finalizer
        h = (h ^ (h >>> 27)) * 0x94D049BB133111EBL;
        return (int) (h ^ (h >>> 31) ^ (h >>> 32));
    }

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    /**
     * Bytes 0..7 of the key, big-endian. With {@link #bytes8to15()} and {@link #bytes16to17()}: the
     * 18 bytes without an array, for compact map keys (the page cache compares these instead of
     * following a pointer to the array).
     */
    public long bytes0to7() {
        return (long) LONGS.get(bytes, 0);
    }

    /** Bytes 8..15 of the key, big-endian (see {@link #bytes0to7()}). */
    public long bytes8to15() {
        return (long) LONGS.get(bytes, 8);
    }

    /** Bytes 16..17 of the key, big-endian, as 0..65535 (see {@link #bytes0to7()}). */
    public int bytes16to17() {
        return ((bytes[16] & 0xFF) << 8) | (bytes[17] & 0xFF);
    }

    @Override
    public String toString() {
        return switch (bytes[0]) {
            case REL_BLOCK -> "rel " + relTag() + " blk " + Integer.toUnsignedString(blockNo());
            case REL_SIZE -> "relsize " + relTag();
            case DB_DIR -> "dbdir " + Integer.toUnsignedString(spcOid()) + "/" + Integer.toUnsignedString(dbOid());
            case RELMAP -> "relmap " + Integer.toUnsignedString(spcOid()) + "/" + Integer.toUnsignedString(dbOid());
            case SLRU_PAGE -> "slru " + slru() + " page " + slruPageNo();
            case TWOPHASE -> "twophase " + Integer.toUnsignedString(xid());
            case CONTROL -> "control";
            case PARAMETERS -> "parameters";
            default -> "key " + HexFormat.of().formatHex(bytes);
        };
    }
}
