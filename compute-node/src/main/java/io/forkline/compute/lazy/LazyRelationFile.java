package io.forkline.compute.lazy;

import io.forkline.page.protocol.proto.RelTag;

import java.util.BitSet;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One relation segment file of a lazy data directory whose blocks are not all local yet: which
 * blocks are (fetched, or written by PostgreSQL), and where the others come from.
 *
 * <p>The local file in the upper directory has the segment's exact size from the start (a sparse
 * file), so PostgreSQL's {@code lseek(SEEK_END)} sees the real size; block {@code b} of the file
 * ({@code 0 <= b < sourceBlocks}) not yet local is block {@code firstBlock + b} of {@link #source}
 * as of the start LSN. Blocks at or past {@link #sourceBlocks()} never existed at the start LSN (or
 * were truncated away since): they are PostgreSQL's own.
 *
 * <p>Guarded by {@link #lock}, which is held only for bookkeeping and local file writes, never
 * across a fetch: a fetch registers its blocks as in flight ({@link #startFetch}), fetches without
 * the lock, then writes the pages under it, skipping blocks that became local meanwhile (PostgreSQL
 * wrote them, or the file was truncated). A read of a block in flight waits for that fetch instead
 * of fetching it again; reads of other blocks of the file go on.
 */
final class LazyRelationFile {
    /** Where the blocks come from: the fork itself, or for an unlogged relation's main fork, its init fork. */
    final RelTag source;
    /** Block number in {@link #source} of this file's block 0 ({@code segno * 131072}). */
    final int firstBlock;
    final ReentrantLock lock = new ReentrantLock();
    /** Whether the file is read sequentially, for read-ahead (its own lock). */
    final SequentialReads sequential = new SequentialReads();
    private final BitSet local = new BitSet();
    private final java.util.Map<Integer, java.util.concurrent.CompletableFuture<Void>> inFlight = new java.util.HashMap<>();
    private int sourceBlocks;

    LazyRelationFile(RelTag source, int firstBlock, int sourceBlocks) {
        this.source = source;
        this.firstBlock = firstBlock;
        this.sourceBlocks = sourceBlocks;
    }

    /** Blocks of this file that may still have to be fetched: {@code [0, sourceBlocks)}. Lock held. */
    int sourceBlocks() {
        return sourceBlocks;
    }

    /** Whether block {@code b} of the file is local (or needs no fetch). Lock held. */
    boolean isLocal(int b) {
        return b >= sourceBlocks || local.get(b);
    }

    /** The fetch bringing block {@code b} now, or null. Lock held. */
    java.util.concurrent.CompletableFuture<Void> inFlight(int b) {
        return inFlight.get(b);
    }

    /** Block {@code b} is being fetched by {@code fetch}. Lock held. */
    void startFetch(int b, java.util.concurrent.CompletableFuture<Void> fetch) {
        inFlight.put(b, fetch);
    }

    /** {@code fetch} is done with block {@code b} (written, skipped or failed). Lock held. */
    void endFetch(int b, java.util.concurrent.CompletableFuture<Void> fetch) {
        inFlight.remove(b, fetch);
    }

    /** Marks block {@code b} local. Lock held. */
    void markLocal(int b) {
        if (b < sourceBlocks) {
            local.set(b);
        }
    }

    /** The file was truncated to {@code blocks} blocks: nothing beyond is ever fetched again. Lock held. */
    void truncate(int blocks) {
        if (blocks < sourceBlocks) {
            sourceBlocks = blocks;
            local.clear(blocks, Integer.MAX_VALUE);
        }
    }

    /** Blocks of the file fetched or written so far (of those that had a source). Lock held. */
    int localBlocks() {
        return local.cardinality();
    }

    /** A copy of the local blocks' bit set. Lock held. */
    BitSet localSet() {
        return (BitSet) local.clone();
    }

    /** Whether every block that had a source is local: the file needs no more bookkeeping. Lock held. */
    boolean complete() {
        return local.cardinality() >= sourceBlocks;
    }
}
