package io.forkline.wal.record;

import static io.forkline.wal.record.XLogPageHeaderDescriptor.LONG_HEADER_LENGTH;
import static io.forkline.wal.record.XLogPageHeaderDescriptor.SHORT_HEADER_LENGTH;
import static io.forkline.wal.record.XLogPageHeaderDescriptor.WAL_PAGE_SIZE;
import static io.forkline.wal.record.XLogPageHeaderDescriptor.WAL_SEGMENT_SIZE;
import static io.forkline.wal.record.XLogPageHeaderDescriptor.XLP_FIRST_IS_CONTRECORD;
import static io.forkline.wal.record.XLogPageHeaderDescriptor.XLP_FIRST_IS_OVERWRITE_CONTRECORD;
import static io.forkline.wal.record.XLogPageHeaderDescriptor.XLP_LONG_HEADER;
import static io.forkline.wal.record.XLogRecordDescriptor.HEADER_LENGTH;
import static io.forkline.wal.record.XLogRecordDescriptor.maxAlign;

import io.forkline.storage.lsn.Lsn;
import java.util.zip.CRC32C;

/**
 * Streaming decoder of PostgreSQL 15 WAL: raw WAL bytes in (as they lie in {@code pg_wal} segment
 * files or arrive in a physical replication stream), {@link WalRecord}s out.
 *
 * <p>Follows {@code XLogDecodeNextRecord}, {@code XLogReaderValidatePageHeader},
 * {@code ValidXLogRecordHeader}, {@code ValidXLogRecord}, {@code XLogFindNextRecord} and
 * {@code DecodeXLogRecord} of PostgreSQL 15 {@code src/backend/access/transam/xlogreader.c}, for the
 * default geometry (8192-byte WAL pages, 16 MiB segments).
 *
 * <pre>
 *  feed(bytes at position()) ──► [page headers validated and stripped, records reassembled
 *                                  across pages and segments, CRC-32C checked, decoded]
 *                                                          ──► next(): WalRecord or null
 * </pre>
 *
 * <ul>
 *   <li><b>Start.</b> {@code startLsn} is either page-aligned (the page header is read and
 *       validated; if the page begins with the continuation of an earlier record,
 *       {@code XLP_FIRST_IS_CONTRECORD}, that continuation, possibly spanning several pages, is
 *       skipped and decoding begins with the first record that starts after it), or the exact,
 *       8-byte aligned start of a record inside a page (that page's header is not seen).</li>
 *   <li><b>Input.</b> {@link #feed(byte[], int, int)} appends bytes that continue the stream
 *       exactly at {@link #position()}; chunks may split anywhere (inside page or record headers).
 *       The bytes are copied; the caller may reuse its buffer.</li>
 *   <li><b>Output.</b> {@link #next()} returns the next complete record or {@code null} when more
 *       bytes are needed. {@link WalRecord#endLsn()} is PostgreSQL's {@code EndRecPtr}: the record's
 *       start plus its length with page headers counted, rounded up to 8 ({@code MAXALIGN}); a page
 *       boundary when the record ends exactly at one.</li>
 *   <li><b>XLOG_SWITCH</b> (rmgr XLOG, info {@code 0x40}): its {@code endLsn} is the start of the
 *       next segment, and the decoder discards the fed bytes up to there (the unused rest of the
 *       segment). A replication stream that jumps over them instead can say so with
 *       {@link #feed(long, byte[], int, int)}; or the caller builds a new decoder at the next
 *       segment.</li>
 *   <li><b>End of written WAL.</b> A zero {@code xl_tot_len} where a record should start (a WAL
 *       file zero-filled past its last record) makes {@code next()} return {@code null} from then
 *       on; bytes fed afterwards are counted in {@link #position()} but dropped. Fed bytes never
 *       change, so to read WAL written there later, construct a new decoder at
 *       {@link #nextRecordLsn()}.</li>
 *   <li><b>Errors.</b> Anything {@code xlogreader.c} rejects (page magic, info bits, long-header
 *       geometry, {@code xlp_pageaddr} not equal to the page's LSN, timeline going backwards, a
 *       bad {@code xl_tot_len}, {@code xl_rmid}, {@code xl_prev}, CRC, continuation flag or
 *       {@code xlp_rem_len}, fragment headers, or an image that cannot be restored) throws
 *       {@link WalDecodeException} naming the LSN of the record (or page) and the bad value. The
 *       decoder is then <b>unusable</b>: every later call of {@code next} or {@code feed} throws
 *       {@link IllegalStateException}.</li>
 * </ul>
 *
 * <p>Memory: one input buffer (grows to the largest unconsumed run, at most one WAL page plus the
 * chunk being fed) and one reassembly buffer (grows to the largest multi-page record). Per record
 * it allocates only the outputs. Not thread-safe: one thread feeds and reads.
 */
public final class WalDecoder {
    private static final int ST_FIRST_PAGE = 0;   // page-aligned start: read header, skip continuation
    private static final int ST_SKIP = 1;         // discard bytes up to skipTo, then afterSkip
    private static final int ST_RECORD_START = 2; // at a record start (or a page start before one)
    private static final int ST_RECORD_BODY = 3;  // reassembling a record into rec
    private static final int ST_END = 4;          // zero xl_tot_len seen: no more records
    private static final int INITIAL_BUFFER = 64 * 1024;

    private final RecordDecoder recordDecoder = new RecordDecoder();
    private final CRC32C crc = new CRC32C();

    // Input: in[inPos, inLimit) holds the unconsumed fed bytes; in[inPos] is at LSN pos.
    private byte[] in = new byte[INITIAL_BUFFER];
    private int inPos;
    private int inLimit;
    private long pos;
    private long fedEnd;

    private int state;
    private int afterSkip;
    private long skipTo;
    /** Skipping the continuation of a record begun before the start LSN ({@code XLP_FIRST_IS_CONTRECORD}). */
    private boolean skippingContinuation;

    // Last page header read.
    private int pageInfo;
    private long pageRemLen;
    private long latestPageLsn = -1;
    private long latestPageTli;
    private long systemId;

    // Records.
    private long nextRecPtr;
    private long prevRecPtr;      // start of the last decoded record (DecodeRecPtr)
    private boolean randAccess = true;

    // Record under reassembly.
    private byte[] rec = new byte[2 * WAL_PAGE_SIZE];
    private long recStart;
    private long recTotal;
    private int recGot;
    private boolean recHeaderChecked;

    private WalDecodeException failure;

    /**
     * @param startLsn where decoding begins: a WAL page boundary, or the exact start of a record
     *                 (8-byte aligned, past the page header). The first byte fed must be the one at
     *                 this LSN.
     * @throws IllegalArgumentException naming the LSN when it is neither (not 8-byte aligned, or
     *                                  inside a page header)
     */
    public WalDecoder(long startLsn) {
        int pageOff = (int) Long.remainderUnsigned(startLsn, WAL_PAGE_SIZE);
        if (startLsn == 0 || (startLsn & 7) != 0 || (pageOff != 0 && pageOff < SHORT_HEADER_LENGTH)
                || (pageOff != 0 && pageOff < LONG_HEADER_LENGTH
                && Long.remainderUnsigned(startLsn, WAL_SEGMENT_SIZE) == pageOff)) {
            throw new IllegalArgumentException("WAL decoding cannot start at " + Lsn.format(startLsn)
                    + ": expected a page boundary or a record start (8-byte aligned, past the page header)");
        }
        this.pos = startLsn;
        this.fedEnd = startLsn;
        this.nextRecPtr = startLsn;
        this.state = pageOff == 0 ? ST_FIRST_PAGE : ST_RECORD_START;
    }

    /**
     * Appends {@code len} WAL bytes {@code buf[off, off + len)} that continue the stream at
     * {@link #position()}. The bytes are copied.
     *
     * @throws IndexOutOfBoundsException when the range does not fit {@code buf}
     * @throws IllegalStateException     when the decoder failed earlier
     */
    public void feed(byte[] buf, int off, int len) {
        java.util.Objects.checkFromIndexSize(off, len, buf.length);
        checkUsable();
        fedEnd += len;
        if (state == ST_END) {
            return;
        }
        if (in.length - inLimit < len) {
            int live = inLimit - inPos;
            if (in.length - live < len) {
                byte[] bigger = new byte[Math.max(in.length * 2, live + len)];
                System.arraycopy(in, inPos, bigger, 0, live);
                in = bigger;
            } else {
                System.arraycopy(in, inPos, in, 0, live);
            }
            inPos = 0;
            inLimit = live;
        }
        System.arraycopy(buf, off, in, inLimit, len);
        inLimit += len;
    }

    /**
     * Appends WAL bytes that start at {@code lsn}, which is either {@link #position()} (then this is
     * {@link #feed(byte[], int, int)}) or, right after an {@code XLOG_SWITCH} record, any LSN up to
     * the start of the next segment: the skipped bytes are the unused rest of the segment.
     *
     * @throws IllegalArgumentException naming both LSNs when {@code lsn} is anything else
     * @throws IllegalStateException     when the decoder failed earlier
     */
    public void feed(long lsn, byte[] buf, int off, int len) {
        checkUsable();
        if (lsn != fedEnd) {
            boolean jumpOverSwitchTail = state == ST_SKIP && afterSkip == ST_RECORD_START
                    && Long.compareUnsigned(lsn, fedEnd) > 0 && Long.compareUnsigned(lsn, skipTo) <= 0
                    && Long.remainderUnsigned(skipTo, WAL_SEGMENT_SIZE) == 0;
            if (!jumpOverSwitchTail) {
                throw new IllegalArgumentException("WAL bytes at " + Lsn.format(lsn) + " do not continue the stream at "
                        + Lsn.format(fedEnd) + (state == ST_SKIP ? " (skipping to " + Lsn.format(skipTo) + ")" : ""));
            }
            inPos = 0;
            inLimit = 0;
            pos = lsn;
            fedEnd = lsn;
        }
        feed(buf, off, len);
    }

    /** The LSN up to which bytes have been fed (the LSN the next fed byte is at). */
    public long position() {
        return fedEnd;
    }

    /**
     * Where the next record begins, as PostgreSQL's {@code NextRecPtr}: the {@code endLsn} of the
     * last record returned (the start LSN given to the constructor before that). When that is a page
     * boundary the record itself starts after the page header.
     */
    public long nextRecordLsn() {
        return nextRecPtr;
    }

    /**
     * Whether the bytes fed so far hold part of a record that {@link #next()} has not returned, so
     * that {@link #position()} is not a point every complete record before which was returned. Meant
     * to be asked after {@code next()} returned {@code null}. True:
     * <ul>
     *   <li>while a record has been started but not completed: at least one byte of its header or
     *       body was fed (including the page headers inside it);</li>
     *   <li>while skipping the continuation of a record begun before the start LSN
     *       ({@code XLP_FIRST_IS_CONTRECORD} at a page-aligned start), from its page header on;</li>
     *   <li>after the end of written WAL (a zero {@code xl_tot_len}), since the bytes fed then are
     *       dropped, not decoded.</li>
     * </ul>
     * False when everything fed after the last returned record is alignment padding, the unused rest
     * of a segment after {@code XLOG_SWITCH}, or (part of) the page header before the next record.
     *
     * @throws IllegalStateException when the decoder failed earlier (its state says nothing then)
     */
    public boolean hasPartialRecord() {
        checkUsable();
        return switch (state) {
            // At a page boundary: only (part of) the page header was fed, unless continuation pages
            // were skipped to get here.
            case ST_FIRST_PAGE -> skippingContinuation || beyondPageHeader();
            // Padding after a record, or a switch's segment tail, hold no record.
            case ST_SKIP -> skippingContinuation || Long.compareUnsigned(fedEnd, skipTo) > 0;
            case ST_RECORD_START -> Long.remainderUnsigned(pos, WAL_PAGE_SIZE) == 0 ? beyondPageHeader() : available() > 0;
            case ST_RECORD_BODY, ST_END -> true;
            default -> throw new IllegalStateException("unknown decoder state " + state);
        };
    }

    /** At a page boundary: whether more than the page's header is in the input (some record bytes). */
    private boolean beyondPageHeader() {
        int hdrLen = Long.remainderUnsigned(pos, WAL_SEGMENT_SIZE) == 0 ? LONG_HEADER_LENGTH : SHORT_HEADER_LENGTH;
        return available() > hdrLen;
    }

    /**
     * Decodes the next record.
     *
     * @return the next complete record, or {@code null} when more bytes must be fed first (or the
     * end of written WAL was reached, see the class comment)
     * @throws WalDecodeException    naming the LSN and the problem when the WAL is invalid; the
     *                               decoder is unusable afterwards
     * @throws IllegalStateException when the decoder failed earlier
     */
    public WalRecord next() {
        checkUsable();
        try {
            return advance();
        } catch (WalDecodeException e) {
            failure = e;
            throw e;
        } catch (RuntimeException e) {
            failure = new WalDecodeException(state == ST_RECORD_BODY ? recStart : pos, "WAL decoding failed: " + e, e);
            throw failure;
        }
    }

    private void checkUsable() {
        if (failure != null) {
            throw new IllegalStateException("WAL decoder is unusable after an earlier error: " + failure.getMessage(),
                    failure);
        }
    }

    private int available() {
        return inLimit - inPos;
    }

    private void consume(int n) {
        inPos += n;
        pos += n;
    }

    private WalRecord advance() {
        for (;;) {
            switch (state) {
                case ST_FIRST_PAGE -> {
                    if (!readPageHeader()) {
                        return null;
                    }
                    if ((pageInfo & XLP_FIRST_IS_CONTRECORD) != 0) {
                        // XLogFindNextRecord: skip the continuation of a record begun earlier.
                        long pageStart = Lsn.pageStart(pos);
                        int hdrLen = (int) (pos - pageStart);
                        if (maxAlign(pageRemLen) >= WAL_PAGE_SIZE - hdrLen) {
                            skipTo = pageStart + WAL_PAGE_SIZE;
                            afterSkip = ST_FIRST_PAGE;
                        } else {
                            skipTo = pos + maxAlign(pageRemLen);
                            afterSkip = ST_RECORD_START;
                        }
                        skippingContinuation = true;
                        state = ST_SKIP;
                    } else {
                        skippingContinuation = false;
                        state = ST_RECORD_START;
                    }
                }
                case ST_SKIP -> {
                    long left = skipTo - pos;
                    int n = (int) Math.min(available(), left);
                    consume(n);
                    if (pos != skipTo) {
                        return null;
                    }
                    if (afterSkip == ST_RECORD_START) {
                        nextRecPtr = skipTo;
                        skippingContinuation = false;
                    }
                    state = afterSkip;
                }
                case ST_RECORD_START -> {
                    WalRecord r = recordStart();
                    if (r != null || state == ST_RECORD_START || state == ST_END) {
                        return r;
                    }
                }
                case ST_RECORD_BODY -> {
                    WalRecord r = recordBody();
                    if (r != null || state == ST_RECORD_BODY) {
                        return r;
                    }
                }
                case ST_END -> {
                    return null;
                }
                default -> throw new IllegalStateException("unknown decoder state " + state);
            }
        }
    }

    /**
     * At a record start: reads the page header first if at a page boundary, then the record
     * header. Returns a record that lies wholly in the input on one page; else moves to
     * {@code ST_RECORD_BODY}, or stays (returning null) when bytes are missing.
     */
    private WalRecord recordStart() {
        if (Long.remainderUnsigned(pos, WAL_PAGE_SIZE) == 0) {
            long pageLsn = pos;
            if (!readPageHeader()) {
                return null;
            }
            if ((pageInfo & XLP_FIRST_IS_CONTRECORD) != 0) {
                throw new WalDecodeException(pageLsn, "page has XLP_FIRST_IS_CONTRECORD where a new record must start"
                        + " (contrecord is requested by " + Lsn.format(pos) + ")");
            }
        }
        if (available() < 4) {
            return null;
        }
        long tot = XLogRecordDescriptor.totalLength(in, inPos);
        if (tot == 0) {
            state = ST_END;
            inPos = inLimit;
            return null;
        }
        if (tot < HEADER_LENGTH) {
            throw new WalDecodeException(pos, "invalid record length: expected at least " + HEADER_LENGTH + ", got " + tot);
        }
        if (tot > XLogRecordDescriptor.MAX_RECORD_LENGTH) {
            throw new WalDecodeException(pos, "record length " + tot + " too long");
        }
        int pageLeft = WAL_PAGE_SIZE - (int) Long.remainderUnsigned(pos, WAL_PAGE_SIZE);
        boolean headerChecked = false;
        if (pageLeft >= HEADER_LENGTH) {
            if (available() < HEADER_LENGTH) {
                return null;
            }
            validateHeader(in, inPos, pos);
            headerChecked = true;
            if (tot <= pageLeft) {
                if (available() < tot) {
                    return null;
                }
                // Fast path: the whole record is on this page and in the input buffer.
                int off = inPos;
                long start = pos;
                validateCrc(in, off, (int) tot, start);
                consume((int) tot);
                return finishRecord(in, off, (int) tot, start);
            }
        }
        recStart = pos;
        recTotal = tot;
        recGot = 0;
        recHeaderChecked = headerChecked;
        state = ST_RECORD_BODY;
        return null;
    }

    /** Reassembles a record that spans pages; returns it when complete, else null. */
    private WalRecord recordBody() {
        for (;;) {
            if (Long.remainderUnsigned(pos, WAL_PAGE_SIZE) == 0) {
                long pageLsn = pos;
                if (!readPageHeader()) {
                    return null;
                }
                if ((pageInfo & XLP_FIRST_IS_OVERWRITE_CONTRECORD) != 0) {
                    // The record was aborted (its end never reached disk) and WAL continues here
                    // with a new record (XLOG_OVERWRITE_CONTRECORD); restart at this page.
                    if ((pageInfo & XLP_FIRST_IS_CONTRECORD) != 0) {
                        throw new WalDecodeException(pageLsn, "page has both XLP_FIRST_IS_OVERWRITE_CONTRECORD and"
                                + " XLP_FIRST_IS_CONTRECORD");
                    }
                    state = ST_RECORD_START;
                    return null;
                }
                if ((pageInfo & XLP_FIRST_IS_CONTRECORD) == 0) {
                    throw new WalDecodeException(recStart, "record continues on page " + Lsn.format(pageLsn)
                            + ", but there is no contrecord flag there");
                }
                long expected = recTotal - recGot;
                if (pageRemLen == 0 || pageRemLen != expected) {
                    throw new WalDecodeException(recStart, "invalid contrecord length " + pageRemLen + " (expected "
                            + expected + ") on page " + Lsn.format(pageLsn) + " for record");
                }
            }
            int avail = available();
            if (avail == 0) {
                return null;
            }
            int pageLeft = WAL_PAGE_SIZE - (int) Long.remainderUnsigned(pos, WAL_PAGE_SIZE);
            int n = (int) Math.min(Math.min(avail, pageLeft), recTotal - recGot);
            ensureRecCapacity(recGot + n);
            System.arraycopy(in, inPos, rec, recGot, n);
            consume(n);
            recGot += n;
            if (!recHeaderChecked && recGot >= HEADER_LENGTH) {
                validateHeader(rec, 0, recStart);
                recHeaderChecked = true;
            }
            if (recGot == recTotal) {
                validateCrc(rec, 0, recGot, recStart);
                return finishRecord(rec, 0, recGot, recStart);
            }
        }
    }

    private void ensureRecCapacity(int needed) {
        if (rec.length < needed) {
            long grown = Math.max(needed, Math.min(recTotal, 2L * rec.length));
            byte[] bigger = new byte[(int) grown];
            System.arraycopy(rec, 0, bigger, 0, recGot);
            rec = bigger;
        }
    }

    /** Computes the end LSN, decodes, and positions the stream at the next record. */
    private WalRecord finishRecord(byte[] b, int off, int tot, long start) {
        long end = maxAlign(pos);
        int rmid = XLogRecordDescriptor.rmid(b, off);
        int info = XLogRecordDescriptor.info(b, off);
        if (XLogRecordDescriptor.isSwitch(rmid, info) && Long.remainderUnsigned(end, WAL_SEGMENT_SIZE) != 0) {
            end = Lsn.nextSegmentStart(end);
        }
        WalRecord r = recordDecoder.decode(b, off, tot, start, end);
        prevRecPtr = start;
        randAccess = false;
        nextRecPtr = end;
        skipTo = end;
        afterSkip = ST_RECORD_START;
        state = ST_SKIP;
        return r;
    }

    /** {@code ValidXLogRecordHeader}: length, resource manager and prev-link of the header at {@code b[off]}. */
    private void validateHeader(byte[] b, int off, long lsn) {
        long tot = XLogRecordDescriptor.totalLength(b, off);
        if (tot < HEADER_LENGTH) {
            throw new WalDecodeException(lsn, "invalid record length: expected at least " + HEADER_LENGTH + ", got " + tot);
        }
        int rmid = XLogRecordDescriptor.rmid(b, off);
        if (!XLogRecordDescriptor.isValidRmid(rmid)) {
            throw new WalDecodeException(lsn, "invalid resource manager ID " + rmid);
        }
        long prev = XLogRecordDescriptor.prev(b, off);
        if (randAccess) {
            if (Long.compareUnsigned(prev, lsn) >= 0) {
                throw new WalDecodeException(lsn, "record with incorrect prev-link " + Lsn.format(prev)
                        + " (not before the record)");
            }
        } else if (prev != prevRecPtr) {
            throw new WalDecodeException(lsn, "record with incorrect prev-link " + Lsn.format(prev) + " (expected "
                    + Lsn.format(prevRecPtr) + ")");
        }
    }

    /** {@code ValidXLogRecord}: CRC-32C over the data after the header, then the header up to {@code xl_crc}. */
    private void validateCrc(byte[] b, int off, int tot, long lsn) {
        crc.reset();
        crc.update(b, off + HEADER_LENGTH, tot - HEADER_LENGTH);
        crc.update(b, off, XLogRecordDescriptor.CRC_OFFSET);
        int computed = (int) crc.getValue();
        int stored = XLogRecordDescriptor.crc(b, off);
        if (computed != stored) {
            throw new WalDecodeException(lsn, "incorrect resource manager data checksum in record: stored 0x"
                    + Integer.toHexString(stored) + ", computed 0x" + Integer.toHexString(computed));
        }
    }

    /**
     * Reads, validates and consumes the page header at {@code pos} (a page boundary), as
     * {@code XLogReaderValidatePageHeader}. Returns false, consuming nothing, when the whole header
     * has not been fed yet.
     */
    private boolean readPageHeader() {
        int avail = available();
        if (avail < SHORT_HEADER_LENGTH) {
            return false;
        }
        int info = XLogPageHeaderDescriptor.info(in, inPos);
        int hdrLen = XLogPageHeaderDescriptor.headerLength(info);
        if (avail < hdrLen) {
            return false;
        }
        long pageLsn = pos;
        int magic = XLogPageHeaderDescriptor.magic(in, inPos);
        long tli = XLogPageHeaderDescriptor.tli(in, inPos);
        if (magic != XLogPageHeaderDescriptor.XLOG_PAGE_MAGIC) {
            throw new WalDecodeException(pageLsn, String.format("invalid magic number %04X (expected %04X)",
                    magic, XLogPageHeaderDescriptor.XLOG_PAGE_MAGIC) + where(pageLsn, tli));
        }
        if ((info & ~XLogPageHeaderDescriptor.XLP_ALL_FLAGS) != 0) {
            throw new WalDecodeException(pageLsn, String.format("invalid info bits %04X", info) + where(pageLsn, tli));
        }
        if ((info & XLP_LONG_HEADER) != 0) {
            long sysid = XLogPageHeaderDescriptor.sysid(in, inPos);
            int segSize = XLogPageHeaderDescriptor.segSize(in, inPos);
            int blcksz = XLogPageHeaderDescriptor.xlogBlcksz(in, inPos);
            if (systemId != 0 && sysid != systemId) {
                throw new WalDecodeException(pageLsn, "WAL file is from different database system: system identifier "
                        + Long.toUnsignedString(sysid) + ", earlier segments had " + Long.toUnsignedString(systemId)
                        + where(pageLsn, tli));
            }
            if (segSize != WAL_SEGMENT_SIZE) {
                throw new WalDecodeException(pageLsn, "unsupported WAL segment size " + segSize + " in page header (expected "
                        + WAL_SEGMENT_SIZE + ")" + where(pageLsn, tli));
            }
            if (blcksz != WAL_PAGE_SIZE) {
                throw new WalDecodeException(pageLsn, "unsupported XLOG_BLCKSZ " + blcksz + " in page header (expected "
                        + WAL_PAGE_SIZE + ")" + where(pageLsn, tli));
            }
            systemId = sysid;
        } else if (Long.remainderUnsigned(pageLsn, WAL_SEGMENT_SIZE) == 0) {
            throw new WalDecodeException(pageLsn, String.format("invalid info bits %04X", info)
                    + " (first page of a segment needs XLP_LONG_HEADER)" + where(pageLsn, tli));
        }
        long pageAddr = XLogPageHeaderDescriptor.pageAddr(in, inPos);
        if (pageAddr != pageLsn) {
            throw new WalDecodeException(pageLsn, "unexpected pageaddr " + Lsn.format(pageAddr) + where(pageLsn, tli));
        }
        if (latestPageLsn != -1 && Long.compareUnsigned(pageLsn, latestPageLsn) > 0 && tli < latestPageTli) {
            throw new WalDecodeException(pageLsn, "out-of-sequence timeline ID " + tli + " (after " + latestPageTli
                    + ")" + where(pageLsn, tli));
        }
        latestPageLsn = pageLsn;
        latestPageTli = tli;
        pageInfo = info;
        pageRemLen = XLogPageHeaderDescriptor.remLen(in, inPos);
        consume(hdrLen);
        return true;
    }

    /** Names the segment file and offset of a page for error messages (built only on error). */
    private static String where(long pageLsn, long tli) {
        return " in WAL segment " + Lsn.walFileName((int) tli, Lsn.segmentNo(pageLsn)) + ", offset "
                + Long.remainderUnsigned(pageLsn, WAL_SEGMENT_SIZE) + ", page";
    }
}
