package io.forkline.wal.replication;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link ThreadPriority} on this machine's kernel, and {@link BackgroundIngest}'s validation. */
class ThreadPriorityTest {
    @Test
    void lowersAndRestoresTheCallingThreadsNiceValue() {
        ThreadPriority p = ThreadPriority.available();
        Assumptions.assumeTrue(p != null, "needs Linux and CAP_SYS_NICE (CI runs as root)");
        int tid = p.currentThreadId();
        int before = ThreadPriority.nice(tid);
        try {
            p.set(tid, 17);
            assertThat(ThreadPriority.nice(tid)).isEqualTo(17);
        } finally {
            p.set(tid, before);
        }
        assertThat(ThreadPriority.nice(tid)).isEqualTo(before);
    }

    @Test
    void putsTheCallingThreadUnderSchedIdleAndBack() {
        ThreadPriority p = ThreadPriority.available();
        Assumptions.assumeTrue(p != null, "needs Linux and CAP_SYS_NICE (CI runs as root)");
        int tid = p.currentThreadId();
        int nice = ThreadPriority.nice(tid);
        assertThat(ThreadPriority.isIdle(tid)).isFalse();
        try {
            p.setIdle(tid, true);
            assertThat(ThreadPriority.isIdle(tid)).isTrue();
        } finally {
            p.setIdle(tid, false);
        }
        assertThat(ThreadPriority.isIdle(tid)).isFalse();
        assertThat(ThreadPriority.nice(tid)).as("the nice value survives SCHED_IDLE").isEqualTo(nice);
        assertThatThrownBy(() -> p.setIdle(1 << 23, true)).hasMessageContaining("SCHED_IDLE")
                .hasMessageContaining(String.valueOf(1 << 23));
    }

    @Test
    void refusalsNameTheThreadAndValue() {
        ThreadPriority p = ThreadPriority.available();
        Assumptions.assumeTrue(p != null, "needs Linux and CAP_SYS_NICE (CI runs as root)");
        assertThatThrownBy(() -> p.set(p.currentThreadId(), 20)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("20");
        // a thread id that is not one of this process's threads (pid_max is at most 2^22)
        assertThatThrownBy(() -> p.set(1 << 23, 5)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(String.valueOf(1 << 23)).hasMessageContaining("errno");
        assertThat(p.trySet(1 << 23, 5)).isFalse();
    }

    @Test
    void readsTheNiceValueOfAThreadFromProc() {
        Assumptions.assumeTrue(System.getProperty("os.name", "").toLowerCase().contains("linux"));
        ThreadPriority p = ThreadPriority.available();
        Assumptions.assumeTrue(p != null);
        assertThat(ThreadPriority.nice(p.currentThreadId())).isBetween(-20, 19);
        assertThatThrownBy(() -> ThreadPriority.nice(1 << 23)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("/proc/self/task/" + (1 << 23) + "/stat");
    }

    @Test
    void backgroundPolicyValidatesAndReadsItsProperties() {
        assertThatThrownBy(() -> new BackgroundIngest(0, false, Duration.ofSeconds(1), 1, Duration.ZERO)).hasMessageContaining("nice value 0");
        assertThatThrownBy(() -> new BackgroundIngest(19, false, Duration.ZERO, 1, Duration.ZERO)).hasMessageContaining("maxBehind");
        assertThatThrownBy(() -> new BackgroundIngest(19, false, Duration.ofSeconds(1), 0, Duration.ZERO)).hasMessageContaining("maxLagBytes 0");
        assertThatThrownBy(() -> new BackgroundIngest(19, false, Duration.ofSeconds(1), 1, Duration.ofMillis(-1)))
                .hasMessageContaining("groupCommit PT-0.001S");
        String old = System.getProperty(BackgroundIngest.MAX_LAG_PROPERTY);
        try {
            System.setProperty(BackgroundIngest.MAX_LAG_PROPERTY, "lots");
            assertThatThrownBy(BackgroundIngest::configured).hasMessageContaining(BackgroundIngest.MAX_LAG_PROPERTY)
                    .hasMessageContaining("'lots'");
            System.setProperty(BackgroundIngest.MAX_LAG_PROPERTY, "64");
            BackgroundIngest b = BackgroundIngest.configured();
            if (ThreadPriority.available() != null) {
                assertThat(b).isEqualTo(new BackgroundIngest(19, true, Duration.ofSeconds(30), 64L << 20, Duration.ofMillis(10)));
            } else {
                assertThat(b).isNull();
            }
            System.setProperty(BackgroundIngest.PROPERTY, "false");
            assertThat(BackgroundIngest.configured()).isNull();
            System.setProperty(BackgroundIngest.POLICY_PROPERTY, "fast");
            assertThatThrownBy(BackgroundIngest::configured).hasMessageContaining("'fast'");
            System.clearProperty(BackgroundIngest.POLICY_PROPERTY);
            System.setProperty(BackgroundIngest.PROPERTY, "maybe");
            assertThatThrownBy(BackgroundIngest::configured).hasMessageContaining("'maybe'");
        } finally {
            System.clearProperty(BackgroundIngest.PROPERTY);
            if (old == null) {
                System.clearProperty(BackgroundIngest.MAX_LAG_PROPERTY);
            } else {
                System.setProperty(BackgroundIngest.MAX_LAG_PROPERTY, old);
            }
        }
    }
}
