package io.forkline.compute.proxy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Machine-wide CPU time and context switches from {@code /proc/stat} (Linux), so a benchmark can
 * charge every process, kworker and softirq to the transactions of its window: the {@code cpu}
 * line's jiffies (user nice system idle iowait irq softirq steal ...; USER_HZ = 100, 10 ms each)
 * and {@code ctxt}. Includes whatever else runs on the machine in that window.
 */
final class SystemCpu {
    private static final double MICROS_PER_JIFFY = 10_000.0;

    private SystemCpu() {
    }

    /** {busy jiffies (all but idle and iowait), softirq jiffies, context switches}; zeros where /proc/stat is missing. */
    static long[] read() {
        Path stat = Path.of("/proc/stat");
        if (!Files.isReadable(stat)) {
            return new long[3];
        }
        try {
            List<String> lines = Files.readAllLines(stat);
            long busy = 0, soft = 0, ctxt = 0;
            for (String line : lines) {
                String[] f = line.trim().split("\\s+");
                if (f[0].equals("cpu")) {
                    for (int i = 1; i < f.length && i <= 8; i++) { // guest time is already in user
                        if (i != 4 && i != 5) {
                            busy += Long.parseLong(f[i]);
                        }
                    }
                    soft = Long.parseLong(f[7]);
                } else if (f[0].equals("ctxt")) {
                    ctxt = Long.parseLong(f[1]);
                }
            }
            return new long[]{busy, soft, ctxt};
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static double busyMicros(long[] before, long[] after) {
        return (after[0] - before[0]) * MICROS_PER_JIFFY;
    }

    static double softirqMicros(long[] before, long[] after) {
        return (after[1] - before[1]) * MICROS_PER_JIFFY;
    }

    static double switches(long[] before, long[] after) {
        return after[2] - before[2];
    }

    /**
     * CPU time in jiffies of this benchmark's own work: this process and every live descendant, the
     * PostgreSQL whose data directory is {@code pgdata} (its postmaster, daemonized by pg_ctl, and its
     * processes), each with the time of its children it has already waited for (pgbench runs, ended
     * backends), plus every kernel worker and softirq thread
     * ({@code kworker/*}, {@code ksoftirqd/*}, which serve the whole machine but here mostly the
     * kernel relay). Unlike {@link #read}, other users' processes on the machine are left out.
     * Softirq work done in a task's own context is charged to that task (tick sampling).
     */
    static long ownAndKernelJiffies(Path pgdata) {
        long own = tree(ProcessHandle.current());
        try {
            long postmaster = Long.parseLong(Files.readAllLines(pgdata.resolve("postmaster.pid")).get(0).trim());
            own += ProcessHandle.of(postmaster).map(SystemCpu::tree).orElse(0L);
        } catch (IOException | RuntimeException e) {
            // no postmaster.pid: the compute's CPU is left out
        }
        return own + kernelThreadJiffies();
    }

    private static long tree(ProcessHandle root) {
        long sum = jiffies(root.pid(), true);
        for (ProcessHandle h : (Iterable<ProcessHandle>) root.descendants()::iterator) {
            sum += jiffies(h.pid(), true);
        }
        return sum;
    }

    /** utime + stime of every {@code kworker/*} and {@code ksoftirqd/*} thread, in jiffies. */
    static long kernelThreadJiffies() {
        long sum = 0;
        try (var dirs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path d : dirs) {
                try {
                    String comm = Files.readString(d.resolve("comm")).trim();
                    if (comm.startsWith("kworker/") || comm.startsWith("ksoftirqd/")) {
                        sum += jiffies(Long.parseLong(d.getFileName().toString()), false);
                    }
                } catch (IOException | RuntimeException e) {
                    // the thread ended meanwhile
                }
            }
        } catch (IOException e) {
            return 0;
        }
        return sum;
    }

    /** utime + stime (+ cutime + cstime) of a process from /proc/PID/stat; 0 if it is gone. */
    private static long jiffies(long pid, boolean withChildren) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // after "(comm) ": state(0) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(11) stime cutime cstime
            long t = Long.parseLong(f[11]) + Long.parseLong(f[12]);
            return withChildren ? t + Long.parseLong(f[13]) + Long.parseLong(f[14]) : t;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** Kernel worker + softirq thread jiffies, for a split of {@link #ownAndKernelJiffies}. */
    static double micros(long jiffies) {
        return jiffies * MICROS_PER_JIFFY;
    }

    /** The first three fields of {@code /proc/loadavg}, or "?" . */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + "/" + f[1] + "/" + f[2];
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }
}
