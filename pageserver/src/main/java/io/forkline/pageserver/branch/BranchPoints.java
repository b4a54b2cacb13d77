package io.forkline.pageserver.branch;

import io.forkline.compute.endpoint.ComputeProcess;
import io.forkline.pageserver.api.ApiException;
import io.forkline.pageserver.endpoint.EndpointManager;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;
import io.forkline.storage.timeline.TimelineMetadata;
import io.forkline.wal.replication.WalReceiver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Set;

/**
 * Turns a branch point as the user names it (an LSN {@code X/Y}, an RFC 3339 time, or nothing) into
 * an LSN on a branch's timeline, refusing points outside the range the timeline can serve with the
 * range in the message.
 *
 * <p>When the branch's endpoint is running, an LSN beyond its compute's WAL insert position is
 * refused at once; one at or below it waits up to {@link #INGEST_WAIT} for ingest to reach it.
 * A time becomes the end LSN of the last commit at or before it (the commit-timestamp index,
 * {@link PageStore#lsnForTimestamp}).
 *
 * <p>Thread-safe (stateless apart from its collaborators).
 */
public final class BranchPoints {
    private static final Logger log = LoggerFactory.getLogger(BranchPoints.class);
    /** How long branch creation waits for ingest to reach the requested LSN. */
    public static final Duration INGEST_WAIT = Duration.ofSeconds(30);

    private final PageStore store;
    private final EndpointManager endpoints;
    private final Clock clock;

    /**
     * @param endpoints the running computes (a branch point on a running branch waits for its ingest)
     * @param clock     the server's clock: a time in its future is refused
     */
    public BranchPoints(PageStore store, EndpointManager endpoints, Clock clock) {
        this.store = store;
        this.endpoints = endpoints;
        this.clock = clock;
    }

    /**
     * A branch point: the timeline a new branch hangs from and the LSN on it.
     *
     * @param timeline the branch's own timeline, or one it had before an in-place restore
     * @param lsn      WAL byte position on {@code timeline}
     */
    public record Point(TimelineId timeline, long lsn) {
    }

    /**
     * The LSN on branch {@code ref} (timeline {@code tl}) that {@code lsnText} or {@code atText}
     * names, or its last record LSN when both are null. Only {@code tl} itself is searched.
     *
     * @throws ApiException 400 for both given, a malformed value, a future time, or a point outside
     *                      the branch's range (the message gives the range)
     */
    public long resolve(String tenant, String ref, TimelineId tl, String lsnText, String atText) {
        return resolve(tenant, ref, tl, lsnText, atText, Set.of()).lsn();
    }

    /**
     * The point of branch {@code ref} that {@code lsnText} or {@code atText} names (its last record
     * LSN when both are null), searching its history: its timeline {@code tl} and, below that
     * timeline's start, the timelines it had before in-place restores ({@code former}), each up to
     * the point the next one was restored from. So after {@code branch restore main --at T} a branch
     * of main at a time before T still finds it, on main's former timeline.
     *
     * @param former the timelines {@code ref} pointed at before its restores ({@link io.forkline.pageserver.tenant.BranchInfo.Restore})
     * @throws ApiException 400 for both given, a malformed value, a future time, or a point outside
     *                      the branch's history (the message gives the range)
     */
    public Point resolve(String tenant, String ref, TimelineId tl, String lsnText, String atText, Set<TimelineId> former) {
        if (lsnText != null && atText != null) {
            throw ApiException.badRequest("give either an LSN or a timestamp, not both (lsn '" + lsnText + "', at '" + atText + "')");
        }
        if (lsnText != null) {
            long lsn = parseLsn(lsnText);
            TimelineId on = timelineHolding(tl, lsn, former);
            return new Point(on, checkReachable(tenant, ref, on, store.timeline(on), lsn, historyStart(tl, former),
                    store.lastRecordLsn(tl)));
        }
        // a compute of this machine acknowledges commits before the store holds them: the head and
        // recent times must see every commit it acknowledged
        endpoints.catchUp(tenant, ref, tl);
        if (atText != null) {
            long lsn = forTimestamp(ref, tl, atText, former);
            return new Point(timelineHolding(tl, lsn, former), lsn);
        }
        return new Point(tl, store.lastRecordLsn(tl));
    }

    /**
     * The timeline of {@code tl}'s restore history that holds {@code lsn}: {@code tl} when
     * {@code lsn} is at or above its start, else (walking down) the first former timeline whose
     * start is at or below it; {@code tl}'s oldest reachable timeline when none is.
     */
    private TimelineId timelineHolding(TimelineId tl, long lsn, Set<TimelineId> former) {
        TimelineId cur = tl;
        TimelineMetadata md = store.timeline(cur);
        while (Long.compareUnsigned(lsn, md.startLsn()) < 0 && md.ancestor() != null && former.contains(md.ancestor())
                && store.timeline(md.ancestor()) != null) {
            cur = md.ancestor();
            md = store.timeline(cur);
        }
        return cur;
    }

    /** The start LSN of the oldest timeline of {@code tl}'s restore history. */
    private long historyStart(TimelineId tl, Set<TimelineId> former) {
        return store.timeline(timelineHolding(tl, 0, former)).startLsn();
    }

    private long checkReachable(String tenant, String ref, TimelineId tl, TimelineMetadata md, long lsn, long first,
                                long lastOfBranch) {
        long start = md.startLsn();
        if (Long.compareUnsigned(lsn, start) < 0) {
            throw ApiException.badRequest("LSN " + Lsn.format(lsn) + " is below the start of branch '" + ref
                    + "': valid LSNs are " + Lsn.format(first) + " to " + Lsn.format(lastOfBranch));
        }
        EndpointManager.Endpoint running = endpoints.get(tenant, ref);
        WalReceiver r = running == null ? null : running.receiver();
        if (r != null && tl.equals(running.timeline())) {
            long insert = computeInsertLsn(running);
            if (insert != 0 && Long.compareUnsigned(lsn, insert) > 0) {
                // beyond what the compute has written: refuse now rather than wait for WAL that may never come
                throw ApiException.badRequest("LSN " + Lsn.format(lsn) + " is beyond the end of WAL of branch '" + ref
                        + "', whose running compute has written WAL up to " + Lsn.format(insert) + ": valid LSNs are " + Lsn.format(start)
                        + " to " + Lsn.format(insert));
            }
            if (r.awaitLsn(lsn, INGEST_WAIT)) {
                return lsn;
            }
            throw ApiException.badRequest("LSN " + Lsn.format(lsn) + " was not reached by branch '" + ref
                    + "' within " + INGEST_WAIT.toSeconds() + " s: valid LSNs are " + Lsn.format(start) + " to "
                    + Lsn.format(r.receivedLsn()));
        }
        long last = store.lastRecordLsn(tl);
        if (Long.compareUnsigned(lsn, afterPageHeader(last)) <= 0) { // afterPageHeader(last) >= last
            return lsn;
        }
        throw ApiException.badRequest("LSN " + Lsn.format(lsn) + " is beyond the end of branch '" + ref
                + "', which has no running endpoint: valid LSNs are " + Lsn.format(start) + " to " + Lsn.format(last));
    }

    /** A record ending exactly on a WAL page boundary: the next insert position is after the page header. */
    private static long afterPageHeader(long lsn) {
        if (lsn % Lsn.WAL_PAGE_SIZE != 0) {
            return lsn;
        }
        return lsn + (lsn % Lsn.WAL_SEGMENT_SIZE == 0 ? 40 : 24);
    }

    private long forTimestamp(String ref, TimelineId tl, String atText, Set<TimelineId> former) {
        Instant at = parseTime(atText);
        if (at.isAfter(clock.instant())) {
            throw ApiException.badRequest("timestamp " + atText + " is in the future");
        }
        long micros = at.getEpochSecond() * 1_000_000L + at.getNano() / 1000;
        // the index falls through to ancestors up to each branch point; former timelines are ancestors
        long lsn = store.lsnForTimestamp(tl, micros);
        TimelineMetadata oldest = store.timeline(timelineHolding(tl, 0, former));
        if (lsn == 0 || Long.compareUnsigned(lsn, oldest.startLsn()) < 0) {
            throw ApiException.badRequest("no commit at or before " + atText + " on branch '" + ref
                    + "' after the start of its history at " + Lsn.format(oldest.startLsn()) + " (created "
                    + oldest.createdAt() + ")");
        }
        return lsn;
    }

    /**
     * Parses an RFC 3339 time; section 5.6 lets applications separate date and time with a space
     * instead of {@code T}.
     *
     * @throws ApiException 400 naming the value when it does not parse
     */
    public static Instant parseTime(String atText) {
        return parseTime(atText, "timestamp");
    }

    /**
     * Like {@link #parseTime(String)}, naming the value in the error as {@code what} (e.g.
     * {@code start time}: "invalid start time '...': expected RFC 3339").
     *
     * @throws ApiException 400 naming {@code what} and the value when it does not parse
     */
    public static Instant parseTime(String text, String what) {
        try {
            String iso = text.length() > 10 && text.charAt(10) == ' '
                    ? text.substring(0, 10) + 'T' + text.substring(11) : text;
            return OffsetDateTime.parse(iso).toInstant();
        } catch (DateTimeParseException e) {
            String iso = text.length() > 10 && text.charAt(10) == ' ' ? text.substring(0, 10) + 'T' + text.substring(11) : text;
            try {
                java.time.LocalDateTime local = java.time.LocalDateTime.parse(iso);
                throw ApiException.badRequest("invalid " + what + " '" + text + "': the time zone is missing; add Z for UTC "
                        + "or an offset, e.g. " + local.atOffset(java.time.ZoneOffset.UTC));
            } catch (DateTimeParseException notLocal) {
                throw ApiException.badRequest("invalid " + what + " '" + text
                        + "': expected RFC 3339, e.g. 2026-11-21T10:15:30Z");
            }
        }
    }

    /**
     * Parses an LSN as the API takes it, {@code X/Y} (hex, as PostgreSQL prints it).
     *
     * @return the WAL position, bytes
     * @throws ApiException 400 naming the value when it is not an LSN
     */
    public static long parseLsn(String text) {
        try {
            return Lsn.parse(text);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage());
        }
    }

    /**
     * The running compute's WAL insert position ({@code pg_current_wal_insert_lsn()}), the highest LSN
     * a branch of it can name right now; 0 when it cannot be asked (then the caller waits for ingest).
     */
    private static long computeInsertLsn(EndpointManager.Endpoint e) {
        ComputeProcess c = e.compute();
        io.forkline.compute.proxy.ComputeAddress a = e.address();
        if (c == null || a == null) {
            return 0;
        }
        java.util.Properties p = new java.util.Properties();
        p.setProperty("connectTimeout", "5");
        p.setProperty("socketTimeout", "10");
        try (Connection conn = io.forkline.pageserver.endpoint.ComputeConnections.connect(a, "postgres", p);
             Statement st = conn.createStatement();
             ResultSet rs = st.executeQuery("SELECT pg_current_wal_insert_lsn()")) {
            return rs.next() ? Lsn.parse(rs.getString(1)) : 0;
        } catch (SQLException ex) {
            log.warn("cannot read the WAL insert LSN of the compute at {}: {}", a, ex.getMessage());
            return 0;
        }
    }
}
