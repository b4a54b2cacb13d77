package io.forkline.compute.lazy;

import io.forkline.page.client.PageServiceClient;
import io.forkline.page.client.PageServiceException;
import io.forkline.page.client.ReadLsn;
import io.forkline.page.protocol.proto.RelTag;

import java.util.List;
import java.util.concurrent.CompletionException;

/**
 * Blocks from the page service, read at the timeline's latest LSN with {@code not_modified_since} =
 * the data directory's start LSN (Neon's convention). A block the compute never wrote is not local
 * and, since this compute is its timeline's only writer, has not changed since the start LSN, so
 * any later LSN gives the same page; reading at the latest one (never waiting for ingest) keeps a
 * long-running compute working after GC has moved its timeline's cutoff past the start LSN. The
 * client retries over lost connections until its request deadline; then the fetch fails.
 */
final class PageServiceBlockSource implements BlockSource {
    private final PageServiceClient client;
    private final long lsn;

    PageServiceBlockSource(PageServiceClient client, long lsn) {
        this.client = client;
        this.lsn = lsn;
    }

    @Override
    public List<byte[]> fetch(RelTag rel, int[] blocks) throws FetchException {
        try {
            return client.getPages(rel, blocks, new ReadLsn(0, true, lsn)).join();
        } catch (CompletionException e) {
            Throwable c = e.getCause() == null ? e : e.getCause();
            throw new FetchException("cannot fetch " + blocks.length + " block(s) from " + blocks[0] + " of relation "
                    + Integer.toUnsignedString(rel.getSpcOid()) + "/" + Integer.toUnsignedString(rel.getDbOid()) + "/"
                    + Integer.toUnsignedString(rel.getRelNumber()) + " fork " + rel.getFork() + ": "
                    + (c instanceof PageServiceException ? c.getMessage() : c.toString()), c);
        }
    }
}
