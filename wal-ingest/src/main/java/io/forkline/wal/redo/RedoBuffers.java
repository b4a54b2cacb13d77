package io.forkline.wal.redo;

import io.forkline.wal.record.BlockReference;
import io.forkline.wal.record.WalRecord;

import java.util.function.Consumer;

/**
 * The buffers of one record being redone: PostgreSQL's {@code XLogReadBufferForRedo} /
 * {@code XLogInitBufferForRedo} ({@code src/backend/access/transam/xlogutils.c}) over pages read
 * from a {@link PageSource}. A redo routine asks for each block it changes; afterwards the caller
 * reads each block's {@link Outcome} and page.
 *
 * <p>Not thread-safe; one instance per record.
 */
public final class RedoBuffers {
    /** Where the page a block reference starts from comes from. */
    @FunctionalInterface
    public interface PageSource {
        /**
         * The current 8192-byte page of the block (a copy the caller may change), or {@code null} when
         * the block does not exist (beyond the fork's size, or the fork does not exist).
         */
        byte[] read(BlockReference block);
    }

    /** What happened to a block. */
    public enum Outcome {
        /** The routine did not ask for the block. */
        UNTOUCHED,
        /** {@code BLK_RESTORED}: the block's image has {@code BKPIMAGE_APPLY}; the image is the page. */
        RESTORED,
        /** {@code BLK_NEEDS_REDO} (or initialized): {@link #page} holds the redone page. */
        REDONE,
        /** {@code BLK_NOTFOUND}: the block does not exist; PostgreSQL leaves it alone. */
        NOT_FOUND
    }

    private static final int SLOTS = 33;
    private final WalRecord record;
    private final PageSource source;
    private final byte[][] pages = new byte[SLOTS][];
    private final Outcome[] outcomes = new Outcome[SLOTS];
    private final Consumer<byte[]>[] imageChanges = newChanges();

    @SuppressWarnings("unchecked")
    private static Consumer<byte[]>[] newChanges() {
        return (Consumer<byte[]>[]) new Consumer<?>[SLOTS];
    }

    public RedoBuffers(WalRecord record, PageSource source) {
        this.record = record;
        this.source = source;
        java.util.Arrays.fill(outcomes, Outcome.UNTOUCHED);
    }

    /** The record being redone. */
    public WalRecord record() {
        return record;
    }

    /** The block reference {@code id}, or a {@link RedoException} when the record has none. */
    public BlockReference block(int id) {
        BlockReference b = record.block(id);
        if (b == null) {
            throw new RedoException("record has no block reference " + id);
        }
        return b;
    }

    /** Whether the record has block reference {@code id} ({@code XLogRecHasBlockRef}). */
    public boolean has(int id) {
        return record.block(id) != null;
    }

    /**
     * {@code XLogReadBufferForRedo}: the page to redo on, or {@code null} when the block is restored
     * from its image or does not exist (then nothing is to be done to it).
     */
    public byte[] forRedo(int id) {
        return read(id, false);
    }

    /** {@code XLogReadBufferForRedoExtended(.., RBM_ZERO_ON_ERROR, ..)}: a missing block reads as zeros. */
    public byte[] forRedoZeroOnError(int id) {
        return read(id, true);
    }

    private byte[] read(int id, boolean zeroOnError) {
        BlockReference b = block(id);
        if (outcomes[id] == Outcome.REDONE) {
            return pages[id];
        }
        if (b.hasImage() && b.applyImage()) {
            outcomes[id] = Outcome.RESTORED;
            return null;
        }
        byte[] page = source.read(b);
        if (page == null) {
            if (!zeroOnError) {
                outcomes[id] = Outcome.NOT_FOUND;
                return null;
            }
            page = new byte[BufPage.BLCKSZ];
        }
        pages[id] = page;
        outcomes[id] = Outcome.REDONE;
        return page;
    }

    /**
     * {@code XLogInitBufferForRedo}: a zeroed page for a block the record reinitializes
     * ({@code BKPBLOCK_WILL_INIT}); never read from the source. {@code null} when the block carries
     * an image to apply (PostgreSQL never logs both; the image then wins).
     */
    public byte[] init(int id) {
        BlockReference b = block(id);
        if (b.hasImage() && b.applyImage()) {
            outcomes[id] = Outcome.RESTORED;
            return null;
        }
        byte[] page = new byte[BufPage.BLCKSZ];
        pages[id] = page;
        outcomes[id] = Outcome.REDONE;
        return page;
    }

    /**
     * {@code XLogReadBufferForRedo} for a change PostgreSQL makes when the action is
     * {@code BLK_NEEDS_REDO} <em>or</em> {@code BLK_RESTORED} (GiST's {@code gistRedoClearFollowRight}:
     * the block's image was taken before the change). Applies {@code change} to the page to redo on
     * (when the block needs redo) and, when the block carries an image, records it so that
     * {@link #imageToStore} applies it to the image too.
     */
    public void forRedoOrRestored(int id, Consumer<byte[]> change) {
        byte[] page = read(id, false);
        if (page != null) {
            change.accept(page);
        }
        if (block(id).hasImage()) {
            imageChanges[id] = change;
        }
    }

    /**
     * The page to store for block {@code id} when it carries an image: the image, or a copy of it with
     * the change a routine recorded through {@link #forRedoOrRestored}; {@code null} without image.
     */
    public byte[] imageToStore(int id) {
        byte[] image = block(id).image();
        if (image == null || imageChanges[id] == null) {
            return image;
        }
        byte[] page = image.clone();
        imageChanges[id].accept(page);
        return page;
    }

    /** What happened to block {@code id}. */
    public Outcome outcome(int id) {
        return outcomes[id];
    }

    /** The redone page of block {@code id} ({@link Outcome#REDONE}), else {@code null}. */
    public byte[] page(int id) {
        return outcomes[id] == Outcome.REDONE ? pages[id] : null;
    }
}
