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
     * CPU time in jiffies of this benchmark's own processes: this process and every live descendant, the
     * PostgreSQL whose data directory is {@code pgdata} (its postmaster, daemonized by pg_ctl, and its
     * processes), each with the time of its children it has already waited for (pgbench runs, ended
     * backends); add {@link #kernelThreadJiffiesBetween} for the kernel worker and softirq threads
     * ({@code kworker/*}, {@code ksoftirqd/*}: they serve the whole machine, but during a kernel-relayed
     * run mostly the relay). Unlike {@link #read}, other users' processes on the machine are left out.
     * Softirq work done in a task's own context is charged to that task (tick sampling).
     */
    static long ownJiffies(Path pgdata) {
        long own = tree(ProcessHandle.current());
        try {
            long postmaster = Long.parseLong(Files.readAllLines(pgdata.resolve("postmaster.pid")).get(0).trim());
            own += ProcessHandle.of(postmaster).map(SystemCpu::tree).orElse(0L);
        } catch (IOException | RuntimeException e) {
            // no postmaster.pid: the compute's CPU is left out
        }
        return own;
    }

    private static long tree(ProcessHandle root) {
        long sum = jiffies(root.pid(), true);
        for (ProcessHandle h : (Iterable<ProcessHandle>) root.descendants()::iterator) {
            sum += jiffies(h.pid(), true);
        }
        return sum;
    }

    /** utime + stime of every {@code kworker/*} and {@code ksoftirqd/*} thread now, in jiffies, by thread id. */
    static java.util.Map<Long, Long> kernelThreadJiffies() {
        java.util.Map<Long, Long> byTid = new java.util.HashMap<>();
        try (var dirs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path d : dirs) {
                try {
                    String comm = Files.readString(d.resolve("comm")).trim();
                    if (comm.startsWith("kworker/") || comm.startsWith("ksoftirqd/")) {
                        long tid = Long.parseLong(d.getFileName().toString());
                        byTid.put(tid, jiffies(tid, false));
                    }
                } catch (IOException | RuntimeException e) {
                    // the thread ended meanwhile
                }
            }
        } catch (IOException e) {
            return byTid;
        }
        return byTid;
    }

    /**
     * Jiffies the kernel threads used between two {@link #kernelThreadJiffies} readings: threads in
     * both count their difference, new ones all their time; the time of threads that ended in
     * between is lost (it would otherwise make the sum negative).
     */
    static long kernelThreadJiffiesBetween(java.util.Map<Long, Long> before, java.util.Map<Long, Long> after) {
        long sum = 0;
        for (var e : after.entrySet()) {
            sum += Math.max(0, e.getValue() - before.getOrDefault(e.getKey(), 0L));
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

    /** Jiffies in microseconds. */
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
