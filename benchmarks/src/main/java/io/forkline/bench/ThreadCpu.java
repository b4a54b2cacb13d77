package io.forkline.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.Map;
import java.util.function.ObjLongConsumer;

/**
 * CPU time (user + system, nanoseconds, from {@link ThreadMXBean#getThreadCpuTime}) of this JVM's
 * threads since construction, per live thread: for harnesses that split their CPU per transaction or
 * per page by thread role. Threads that ended in between are not counted; threads started since count
 * from zero.
 */
public final class ThreadCpu {
    private final ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    private final Map<Long, Long> start = new HashMap<>();

    /** Takes the snapshot every later {@link #forEachSince} is measured from. */
    public ThreadCpu() {
        for (long id : mx.getAllThreadIds()) {
            start.put(id, mx.getThreadCpuTime(id));
        }
    }

    /** Calls {@code action} with each live thread's name and its CPU nanoseconds since construction. */
    public void forEachSince(ObjLongConsumer<String> action) {
        for (ThreadInfo info : mx.getThreadInfo(mx.getAllThreadIds())) {
            if (info == null) {
                continue;
            }
            long now = mx.getThreadCpuTime(info.getThreadId());
            if (now < 0) {
                continue;
            }
            action.accept(info.getThreadName(), now - start.getOrDefault(info.getThreadId(), 0L));
        }
    }
}
