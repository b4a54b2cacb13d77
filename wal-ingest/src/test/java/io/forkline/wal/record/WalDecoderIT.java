package io.forkline.wal.record;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.forkline.compute.postgres.PostgresInstallation;
import io.forkline.storage.lsn.Lsn;
import io.forkline.wal.testing.TestCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Decodes the WAL of a real PostgreSQL 15 cluster (pgbench, inserts, TOASTed ~20 kB rows, a 50 kB
 * logical message, {@code pg_switch_wal}, all four {@code wal_compression} settings, run with
 * {@code wal_consistency_checking=all}) from its {@code pg_wal} segment files, fed in random chunks,
 * and compares every record with {@code pg_waldump -b}.
 */
class WalDecoderIT {
    private static final String MARKER = "forkline-marker-7f3a9c1d";
    private static final int SEG = XLogPageHeaderDescriptor.WAL_SEGMENT_SIZE;
    private static final int PAGE = XLogPageHeaderDescriptor.WAL_PAGE_SIZE;
    private static final String[] RMGR_NAMES = {"XLOG", "Transaction", "Storage", "CLOG", "Database", "Tablespace",
        "MultiXact", "RelMap", "Standby", "Heap2", "Heap", "Btree", "Hash", "Gin", "Gist", "Sequence", "SPGist",
        "BRIN", "CommitTs", "ReplicationOrigin", "Generic", "LogicalMessage"};
    private static final List<String> FORKS = List.of("main", "fsm", "vm", "init");

    private static TestCluster cluster;
    private static long insertLsnAfterCommit;
    /** Segment number to the segment file's bytes. */
    private static final TreeMap<Long, byte[]> segments = new TreeMap<>();
    private static final List<OracleRecord> oracle = new ArrayList<>();
    private static long walEnd;

    record OracleBlock(int id, int spc, int db, int rel, int fork, int blk, boolean fpw, boolean apply, String method) {
    }

    record OracleRecord(long lsn, String rmgr, long xid, long totLen, boolean isSwitch, List<OracleBlock> blocks) {
    }

    @BeforeAll
    static void runClusterAndWorkload() throws Exception {
        cluster = TestCluster.create("WalDecoderIT");
        PostgresInstallation pg = cluster.pg();
        Path dir = cluster.dir();
        cluster.initdb();
        cluster.start("listen_addresses=", "wal_consistency_checking=all", "wal_compression=lz4", "wal_level=replica",
                "fsync=off", "max_wal_size=4GB", "wal_keep_size=1GB", "checkpoint_timeout=3600", "autovacuum=off");
        List<String> conn = cluster.connectionArgs();

        List<String> pgbench = new ArrayList<>(List.of("-i", "-s", "1", "-q"));
        pgbench.addAll(conn);
        pgbench.add("postgres");
        PostgresInstallation.runCommand(Duration.ofSeconds(120), pg.command("pgbench", pgbench.toArray(String[]::new)));

        String sql = String.join("\n",
                "SET wal_compression = 'pglz';",
                "CREATE TABLE marker_t (id int, note text);",
                "INSERT INTO marker_t VALUES (1, '" + MARKER + "');",
                "INSERT INTO marker_t SELECT g, 'pglz row ' || g FROM generate_series(2, 1500) g;",
                "SET wal_compression = 'zstd';",
                "INSERT INTO marker_t SELECT g, 'zstd row ' || g FROM generate_series(1501, 3000) g;",
                "CREATE INDEX marker_t_id ON marker_t (id);",
                "SET wal_compression = 'off';",
                "CREATE TABLE big_t (id int, payload text);",
                "ALTER TABLE big_t ALTER COLUMN payload SET STORAGE EXTERNAL;",
                "INSERT INTO big_t SELECT g, repeat(md5(g::text), 640) FROM generate_series(1, 30) g;",
                "SELECT pg_logical_emit_message(false, 'forkline', repeat('x', 50000));",
                "SELECT pg_switch_wal();",
                "SET wal_compression = 'lz4';",
                "DO $$ BEGIN FOR i IN 1..2000 LOOP INSERT INTO marker_t VALUES (i, 'loop'); END LOOP; END $$;",
                "UPDATE marker_t SET note = note || ' updated' WHERE id % 10 = 0;",
                "DELETE FROM marker_t WHERE id % 7 = 0;",
                "SELECT pg_switch_wal();",
                "INSERT INTO marker_t VALUES (-1, 'probe');",
                "SELECT 'INSERT_LSN=' || pg_current_wal_insert_lsn();");
        Path sqlFile = dir.resolve("workload.sql");
        Files.writeString(sqlFile, sql);
        pg.chownRecursively(dir);
        List<String> psql = new ArrayList<>(List.of("-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-f", sqlFile.toString()));
        psql.addAll(conn);
        psql.add("postgres");
        String out = PostgresInstallation.runCommand(Duration.ofSeconds(120), pg.command("psql", psql.toArray(String[]::new)));
        Matcher m = Pattern.compile("INSERT_LSN=([0-9A-F]+/[0-9A-F]+)").matcher(out);
        assertThat(m.find()).as("psql output %s", out).isTrue();
        insertLsnAfterCommit = Lsn.parse(m.group(1));

        cluster.stop();

        Path walDir = cluster.data().resolve("pg_wal");
        for (Map.Entry<Long, Path> seg : cluster.walSegments().entrySet()) {
            segments.put(seg.getKey(), Files.readAllBytes(seg.getValue()));
        }
        long first = segments.firstKey() * SEG;
        // Without -e, pg_waldump reads to the end of valid WAL and then exits 1 ("invalid record
        // length ... got 0"): accept exactly that ending.
        Path dumpFile = dir.resolve("waldump.txt");
        Path errFile = dir.resolve("waldump.err");
        Process dumper = new ProcessBuilder(pg.command("pg_waldump", "-b", "-p", walDir.toString(),
                "-s", Lsn.format(first + XLogPageHeaderDescriptor.LONG_HEADER_LENGTH)))
                .redirectOutput(dumpFile.toFile()).redirectError(errFile.toFile()).start();
        assertThat(dumper.waitFor(120, TimeUnit.SECONDS)).isTrue();
        String err = Files.readString(errFile);
        assertThat(dumper.exitValue() == 0 || err.contains("wanted 24, got 0")).as("pg_waldump: %s", err).isTrue();
        parseWaldump(Files.readString(dumpFile));
        OracleRecord last = oracle.get(oracle.size() - 1);
        walEnd = expectedEnd(last.lsn(), last.totLen());
    }

    @AfterAll
    static void stopEverything() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static final Pattern RECORD_LINE = Pattern.compile(
            "^rmgr: (\\S+)\\s+len \\(rec/tot\\):\\s*(\\d+)/\\s*(\\d+), tx:\\s*(\\d+), lsn: ([0-9A-F]+/[0-9A-F]+), prev "
                    + "[0-9A-F]+/[0-9A-F]+, desc: (\\S*)");
    private static final Pattern BLOCK_LINE = Pattern.compile(
            "^\\tblkref #(\\d+): rel (\\d+)/(\\d+)/(\\d+) fork (\\w+) blk (\\d+)"
                    + "(?: \\(FPW( for WAL verification)?\\); hole: offset: \\d+, length: \\d+"
                    + "(?:, compression saved: \\d+, method: (\\w+))?)?$");

    private static void parseWaldump(String dump) {
        String rmgr = null;
        long lsn = 0;
        long xid = 0;
        long tot = 0;
        boolean isSwitch = false;
        List<OracleBlock> blocks = null;
        for (String line : dump.split("\n")) {
            Matcher r = RECORD_LINE.matcher(line);
            if (r.find()) {
                if (rmgr != null) {
                    oracle.add(new OracleRecord(lsn, rmgr, xid, tot, isSwitch, List.copyOf(blocks)));
                }
                rmgr = r.group(1);
                tot = Long.parseLong(r.group(3));
                xid = Long.parseLong(r.group(4));
                lsn = Lsn.parse(r.group(5));
                isSwitch = rmgr.equals("XLOG") && r.group(6).equals("SWITCH");
                blocks = new ArrayList<>();
                continue;
            }
            if (line.startsWith("\tblkref")) {
                Matcher b = BLOCK_LINE.matcher(line);
                assertThat(b.matches()).as("pg_waldump block line %s", line).isTrue();
                boolean fpw = line.contains("(FPW");
                blocks.add(new OracleBlock(Integer.parseInt(b.group(1)), (int) Long.parseLong(b.group(2)),
                        (int) Long.parseLong(b.group(3)), (int) Long.parseLong(b.group(4)), FORKS.indexOf(b.group(5)),
                        (int) Long.parseLong(b.group(6)), fpw, fpw && b.group(7) == null,
                        fpw ? (b.group(8) == null ? "none" : b.group(8)) : null));
            }
        }
        if (rmgr != null) {
            oracle.add(new OracleRecord(lsn, rmgr, xid, tot, isSwitch, List.copyOf(blocks)));
        }
    }

    /** PostgreSQL's EndRecPtr for a record of {@code tot} bytes at {@code start}, page headers counted. */
    static long expectedEnd(long start, long tot) {
        return XLogRecordDescriptor.maxAlign(rawEnd(start, tot));
    }

    private static long recordEnd(OracleRecord o) {
        long end = expectedEnd(o.lsn(), o.totLen());
        return o.isSwitch() && end % SEG != 0 ? Lsn.nextSegmentStart(end) : end;
    }

    /** Feeds [start, end) in random chunks of 1..20000 bytes, passing each record to {@code sink}. */
    private static WalDecoder feedRange(long start, long end, long seed, boolean jumpAfterSwitch,
                                        Consumer<WalRecord> sink) {
        return feedRange(new WalDecoder(start), start, end, seed, jumpAfterSwitch, sink, segments);
    }

    private static WalDecoder feedRange(WalDecoder decoder, long start, long end, long seed, boolean jumpAfterSwitch,
                                        Consumer<WalRecord> sink, Map<Long, byte[]> segs) {
        Random rnd = new Random(seed);
        long p = start;
        boolean jumped = false;
        while (p < end) {
            byte[] seg = segs.get(Lsn.segmentNo(p));
            int off = (int) (p % SEG);
            int n = (int) Math.min(Math.min(1 + rnd.nextInt(20000), end - p), SEG - off);
            if (jumped) {
                decoder.feed(p, seg, off, n);
                jumped = false;
            } else {
                decoder.feed(seg, off, n);
            }
            p += n;
            assertThat(decoder.position()).isEqualTo(p);
            WalRecord r;
            while ((r = decoder.next()) != null) {
                sink.accept(r);
                if (jumpAfterSwitch && XLogRecordDescriptor.isSwitch(r.rmid(), r.info()) && p < r.endLsn()) {
                    p = r.endLsn();
                    jumped = true;
                }
            }
        }
        return decoder;
    }

    /** Compares one decoded record with pg_waldump's view of it. */
    private static void assertMatches(WalRecord r, OracleRecord o) {
        String at = Lsn.format(o.lsn());
        assertThat(Lsn.format(r.startLsn())).isEqualTo(at);
        assertThat(RMGR_NAMES[r.rmid()]).as("rmgr at %s", at).isEqualTo(o.rmgr());
        assertThat(Integer.toUnsignedLong(r.xid())).as("xid at %s", at).isEqualTo(o.xid());
        assertThat(Lsn.format(r.endLsn())).as("endLsn at %s", at).isEqualTo(Lsn.format(recordEnd(o)));
        assertThat(r.blocks()).as("blocks at %s", at).hasSameSizeAs(o.blocks());
        for (int i = 0; i < o.blocks().size(); i++) {
            BlockReference b = r.blocks().get(i);
            OracleBlock e = o.blocks().get(i);
            // The image's compression method is not part of BlockReference, so it is not compared here;
            // decompression with every method is checked by the page contents (assertValidPage, and the
            // marker row found in pglz and lz4 images in decodesEveryRecordFromTheFirstSegmentLikePgWaldump).
            assertThat(new OracleBlock(b.blockId(), b.spcOid(), b.dbOid(), b.relNumber(), b.forkNum(), b.blockNo(),
                    b.hasImage(), b.applyImage(), null))
                    .as("block %d at %s", i, at)
                    .isEqualTo(new OracleBlock(e.id(), e.spc(), e.db(), e.rel(), e.fork(), e.blk(), e.fpw(), e.apply(), null));
            if (b.hasImage()) {
                assertValidPage(b.image(), at);
            }
        }
        assertThat(r.mainData()).isNotNull();
    }

    private static void assertValidPage(byte[] page, String at) {
        assertThat(page).hasSize(8192);
        int lower = LittleEndian.u16(page, 12);
        int upper = LittleEndian.u16(page, 14);
        int special = LittleEndian.u16(page, 16);
        int sizeVersion = LittleEndian.u16(page, 18);
        if (upper == 0) {
            return; // PageIsNew: an all-new page is a valid image
        }
        assertThat(sizeVersion).as("pd_pagesize_version of image at %s", at).isEqualTo(8192 | 4);
        assertThat(lower).as("pd_lower of image at %s", at).isLessThanOrEqualTo(upper);
        assertThat(upper).as("pd_upper of image at %s", at).isLessThanOrEqualTo(special);
        assertThat(special).as("pd_special of image at %s", at).isLessThanOrEqualTo(8192);
    }

    private static boolean contains(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i <= hay.length - needle.length; i++) {
            if (hay[i] != needle[0]) {
                continue;
            }
            for (int j = 1; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    private static int oracleIndexAtOrAfter(long lsn) {
        for (int i = 0; i < oracle.size(); i++) {
            if (Long.compareUnsigned(oracle.get(i).lsn(), lsn) >= 0) {
                return i;
            }
        }
        throw new AssertionError("no record at or after " + Lsn.format(lsn));
    }

    @Test
    void oracleCoversCompressionMethodsSwitchesAndMultiPageRecords() {
        Map<String, Integer> methods = new HashMap<>();
        for (OracleRecord o : oracle) {
            for (OracleBlock b : o.blocks()) {
                if (b.fpw()) {
                    methods.merge(b.method(), 1, Integer::sum);
                }
            }
        }
        assertThat(methods).containsKeys("pglz", "lz4", "zstd", "none");
        assertThat(oracle.stream().filter(OracleRecord::isSwitch).count())
                .isGreaterThanOrEqualTo(2);
        assertThat(oracle.stream().filter(o -> o.totLen() > 3 * PAGE).count()).isGreaterThan(0);
        assertThat(oracle.stream().filter(o -> Lsn.segmentNo(o.lsn()) != Lsn.segmentNo(recordEnd(o) - 1)).count())
                .as("records crossing a segment boundary").isGreaterThan(0);
        // pg_waldump's next record starts at the previous record's EndRecPtr (after the page header
        // when that is a page boundary): the endLsn convention, checked against PostgreSQL itself.
        for (int i = 1; i < oracle.size(); i++) {
            long end = recordEnd(oracle.get(i - 1));
            long expectedNext = end % PAGE != 0 ? end
                    : end + (end % SEG == 0 ? XLogPageHeaderDescriptor.LONG_HEADER_LENGTH
                    : XLogPageHeaderDescriptor.SHORT_HEADER_LENGTH);
            assertThat(Lsn.format(oracle.get(i).lsn())).isEqualTo(Lsn.format(expectedNext));
        }
    }

    @Test
    void decodesEveryRecordFromTheFirstSegmentLikePgWaldump() {
        long start = segments.firstKey() * SEG;
        int[] index = {0};
        int[] markerImages = {0};
        Set<String> markerMethods = new HashSet<>();
        int[] spanning = {0};
        byte[] marker = MARKER.getBytes(StandardCharsets.US_ASCII);
        Set<Long> segs = new HashSet<>();
        WalDecoder d = feedRange(start, walEnd, 42, false, r -> {
            assertThat(index[0]).as("more records than pg_waldump shows").isLessThan(oracle.size());
            OracleRecord o = oracle.get(index[0]++);
            assertMatches(r, o);
            segs.add(Lsn.segmentNo(r.startLsn()));
            if (r.endLsn() - r.startLsn() > PAGE) {
                spanning[0]++;
            }
            if (RMGR_NAMES[r.rmid()].equals("Heap")) {
                for (int k = 0; k < r.blocks().size(); k++) {
                    BlockReference b = r.blocks().get(k);
                    if (b.hasImage() && contains(b.image(), marker)) {
                        markerImages[0]++;
                        markerMethods.add(o.blocks().get(k).method());
                    }
                }
            }
        });
        assertThat(index[0]).isEqualTo(oracle.size());
        assertThat(d.next()).isNull();
        assertThat(d.nextRecordLsn()).isEqualTo(walEnd);
        assertThat(segs.size()).isGreaterThanOrEqualTo(3);
        assertThat(spanning[0]).isGreaterThan(100);
        assertThat(markerImages[0]).as("heap images holding the marker row").isGreaterThan(0);
        assertThat(markerMethods).as("compression of images holding the marker row").contains("pglz", "lz4");
    }

    @Test
    void endLsnMatchesPgCurrentWalInsertLsnAfterACommit() {
        // pg_current_wal_insert_lsn() is the end of the last record inserted (or, at a page
        // boundary, the position after the next page's header).
        long target = insertLsnAfterCommit;
        long start = Lsn.segmentStart(target - 1);
        List<Long> ends = new ArrayList<>();
        feedRange(start, walEnd, 7, false, r -> ends.add(r.endLsn()));
        boolean atBoundary = target % PAGE == XLogPageHeaderDescriptor.SHORT_HEADER_LENGTH
                || target % SEG == XLogPageHeaderDescriptor.LONG_HEADER_LENGTH;
        long hdr = target % SEG == XLogPageHeaderDescriptor.LONG_HEADER_LENGTH
                ? XLogPageHeaderDescriptor.LONG_HEADER_LENGTH : XLogPageHeaderDescriptor.SHORT_HEADER_LENGTH;
        assertThat(ends.contains(target) || (atBoundary && ends.contains(target - hdr)))
                .as("a record ends at pg_current_wal_insert_lsn %s", Lsn.format(target)).isTrue();
    }

    /**
     * {@link WalDecoder#hasPartialRecord()} against pg_waldump's record positions: after every chunk
     * (random sizes, 1..300 bytes over the first 256 kB, which holds multi-page records; 1..20000 bytes
     * over the rest, across segment switches), it is true exactly when some record starts before the
     * fed position and ends after it (its bytes up to the page-header-adjusted end, before MAXALIGN).
     */
    @Test
    void hasPartialRecordMatchesPgWaldumpRecordBoundaries() {
        long start = segments.firstKey() * SEG;
        WalDecoder d = new WalDecoder(start);
        Random rnd = new Random(17);
        long p = start;
        int checked = 0;
        int partial = 0;
        while (p < walEnd) {
            byte[] seg = segments.get(Lsn.segmentNo(p));
            int off = (int) (p % SEG);
            int max = p - start < 256 * 1024 ? 300 : 20000;
            int n = (int) Math.min(Math.min(1 + rnd.nextInt(max), walEnd - p), SEG - off);
            d.feed(seg, off, n);
            p += n;
            while (d.next() != null) {
                // drain
            }
            boolean expected = insideARecord(p);
            assertThat(d.hasPartialRecord()).as("partial record at %s", Lsn.format(p)).isEqualTo(expected);
            checked++;
            if (expected) {
                partial++;
            }
        }
        assertThat(checked).isGreaterThan(1000);
        assertThat(partial).as("positions inside a record").isGreaterThan(100).isLessThan(checked);
    }

    /** Whether a pg_waldump record starts before {@code lsn} and has bytes at or after it. */
    private static boolean insideARecord(long lsn) {
        int lo = 0;
        int hi = oracle.size() - 1;
        int found = -1;
        while (lo <= hi) { // last record starting before lsn
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(oracle.get(mid).lsn(), lsn) < 0) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        if (found < 0) {
            return false;
        }
        OracleRecord o = oracle.get(found);
        return Long.compareUnsigned(rawEnd(o.lsn(), o.totLen()), lsn) > 0;
    }

    /** Where the last byte of a record of {@code tot} bytes at {@code start} lies, plus one (page headers counted, no MAXALIGN). */
    private static long rawEnd(long start, long tot) {
        long p = start;
        long left = tot;
        while (true) {
            long pageEnd = Lsn.pageStart(p) + PAGE;
            long n = Math.min(left, pageEnd - p);
            p += n;
            left -= n;
            if (left == 0) {
                return p;
            }
            p = pageEnd + (pageEnd % SEG == 0 ? XLogPageHeaderDescriptor.LONG_HEADER_LENGTH
                    : XLogPageHeaderDescriptor.SHORT_HEADER_LENGTH);
        }
    }

    @Test
    void decodesFromARecordStartInTheMiddleOfAPageAndJumpsOverSwitchTails() {
        int i = oracle.size() / 2;
        while (oracle.get(i).lsn() % PAGE < 64 || oracle.get(i).lsn() % PAGE > PAGE - 64) {
            i++;
        }
        int[] index = {i};
        feedRange(oracle.get(i).lsn(), walEnd, 11, true, r -> assertMatches(r, oracle.get(index[0]++)));
        assertThat(index[0]).isEqualTo(oracle.size());
    }

    @Test
    void pageAlignedStartSkipsAContinuationRecord() {
        OracleRecord spanning = null;
        for (int i = oracle.size() / 3; i < oracle.size(); i++) {
            OracleRecord o = oracle.get(i);
            if (Lsn.pageStart(o.lsn()) != Lsn.pageStart(recordEnd(o) - 1) && (Lsn.pageStart(o.lsn()) + PAGE) % SEG != 0) {
                spanning = o;
                break;
            }
        }
        assertThat(spanning).isNotNull();
        long page = Lsn.pageStart(spanning.lsn()) + PAGE;
        int first = oracleIndexAtOrAfter(page);
        List<WalRecord> got = new ArrayList<>();
        WalDecoder d = new WalDecoder(page);
        feedRange(d, page, Math.min(walEnd, page + 4 * PAGE), 3, false, got::add, segments);
        assertThat(got).isNotEmpty();
        for (int k = 0; k < got.size(); k++) {
            assertMatches(got.get(k), oracle.get(first + k));
        }
    }

    @Test
    void flippedByteInARecordFailsWithItsLsn() {
        OracleRecord victim = null;
        for (int i = oracle.size() / 4; i < oracle.size(); i++) {
            OracleRecord o = oracle.get(i);
            if (o.totLen() > 200 && Lsn.pageStart(o.lsn()) == Lsn.pageStart(o.lsn() + o.totLen() - 1)) {
                victim = o;
                break;
            }
        }
        assertThat(victim).isNotNull();
        long segNo = Lsn.segmentNo(victim.lsn());
        Map<Long, byte[]> copy = new HashMap<>(segments);
        byte[] seg = segments.get(segNo).clone();
        seg[(int) (victim.lsn() % SEG) + 100] ^= 0x5A;
        copy.put(segNo, seg);
        long start = segNo * (long) SEG;
        WalDecoder d = new WalDecoder(start);
        long victimLsn = victim.lsn();
        assertThatThrownBy(() -> feedRange(d, start, walEnd, 5, false, r -> assertThat(r.startLsn()).isLessThan(victimLsn), copy))
                .isInstanceOf(WalDecodeException.class)
                .hasMessageContaining(Lsn.format(victimLsn))
                .hasMessageContaining("checksum")
                .satisfies(e -> assertThat(((WalDecodeException) e).lsn()).isEqualTo(victimLsn));
        assertThatThrownBy(d::next).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void wrongPageAddressFailsWithThePageLsn() {
        long segNo = segments.firstKey() + 1;
        long start = segNo * (long) SEG;
        long badPage = start + 5L * PAGE;
        byte[] seg = segments.get(segNo).clone();
        seg[5 * PAGE + XLogPageHeaderDescriptor.PAGEADDR_OFFSET + 1] ^= 0x01;
        Map<Long, byte[]> copy = new HashMap<>(segments);
        copy.put(segNo, seg);
        assertThatThrownBy(() -> feedRange(new WalDecoder(start), start, walEnd, 9, false, r -> { }, copy))
                .isInstanceOf(WalDecodeException.class)
                .hasMessageContaining("unexpected pageaddr")
                .hasMessageContaining(Lsn.format(badPage));
    }

    @Test
    void zeroFilledTailOfTheLastSegmentMeansNoMoreRecords() {
        long segNo = Lsn.segmentNo(walEnd - 1);
        long start = segNo * (long) SEG;
        List<WalRecord> got = new ArrayList<>();
        WalDecoder d = feedRange(start, start + SEG, 13, false, got::add);
        assertThat(got).isNotEmpty();
        assertThat(got.get(got.size() - 1).endLsn()).isEqualTo(walEnd);
        assertThat(d.next()).isNull();
        assertThat(d.position()).isEqualTo(start + SEG);
        assertThat(d.nextRecordLsn()).isEqualTo(walEnd);
    }
}
