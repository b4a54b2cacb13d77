package io.forkline.wal.replication;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Cgroups of the {@code cpu} controller (cgroup v1) that single threads of this process move into, so
 * that a thread's priority counts against the computes' processes and not only against this process's
 * other threads.
 *
 * <p><b>Why.</b> With autogroup on ({@code /proc/sys/kernel/sched_autogroup_enabled} = 1, sched(7)
 * "The autogroup feature"), every session of the root task group is a task group of its own, and CFS
 * shares the CPU between the groups by their weights before it looks at the threads inside one. A
 * PostgreSQL backend starts a session of its own ({@code InitPostmasterChild()} calls {@code setsid()},
 * {@code src/backend/utils/init/miscinit.c}), so each backend weighs as much as this whole process: a
 * receiver thread under {@code SCHED_IDLE} or at nice 19 yields only to this process's other threads
 * and still takes its group's share from the backends (measured: pgbench's own TPS at scale 100 / 4
 * clients 0.68-0.74x stock with autogroup, 0.97-1.00x without; benchmarks/README.md 9n). A thread in
 * another task group than the root has no autogroup ({@code task_wants_autogroup()},
 * {@code kernel/sched/autogroup.h}), so a thread moved into a child cgroup competes by that group's
 * settings: {@code cpu.idle} = 1 makes the whole group {@code SCHED_IDLE} (preempted by any other
 * task, weight 3; Linux 5.15+), {@code cpu.shares} a weight (the nice value's weight of
 * {@code sched_prio_to_weight[]}, {@code kernel/sched/core.c}).
 *
 * <p><b>When.</b> {@link #available()} is non-null only where it is needed and possible: Linux, autogroup
 * on, this process in the root task group of a cgroup v1 {@code cpu} hierarchy (its path there is
 * {@code /}), and that hierarchy writable (root). Elsewhere the threads' own priorities work as meant:
 * without autogroup, or in a cgroup of the cpu controller (a systemd service with it), where the
 * computes, started by this process, are in the same group. Under cgroup v2 without the cpu controller
 * on this process's cgroup nothing is placed (it would need a delegated, threaded subtree); that is
 * logged once.
 *
 * <p><b>Groups.</b> Children of this process's cpu cgroup, named {@code forkline-<pid>-idle} and
 * {@code forkline-<pid>-nice<N>}, made when first used; groups of processes that are gone are removed
 * when the first group is made, and this process's own at exit (a group that still holds a thread
 * stays). Moving a thread is a write of its id to a group's {@code tasks} file (~50 µs here). Thread-safe.
 */
public final class CpuGroups {
    private static final Logger LOG = LoggerFactory.getLogger(CpuGroups.class);
    /** {@code sched_prio_to_weight[]} of {@code kernel/sched/core.c}: the CFS weight of nice -20..19. */
    private static final int[] NICE_WEIGHTS = {
            88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705, 14949, 11916,
            9548, 7620, 6100, 4904, 3906, 3121, 2501, 1991, 1586, 1277,
            1024, 820, 655, 526, 423, 335, 272, 215, 172, 137,
            110, 87, 70, 56, 45, 36, 29, 23, 18, 15};
    private static final Pattern OWN_GROUP = Pattern.compile("forkline-(\\d+)-(idle|nice-?\\d+)");

    private final Path home;
    private final String prefix;
    private final Map<String, Path> made = new ConcurrentHashMap<>();
    private volatile boolean cleaned;

    /**
     * Groups under {@code home}, a directory of a cgroup v1 {@code cpu} hierarchy holding this process.
     *
     * @param home the cgroup whose {@code tasks} file a thread returns to; children are made beside it
     */
    CpuGroups(Path home) {
        this.home = home;
        this.prefix = "forkline-" + ProcessHandle.current().pid() + "-";
    }

    private static final class Holder {
        static final CpuGroups INSTANCE = load();
    }

    /**
     * The groups of this machine, or {@code null} where they are not needed or cannot be made (the
     * reason logged once at INFO).
     */
    public static CpuGroups available() {
        return Holder.INSTANCE;
    }

    private static CpuGroups load() {
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            return null;
        }
        try {
            String autogroup = read(Path.of("/proc/sys/kernel/sched_autogroup_enabled"));
            if (!autogroup.equals("1")) {
                LOG.debug("cpu groups: autogroup is off; thread priorities order ingest against the computes");
                return null;
            }
            Path mount = cpuMount(Files.readAllLines(Path.of("/proc/self/mountinfo")));
            String own = cpuPath(Files.readAllLines(Path.of("/proc/self/cgroup")));
            if (mount == null || own == null) {
                if (cgroup2HasCpu()) {
                    LOG.debug("cpu groups: this process is in a cgroup v2 group with the cpu controller (no"
                            + " autogroup): not needed");
                } else {
                    LOG.info("cpu groups: autogroup is on and this process is in the root cpu task group without a"
                            + " cgroup v1 cpu hierarchy: ingest in the background still takes this process's share of"
                            + " the CPU from each compute backend");
                }
                return null;
            }
            if (!own.equals("/")) {
                LOG.debug("cpu groups: this process is in cpu cgroup {} (no autogroup): not needed", own);
                return null;
            }
            if (!Files.isWritable(mount.resolve("tasks"))) {
                LOG.info("cpu groups: {} is not writable: ingest in the background still takes this process's share"
                        + " of the CPU from each compute backend (autogroup)", mount);
                return null;
            }
            CpuGroups g = new CpuGroups(mount);
            Runtime.getRuntime().addShutdownHook(new Thread(g::removeOwn, "forkline-cpu-groups-cleanup"));
            LOG.info("cpu groups: autogroup is on: threads in the background move into cgroups under {}", mount);
            return g;
        } catch (IOException | RuntimeException e) {
            LOG.info("cpu groups: not used ({})", e.toString());
            return null;
        }
    }

    /**
     * The mount point of the cgroup v1 hierarchy that has the {@code cpu} controller, from
     * {@code /proc/self/mountinfo} lines, or {@code null}. Only a hierarchy mounted at its root counts.
     */
    static Path cpuMount(List<String> mountinfo) {
        return rootMount(mountinfo, "cgroup", "cpu");
    }

    /**
     * The mount point of the first mount of file system type {@code type} mounted at its root and, when
     * {@code option} is not null, with that super option, from {@code /proc/self/mountinfo} lines (proc(5):
     * field 4 the root, field 5 the mount point with spaces as {@code \040}; after the {@code -} separator
     * the file system type, the source and the super options), or {@code null}.
     */
    private static Path rootMount(List<String> mountinfo, String type, String option) {
        for (String line : mountinfo) {
            int sep = line.indexOf(" - ");
            if (sep < 0) {
                continue;
            }
            String[] head = line.substring(0, sep).split(" ");
            String[] tail = line.substring(sep + 3).split(" ");
            if (head.length < 5 || tail.length < 3 || !tail[0].equals(type) || !head[3].equals("/")) {
                continue;
            }
            if (option == null || List.of(tail[2].split(",")).contains(option)) {
                return Path.of(head[4].replace("\\040", " "));
            }
        }
        return null;
    }

    /**
     * Whether this process's cgroup v2 group has the cpu controller (its {@code cpu.weight} file exists:
     * interface files exist only where the parent enables the controller, cgroups(7)), so that it is not
     * in the root task group.
     */
    private static boolean cgroup2HasCpu() throws IOException {
        String path = null;
        for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
            if (line.startsWith("0::")) {
                path = line.substring(3);
            }
        }
        Path mount = rootMount(Files.readAllLines(Path.of("/proc/self/mountinfo")), "cgroup2", null);
        return path != null && mount != null && Files.exists(mount.resolve(path.substring(1)).resolve("cpu.weight"));
    }

    /**
     * This process's path in the cgroup v1 {@code cpu} hierarchy from {@code /proc/self/cgroup} lines
     * ({@code id:controllers:path}, cgroups(7)), or {@code null} when no v1 hierarchy has it.
     */
    static String cpuPath(List<String> cgroup) {
        for (String line : cgroup) {
            String[] f = line.split(":", 3);
            if (f.length == 3) {
                for (String controller : f[1].split(",")) {
                    if (controller.equals("cpu")) {
                        return f[2];
                    }
                }
            }
        }
        return null;
    }

    /**
     * Moves thread {@code tid} of this process into the group that runs it under {@code SCHED_IDLE}
     * ({@code cpu.idle} = 1).
     *
     * @throws IllegalStateException naming the thread and the group when the kernel refuses
     */
    public void toIdle(int tid) {
        move(tid, group("idle", "cpu.idle", "1"));
    }

    /**
     * Moves thread {@code tid} of this process into the group that weighs as a thread at {@code nice}.
     *
     * @param nice -20..19
     * @throws IllegalArgumentException when {@code nice} is outside -20..19
     * @throws IllegalStateException    naming the thread and the group when the kernel refuses
     */
    public void toNice(int tid, int nice) {
        if (nice < -20 || nice > 19) {
            throw new IllegalArgumentException("nice value " + nice + " is outside -20..19");
        }
        move(tid, group("nice" + nice, "cpu.shares", Integer.toString(NICE_WEIGHTS[nice + 20])));
    }

    /**
     * Moves thread {@code tid} of this process back into this process's own cpu cgroup (its session's
     * autogroup).
     *
     * @throws IllegalStateException naming the thread when the kernel refuses
     */
    public void toHome(int tid) {
        move(tid, home);
    }

    /** The cpu cgroup path of thread {@code tid} of this process ({@code /proc/self/task/<tid>/cgroup}), for tests. */
    static String pathOf(int tid) throws IOException {
        return cpuPath(Files.readAllLines(Path.of("/proc/self/task/" + tid + "/cgroup")));
    }

    /** The directory of the group of {@code suffix} ({@code idle}, {@code nice-20}, ...), made or not. */
    Path groupDir(String suffix) {
        return home.resolve(prefix + suffix);
    }

    private Path group(String suffix, String file, String value) {
        return made.computeIfAbsent(suffix, s -> {
            Path dir = groupDir(s);
            try {
                if (!cleaned) {
                    cleaned = true;
                    removeGone();
                }
                if (!Files.isDirectory(dir)) {
                    Files.createDirectory(dir);
                }
                Files.writeString(dir.resolve(file), value);
                return dir;
            } catch (IOException e) {
                throw new IllegalStateException("cpu cgroup " + dir + ": setting " + file + " to " + value + " failed: "
                        + e, e);
            }
        });
    }

    private static void move(int tid, Path group) {
        try {
            Files.writeString(group.resolve("tasks"), Integer.toString(tid));
        } catch (IOException e) {
            throw new IllegalStateException("moving thread " + tid + " into cpu cgroup " + group + " failed: " + e, e);
        }
    }

    /** Removes the groups of Forkline processes that are gone (empty by then). */
    private void removeGone() {
        try (DirectoryStream<Path> children = Files.newDirectoryStream(home, "forkline-*")) {
            for (Path child : children) {
                Matcher m = OWN_GROUP.matcher(child.getFileName().toString());
                if (m.matches() && ProcessHandle.of(Long.parseLong(m.group(1))).isEmpty()) {
                    remove(child);
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("cpu groups: listing {}: {}", home, e.toString());
        }
    }

    /** Removes this process's groups; one that still holds a thread stays. */
    void removeOwn() {
        for (Path dir : made.values()) {
            remove(dir);
        }
        made.clear();
    }

    private static void remove(Path dir) {
        try {
            Files.delete(dir); // rmdir(2): a cgroup's interface files go with it
        } catch (NoSuchFileException e) {
            // gone already
        } catch (IOException e) {
            LOG.debug("cpu groups: removing {}: {}", dir, e.toString());
        }
    }

    private static String read(Path p) throws IOException {
        return new String(Files.readAllBytes(p), StandardCharsets.US_ASCII).trim();
    }
}
