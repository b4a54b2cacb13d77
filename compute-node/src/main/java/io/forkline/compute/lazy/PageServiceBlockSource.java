package io.forkline.compute.lazy;

import io.forkline.page.client.PageServiceClient;
import io.forkline.page.client.PageServiceException;
import io.forkline.page.client.ReadLsn;
import io.forkline.page.protocol.proto.RelTag;

import java.util.List;
import java.util.concurrent.CompletionException;

/**
 * Blocks from the page service at a fixed LSN (the data directory's start LSN, also given as
 * {@code not_modified_since}: nothing PostgreSQL has not written itself changed since, so the page
 * service never waits for ingest). The client retries over lost connections until its request
 * deadline; then the fetch fails.
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
            return client.getPages(rel, blocks, ReadLsn.at(lsn, lsn)).join();
        } catch (CompletionException e) {
            Throwable c = e.getCause() == null ? e : e.getCause();
            throw new FetchException("cannot fetch " + blocks.length + " block(s) from " + blocks[0] + " of relation "
                    + Integer.toUnsignedString(rel.getSpcOid()) + "/" + Integer.toUnsignedString(rel.getDbOid()) + "/"
                    + Integer.toUnsignedString(rel.getRelNumber()) + " fork " + rel.getFork() + ": "
                    + (c instanceof PageServiceException ? c.getMessage() : c.toString()), c);
        }
    }
}
