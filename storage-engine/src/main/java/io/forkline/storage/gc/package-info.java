/**
 * Garbage collection of page versions: removes the versions of one timeline that no protected
 * read can return any more.
 *
 * <h2>The rule</h2>
 * From the design ({@code shared/design/ARCHITECTURE.md}, "Data model", GC bullet; Neon's
 * pageserver GC, {@code pageserver/src/tenant/timeline.rs}, {@code gc_timeline}, has the same
 * shape): per timeline the caller supplies the cutoff
 * {@code min(last_record_lsn - gc_horizon_bytes, LSN at now - pitr_interval)} (the pageserver maps
 * time to LSN). The <em>retained LSNs</em> of the timeline are the branch points of its children
 * (for deeper descendants the smallest branch point on the path, because that is where their
 * reads fall through to this timeline) plus LSNs the caller passes in (leases, backups).
 * The <em>protected reads</em> are {@code get(timeline, key, L)} for every {@code L >= cutoff}
 * and every retained {@code L}, and the reads of descendants that fall through to this timeline
 * (which land on retained LSNs). Reads of a child below its own start LSN are not protected.
 *
 * <p>For one key with versions {@code v1 < v2 < ... < vn} (by LSN) on the timeline:
 * <ol>
 *   <li><b>Shadowed versions.</b> {@code vi} is removed when a newer version {@code v(i+1)}
 *       exists at or below the cutoff and no retained LSN {@code r} has
 *       {@code lsn(vi) <= r < lsn(v(i+1))}, i.e. {@code vi} is not the newest version at or below
 *       any retained LSN. The kept versions are exactly: every version above the cutoff, the
 *       newest at or below the cutoff, and the newest at or below each retained LSN; the answer
 *       of each protected read is one of them, so no protected read changes. Tombstones are
 *       versions like any other under this rule: a tombstone removed here is shadowed by a newer
 *       version for every protected read, so nothing older (of this timeline or an ancestor)
 *       can resurface at a protected LSN.</li>
 *   <li><b>Leading tombstones.</b> After step 1, when the oldest remaining version is a tombstone
 *       with LSN below the cutoff, it is removed too (and then the next one, while that holds)
 *       only if a read that finds no version on this timeline finds no value either: the
 *       timeline has no ancestor, or the ancestor's answer at the branch point is absent or a
 *       tombstone and cannot change (the branch point is at or below the ancestor's last record
 *       LSN, and the ancestor's GC retains the branch point). Then {@code get} returns
 *       {@code null} for every protected read either way. {@code getVersion} then returns
 *       {@code null} (or the ancestor's tombstone) instead of this timeline's tombstone: both mean
 *       "absent". In every other case tombstones are kept.</li>
 *   <li><b>Delta bases</b> (applied before step 2). A kept version stored as a page delta
 *       ({@code io.forkline.storage.store.PageDelta}) is rebuilt from its base, a full image of the
 *       same key on the same timeline: when step 1 marked that base, it is kept after all. Kept
 *       bases answer no protected read they did not answer before: a base removed by step 1 has
 *       no retained LSN and no cutoff between it and the next kept version. The writer's
 *       invariant makes this safe beside ingest: a delta's base is always the newest full image
 *       of its key on the timeline with only deltas on it after it, so while the writer may still
 *       write deltas on a base, step 1 keeps the newest version at or below the cutoff, which is
 *       that base or a delta on it, and step 3 keeps the base. A delta whose base lies on an
 *       ancestor needs nothing from this timeline's GC: the base is the full image behind the
 *       ancestor's answer at the branch point, a retained LSN of the ancestor.</li>
 * </ol>
 * Nothing at or above the cutoff is ever removed.
 *
 * <h2>Concurrency</h2>
 * GC runs while the timeline's single writer ingests. The cutoff must be at most the last record
 * LSN, and the writer only writes versions above the last record LSN, so the versions at or
 * below the cutoff, the only ones GC reads decisions from or deletes, are committed and do not
 * change during GC (other than by GC's own deletes). The applied cutoff is made durable before
 * any delete, and {@code PageStore.createTimeline} refuses branch points below it under the same
 * lock, so a branch created during GC is either seen by GC's child listing or lies at or above
 * the cutoff. Deletes go in bounded RocksDB write batches, in key order and ascending LSN within a
 * key (a leading tombstone is deleted only after, or together with, everything older), so each
 * intermediate state, including after a crash, answers every protected read as before.
 */
package io.forkline.storage.gc;
