package io.forkline.wal.ingest.control;

import io.forkline.wal.xlog.CheckPoint;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ControlStateTest {
    private static CheckPoint cp(long nextXid, int nextOid, int nextMulti) {
        return new CheckPoint(0x1000028L, 1, 1, true, nextXid, nextOid, nextMulti, 0, 716, 1, 1, 1, 1700000000L, 0, 0,
                0);
    }

    @Test
    void nextXidAdvancesPastNormalXidsWithEpochWrap() {
        ControlState s = new ControlState(cp(1000, 16384, 1));
        s.advanceNextXidPast(999);
        assertThat(s.nextFullXid()).isEqualTo(1000);
        assertThat(s.dirty()).isFalse();
        s.advanceNextXidPast(1000);
        assertThat(s.nextFullXid()).isEqualTo(1001);
        s.advanceNextXidPast(2); // special xid
        assertThat(s.nextFullXid()).isEqualTo(1001);
        ControlState w = new ControlState(cp(0xFFFFFFF0L, 16384, 1));
        w.advanceNextXidPast(-1); // 0xFFFFFFFF -> next is 3 in epoch 1
        assertThat(w.nextFullXid()).isEqualTo((1L << 32) | 3);
    }

    @Test
    void onlineCheckpointKeepsCountersMonotoneAndNextOid() {
        ControlState s = new ControlState(cp(5000, 30000, 10));
        s.applyOnlineCheckpoint(cp(4000, 20000, 12));
        CheckPoint out = s.snapshot();
        assertThat(out.nextXid()).isEqualTo(5000);
        assertThat(out.nextOid()).isEqualTo(30000);
        assertThat(out.nextMulti()).isEqualTo(12);
        s.applyShutdownCheckpoint(cp(6000, 40000, 13));
        assertThat(s.snapshot().nextOid()).isEqualTo(40000);
    }

    @Test
    void multiAdvance() {
        ControlState s = new ControlState(cp(5000, 30000, 10));
        s.advanceNextMulti(11, 4);
        assertThat(s.nextMulti()).isEqualTo(11);
        assertThat(s.nextMultiOffset()).isEqualTo(4);
        s.advanceNextMulti(9, 2);
        assertThat(s.nextMulti()).isEqualTo(11);
    }
}
