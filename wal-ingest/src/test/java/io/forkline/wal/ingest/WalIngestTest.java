package io.forkline.wal.ingest;

import io.forkline.storage.id.TenantId;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.key.Key;
import io.forkline.storage.key.RelSizeValue;
import io.forkline.storage.key.RelTag;
import io.forkline.storage.store.PageStore;
import io.forkline.storage.store.TimelineWriter;
import io.forkline.storage.timeline.TimelineMetadata;
import io.forkline.wal.ingest.page.PageHeaderDescriptor;
import io.forkline.wal.ingest.slru.ClogDescriptor;
import io.forkline.wal.ingest.slru.CommitTsDescriptor;
import io.forkline.wal.ingest.slru.MultiXactDescriptor;
import io.forkline.wal.record.BlockReference;
import io.forkline.wal.record.WalRecord;
import io.forkline.wal.xlog.CheckPoint;
import io.forkline.wal.xlog.ParameterChange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Drives {@link WalIngest} with hand-built records against a real {@link PageStore}. */
class WalIngestTest {
    private static final RelTag REL = new RelTag(1663, 5, 16384, RelTag.MAIN_FORK);
    @TempDir
    Path dir;
    private PageStore store;
    private TimelineId tl;
    private TimelineWriter writer;
    private WalIngest ingest;
    private long lsn = 0x1000000L;

    @BeforeEach
    void open() {
        store = PageStore.open(dir.resolve("store"));
        tl = TimelineId.generate();
        store.createTimeline(new TimelineMetadata(tl, new TenantId("t"), null, 0, lsn, 15, Instant.now()));
        writer = store.writer(tl);
        ingest = new WalIngest(writer);
    }

    @AfterEach
    void close() {
        writer.close();
        store.close();
    }

    private WalRecord record(int xid, int rmid, int info, byte[] main, BlockReference... blocks) {
        long start = lsn;
        lsn += 0x100;
        return new WalRecord(start, lsn, xid, 0, rmid, info, main, List.of(blocks));
    }

    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static byte[] heapPage(int marker) {
        byte[] p = new byte[8192];
        ByteBuffer.wrap(p).order(ByteOrder.LITTLE_ENDIAN).putShort(12, (short) 28).putShort(14, (short) 8000)
                .putShort(16, (short) 8192);
        p[8100] = (byte) marker;
        return p;
    }

    private static BlockReference block(int id, RelTag rel, int blk, byte[] image) {
        return new BlockReference(id, rel.spcOid(), rel.dbOid(), rel.relNumber(), rel.forkNum(), blk, 0, image, true,
                new byte[0]);
    }

    @Test
    void imageSetsPageLsnAndExtendsRelation() {
        ingest.ingest(record(0, ResourceManagers.SMGR, 0x10, le(16).putInt(1663).putInt(5).putInt(16384).putInt(0).array()));
        long created = lsn;
        WalRecord r = record(700, ResourceManagers.HEAP, 0x00, new byte[]{1, 0, 0}, block(0, REL, 3, heapPage(7)));
        ingest.ingest(r);
        byte[] page = writer.get(Key.relBlock(REL, 3), lsn);
        assertThat(PageHeaderDescriptor.lsn(page)).isEqualTo(r.endLsn());
        assertThat(page[8100]).isEqualTo((byte) 7);
        assertThat(RelSizeValue.decode(writer.get(Key.relSize(REL), lsn))).isEqualTo(new RelSizeValue(4, created));
    }

    @Test
    void visibleKeepsHeapPageLsnWithoutChecksums() {
        byte[] heap = heapPage(1);
        PageHeaderDescriptor.setLsn(heap, 0x42);
        RelTag vm = REL.withFork(RelTag.VM_FORK);
        ingest.ingest(record(0, ResourceManagers.HEAP2, 0x40, new byte[8], block(0, vm, 0, heapPage(2)),
                block(1, REL, 0, heap)));
        assertThat(PageHeaderDescriptor.lsn(writer.get(Key.relBlock(REL, 0), lsn))).isEqualTo(0x42);
        assertThat(PageHeaderDescriptor.lsn(writer.get(Key.relBlock(vm, 0), lsn))).isEqualTo(lsn);
    }

    @Test
    void heapInsertClearsVisibilityMapBits() {
        RelTag vm = REL.withFork(RelTag.VM_FORK);
        byte[] vmPage = heapPage(0);
        vmPage[24 + 2] = (byte) 0xFF; // heap blocks 8..11
        ingest.ingest(record(0, ResourceManagers.HEAP2, 0x40, new byte[8], block(0, vm, 0, vmPage),
                block(1, REL, 10, heapPage(1))));
        // XLH_INSERT_ALL_VISIBLE_CLEARED on heap block 10
        ingest.ingest(record(701, ResourceManagers.HEAP, 0x00, new byte[]{1, 0, 1}, block(0, REL, 10, heapPage(3))));
        assertThat(writer.get(Key.relBlock(vm, 0), lsn)[26] & 0xFF).isEqualTo(0b1100_1111);
        // lock clears only all-frozen of block 9
        ingest.ingest(record(702, ResourceManagers.HEAP, 0x60, new byte[]{0, 0, 0, 0, 1, 0, 0, 1},
                block(0, REL, 9, heapPage(4))));
        assertThat(writer.get(Key.relBlock(vm, 0), lsn)[26] & 0xFF).isEqualTo(0b1100_0111);
    }

    @Test
    void heapInsertWithoutImageIsRedoneOnTheStoredPage() {
        // a heap page with one line pointer: first an image (INSERT+INIT), then an INSERT without one
        byte[] first = new byte[8192];
        io.forkline.wal.redo.BufPage.init(first, 0);
        byte[] tuple = new byte[28];
        tuple[22] = 24; // t_hoff
        io.forkline.wal.redo.BufPage.addItem(first, tuple, 0, tuple.length, 1, 0);
        ingest.ingest(record(700, ResourceManagers.HEAP, 0x80, new byte[]{1, 0, 0}, block(0, REL, 0, first.clone())));
        byte[] data = new byte[5 + 5];
        data[0] = 2; // t_infomask2: 2 attributes
        data[4] = 24; // t_hoff
        data[5] = 42;
        BlockReference noImage = new BlockReference(0, REL.spcOid(), REL.dbOid(), REL.relNumber(), REL.forkNum(), 0,
                0x20, null, false, data);
        WalRecord r = record(701, ResourceManagers.HEAP, 0x00, new byte[]{2, 0, 0}, noImage);
        ingest.ingest(r);
        byte[] page = writer.get(Key.relBlock(REL, 0), lsn);
        assertThat(io.forkline.wal.redo.BufPage.maxOffset(page)).isEqualTo(2);
        int item = io.forkline.wal.redo.BufPage.itemId(page, 2);
        assertThat(io.forkline.wal.redo.BufPage.lpLen(item)).isEqualTo(28);
        int t = io.forkline.wal.redo.BufPage.lpOff(item);
        assertThat(ByteBuffer.wrap(page).order(ByteOrder.LITTLE_ENDIAN).getInt(t)).as("xmin").isEqualTo(701);
        assertThat(page[t + 23]).isEqualTo((byte) 42);
        assertThat(PageHeaderDescriptor.lsn(page)).isEqualTo(r.endLsn());
    }

    @Test
    void blockWithoutImageIsRejected() {
        // a custom resource manager (RM_EXPERIMENTAL_ID 128, an extension's) is never redone natively:
        // its block references must carry images
        WalRecord r = record(5, 128, 0x00, new byte[3], block(0, REL, 0, null));
        assertThatThrownBy(() -> ingest.ingest(r)).isInstanceOf(WalIngestException.class)
                .hasMessageContaining("without a page image").hasMessageContaining("no native redo for rmgr128")
                .hasMessageContaining("wal_consistency_checking must include");
    }

    @Test
    void commitSetsClogBitsDropsRelationsAndIndexesTime() {
        ingest.ingest(record(0, ResourceManagers.SMGR, 0x10, le(16).putInt(1663).putInt(5).putInt(16384).putInt(0).array()));
        int xinfo = 0x02 | 0x04;
        byte[] commit = le(8 + 4 + 4 + 8 + 4 + 12).putLong(1_000_000L).putInt(xinfo).putInt(2).putInt(40000).putInt(901)
                .putInt(1).putInt(1663).putInt(5).putInt(16384).array();
        ingest.ingest(record(900, ResourceManagers.XACT, 0x80, commit));
        byte[] p0 = writer.get(Key.slruPage(Key.SLRU_CLOG, 0), lsn);
        byte[] p1 = writer.get(Key.slruPage(Key.SLRU_CLOG, 1), lsn);
        assertThat(ClogDescriptor.status(p0, 900)).isEqualTo(ClogDescriptor.STATUS_COMMITTED);
        assertThat(ClogDescriptor.status(p0, 901)).isEqualTo(ClogDescriptor.STATUS_COMMITTED);
        assertThat(ClogDescriptor.status(p1, 40000)).isEqualTo(ClogDescriptor.STATUS_COMMITTED);
        assertThat(ClogDescriptor.status(p0, 899)).isEqualTo(ClogDescriptor.STATUS_IN_PROGRESS);
        assertThat(writer.get(Key.relSize(REL), lsn)).isNull();
        long end = lsn;
        writer.commit(end);
        assertThat(store.lsnForTimestamp(tl, 1_000_000L + 946_684_800_000_000L)).isEqualTo(end);

        byte[] abort = le(8).putLong(2_000_000L).array();
        ingest.ingest(record(902, ResourceManagers.XACT, 0x20, abort));
        assertThat(ClogDescriptor.status(writer.get(Key.slruPage(Key.SLRU_CLOG, 0), lsn), 902))
                .isEqualTo(ClogDescriptor.STATUS_ABORTED);
    }

    private static byte[] parameterChange(boolean trackCommitTimestamp) {
        return new ParameterChange(100, 8, 10, 10, 64, 1, false, trackCommitTimestamp).encode();
    }

    private CheckPoint control() {
        return CheckPoint.decode(writer.get(Key.control(), lsn), 0);
    }

    private byte[] commitTsPage(int pageNo) {
        return writer.get(Key.slruPage(Key.SLRU_COMMIT_TS, pageNo), lsn);
    }

    @Test
    void commitTimestampsAreKeptOnlyWhileActive() {
        CheckPoint cp = new CheckPoint(0x1000028L, 1, 1, true, 740, 13000, 1, 0, 716, 1, 1, 1, 1700000000L, 0, 0, 0);
        ingest.ingest(record(0, ResourceManagers.XLOG, 0x00, cp.encode()));
        // no PARAMETERS key: off, as for a cluster imported without track_commit_timestamp
        ingest.ingest(record(740, ResourceManagers.XACT, 0x00, le(8).putLong(1_000_000L).array()));
        assertThat(commitTsPage(0)).isNull();
        assertThat(control().oldestCommitTsXid()).isZero();

        // XLOG_PARAMETER_CHANGE on: ActivateCommitTs at nextXid 741, whose page is created
        ingest.ingest(record(0, ResourceManagers.XLOG, 0x60, parameterChange(true)));
        assertThat(ParameterChange.decode(writer.get(Key.parameters(), lsn), 0).trackCommitTimestamp()).isTrue();
        assertThat(control().oldestCommitTsXid()).isEqualTo(741);
        assertThat(control().newestCommitTsXid()).isEqualTo(741);
        assertThat(commitTsPage(0)).isEqualTo(new byte[8192]);

        // a commit with subtransactions on three pages: every xid gets the commit time, no origin
        byte[] commit = le(8 + 4 + 4 + 12).putLong(2_000_000L).putInt(0x02).putInt(3).putInt(742).putInt(900)
                .putInt(40_000).array();
        ingest.ingest(record(741, ResourceManagers.XACT, 0x80, commit));
        assertThat(CommitTsDescriptor.time(commitTsPage(0), 741)).isEqualTo(2_000_000L);
        assertThat(CommitTsDescriptor.time(commitTsPage(0), 742)).isEqualTo(2_000_000L);
        assertThat(CommitTsDescriptor.time(commitTsPage(1), 900)).isEqualTo(2_000_000L);
        assertThat(CommitTsDescriptor.time(commitTsPage(48), 40_000)).isEqualTo(2_000_000L);
        assertThat(CommitTsDescriptor.nodeId(commitTsPage(0), 741)).isZero();
        assertThat(CommitTsDescriptor.time(commitTsPage(0), 743)).isZero();
        assertThat(control().newestCommitTsXid()).isEqualTo(40_000);

        // with a replication origin: the origin's timestamp and the record's origin id
        byte[] originCommit = le(8 + 4 + 16).putLong(3_000_000L).putInt(0x20).putLong(0x5000L).putLong(2_500_000L).array();
        ingest.ingest(new WalRecord(lsn, lsn += 0x100, 743, 0, ResourceManagers.XACT, 0x80, originCommit, List.of(), 7));
        assertThat(CommitTsDescriptor.time(commitTsPage(0), 743)).isEqualTo(2_500_000L);
        assertThat(CommitTsDescriptor.nodeId(commitTsPage(0), 743)).isEqualTo(7);

        // COMMIT PREPARED of xid 744 (record xid 0, the prepared xid in xl_xact_twophase)
        byte[] prepared = le(8 + 4 + 4).putLong(4_000_000L).putInt(0x10).putInt(744).array();
        ingest.ingest(record(0, ResourceManagers.XACT, 0x30 | 0x80, prepared));
        assertThat(CommitTsDescriptor.time(commitTsPage(0), 744)).isEqualTo(4_000_000L);

        // an online checkpoint begun before those commits does not move the range back
        CheckPoint online = new CheckPoint(0x1000028L, 1, 1, true, 745, 13000, 1, 0, 716, 1, 1, 1, 1700000001L, 741, 741, 0);
        ingest.ingest(record(0, ResourceManagers.XLOG, 0x10, online.encode()));
        assertThat(control().newestCommitTsXid()).isEqualTo(40_000);

        // aborts never set a commit timestamp
        ingest.ingest(record(745, ResourceManagers.XACT, 0x20, le(8).putLong(5_000_000L).array()));
        assertThat(CommitTsDescriptor.time(commitTsPage(0), 745)).isZero();

        // off again: DeactivateCommitTs removes the pages and invalidates the range
        ingest.ingest(record(0, ResourceManagers.XLOG, 0x60, parameterChange(false)));
        assertThat(commitTsPage(0)).isNull();
        assertThat(commitTsPage(1)).isNull();
        assertThat(commitTsPage(48)).isNull();
        assertThat(control().oldestCommitTsXid()).isZero();
        assertThat(control().newestCommitTsXid()).isZero();
        ingest.ingest(record(40_001, ResourceManagers.XACT, 0x00, le(8).putLong(6_000_000L).array()));
        assertThat(commitTsPage(48)).isNull();
        writer.commit(lsn);

        // a new ingest of the same timeline reads the state back from the store
        WalIngest again = new WalIngest(writer);
        again.ingest(record(0, ResourceManagers.XLOG, 0x60, parameterChange(true)));
        assertThat(control().oldestCommitTsXid()).isEqualTo(40_002);
        assertThat(commitTsPage(48)).isEqualTo(new byte[8192]);
    }

    @Test
    void commitTsZeroPageAndTruncate() {
        CheckPoint cp = new CheckPoint(0x1000028L, 1, 1, true, 3, 13000, 1, 0, 3, 1, 1, 1, 1700000000L, 0, 0, 0);
        ingest.ingest(record(0, ResourceManagers.XLOG, 0x00, cp.encode()));
        ingest.ingest(record(0, ResourceManagers.XLOG, 0x60, parameterChange(true)));
        assertThat(control().oldestCommitTsXid()).isEqualTo(3);
        // pages 0..70 exist (segments 0, 1, 2), each with a commit
        for (int p = 1; p <= 70; p++) {
            ingest.ingest(record(0, ResourceManagers.COMMIT_TS, 0x00, le(4).putInt(p).array()));
            int xid = p * CommitTsDescriptor.XACTS_PER_PAGE;
            ingest.ingest(record(xid, ResourceManagers.XACT, 0x00, le(8).putLong(1_000L + p).array()));
        }
        ingest.ingest(record(0, ResourceManagers.COMMIT_TS, 0x00, le(4).putInt(70).array()));
        assertThat(commitTsPage(70)).isEqualTo(new byte[8192]);
        assertThat(CommitTsDescriptor.time(commitTsPage(69), 69 * 819)).isEqualTo(1_069L);

        // TRUNCATE at page 65 (segment 2 starts at page 64): segments 0 and 1 go, segment 2 stays
        int oldest = 65 * 819 + 5;
        ingest.ingest(record(0, ResourceManagers.COMMIT_TS, 0x10, le(8).putInt(65).putInt(oldest).array()));
        assertThat(commitTsPage(0)).isNull();
        assertThat(commitTsPage(31)).isNull();
        assertThat(commitTsPage(63)).isNull();
        assertThat(commitTsPage(64)).isNotNull();
        assertThat(CommitTsDescriptor.time(commitTsPage(69), 69 * 819)).isEqualTo(1_069L);
        assertThat(control().oldestCommitTsXid()).isEqualTo(oldest);
        assertThatThrownBy(() -> ingest.ingest(record(0, ResourceManagers.COMMIT_TS, 0x20, le(4).putInt(1).array())))
                .isInstanceOf(WalIngestException.class).hasMessageContaining("unknown commit_ts record type 0x20");
    }

    @Test
    void multixactCreateWritesOffsetsAndMembers() {
        // multi 2047 is the last entry of offsets page 0: its successor's offset goes to page 1
        byte[] create = le(12 + 16).putInt(2047).putInt(1635).putInt(2).putInt(950).putInt(1).putInt(951).putInt(5)
                .array();
        ingest.ingest(record(0, ResourceManagers.MULTIXACT, 0x20, create));
        ByteBuffer off0 = ByteBuffer.wrap(writer.get(Key.slruPage(Key.SLRU_MULTIXACT_OFFSETS, 0), lsn))
                .order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer off1 = ByteBuffer.wrap(writer.get(Key.slruPage(Key.SLRU_MULTIXACT_OFFSETS, 1), lsn))
                .order(ByteOrder.LITTLE_ENDIAN);
        assertThat(off0.getInt(2047 * 4)).isEqualTo(1635);
        assertThat(off1.getInt(0)).isEqualTo(1637);
        // member offset 1635: page 0, group 408 (flags at 8160, member 3 -> flag byte 8163, xid at 8176)
        ByteBuffer m0 = ByteBuffer.wrap(writer.get(Key.slruPage(Key.SLRU_MULTIXACT_MEMBERS, 0), lsn))
                .order(ByteOrder.LITTLE_ENDIAN);
        assertThat(m0.getInt(8176)).isEqualTo(950);
        assertThat(m0.get(8163)).isEqualTo((byte) 1);
        // member offset 1636: page 1, group 0, member 0 -> flags at 0, xid at 4
        ByteBuffer m1 = ByteBuffer.wrap(writer.get(Key.slruPage(Key.SLRU_MULTIXACT_MEMBERS, 1), lsn))
                .order(ByteOrder.LITTLE_ENDIAN);
        assertThat(m1.getInt(4)).isEqualTo(951);
        assertThat(m1.get(0)).isEqualTo((byte) 5);
        assertThat(MultiXactDescriptor.memberPage(1636)).isEqualTo(1);
    }

    @Test
    void checkpointAndCountersAreTracked() {
        CheckPoint cp = new CheckPoint(0x1000028L, 1, 1, true, 740, 13000, 1, 0, 716, 1, 1, 1, 1700000000L, 0, 0, 0);
        ingest.ingest(record(0, ResourceManagers.XLOG, 0x00, cp.encode()));
        ingest.ingest(record(745, ResourceManagers.HEAP2, 0x70, new byte[20]));
        ingest.ingest(record(0, ResourceManagers.XLOG, 0x30, le(4).putInt(24576).array()));
        CheckPoint got = CheckPoint.decode(writer.get(Key.control(), lsn), 0);
        assertThat(got.nextXid()).isEqualTo(746);
        assertThat(got.nextOid()).isEqualTo(24576);
        assertThat(got.redo()).isEqualTo(0x1000028L);
    }

    @Test
    void truncateShrinksMainAndVm() {
        RelTag vm = REL.withFork(RelTag.VM_FORK);
        byte[] vmPage = heapPage(0);
        java.util.Arrays.fill(vmPage, 24, 8192, (byte) 0xFF);
        ingest.ingest(record(0, ResourceManagers.HEAP2, 0x40, new byte[8], block(0, vm, 0, vmPage),
                block(1, REL, 9, heapPage(1))));
        byte[] trunc = le(20).putInt(5).putInt(1663).putInt(5).putInt(16384).putInt(0x7).array();
        ingest.ingest(record(0, ResourceManagers.SMGR, 0x20, trunc));
        assertThat(RelSizeValue.decode(writer.get(Key.relSize(REL), lsn)).nblocks()).isEqualTo(5);
        assertThat(RelSizeValue.decode(writer.get(Key.relSize(vm), lsn)).nblocks()).isEqualTo(1);
        byte[] vmAfter = writer.get(Key.relBlock(vm, 0), lsn);
        assertThat(vmAfter[25] & 0xFF).isEqualTo(0x03);
        assertThat(vmAfter[26]).isZero();
    }
}
