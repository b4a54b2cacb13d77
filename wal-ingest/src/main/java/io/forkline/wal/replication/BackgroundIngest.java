package io.forkline.wal.replication;

import java.time.Duration;

/**
 * How a {@link WalReceiver} whose compute acknowledges commits by its own fsync'd WAL (so no commit
 * waits for the store) yields the CPU to that compute: while streaming its thread runs under
 * {@code SCHED_IDLE} ({@link #schedIdle()}: only when nothing else wants the CPU, preempted at once by
 * any waking thread) or at nice {@link #nice()}, so on a machine whose cores the computes keep busy, ingest uses what they leave and the
 * store falls behind (the compute's {@code pg_wal} keeps that WAL through the replication slot), as
 * Neon's pageserver may lag its computes ({@code max_replication_write_lag}). The thread leaves the
 * background:
 * <ul>
 *   <li>while anyone waits for the store to reach an LSN ({@link WalReceiver#awaitLsn},
 *       {@link WalReceiver#awaitLastRecordLsn}: a branch or backup at the head, a compute's stop), set
 *       by the waiting thread at once, at nice -20 ({@code WalReceiver.WAITED_NICE}) so that the
 *       catch-up runs ahead of computes that keep writing;</li>
 *   <li>once the stream has been behind the compute for longer than {@link #maxBehind()} without
 *       catching up, or by more than {@link #maxLagBytes()} of WAL (the walsender's end of WAL in its
 *       last message minus what is ingested), until it catches up, at nice -20 as for a waiter: ahead of
 *       the computes, so the backlog stays bounded and a long write load runs at the store's ingest
 *       rate (at the server's own priority it would not: where autogroup is on, the receiver would get
 *       one group's share among one per backend, and the backlog would keep growing).</li>
 * </ul>
 * In the background the receiver also commits in groups: while WAL keeps coming, a batch that has
 * caught up with the walsender waits for more until the last store commit (a synced RocksDB write and
 * a status update) is {@link #groupCommit()} old, instead of committing at once for a commit that
 * might wait for it; WAL after a quiet stretch is committed at once.
 *
 * @param nice        nice value while streaming in the background, 1..19 (when not {@code schedIdle})
 * @param schedIdle   the background is {@code SCHED_IDLE} rather than a nice value
 * @param maxBehind   longest time the stream stays behind in the background, at least 1 ms
 * @param maxLagBytes most WAL the stream falls behind in the background, bytes, at least 1
 * @param groupCommit least time between two store commits while WAL keeps coming, in the background; zero
 *                    commits at once
 * @param cpuGroups   where autogroup would make the thread's priority count only against this process's
 *                    other threads, the thread also moves into a cpu cgroup of that priority ({@link CpuGroups})
 */
public record BackgroundIngest(int nice, boolean schedIdle, Duration maxBehind, long maxLagBytes, Duration groupCommit,
                               boolean cpuGroups) {
    /** System property: {@code false} keeps every receiver at the server's priority. */
    public static final String PROPERTY = "forkline.ingest.background";
    /** System property: {@link #maxBehind()} in seconds (default {@value #DEFAULT_MAX_BEHIND_SECONDS}). */
    public static final String MAX_BEHIND_PROPERTY = "forkline.ingest.background.maxBehindSeconds";
    /** System property: {@link #maxLagBytes()} in MiB (default {@value #DEFAULT_MAX_LAG_MIB}). */
    public static final String MAX_LAG_PROPERTY = "forkline.ingest.background.maxLagMiB";
    static final long DEFAULT_MAX_BEHIND_SECONDS = 30;
    static final long DEFAULT_MAX_LAG_MIB = 256;
    /** System property: {@link #groupCommit()} in milliseconds (default {@value #DEFAULT_GROUP_COMMIT_MILLIS}; 0: off). */
    public static final String GROUP_COMMIT_PROPERTY = "forkline.ingest.background.groupCommitMillis";
    static final long DEFAULT_GROUP_COMMIT_MILLIS = 10;
    /** System property: {@code idle} (default: {@code SCHED_IDLE}) or {@code nice} (nice 19) in the background. */
    public static final String POLICY_PROPERTY = "forkline.ingest.background.policy";
    /** System property: {@code false} leaves the receivers' threads out of cpu cgroups ({@link #cpuGroups()}). */
    public static final String CPU_GROUPS_PROPERTY = "forkline.ingest.background.cpuGroups";

    /** A policy that uses cpu groups where they are needed ({@link #cpuGroups()} true). */
    public BackgroundIngest(int nice, boolean schedIdle, Duration maxBehind, long maxLagBytes, Duration groupCommit) {
        this(nice, schedIdle, maxBehind, maxLagBytes, groupCommit, true);
    }

    /**
     * Validates the fields.
     *
     * @throws IllegalArgumentException naming the field and value
     */
    public BackgroundIngest {
        if (nice < 1 || nice > 19) {
            throw new IllegalArgumentException("background nice value " + nice + " is outside 1..19");
        }
        if (maxBehind == null || maxBehind.toMillis() < 1) {
            throw new IllegalArgumentException("maxBehind " + maxBehind + " must be at least 1 ms");
        }
        if (maxLagBytes < 1) {
            throw new IllegalArgumentException("maxLagBytes " + maxLagBytes + " must be at least 1");
        }
        if (groupCommit == null || groupCommit.isNegative()) {
            throw new IllegalArgumentException("groupCommit " + groupCommit + " must be zero or more");
        }
    }

    /**
     * The policy of this server: {@value #POLICY_PROPERTY} ({@code idle}: SCHED_IDLE, or {@code nice}: nice
     * 19), {@value #MAX_BEHIND_PROPERTY} (default 30 s),
     * {@value #MAX_LAG_PROPERTY} (default 256 MiB), {@value #GROUP_COMMIT_PROPERTY} (default 10 ms);
     * {@code null} when {@value #PROPERTY} is
     * {@code false} or {@link ThreadPriority#available()} is not (a priority once lowered could not
     * be restored).
     *
     * @throws IllegalArgumentException naming the property when a value is not a positive number or
     *                                  {@value #PROPERTY} is neither true nor false
     */
    public static BackgroundIngest configured() {
        String on = System.getProperty(PROPERTY, "true").trim();
        if (!on.equals("true") && !on.equals("false")) {
            throw new IllegalArgumentException(PROPERTY + " '" + on + "': expected true or false");
        }
        long behind = positive(MAX_BEHIND_PROPERTY, DEFAULT_MAX_BEHIND_SECONDS);
        long lagMib = positive(MAX_LAG_PROPERTY, DEFAULT_MAX_LAG_MIB);
        long groupMillis = number(GROUP_COMMIT_PROPERTY, DEFAULT_GROUP_COMMIT_MILLIS, 0);
        String policy = System.getProperty(POLICY_PROPERTY, "idle").trim();
        if (!policy.equals("idle") && !policy.equals("nice")) {
            throw new IllegalArgumentException(POLICY_PROPERTY + " '" + policy + "': expected idle or nice");
        }
        String groups = System.getProperty(CPU_GROUPS_PROPERTY, "true").trim();
        if (!groups.equals("true") && !groups.equals("false")) {
            throw new IllegalArgumentException(CPU_GROUPS_PROPERTY + " '" + groups + "': expected true or false");
        }
        if (on.equals("false") || ThreadPriority.available() == null) {
            return null;
        }
        return new BackgroundIngest(19, policy.equals("idle"), Duration.ofSeconds(behind), lagMib * 1024 * 1024,
                Duration.ofMillis(groupMillis), groups.equals("true"));
    }

    private static long positive(String property, long dflt) {
        return number(property, dflt, 1);
    }

    private static long number(String property, long dflt, long min) {
        String v = System.getProperty(property);
        if (v == null || v.isBlank()) {
            return dflt;
        }
        try {
            long n = Long.parseLong(v.trim());
            if (n >= min) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException(property + " '" + v + "': expected a whole number of at least " + min);
    }
}
