package io.forkline.wal.redo;

import io.forkline.storage.lsn.Lsn;
import io.forkline.wal.record.BlockReference;
import io.forkline.wal.record.WalRecord;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Verify mode: compares every block Java redid with the post-image PostgreSQL sent for it
 * ({@code wal_consistency_checking}), after the rmgr's mask and then strictly
 * ({@link NativeRedo#strictDifference}). Counts what it checked per record type (process-wide, so
 * tests can report it); on a mismatch writes a {@link RedoFixture} and throws {@link RedoMismatchException}.
 *
 * <p>Settings (system properties): {@code forkline.redo.verify} (on/off, read by the ingest),
 * {@code forkline.redo.fixtureDir} (where mismatch fixtures go; default
 * {@code <java.io.tmpdir>/forkline-redo-fixtures}), {@code forkline.redo.sampleDir} (when set, the
 * first verified record of each type is also written there, to build the replay corpus).
 * Thread-safe.
 */
public final class RedoVerifier {
    private static final Map<String, LongAdder> RECORDS = new ConcurrentHashMap<>();
    private static final Map<String, LongAdder> BLOCKS = new ConcurrentHashMap<>();
    private static final Set<String> SAMPLED = ConcurrentHashMap.newKeySet();

    /** A difference between a redone block and its post-image. */
    public record Mismatch(int blockId, int offset, boolean strict, byte actual, byte expected) {
    }

    /**
     * The result of comparing a record's redone blocks.
     *
     * @param mismatch the first mismatch, or {@code null}
     * @param compared blocks compared before it (all that had a consistency image when none differs)
     */
    public record Check(Mismatch mismatch, int compared) {
    }

    private RedoVerifier() {
    }

    /** Whether verify mode is on by default: system property {@code forkline.redo.verify} or env {@code FORKLINE_REDO_VERIFY}. */
    public static boolean verifyByDefault() {
        String p = System.getProperty("forkline.redo.verify");
        if (p == null) {
            p = System.getenv("FORKLINE_REDO_VERIFY");
        }
        return p != null && (p.equalsIgnoreCase("true") || p.equals("1") || p.equalsIgnoreCase("on"));
    }

    /**
     * Compares the redone blocks of {@code bufs} that carry a consistency image with it; counts the
     * record and its blocks (per record type) when {@code count} and all match.
     */
    public static Check compare(RedoBuffers bufs, boolean count) {
        WalRecord rec = bufs.record();
        int checked = 0;
        long visibleHeapBlock = -1;
        if (rec.rmid() == NativeRedo.RM_HEAP2 && (rec.info() & 0x70) == Heap2Redo.XLOG_HEAP2_VISIBLE
                && rec.block(1) != null) {
            visibleHeapBlock = Integer.toUnsignedLong(rec.block(1).blockNo());
        }
        for (BlockReference b : rec.blocks()) {
            byte[] page = bufs.page(b.blockId());
            if (page == null || !b.hasImage() || b.applyImage()) {
                continue;
            }
            Mismatch m = compareBlock(rec.rmid(), rec.info(), b, page, b.image(), visibleHeapBlock);
            if (m != null) {
                return new Check(m, checked);
            }
            checked++;
        }
        if (count && checked > 0) {
            String name = NativeRedo.recordName(rec.rmid(), rec.info());
            RECORDS.computeIfAbsent(name, k -> new LongAdder()).increment();
            BLOCKS.computeIfAbsent(name, k -> new LongAdder()).add(checked);
        }
        return new Check(null, checked);
    }

    static Mismatch compareBlock(int rmid, int info, BlockReference b, byte[] actual, byte[] expected,
                                 long visibleHeapBlock) {
        byte[] a = actual.clone();
        byte[] e = expected.clone();
        NativeRedo.mask(rmid, a, b.blockNo());
        NativeRedo.mask(rmid, e, b.blockNo());
        int off = PageMasks.firstDifference(a, e, 0, BufPage.BLCKSZ);
        if (off >= 0) {
            return new Mismatch(b.blockId(), off, false, a[off], e[off]);
        }
        off = NativeRedo.strictDifference(rmid, actual, expected, b.forkNum(),
                Integer.toUnsignedLong(b.blockNo()), visibleHeapBlock);
        if (off < 0 && rmid == NativeRedo.RM_GIST) {
            off = GistPage.strictDifference(actual, expected, GistRedo.changedAfterImage(info, b.blockId()));
        }
        if (off >= 0) {
            return new Mismatch(b.blockId(), off, true, actual[off], expected[off]);
        }
        return null;
    }

    /**
     * Replays a fixture: redoes its record from its base pages and compares like verify mode.
     *
     * @return the first mismatch (or none) and how many blocks were compared
     * @throws RedoException when redo itself fails
     */
    public static Check replay(RedoFixture f) {
        RedoBuffers bufs = new RedoBuffers(f.record(), b -> {
            byte[] base = f.bases().get(b.blockId());
            return base == null ? null : base.clone();
        });
        NativeRedo.redo(bufs);
        return compare(bufs, false);
    }

    /** Describes a mismatch for an error message (LSN, record type, block, offset, bytes). */
    public static String describe(WalRecord rec, Mismatch m) {
        BlockReference b = rec.block(m.blockId());
        return "redo mismatch at LSN " + Lsn.format(rec.startLsn()) + " (end " + Lsn.format(rec.endLsn()) + "), "
                + NativeRedo.recordName(rec.rmid(), rec.info()) + ", block " + m.blockId() + " (rel "
                + b.spcOid() + "/" + b.dbOid() + "/" + b.relNumber() + " fork " + b.forkNum() + " blk "
                + Integer.toUnsignedString(b.blockNo()) + "), first differing byte at offset " + m.offset()
                + (m.strict() ? " (strict check)" : " (after masking)") + ": redone 0x"
                + Integer.toHexString(m.actual() & 0xFF) + ", expected 0x" + Integer.toHexString(m.expected() & 0xFF);
    }

    /** Writes {@code f} under {@code forkline.redo.fixtureDir}; returns its path, or {@code null} when writing failed. */
    public static Path writeMismatchFixture(RedoFixture f) {
        String dir = System.getProperty("forkline.redo.fixtureDir",
                Path.of(System.getProperty("java.io.tmpdir"), "forkline-redo-fixtures").toString());
        return write(Path.of(dir), f);
    }

    /**
     * With {@code forkline.redo.sampleDir} set: writes the first fixture of each shape of each record
     * type there: a shape is the set of block ids, and whether one of the blocks is block number 0 (a
     * root or metapage), so that optional blocks and root cases get fixtures of their own (callers
     * pass only records with at least one compared block).
     */
    public static void sample(RedoFixture f) {
        String dir = System.getProperty("forkline.redo.sampleDir");
        if (dir == null) {
            return;
        }
        WalRecord r = f.record();
        String name = NativeRedo.recordName(r.rmid(), r.info()).replace('/', '_').replace('+', '_');
        StringBuilder shape = new StringBuilder(name);
        boolean block0 = false;
        for (BlockReference b : r.blocks()) {
            shape.append(' ').append(b.blockId());
            block0 |= b.blockNo() == 0;
        }
        if (SAMPLED.add(shape.append(block0 ? " block0" : "").toString())) {
            write(Path.of(dir), new RedoFixture("sample " + name, r, f.bases()));
        }
    }

    private static Path write(Path dir, RedoFixture f) {
        WalRecord r = f.record();
        String name = NativeRedo.recordName(r.rmid(), r.info()).replace('/', '_').replace('+', '_') + "-"
                + Long.toHexString(r.startLsn()).toUpperCase() + ".fixture";
        try {
            Files.createDirectories(dir);
            Path file = dir.resolve(name);
            try (OutputStream out = Files.newOutputStream(file)) {
                f.write(out);
            }
            return file;
        } catch (IOException e) {
            return null;
        }
    }

    /** Records verified so far in this process, per record type (sorted by name). */
    public static Map<String, Long> recordsVerified() {
        Map<String, Long> m = new TreeMap<>();
        RECORDS.forEach((k, v) -> m.put(k, v.sum()));
        return m;
    }

    /** Blocks verified so far in this process, per record type. */
    public static Map<String, Long> blocksVerified() {
        Map<String, Long> m = new TreeMap<>();
        BLOCKS.forEach((k, v) -> m.put(k, v.sum()));
        return m;
    }

    /** Sum of {@link #recordsVerified()}. */
    public static long totalRecordsVerified() {
        return RECORDS.values().stream().mapToLong(LongAdder::sum).sum();
    }
}
