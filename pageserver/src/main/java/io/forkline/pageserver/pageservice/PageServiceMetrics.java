package io.forkline.pageserver.pageservice;

import io.forkline.page.protocol.proto.ErrorCode;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of the page service, read by the server's {@code /metrics}: connections, pages served,
 * error responses by code, back-pressure pauses. Thread-safe.
 */
public final class PageServiceMetrics {
    private final AtomicLong connections = new AtomicLong();
    private final LongAdder pages = new LongAdder();
    private final LongAdder pauses = new LongAdder();
    private final Map<ErrorCode, LongAdder> errors = new EnumMap<>(ErrorCode.class);

    PageServiceMetrics() {
        for (ErrorCode c : ErrorCode.values()) {
            if (c != ErrorCode.UNRECOGNIZED) {
                errors.put(c, new LongAdder());
            }
        }
    }

    void connected() {
        connections.incrementAndGet();
    }

    void disconnected() {
        connections.decrementAndGet();
    }

    void pagesServed(int n) {
        pages.add(n);
    }

    void backPressure() {
        pauses.increment();
    }

    void error(ErrorCode code) {
        LongAdder a = errors.get(code);
        if (a != null) {
            a.increment();
        }
    }

    /** Open connections now. */
    public long connections() {
        return connections.get();
    }

    /** Pages sent in GetPage responses since start. */
    public long pagesServed() {
        return pages.sum();
    }

    /** Times a connection stopped being read because of back-pressure. */
    public long backPressurePauses() {
        return pauses.sum();
    }

    /** Error responses of one code since start. */
    public long errors(ErrorCode code) {
        LongAdder a = errors.get(code);
        return a == null ? 0 : a.sum();
    }
}
