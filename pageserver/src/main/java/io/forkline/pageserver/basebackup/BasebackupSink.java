package io.forkline.pageserver.basebackup;

import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Where a basebackup goes: a directory tree ({@link DirectorySink}) or a tar stream
 * ({@link TarSink}). Paths are relative to the data directory, with {@code /} separators
 * ({@code "base/5/1259"}). The builder announces every directory before the files in it and the
 * exact size of each file before its content (tar needs it). Not thread-safe.
 */
public interface BasebackupSink extends Closeable {
    /**
     * Creates a directory (parents are announced first).
     *
     * @throws IOException when it cannot be created
     */
    void directory(String path) throws IOException;

    /**
     * Opens a file of exactly {@code sizeBytes}; the caller writes that many bytes and closes the
     * stream before opening the next file.
     *
     * @throws IOException when it cannot be created; closing the stream throws when fewer or more
     *                     bytes were written than announced
     */
    OutputStream file(String path, long sizeBytes) throws IOException;

    /** Convenience: a whole small file. */
    default void file(String path, byte[] content) throws IOException {
        try (OutputStream out = file(path, content.length)) {
            out.write(content);
        }
    }

    /** Finishes the output (tar end-of-archive blocks; nothing for a directory). */
    @Override
    void close() throws IOException;
}
