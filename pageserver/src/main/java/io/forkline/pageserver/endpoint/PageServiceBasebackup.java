package io.forkline.pageserver.endpoint;

import io.forkline.page.client.PageClientConfig;
import io.forkline.page.client.PageServiceClient;
import io.forkline.page.client.ReadLsn;
import io.forkline.page.client.TarExtractor;

import java.io.IOException;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * A compute's data directory fetched over the page service ({@code GetBasebackup}), the way a
 * compute on another machine would get it: the client streams the tar into a pipe, this thread
 * extracts it. Opens no store.
 */
final class PageServiceBasebackup {
    /** Bound of one basebackup transfer. */
    static final Duration DEADLINE = Duration.ofMinutes(30);

    private PageServiceBasebackup() {
    }

    /**
     * Writes the basebackup of the client config's timeline at its last record LSN into {@code pgdata}.
     *
     * @return the LSN the data directory is as of
     * @throws io.forkline.page.client.PageServiceException when the page service refuses or fails
     * @throws IOException when extracting fails (the directory is then incomplete)
     */
    static long fetch(PageClientConfig config, Path pgdata) throws IOException {
        try (PageServiceClient client = PageServiceClient.connect(config);
             PipedInputStream in = new PipedInputStream(1 << 20);
             PipedOutputStream out = new PipedOutputStream(in)) {
            CompletableFuture<Long> done = client.basebackup(ReadLsn.latest(), false, out, DEADLINE);
            done.whenComplete((lsn, err) -> {
                try {
                    out.close(); // end of stream for the extractor (also after an error: it then sees a truncated tar)
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            try {
                TarExtractor.extract(in, "basebackup of timeline " + client.timelineId(), pgdata);
            } catch (IOException e) {
                if (done.isCompletedExceptionally()) {
                    PageServiceClient.await(done); // the page service's error says more than the truncated tar
                }
                throw e;
            }
            return PageServiceClient.await(done);
        }
    }
}
