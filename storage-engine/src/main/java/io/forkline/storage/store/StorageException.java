package io.forkline.storage.store;

/** A failure of the underlying store (RocksDB I/O or corruption); carries the operation that failed. */
public class StorageException extends RuntimeException {
    public StorageException(String message, Throwable cause) {
        super(message, cause);
    }

    public StorageException(String message) {
        super(message);
    }
}
