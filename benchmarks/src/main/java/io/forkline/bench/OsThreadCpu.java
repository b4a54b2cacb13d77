package io.forkline.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.function.ObjLongConsumer;
import java.util.stream.Stream;

/**
 * CPU time (user + system, nanoseconds) of every thread of this process since construction, Java or
 * native (RocksDB's {@code rocksdb:low} / {@code rocksdb:high}, libfuse's workers), read from
 * {@code /proc/self/task/TID/stat} (fields 14 and 15, {@code utime} and {@code stime}, in clock ticks
 * of 10 ms: proc(5)) and named by {@code comm} (at most 15 characters). Linux only; elsewhere it
 * reports nothing. Threads that ended in between are not counted; threads started since count from
 * zero.
 */
public final class OsThreadCpu {
    private static final Path TASKS = Path.of("/proc/self/task");
    /** Nanoseconds per clock tick: USER_HZ is 100 on every Linux ABI this runs on. */
    private static final long TICK_NANOS = 10_000_000L;
    private final Map<String, Long> start = new HashMap<>();

    /** Takes the snapshot every later {@link #forEachSince} is measured from. */
    public OsThreadCpu() {
        snapshot((tid, name, nanos) -> start.put(tid, nanos));
    }

    /** Calls {@code action} with each live thread's name and its CPU nanoseconds since construction. */
    public void forEachSince(ObjLongConsumer<String> action) {
        snapshot((tid, name, nanos) -> action.accept(name, nanos - start.getOrDefault(tid, 0L)));
    }

    private interface TaskConsumer {
        void accept(String tid, String name, long nanos);
    }

    private static void snapshot(TaskConsumer c) {
        if (!Files.isDirectory(TASKS)) {
            return;
        }
        try (Stream<Path> tasks = Files.list(TASKS)) {
            tasks.forEach(t -> {
                try {
                    String stat = Files.readString(t.resolve("stat"));
                    // "pid (comm) state ..." : comm may hold spaces and parentheses; fields follow the last ')'
                    int open = stat.indexOf('(');
                    int close = stat.lastIndexOf(')');
                    String[] f = stat.substring(close + 2).trim().split(" ");
                    // f[0] is field 3 (state): utime is field 14 -> f[11], stime field 15 -> f[12]
                    long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
                    c.accept(t.getFileName().toString(), stat.substring(open + 1, close), ticks * TICK_NANOS);
                } catch (IOException | RuntimeException e) {
                    // the thread ended between the listing and the read
                }
            });
        } catch (IOException e) {
            // no /proc: nothing to report
        }
    }
}
