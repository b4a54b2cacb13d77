package io.forkline.compute.lazy;

import io.forkline.page.protocol.proto.RelTag;

import java.io.IOException;
import java.util.List;

/**
 * Where a lazy data directory's missing blocks come from: the page service at the start LSN.
 */
interface BlockSource {
    /** Most blocks one fetch asks for ({@code FrameDescriptor.MAX_BLOCKS_PER_GET_PAGE}). */
    int MAX_BLOCKS = 256;

    /**
     * The 8192-byte pages of {@code blocks} of {@code rel}, in order.
     *
     * @throws FetchException when they cannot be had before the source's deadline (the read then fails with EIO)
     */
    List<byte[]> fetch(RelTag rel, int[] blocks) throws FetchException;

    /** A fetch that failed; the message names the relation, the blocks and the reason. */
    final class FetchException extends IOException {
        FetchException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
