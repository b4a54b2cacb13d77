package io.forkline.pageserver.endpoint;

import io.forkline.page.client.PageClientConfig;
import io.forkline.page.client.PageServiceClient;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

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
        try (PageServiceClient client = PageServiceClient.connect(config)) {
            return client.basebackupInto(pgdata, false, DEADLINE);
        }
    }
}
