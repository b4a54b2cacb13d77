package io.forkline.pageserver.pageservice;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.forkline.page.protocol.FrameDescriptor;
import io.forkline.page.protocol.proto.DbSizeResponse;
import io.forkline.page.protocol.proto.ErrorCode;
import io.forkline.page.protocol.proto.GetPageResponse;
import io.forkline.page.protocol.proto.GetSlruSegmentResponse;
import io.forkline.page.protocol.proto.ListRelationsResponse;
import io.forkline.page.protocol.proto.RelExistsResponse;
import io.forkline.page.protocol.proto.RelSizeResponse;
import io.forkline.page.protocol.proto.RelationEntry;
import io.forkline.page.protocol.proto.SlruKind;
import io.forkline.pageserver.basebackup.SlruLayout;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.key.Key;
import io.forkline.storage.key.RelSizeValue;
import io.forkline.storage.key.RelTag;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;

import java.util.HashSet;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;

/**
 * The reads behind the page protocol's requests, on one timeline at one resolved LSN. The rules are
 * the basebackup's ({@link io.forkline.pageserver.basebackup.BasebackupBuilder}), so a page served
 * here equals the page a basebackup at the same LSN writes: a relation fork exists when it has a
 * {@code REL_SIZE} key; block {@code b} of it is the newest version at or below the LSN, or a zero
 * page when there is none, it is a tombstone, or it is older than the fork's creation LSN (an
 * earlier relation with the same relfilenode).
 *
 * <p>Thread-safe (stateless over the thread-safe store).
 */
final class TimelineReads {
    private static final byte[] ZERO_PAGE = new byte[FrameDescriptor.PAGE_BYTES];
    private static final ByteString ZERO_PAGE_BYTES = ByteString.copyFrom(ZERO_PAGE);

    private final PageStore store;

    TimelineReads(PageStore store) {
        this.store = store;
    }

    /**
     * The storage engine's form of a protocol {@code RelTag}.
     *
     * @throws PageServiceError INVALID_REQUEST for a fork number outside 0..3 or a missing tag
     */
    static RelTag relTag(io.forkline.page.protocol.proto.RelTag r, boolean present) {
        if (!present) {
            throw new PageServiceError(ErrorCode.INVALID_REQUEST, "request names no relation (rel is missing)");
        }
        if (r.getFork() > RelTag.INIT_FORK) {
            throw new PageServiceError(ErrorCode.INVALID_REQUEST, "invalid fork number " + Integer.toUnsignedString(
                    r.getFork()) + " of relation " + Integer.toUnsignedString(r.getSpcOid()) + "/"
                    + Integer.toUnsignedString(r.getDbOid()) + "/" + Integer.toUnsignedString(r.getRelNumber())
                    + ": expected 0 (main), 1 (fsm), 2 (vm) or 3 (init)");
        }
        return new RelTag(r.getSpcOid(), r.getDbOid(), r.getRelNumber(), r.getFork());
    }

    /** The fork's size record at {@code lsn}, or {@code null} when the fork does not exist. */
    RelSizeValue relSize(TimelineId tl, RelTag rel, long lsn) {
        return decodeSize(tl, rel, lsn, store.get(tl, Key.relSize(rel), lsn));
    }

    private static RelSizeValue decodeSize(TimelineId tl, RelTag rel, long lsn, byte[] v) {
        if (v == null) {
            return null;
        }
        try {
            return RelSizeValue.decode(v);
        } catch (IllegalArgumentException e) {
            throw new PageServiceError(ErrorCode.INTERNAL, "relation size of " + rel + " on timeline " + tl + " at "
                    + Lsn.format(lsn) + " is malformed: " + e.getMessage());
        }
    }

    private RelSizeValue requireRelSize(TimelineId tl, RelTag rel, long lsn) {
        RelSizeValue size = relSize(tl, rel, lsn);
        if (size == null) {
            throw notFound(tl, rel, lsn);
        }
        return size;
    }

    private static PageServiceError notFound(TimelineId tl, RelTag rel, long lsn) {
        return new PageServiceError(ErrorCode.NOT_FOUND, "relation " + rel + " (" + rel.path()
                + ") does not exist at LSN " + Lsn.format(lsn) + " on timeline " + tl);
    }

    RelExistsResponse relExists(TimelineId tl, RelTag rel, long lsn) {
        return RelExistsResponse.newBuilder().setExists(relSize(tl, rel, lsn) != null).build();
    }

    RelSizeResponse relSizeResponse(TimelineId tl, RelTag rel, long lsn) {
        return RelSizeResponse.newBuilder().setNblocks(requireRelSize(tl, rel, lsn).nblocks()).build();
    }

    /**
     * Pages of one fork, read through {@code reader} (whose cache misses share one iterator with the
     * other requests of its batch), with the fork's size record in the same read.
     *
     * @param reader    a {@link PageStore#sharingReader()}: the pages are wrapped, not copied
     * @param cacheOnly answer from the page cache alone (never touching RocksDB, so it may run on
     *                  an event loop), or return {@code null} when something is not cached
     * @return the pages in the order of {@code blocks} (shared arrays: read-only; a zero page for a
     *         block without a version), or {@code null} only when {@code cacheOnly} and something missed
     * @throws PageServiceError NOT_FOUND when the fork does not exist or a block is at or past its
     *                          end; INVALID_REQUEST for no blocks or more than
     *                          {@link FrameDescriptor#MAX_BLOCKS_PER_GET_PAGE}
     */
    byte[][] getPages(PageStore.Reader reader, TimelineId tl, RelTag rel, java.util.List<Integer> blocks, long lsn,
                             boolean cacheOnly) {
        return getPages(reader, tl, rel, blocks, lsn, cacheOnly, null);
    }

    /**
     * The fork size that the last {@link #getPages} of a batch read, so the batch's other GetPage
     * requests of the same fork at the same LSN do not read it again (a batch of 64 requests of one
     * relation: 65 page cache lookups instead of 128). The versions at or below an ingested LSN do
     * not change, so a size read earlier in the batch is the size a read now would give. Not
     * thread-safe: one per batch.
     */
    static final class SizeMemo {
        private TimelineId tl;
        private RelTag rel;
        private long lsn;
        private RelSizeValue size;

        RelSizeValue get(TimelineId t, RelTag r, long l) {
            return size != null && l == lsn && r.equals(rel) && t.equals(tl) ? size : null;
        }

        void put(TimelineId t, RelTag r, long l, RelSizeValue s) {
            tl = t;
            rel = r;
            lsn = l;
            size = s;
        }
    }

    /** As {@link #getPages(PageStore.Reader, TimelineId, RelTag, java.util.List, long, boolean)}, reusing {@code memo}'s size (may be null). */
    byte[][] getPages(PageStore.Reader reader, TimelineId tl, RelTag rel, java.util.List<Integer> blocks, long lsn,
                      boolean cacheOnly, SizeMemo memo) {
        if (blocks.isEmpty() || blocks.size() > FrameDescriptor.MAX_BLOCKS_PER_GET_PAGE) {
            throw new PageServiceError(ErrorCode.INVALID_REQUEST, "GetPage names " + blocks.size()
                    + " blocks: expected 1 to " + FrameDescriptor.MAX_BLOCKS_PER_GET_PAGE);
        }
        RelSizeValue size = memo == null ? null : memo.get(tl, rel, lsn);
        int first = size == null ? 1 : 0; // the size record (unless known), then the blocks
        Key[] keys = new Key[blocks.size() + first];
        if (size == null) {
            keys[0] = Key.relSize(rel);
        }
        for (int i = 0; i < blocks.size(); i++) {
            keys[i + first] = Key.relBlock(rel, blocks.get(i));
        }
        PageStore.Version[] versions = cacheOnly ? reader.getCachedVersions(tl, keys, lsn)
                : reader.getVersions(tl, keys, lsn);
        if (versions == null) {
            return null;
        }
        if (size == null) {
            PageStore.Version sizeVersion = versions[0];
            size = decodeSize(tl, rel, lsn, sizeVersion == null || sizeVersion.value().length == 0 ? null
                    : sizeVersion.value());
            if (size == null) {
                throw notFound(tl, rel, lsn);
            }
            if (memo != null) {
                memo.put(tl, rel, lsn, size);
            }
        }
        long nblocks = Integer.toUnsignedLong(size.nblocks());
        byte[][] out = new byte[blocks.size()][];
        for (int i = 0; i < blocks.size(); i++) {
            long b = Integer.toUnsignedLong(blocks.get(i));
            if (b >= nblocks) {
                throw new PageServiceError(ErrorCode.NOT_FOUND, "block " + b + " of relation " + rel + " is past its end: "
                        + "it has " + nblocks + " blocks at LSN " + Lsn.format(lsn));
            }
            out[i] = page(tl, keys[i + first], versions[i + first], size.createdLsn());
        }
        return out;
    }

    /** Version 1's answer: the pages inside protobuf, wrapped (no copy). */
    static GetPageResponse inline(byte[][] pages) {
        GetPageResponse.Builder out = GetPageResponse.newBuilder();
        for (byte[] p : pages) {
            // a sharing reader's value: read-only by contract, so wrapping it (no copy) is safe
            out.addPages(p == ZERO_PAGE ? ZERO_PAGE_BYTES : UnsafeByteOperations.unsafeWrap(p));
        }
        return out.build();
    }

    private static byte[] page(TimelineId tl, Key key, PageStore.Version v, long createdLsn) {
        if (v == null || v.value().length == 0 || Long.compareUnsigned(v.lsn(), createdLsn) < 0) {
            return ZERO_PAGE;
        }
        if (v.value().length != FrameDescriptor.PAGE_BYTES) {
            throw new PageServiceError(ErrorCode.INTERNAL, key + " of timeline " + tl + " at version LSN "
                    + Lsn.format(v.lsn()) + " has " + v.value().length + " bytes, expected " + FrameDescriptor.PAGE_BYTES);
        }
        return v.value();
    }

    /** Sum of nblocks x 8192 over the database's forks (every fork, FSM included). */
    DbSizeResponse dbSize(TimelineId tl, int spcOid, int dbOid, long lsn) {
        long bytes = 0;
        for (byte[] v : store.scan(tl, Key.dbStart(Key.REL_SIZE, spcOid, dbOid), Key.dbEnd(Key.REL_SIZE, spcOid, dbOid),
                lsn).values()) {
            bytes += Integer.toUnsignedLong(RelSizeValue.decode(v).nblocks()) * FrameDescriptor.PAGE_BYTES;
        }
        return DbSizeResponse.newBuilder().setBytes(bytes).build();
    }

    /**
     * Every relation fork of the cluster (or of one database) at {@code lsn} with its size: the forks
     * of databases that exist ({@code DB_DIR} keys; shared relations always), FSM and init forks
     * included, in key order.
     */
    ListRelationsResponse listRelations(TimelineId tl, int spcOid, int dbOid, long lsn) {
        boolean all = spcOid == 0 && dbOid == 0;
        Set<Long> databases = new HashSet<>();
        databases.add(dbId(RelTag.GLOBAL_TABLESPACE_OID, 0));
        for (Key k : store.scan(tl, Key.kindStart(Key.DB_DIR), Key.kindEnd(Key.DB_DIR), lsn).keySet()) {
            databases.add(dbId(k.spcOid(), k.dbOid()));
        }
        NavigableMap<Key, byte[]> sizes = all
                ? store.scan(tl, Key.kindStart(Key.REL_SIZE), Key.kindEnd(Key.REL_SIZE), lsn)
                : store.scan(tl, Key.dbStart(Key.REL_SIZE, spcOid, dbOid), Key.dbEnd(Key.REL_SIZE, spcOid, dbOid), lsn);
        ListRelationsResponse.Builder out = ListRelationsResponse.newBuilder();
        for (Map.Entry<Key, byte[]> e : sizes.entrySet()) {
            RelTag r = e.getKey().relTag();
            if (!databases.contains(dbId(r.spcOid(), r.dbOid()))) {
                continue; // a dropped database's leftovers
            }
            out.addRelations(RelationEntry.newBuilder()
                    .setRel(io.forkline.page.protocol.proto.RelTag.newBuilder().setSpcOid(r.spcOid())
                            .setDbOid(r.dbOid()).setRelNumber(r.relNumber()).setFork(r.forkNum()))
                    .setNblocks(RelSizeValue.decode(e.getValue()).nblocks()));
        }
        return out.build();
    }

    private static long dbId(int spc, int db) {
        return (Integer.toUnsignedLong(spc) << 32) | Integer.toUnsignedLong(db);
    }

    /**
     * One SLRU segment: its pages from 0 to the last stored one, missing pages as zeros.
     *
     * @throws PageServiceError NOT_FOUND when the segment holds no page at that LSN
     */
    GetSlruSegmentResponse slruSegment(TimelineId tl, SlruKind kind, int segno, long lsn) {
        int slru = switch (kind) {
            case SLRU_KIND_CLOG -> Key.SLRU_CLOG;
            case SLRU_KIND_MULTIXACT_OFFSETS -> Key.SLRU_MULTIXACT_OFFSETS;
            case SLRU_KIND_MULTIXACT_MEMBERS -> Key.SLRU_MULTIXACT_MEMBERS;
            case SLRU_KIND_COMMIT_TS -> Key.SLRU_COMMIT_TS;
            default -> throw new PageServiceError(ErrorCode.INVALID_REQUEST, "unknown SLRU kind " + kind.getNumber()
                    + ": expected 0 (clog), 1 (multixact offsets), 2 (multixact members) or 3 (commit timestamps)");
        };
        long first = Integer.toUnsignedLong(segno) * SlruLayout.PAGES_PER_SEGMENT;
        if (first + SlruLayout.PAGES_PER_SEGMENT > 0xFFFF_FFFFL + 1) {
            throw new PageServiceError(ErrorCode.INVALID_REQUEST, "SLRU segment " + Integer.toUnsignedString(segno)
                    + " is out of range");
        }
        Key from = Key.slruPage(slru, (int) first);
        Key to = first + SlruLayout.PAGES_PER_SEGMENT > 0xFFFF_FFFFL ? Key.slruPage(slru + 1, 0)
                : Key.slruPage(slru, (int) (first + SlruLayout.PAGES_PER_SEGMENT));
        NavigableMap<Key, byte[]> pages = store.scan(tl, from, to, lsn);
        if (pages.isEmpty()) {
            throw new PageServiceError(ErrorCode.NOT_FOUND, "SLRU " + SlruLayout.directory(slru) + " segment "
                    + SlruLayout.segmentFileName(Integer.toUnsignedLong(segno)) + " has no pages at LSN "
                    + Lsn.format(lsn) + " on timeline " + tl);
        }
        int last = (int) (Integer.toUnsignedLong(pages.lastKey().slruPageNo()) - first);
        byte[] seg = new byte[(last + 1) * SlruLayout.PAGE_SIZE];
        for (Map.Entry<Key, byte[]> e : pages.entrySet()) {
            int idx = (int) (Integer.toUnsignedLong(e.getKey().slruPageNo()) - first);
            System.arraycopy(e.getValue(), 0, seg, idx * SlruLayout.PAGE_SIZE,
                    Math.min(SlruLayout.PAGE_SIZE, e.getValue().length));
        }
        return GetSlruSegmentResponse.newBuilder().setSegment(UnsafeByteOperations.unsafeWrap(seg)).build();
    }
}
