package io.forkline.wal.replication;

import io.forkline.storage.store.PageStore;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.id.TimelineId;
import io.forkline.wal.record.WalDecodeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Ingests, from a stopped compute's own {@code pg_wal} directory, the WAL that the compute flushed
 * but the store does not hold yet: the recovery step of computes that acknowledge a commit once
 * their own WAL is fsync'd ({@code fsync = on}, {@code synchronous_commit = local}) and stream it to
 * Forkline asynchronously. Their {@code pg_wal} plays the part of Neon's safekeepers: it must not be
 * deleted before this ran (or the compute's shutdown checkpoint was ingested).
 *
 * <p>Reading follows PostgreSQL's crash recovery ({@code xlogrecovery.c}, {@code ReadRecord}): from
 * the page holding the timeline's durable last record LSN, segment by segment (file names of
 * {@code XLogFileName}: 8 hex digits of PostgreSQL's timeline, 8 of the log, 8 of the segment; the
 * highest PostgreSQL timeline of a segment wins), every complete record whose header, page headers
 * and CRC are valid is ingested; the first invalid page or record ends the WAL (a zeroed page, a
 * recycled segment whose {@code xlp_pageaddr} is older, a torn record), as it ends a crash recovery.
 * A missing segment ends it too.
 *
 * <p>Not thread-safe with other writers of the timeline: the timeline's WAL receiver must be closed.
 */
public final class ComputeWalRecovery {
    private static final Logger LOG = LoggerFactory.getLogger(ComputeWalRecovery.class);
    private static final Pattern SEGMENT_NAME = Pattern.compile("[0-9A-F]{24}");

    private ComputeWalRecovery() {
    }

    /**
     * What a recovery did.
     *
     * @param fromLsn      the timeline's durable last record LSN before, bytes
     * @param toLsn        after, bytes (equal to {@code fromLsn} when nothing was missing)
     * @param bytesRead    WAL bytes read from segment files
     * @param endReason    why reading stopped (the first invalid page or record, or a missing segment)
     */
    public record Result(long fromLsn, long toLsn, long bytesRead, String endReason) {
        /** Whether records were ingested. */
        public boolean recovered() {
            return toLsn != fromLsn;
        }
    }

    /**
     * Ingests the WAL in {@code walDir} past the timeline's durable last record LSN and commits it.
     *
     * @param store         the page store holding {@code timeline}
     * @param timeline      the timeline the compute wrote (its branch's timeline when it started)
     * @param walStartLsn   where the compute's own WAL began, bytes (the WAL receiver's start LSN:
     *                      the segment after its basebackup's LSN); reading starts at the later of
     *                      it and the timeline's durable last record LSN ({@link TimelineWalSink#streamStart})
     * @param walDir        the compute's {@code pg_wal} directory
     * @param dataChecksums whether the tenant's cluster has data checksums (as for the receiver)
     * @return what was read and ingested; nothing when {@code walDir} holds no segment there
     * @throws IOException          when a segment file cannot be read
     * @throws WalReceiverException when a valid record cannot be ingested or the store cannot commit
     *                              (nothing of the failed batch is committed; the files are left as they are)
     */
    public static Result recover(PageStore store, TimelineId timeline, long walStartLsn, Path walDir, boolean dataChecksums)
            throws IOException {
        long from = store.lastRecordLsn(timeline);
        long pos = TimelineWalSink.streamStart(walStartLsn, from);
        long read = 0;
        String end;
        try (TimelineWalSink sink = new TimelineWalSink(store, timeline, pos, dataChecksums, null)) {
            byte[] page = new byte[Lsn.WAL_PAGE_SIZE];
            outer:
            for (;;) {
                long segNo = Lsn.segmentNo(pos);
                Optional<Path> segment = segmentFile(walDir, segNo);
                if (segment.isEmpty()) {
                    end = "no segment " + String.format("%016X", segNo) + " in " + walDir;
                    break;
                }
                try (InputStream in = Files.newInputStream(segment.get())) {
                    long offset = pos - Lsn.segmentStart(pos);
                    in.skipNBytes(offset);
                    while (offset < Lsn.WAL_SEGMENT_SIZE) {
                        int n = in.readNBytes(page, 0, page.length);
                        if (n < page.length) {
                            end = "segment " + segment.get().getFileName() + " ends at offset " + (offset + n);
                            break outer;
                        }
                        try {
                            sink.accept(pos, page, 0, n);
                        } catch (WalReceiverException e) {
                            if (!(e.getCause() instanceof WalDecodeException)) {
                                throw e;
                            }
                            end = e.getMessage();
                            break outer;
                        }
                        read += n;
                        pos += n;
                        offset += n;
                    }
                }
            }
            long to = sink.commit();
            Result r = new Result(from, to, read, end);
            if (r.recovered()) {
                LOG.info("timeline {}: ingested {} to {} from the compute's own WAL in {} (end of WAL: {})", timeline,
                        Lsn.format(from), Lsn.format(to), walDir, end);
            }
            return r;
        }
    }

    /** The segment file of {@code segNo} in {@code walDir}, the highest PostgreSQL timeline first. */
    static Optional<Path> segmentFile(Path walDir, long segNo) throws IOException {
        if (!Files.isDirectory(walDir)) {
            return Optional.empty();
        }
        String suffix = Lsn.walFileName(1, segNo).substring(8);
        try (Stream<Path> s = Files.list(walDir)) {
            return s.filter(p -> {
                String name = p.getFileName().toString();
                return SEGMENT_NAME.matcher(name).matches() && name.endsWith(suffix) && Files.isRegularFile(p);
            }).max(Comparator.comparing(p -> p.getFileName().toString()));
        }
    }
}
