package io.forkline.wal.redo;

import java.nio.file.Path;

/**
 * Verify mode found a redone block that differs from PostgreSQL's post-image. The message names the
 * LSN, record type, block, first differing offset and the fixture file written for it.
 */
public final class RedoMismatchException extends RuntimeException {
    private final transient Path fixture;

    public RedoMismatchException(String message, Path fixture) {
        super(message + (fixture == null ? " (fixture not written)" : ", fixture " + fixture));
        this.fixture = fixture;
    }

    /** The fixture file that replays the case, or {@code null} when it could not be written. */
    public Path fixture() {
        return fixture;
    }
}
