package io.forkline.compute.bpf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where this process sees the root of the cgroup v2 hierarchy, the attach point of Forkline's cgroup
 * programs (the port guard's connect hooks, the kernel relay's sock_ops hook): programs attached there
 * with multi-attach semantics run for every process in the hierarchy.
 */
public final class Cgroup2 {
    private Cgroup2() {
    }

    /**
     * The mount point of the first {@code cgroup2} mount of the hierarchy's root ({@code /proc/self/mountinfo}:
     * {@code id parent major:minor root mountpoint options [optional...] - fstype source superoptions},
     * proc(5)), e.g. {@code /sys/fs/cgroup} or, on a hybrid system, {@code /sys/fs/cgroup/unified}.
     *
     * @throws UnsupportedOperationException when no cgroup v2 hierarchy is mounted or mountinfo cannot be read
     */
    public static Path root() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                int dash = line.indexOf(" - ");
                if (dash < 0) {
                    continue;
                }
                String[] pre = line.substring(0, dash).split(" ");
                String[] post = line.substring(dash + 3).split(" ");
                if (post.length > 0 && post[0].equals("cgroup2") && pre.length > 4 && pre[3].equals("/")) {
                    return Path.of(pre[4].replace("\\040", " "));
                }
            }
        } catch (IOException e) {
            throw new UnsupportedOperationException("cannot read /proc/self/mountinfo: " + e.getMessage(), e);
        }
        throw new UnsupportedOperationException("no cgroup v2 hierarchy is mounted (/proc/self/mountinfo)");
    }
}
