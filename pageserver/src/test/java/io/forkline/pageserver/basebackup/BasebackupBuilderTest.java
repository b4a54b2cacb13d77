package io.forkline.pageserver.basebackup;

import io.forkline.storage.id.TenantId;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.key.Key;
import io.forkline.storage.key.RelSizeValue;
import io.forkline.storage.key.RelTag;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;
import io.forkline.storage.store.TimelineWriter;
import io.forkline.storage.timeline.TimelineMetadata;
import io.forkline.wal.xlog.CheckPoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Builds basebackups from synthetic store contents (no Postgres): relation incarnations, drops,
 * unlogged relations, multi-segment forks, SLRU gaps, two-phase files, branch fall-through.
 */
class BasebackupBuilderTest {
    private static final Clock CLOCK = Clock.fixed(Instant.ofEpochSecond(1_700_000_000L), ZoneOffset.UTC);
    private static final TenantId TENANT = new TenantId("synthetic");
    private static final int DB = 16384;

    /** The store and the written directories; JUnit deletes it after each test. */
    @TempDir
    Path dir;
    private PageStore store;
    private TimelineId tl;

    @BeforeEach
    void setUp() throws Exception {
        store = PageStore.open(dir.resolve("store"));
        tl = TimelineId.generate();
        store.createTimeline(new TimelineMetadata(tl, TENANT, null, 0, 100, 15, Instant.EPOCH));
        // a pg_control with relseg_size 2 so that a 5-block fork spans 3 segment files
        byte[] control = ControlFileDataTest.image();
        ByteBuffer.wrap(control).order(ByteOrder.LITTLE_ENDIAN).putInt(ControlFileDataDescriptor.RELSEG_SIZE_OFFSET, 2);
        TenantBootstrapFiles.putControlFile(store, TENANT, ControlFileData.parse(fixCrc(control)).toBytes());
    }

    @AfterEach
    void tearDown() {
        store.close();
    }

    private static byte[] fixCrc(byte[] b) {
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(ControlFileDataDescriptor.CRC_OFFSET,
                ControlFileDataDescriptor.computeCrc(b));
        return b;
    }

    private static byte[] page(int fill) {
        byte[] p = new byte[8192];
        Arrays.fill(p, (byte) fill);
        return p;
    }

    private static CheckPoint checkpoint(long nextXid, int nextMulti, int nextMultiOffset) {
        return new CheckPoint(0, 1, 1, true, nextXid, 20000, nextMulti, nextMultiOffset, 3, 1, 1, 1, 5, 0, 0, 1234);
    }

    @Test
    void writesStateAsOfLsnWithIncarnationsDropsUnloggedAndSegments() throws Exception {
        RelTag heap = new RelTag(1663, DB, 20000, RelTag.MAIN_FORK);
        RelTag dropped = new RelTag(1663, DB, 20001, RelTag.MAIN_FORK);
        RelTag unloggedInit = new RelTag(1663, DB, 20002, RelTag.INIT_FORK);
        RelTag big = new RelTag(1663, DB, 20003, RelTag.MAIN_FORK);
        RelTag fsm = heap.withFork(RelTag.FSM_FORK);
        RelTag inDroppedDb = new RelTag(1663, 99999, 1, RelTag.MAIN_FORK);
        try (TimelineWriter w = store.writer(tl)) {
            w.put(Key.dbDir(1663, DB), 100, new byte[] {1});
            w.put(Key.dbDir(1664, 0), 100, new byte[] {1});
            w.put(Key.dbDir(1663, 99999), 100, new byte[] {1});
            w.put(Key.relmap(1664, 0), 100, new byte[512]);
            w.put(Key.relmap(1663, DB), 100, Arrays.copyOf(page(7), 512));
            w.put(Key.control(), 100, checkpoint(0x1_0000_0000L + 40_000, 1, 0).encode());
            // old incarnation of heap: block 0 at LSN 100
            w.put(Key.relBlock(heap, 0), 100, page(1));
            w.put(Key.relSize(dropped), 100, new RelSizeValue(1, 100).encode());
            w.put(Key.relBlock(dropped, 0), 100, page(2));
            w.put(Key.relSize(inDroppedDb), 100, new RelSizeValue(1, 100).encode());
            w.put(Key.slruPage(Key.SLRU_CLOG, 0), 100, page(0x55));
            w.put(Key.slruPage(Key.SLRU_CLOG, 2), 100, page(0x66));
            w.commit(100);
            // new incarnation at 200: 3 blocks, block 1 written at 250, block 0 stale, block 2 never written
            w.put(Key.relSize(heap), 200, new RelSizeValue(3, 200).encode());
            w.put(Key.relSize(fsm), 200, new RelSizeValue(1, 200).encode());
            w.put(Key.relBlock(heap, 1), 250, page(3));
            w.delete(Key.relSize(dropped), 250);
            w.delete(Key.dbDir(1663, 99999), 250);
            w.put(Key.relSize(unloggedInit), 250, new RelSizeValue(1, 250).encode());
            w.put(Key.relBlock(unloggedInit, 0), 250, page(4));
            w.put(Key.relSize(big), 250, new RelSizeValue(5, 250).encode());
            for (int b = 0; b < 5; b++) {
                w.put(Key.relBlock(big, b), 250, page(10 + b));
            }
            w.put(Key.twoPhase(0x2A), 250, new byte[] {9, 9, 9});
            w.commit(300);
            // after the basebackup LSN: must not show
            w.put(Key.relBlock(heap, 2), 400, page(5));
            w.commit(400);
        }

        Path out = dir.resolve("pgdata");
        BasebackupSummary s = new BasebackupBuilder(store, CLOCK).writeDirectory(tl, 300, out);

        byte[] heapFile = Files.readAllBytes(out.resolve("base/16384/20000"));
        assertThat(heapFile).hasSize(2 * 8192); // relseg_size 2
        assertThat(Arrays.copyOfRange(heapFile, 0, 8192)).isEqualTo(new byte[8192]); // stale incarnation -> zeros
        assertThat(Arrays.copyOfRange(heapFile, 8192, 16384)).isEqualTo(page(3));
        assertThat(Files.readAllBytes(out.resolve("base/16384/20000.1"))).isEqualTo(new byte[8192]); // LSN 400 not visible
        assertThat(out.resolve("base/16384/20000_fsm")).doesNotExist();
        assertThat(out.resolve("base/16384/20001")).doesNotExist();
        assertThat(out.resolve("base/99999")).doesNotExist();
        assertThat(Files.readAllBytes(out.resolve("base/16384/20002_init"))).isEqualTo(page(4));
        assertThat(Files.readAllBytes(out.resolve("base/16384/20002"))).isEqualTo(page(4));
        assertThat(Files.size(out.resolve("base/16384/20003"))).isEqualTo(2 * 8192);
        assertThat(Files.size(out.resolve("base/16384/20003.1"))).isEqualTo(2 * 8192);
        assertThat(Files.readAllBytes(out.resolve("base/16384/20003.2"))).isEqualTo(page(14));
        assertThat(Files.readString(out.resolve("base/16384/PG_VERSION"))).isEqualTo("15\n");
        assertThat(out.resolve("global/PG_VERSION")).doesNotExist();
        assertThat(Files.size(out.resolve("base/16384/pg_filenode.map"))).isEqualTo(512);
        assertThat(Files.readAllBytes(out.resolve("pg_twophase/0000002A"))).containsExactly(9, 9, 9);
        assertThat(s.relationForks()).isEqualTo(4); // heap, init, main-from-init, big
        assertThat(s.skippedForks()).isEqualTo(2); // fsm, relation of the dropped database

        // CLOG: nextXid 40000 (epoch 1) is on page 1 -> segment 0000 holds pages 0..2, gap zero-filled
        byte[] clog = Files.readAllBytes(out.resolve("pg_xact/0000"));
        assertThat(clog).hasSize(3 * 8192);
        assertThat(Arrays.copyOfRange(clog, 0, 8192)).isEqualTo(page(0x55));
        assertThat(Arrays.copyOfRange(clog, 8192, 16384)).isEqualTo(new byte[8192]);
        assertThat(Arrays.copyOfRange(clog, 16384, 24576)).isEqualTo(page(0x66));
        // multixact offsets/members: page 0 required by nextMulti 1 / nextMultiOffset 0
        assertThat(Files.size(out.resolve("pg_multixact/offsets/0000"))).isEqualTo(8192);
        assertThat(Files.size(out.resolve("pg_multixact/members/0000"))).isEqualTo(8192);

        // pg_control and the checkpoint
        ControlFileData c = ControlFileData.parse(Files.readAllBytes(out.resolve("global/pg_control")));
        assertThat(c.state()).isEqualTo(ControlFileDataDescriptor.DB_SHUTDOWNED);
        assertThat(c.checkPoint()).isEqualTo(Lsn.WAL_SEGMENT_SIZE + 40);
        assertThat(c.systemIdentifier()).isEqualTo(42L);
        CheckPoint cp = c.checkPointCopy();
        assertThat(cp.redo()).isEqualTo(c.checkPoint());
        assertThat(cp.nextXid()).isEqualTo(0x1_0000_0000L + 40_000);
        assertThat(cp.oldestActiveXid()).isZero();
        assertThat(cp.time()).isEqualTo(1_700_000_000L);
        assertThat(c.time()).isEqualTo(1_700_000_000L);
        byte[] wal = Files.readAllBytes(out.resolve("pg_wal/000000010000000000000001"));
        assertThat(wal).hasSize(Lsn.WAL_SEGMENT_SIZE);
        assertThat(Arrays.copyOf(wal, 8192)).isEqualTo(ShutdownCheckpointWal.firstPage(c.checkPoint(), 1, 42L, cp));
        for (String d : BasebackupBuilder.DIRECTORIES) {
            assertThat(out.resolve(d)).isDirectory();
        }
    }

    @Test
    void commitTimestampsFollowTheStoredParameters() throws Exception {
        io.forkline.wal.xlog.ParameterChange off = new io.forkline.wal.xlog.ParameterChange(77, 8, 10, 5, 64, 1, false, false);
        io.forkline.wal.xlog.ParameterChange on = new io.forkline.wal.xlog.ParameterChange(77, 8, 10, 5, 64, 1, false, true);
        // range [26000, 27000]: pages 31..32 hold it (819 xids a page), nextXid 27001 is on page 32, segment 1
        CheckPoint cp = new CheckPoint(0, 1, 1, true, 27_001, 20000, 1, 0, 3, 1, 1, 1, 5, 26_000, 27_000, 0);
        try (TimelineWriter w = store.writer(tl)) {
            w.put(Key.control(), 100, cp.encode());
            w.put(Key.parameters(), 100, off.encode());
            w.put(Key.slruPage(Key.SLRU_COMMIT_TS, 31), 100, page(0x31));
            w.commit(100);
            w.put(Key.parameters(), 200, on.encode());
            w.put(Key.slruPage(Key.SLRU_COMMIT_TS, 32), 200, page(0x32));
            w.put(Key.slruPage(Key.SLRU_COMMIT_TS, 70), 200, page(0x70)); // outside the range: not written
            w.commit(200);
        }
        Path atOff = dir.resolve("off");
        new BasebackupBuilder(store, CLOCK).writeDirectory(tl, 100, atOff);
        assertThat(atOff.resolve("pg_commit_ts")).isEmptyDirectory();
        assertThat(Files.readString(atOff.resolve("postgresql.conf"))).doesNotContain("track_commit_timestamp");
        ControlFileData offControl = ControlFileData.parse(Files.readAllBytes(atOff.resolve("global/pg_control")));
        assertThat(offControl.trackCommitTimestamp()).isFalse();
        assertThat(offControl.maxConnections()).isEqualTo(77);
        assertThat(offControl.maxPreparedXacts()).isEqualTo(5);

        Path atOn = dir.resolve("on");
        new BasebackupBuilder(store, CLOCK).writeDirectory(tl, 200, atOn);
        byte[] seg0 = Files.readAllBytes(atOn.resolve("pg_commit_ts/0000"));
        assertThat(seg0).hasSize(32 * 8192);
        assertThat(Arrays.copyOfRange(seg0, 31 * 8192, 32 * 8192)).isEqualTo(page(0x31));
        assertThat(Arrays.copyOfRange(seg0, 0, 8192)).isEqualTo(page(0));
        assertThat(Files.readAllBytes(atOn.resolve("pg_commit_ts/0001"))).isEqualTo(page(0x32));
        try (var files = Files.list(atOn.resolve("pg_commit_ts"))) {
            assertThat(files.map(f -> f.getFileName().toString()).sorted()).containsExactly("0000", "0001");
        }
        assertThat(Files.readString(atOn.resolve("postgresql.conf"))).contains("track_commit_timestamp = on\n");
        ControlFileData onControl = ControlFileData.parse(Files.readAllBytes(atOn.resolve("global/pg_control")));
        assertThat(onControl.trackCommitTimestamp()).isTrue();
        assertThat(onControl.checkPointCopy().oldestCommitTsXid()).isEqualTo(26_000);
        assertThat(onControl.checkPointCopy().newestCommitTsXid()).isEqualTo(27_000);
    }

    @Test
    void childTimelineFallsThroughToItsParentAtTheBranchPoint() throws Exception {
        RelTag heap = new RelTag(1663, DB, 30000, RelTag.MAIN_FORK);
        try (TimelineWriter w = store.writer(tl)) {
            w.put(Key.dbDir(1663, DB), 100, new byte[] {1});
            w.put(Key.control(), 100, checkpoint(1000, 1, 0).encode());
            w.put(Key.relSize(heap), 100, new RelSizeValue(1, 100).encode());
            w.put(Key.relBlock(heap, 0), 100, page(1));
            w.commit(100);
            w.put(Key.relBlock(heap, 0), 500, page(2)); // after the branch point
            w.commit(500);
        }
        TimelineId child = TimelineId.generate();
        store.createTimeline(new TimelineMetadata(child, TENANT, tl, 300, 300, 15, Instant.EPOCH));
        Path out = dir.resolve("child");
        new BasebackupBuilder(store, CLOCK).writeDirectory(child, 300, out);
        assertThat(Files.readAllBytes(out.resolve("base/16384/30000"))).isEqualTo(page(1));
    }

    @Test
    void refusesLsnOutsideTheTimelineAndMissingState() throws Exception {
        try (TimelineWriter w = store.writer(tl)) {
            w.put(Key.dbDir(1663, DB), 150, new byte[] {1});
            w.commit(150);
        }
        BasebackupBuilder b = new BasebackupBuilder(store, CLOCK);
        assertThatThrownBy(() -> b.writeDirectory(tl, 151, dir.resolve("a")))
                .isInstanceOf(BasebackupException.class).hasMessageContaining("0/97").hasMessageContaining("0/96");
        assertThatThrownBy(() -> b.writeDirectory(tl, 99, dir.resolve("b")))
                .isInstanceOf(BasebackupException.class).hasMessageContaining("0/63");
        assertThatThrownBy(() -> b.writeDirectory(tl, 150, dir.resolve("c")))
                .isInstanceOf(BasebackupException.class).hasMessageContaining("CONTROL");
        TimelineId other = TimelineId.generate();
        store.createTimeline(new TimelineMetadata(other, new TenantId("nocontrol"), null, 0, 100, 15, Instant.EPOCH));
        assertThatThrownBy(() -> b.writeDirectory(other, 100, dir.resolve("d")))
                .isInstanceOf(BasebackupException.class).hasMessageContaining("nocontrol");
        Files.createDirectories(dir.resolve("e"));
        Files.writeString(dir.resolve("e/x"), "x");
        assertThatThrownBy(() -> b.writeDirectory(tl, 150, dir.resolve("e")))
                .isInstanceOf(BasebackupException.class).hasMessageContaining("not empty");
    }
}
