package io.forkline.storage.store;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * {@link PageDelta#encode} of the page versions ingest writes most: a heap page of
 * {@code pgbench_accounts}-like tuples (24-byte header, aid/bid int4, abalance int4 = 0, filler
 * char(84) of blanks; 128 bytes with MAXALIGN) after {@code added} more tuples were inserted since
 * its base image (line pointers grow from the front, tuples from the back, {@code pd_lower} /
 * {@code pd_upper} and one byte of {@code pd_lsn} change). Score: microseconds per encode.
 *
 * <p>{@code encode} is the store's encoder (eight bytes compared at a time while extending a
 * changed run); {@code encodeByteByByte} is the encoder it replaced, kept here as the peer measured
 * in the same run. Both emit the same bytes ({@code PageDeltaTest}).
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar PageDeltaBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Threads(1)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class PageDeltaBenchmark {
    /** Tuples on the base image. */
    @Param({"10"})
    public int baseTuples;
    /** Tuples inserted since the base (the delta grows with them until the budget forces a new base). */
    @Param({"1", "8", "30"})
    public int added;
    /**
     * When not 0: a full page of 60 tuples whose every second tuple, up to this many, was deleted
     * since the base (the quickstart's DELETE: {@code t_xmax}, {@code t_infomask2}, {@code t_infomask}
     * change, two runs per tuple); {@code added} is then ignored.
     */
    @Param({"0"})
    public int deleted;

    private byte[] base;
    private byte[] page;
    private byte[] scratch;

    @Setup
    public void setUp() {
        if (deleted > 0) {
            base = heapPage(60);
            page = base.clone();
            for (int t = 0; t < 60 && t / 2 < deleted; t += 2) {
                int o = PageDelta.PAGE_SIZE - 128 * (t + 1);
                putInt(page, o + 4, 900 + t);    // t_xmax
                page[o + 19] = 0x20;             // t_infomask2: HEAP_KEYS_UPDATED
                page[o + 21] = 0x00;             // t_infomask: HEAP_XMAX_INVALID cleared
            }
            page[0] = 7;                         // pd_lsn
            page[20] = 1;                        // pd_prune_xid
        } else {
            base = heapPage(baseTuples);
            page = heapPage(baseTuples + added);
        }
        scratch = new byte[PageDelta.PAGE_SIZE - 1];
    }

    /** A heap page of {@code n} pgbench_accounts-like tuples (PageHeaderData 24 bytes, ItemIdData 4 bytes each). */
    static byte[] heapPage(int n) {
        byte[] p = new byte[PageDelta.PAGE_SIZE];
        int upper = PageDelta.PAGE_SIZE;
        for (int t = 0; t < n; t++) {
            upper -= 128;
            int o = upper;
            putInt(p, o, 734 + t / 4);          // t_xmin
            putInt(p, o + 8, 0);                // t_cid
            putInt(p, o + 12, 0);               // ctid block
            p[o + 16] = (byte) (t + 1);         // ctid offset
            p[o + 18] = 4;                      // t_infomask2: 4 attributes
            p[o + 20] = 0x02;                   // t_infomask: HEAP_XMAX_INVALID (low byte 0x00, high 0x08)
            p[o + 21] = 0x08;
            p[o + 22] = 24;                     // t_hoff
            putInt(p, o + 24, 1000 + t);        // aid
            putInt(p, o + 28, 1);               // bid
            putInt(p, o + 32, 0);               // abalance
            p[o + 36] = (byte) ((85 << 1) | 1); // 1-byte varlena header of filler
            Arrays.fill(p, o + 37, o + 121, (byte) ' ');
            int lp = 24 + 4 * t;                // ItemIdData: lp_off 15 bits, lp_flags 2, lp_len 15
            int item = o | (1 << 15) | (121 << 17);
            putInt(p, lp, item);
        }
        p[0] = (byte) n;                        // pd_lsn changes with every insert
        putShort(p, 12, 24 + 4 * n);            // pd_lower
        putShort(p, 14, upper);                 // pd_upper
        putShort(p, 16, PageDelta.PAGE_SIZE);   // pd_special
        putShort(p, 18, PageDelta.PAGE_SIZE | 4); // pd_pagesize_version
        return p;
    }

    private static void putInt(byte[] b, int o, int v) {
        b[o] = (byte) v;
        b[o + 1] = (byte) (v >>> 8);
        b[o + 2] = (byte) (v >>> 16);
        b[o + 3] = (byte) (v >>> 24);
    }

    private static void putShort(byte[] b, int o, int v) {
        b[o] = (byte) v;
        b[o + 1] = (byte) (v >>> 8);
    }

    @Benchmark
    public byte[] encode() {
        return PageDelta.encode(base, 42, null, page, PageDelta.PAGE_SIZE - 1, scratch);
    }

    @Benchmark
    public int encodeByteByByte() {
        return byteByByte(base, page, scratch);
    }

    /** The replaced encoder's op loop (same ops, written into {@code out}); returns the delta's length. */
    static int byteByByte(byte[] base, byte[] page, byte[] out) {
        int o = PageDelta.HEADER_LENGTH;
        int pos = 0;
        while (pos < PageDelta.PAGE_SIZE) {
            int rel = Arrays.mismatch(base, pos, PageDelta.PAGE_SIZE, page, pos, PageDelta.PAGE_SIZE);
            if (rel < 0) {
                break;
            }
            int start = pos + rel;
            int end = start + 1;
            int equal = 0;
            int i = end;
            while (i < PageDelta.PAGE_SIZE && equal < PageDelta.MIN_GAP) {
                if (base[i] == page[i]) {
                    equal++;
                } else {
                    equal = 0;
                    end = i + 1;
                }
                i++;
            }
            int count = end - start;
            o = putVarint(out, o, start - pos);
            o = putVarint(out, o, count);
            System.arraycopy(page, start, out, o, count);
            o += count;
            pos = end;
        }
        return o;
    }

    private static int putVarint(byte[] b, int off, int v) {
        while (v >= 0x80) {
            b[off++] = (byte) (v | 0x80);
            v >>>= 7;
        }
        b[off++] = (byte) v;
        return off;
    }
}
