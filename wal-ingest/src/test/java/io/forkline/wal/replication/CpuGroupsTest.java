package io.forkline.wal.replication;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link CpuGroups}: reading the cgroup files, and moving a thread on this machine's cgroup v1 cpu hierarchy. */
class CpuGroupsTest {
    @Test
    void findsTheCpuHierarchyAndThisProcesssPathInIt() {
        List<String> mountinfo = List.of(
                "30 24 0:26 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset",
                "31 24 0:27 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct",
                "29 24 0:25 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
                "32 24 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct");
        assertThat(CpuGroups.cpuMount(mountinfo)).isEqualTo(Path.of("/sys/fs/cgroup/cpu,cpuacct"));
        assertThat(CpuGroups.cpuMount(mountinfo.subList(0, 3))).as("cpuset and cpuacct are not cpu").isNull();
        assertThat(CpuGroups.cpuMount(List.of("33 24 0:28 /docker/x /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu")))
                .as("a hierarchy not mounted at its root").isNull();
        assertThat(CpuGroups.cpuPath(List.of("3:cpuset:/", "2:cpu,cpuacct:/system.slice/x.service", "0::/")))
                .isEqualTo("/system.slice/x.service");
        assertThat(CpuGroups.cpuPath(List.of("2:cpuacct:/", "0::/user.slice"))).isNull();
    }

    @Test
    void movesTheCallingThreadIntoTheIdleAndWeightedGroupsAndHome() throws Exception {
        Path mount = CpuGroups.cpuMount(Files.readAllLines(Path.of("/proc/self/mountinfo")));
        Assumptions.assumeTrue(mount != null && Files.isWritable(mount.resolve("tasks"))
                        && "/".equals(CpuGroups.cpuPath(Files.readAllLines(Path.of("/proc/self/cgroup")))),
                "needs a writable cgroup v1 cpu hierarchy holding this process at its root (CI runs as root)");
        ThreadPriority p = ThreadPriority.available();
        Assumptions.assumeTrue(p != null, "needs Linux");
        int tid = p.currentThreadId();
        CpuGroups groups = new CpuGroups(mount);
        String pid = Long.toString(ProcessHandle.current().pid());
        try {
            groups.toIdle(tid);
            assertThat(CpuGroups.pathOf(tid)).isEqualTo("/forkline-" + pid + "-idle");
            assertThat(Files.readString(groups.groupDir("idle").resolve("cpu.idle")).trim()).isEqualTo("1");
            groups.toNice(tid, -20);
            assertThat(CpuGroups.pathOf(tid)).isEqualTo("/forkline-" + pid + "-nice-20");
            assertThat(Files.readString(groups.groupDir("nice-20").resolve("cpu.shares")).trim()).isEqualTo("88761");
            groups.toNice(tid, 19);
            assertThat(Files.readString(groups.groupDir("nice19").resolve("cpu.shares")).trim()).isEqualTo("15");
            groups.toHome(tid);
            assertThat(CpuGroups.pathOf(tid)).isEqualTo("/");
            assertThatThrownBy(() -> groups.toNice(tid, 20)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("20");
            assertThatThrownBy(() -> groups.toIdle(1 << 23)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(String.valueOf(1 << 23)).hasMessageContaining("-idle");
        } finally {
            groups.toHome(tid);
            groups.removeOwn();
        }
        assertThat(groups.groupDir("idle")).doesNotExist();
        assertThat(groups.groupDir("nice-20")).doesNotExist();
    }
}
