package io.forkline.wal.redo;

/**
 * A record that cannot be redone on the page it is given (where PostgreSQL's redo would
 * {@code elog(PANIC)}), or malformed rmgr data. The message names the cause; callers add the LSN.
 */
public final class RedoException extends RuntimeException {
    public RedoException(String message) {
        super(message);
    }
}
