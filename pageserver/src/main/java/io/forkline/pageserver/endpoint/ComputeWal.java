package io.forkline.pageserver.endpoint;

import io.forkline.storage.id.TimelineId;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;
import io.forkline.wal.replication.ComputeWalRecovery;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Properties;
import java.util.function.Predicate;

/**
 * The marker beside a compute of this machine that says whose WAL its {@code pg_wal} holds, and the
 * recovery that reads it. Such a compute acknowledges a commit once its own WAL is fsync'd
 * ({@link io.forkline.compute.endpoint.ComputeSettings#commitSettings()}), so until the WAL
 * receiver has made that WAL durable in the store, the compute's {@code pg_wal} is its only copy:
 * nothing may delete it before {@link #recover} ran.
 *
 * <p>The marker, {@code <endpoint dir>/compute-wal.properties}, is written after the compute
 * started and before any client reaches it: {@code timeline} (the store timeline it writes),
 * {@code wal_start} (where its own WAL begins, {@code X/Y}), {@code wal_dir} (its {@code pg_wal}).
 * It is deleted once that WAL is in the store.
 */
final class ComputeWal {
    static final String MARKER = "compute-wal.properties";

    private ComputeWal() {
    }

    /** Writes the marker of a compute that just started (atomically: a temporary file moved into place). */
    static void writeMarker(Path endpointDir, TimelineId timeline, long walStart, Path walDir) throws IOException {
        Properties p = new Properties();
        p.setProperty("timeline", timeline.toString());
        p.setProperty("wal_start", Lsn.format(walStart));
        p.setProperty("wal_dir", walDir.toAbsolutePath().toString());
        Path tmp = endpointDir.resolve(MARKER + ".tmp");
        try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            p.store(w, "the compute's pg_wal holds WAL of this timeline that may not be in the store yet");
        }
        Files.move(tmp, endpointDir.resolve(MARKER), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * When {@code endpointDir} has a marker: ingests what the compute's {@code pg_wal} holds beyond its
     * timeline's durable last record LSN ({@link ComputeWalRecovery}), then deletes the marker. A
     * marker whose timeline no longer exists (its branch was deleted) is just deleted. The compute's
     * PostgreSQL must not run and the timeline's WAL receiver must be closed.
     *
     * @param dataChecksums whether a timeline's cluster has data checksums
     * @return what was recovered, or {@code null} when there was no marker or no timeline
     * @throws IOException              when the marker or a WAL segment cannot be read
     * @throws IllegalArgumentException naming the marker when it is malformed
     * @throws io.forkline.wal.replication.WalReceiverException when a record cannot be ingested
     */
    static ComputeWalRecovery.Result recover(PageStore store, Path endpointDir, Predicate<TimelineId> dataChecksums)
            throws IOException {
        Path marker = endpointDir.resolve(MARKER);
        if (!Files.exists(marker)) {
            return null;
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(marker, StandardCharsets.UTF_8)) {
            p.load(r);
        }
        TimelineId tl;
        long walStart;
        Path walDir;
        try {
            tl = TimelineId.parse(p.getProperty("timeline"));
            walStart = Lsn.parse(p.getProperty("wal_start"));
            walDir = Path.of(p.getProperty("wal_dir"));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("malformed " + marker + " (" + p + "): " + e.getMessage(), e);
        }
        ComputeWalRecovery.Result result = null;
        if (store.timeline(tl) != null) {
            result = ComputeWalRecovery.recover(store, tl, walStart, walDir, dataChecksums.test(tl));
        }
        Files.delete(marker);
        return result;
    }
}
