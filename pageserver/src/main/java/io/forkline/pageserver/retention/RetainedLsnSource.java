package io.forkline.pageserver.retention;

import java.util.List;

/**
 * Something outside the retention package that needs points of a tenant's timelines to stay
 * restorable, e.g. backups: the backup service implements this and is passed to
 * {@link RetentionService#addSource}. GC calls it once per tenant run, from its background thread
 * or an API request thread, so implementations must be thread-safe, fast (no I/O beyond the page
 * store's metadata) and must not call back into {@link RetentionService}.
 *
 * <p>Contract: a point must be reported from before the GC run that could remove it until the
 * owner no longer needs it. A point taken at a timeline's last record LSN is always safe to add
 * (GC never removes anything at or above the cutoff, which is at most that LSN).
 */
@FunctionalInterface
public interface RetainedLsnSource {
    /**
     * @param tenant tenant name
     * @return the points of that tenant's timelines to keep, any order; never {@code null}
     */
    List<RetainedLsn> retainedLsns(String tenant);
}
