package io.forkline.pageserver.importer;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Progress of the imports running on this server ({@code tenant import --from-primary}), per tenant
 * name, for {@code GET /v1/imports} and the CLI: the phase, bytes done and expected, rate and ETA.
 * An import registers itself ({@link #start}), reports as it goes ({@link Tracker#phase},
 * {@link Tracker#bytes}) and is removed when it ends ({@link Tracker#close}). Thread-safe.
 */
public final class ImportProgress {
    private final Map<String, Tracker> running = new ConcurrentHashMap<>();

    /**
     * An import's progress as the API shows it.
     *
     * @param tenant           the tenant being imported
     * @param source           where from (URI without password)
     * @param phase            {@code base backup} (pg_basebackup copying the primary's files),
     *                         {@code storing} (the copy written into the page store) or
     *                         {@code catching up} (the primary's WAL up to the backup's end ingested)
     * @param bytesDone        bytes of this phase done
     * @param bytesTotal       bytes this phase expects, or null when unknown
     * @param percent          {@code bytesDone / bytesTotal} in percent, or null
     * @param rateBytesPerSecond bytes per second since the phase began, or null before a second passed
     * @param etaSeconds       seconds left at that rate, or null when unknown
     * @param elapsedSeconds   seconds since the import began
     */
    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record View(@JsonProperty("tenant") String tenant,
                       @JsonProperty("source") String source,
                       @JsonProperty("phase") String phase,
                       @JsonProperty("bytes_done") long bytesDone,
                       @JsonProperty("bytes_total") Long bytesTotal,
                       @JsonProperty("percent") Double percent,
                       @JsonProperty("rate_bytes_per_second") Long rateBytesPerSecond,
                       @JsonProperty("eta_seconds") Long etaSeconds,
                       @JsonProperty("elapsed_seconds") long elapsedSeconds) {
    }

    /** One import's progress; the importing thread writes, any thread reads. */
    public final class Tracker implements AutoCloseable {
        private final String tenant;
        private final String source;
        private final long startNanos = System.nanoTime();
        private String phase = "starting";
        private long phaseStartNanos = startNanos;
        private long done;
        private long total = -1;

        private Tracker(String tenant, String source) {
            this.tenant = tenant;
            this.source = source;
        }

        /** A new phase begins, with {@code total} bytes expected ({@code -1}: unknown). */
        public synchronized void phase(String name, long total) {
            this.phase = name;
            this.total = total;
            this.done = 0;
            this.phaseStartNanos = System.nanoTime();
        }

        /** Bytes of the current phase done so far (and the total, when it became known; {@code -1}: keep). */
        public synchronized void bytes(long done, long total) {
            this.done = Math.max(0, done);
            if (total >= 0) {
                this.total = total;
            }
        }

        /** The progress now. */
        public synchronized View view() {
            long now = System.nanoTime();
            Long tot = total >= 0 ? total : null;
            Estimate e = estimate(done, 0, tot, (now - phaseStartNanos) / 1e9);
            return new View(tenant, source, phase, done, tot, e.percent(), e.rateBytesPerSecond(), e.etaSeconds(),
                    (now - startNanos) / 1_000_000_000L);
        }

        /** The import ended (done or failed). */
        @Override
        public void close() {
            running.remove(tenant, this);
        }
    }

    /**
     * Percent (one decimal, capped at 100), rate and time left of a copy.
     *
     * @param percent            done / total in percent, or null when the total is unknown or 0
     * @param rateBytesPerSecond bytes per second, or null before a second passed
     * @param etaSeconds         seconds left at that rate, or null when unknown
     */
    public record Estimate(Double percent, Long rateBytesPerSecond, Long etaSeconds) {
    }

    /**
     * The estimate of a copy at {@code done} bytes of {@code total} (null: unknown) that was at
     * {@code doneAtStart} bytes {@code seconds} ago.
     */
    public static Estimate estimate(long done, long doneAtStart, Long total, double seconds) {
        Long rate = seconds >= 1 ? Math.max(0, Math.round((done - doneAtStart) / seconds)) : null;
        Double pct = total != null && total > 0 ? Math.round(Math.min(100.0, 100.0 * done / total) * 10) / 10.0 : null;
        Long eta = total != null && rate != null && rate > 0 ? Math.max(0, (total - done) / rate) : null;
        return new Estimate(pct, rate, eta);
    }

    /** Registers an import of {@code tenant} from {@code source}; close the tracker when it ends. */
    public Tracker start(String tenant, String source) {
        Tracker t = new Tracker(tenant, source);
        running.put(tenant, t);
        return t;
    }

    /** The imports running now. */
    public List<View> views() {
        Collection<Tracker> ts = running.values();
        return ts.stream().map(Tracker::view).sorted(java.util.Comparator.comparing(View::tenant)).toList();
    }

    /** The import of {@code tenant} running now, or null. */
    public View view(String tenant) {
        Tracker t = running.get(tenant);
        return t == null ? null : t.view();
    }
}
