package io.forkline.pageserver.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * File-system housekeeping of the server's data directory (endpoint directories, initdb and import
 * scratch space). Stateless, thread-safe.
 */
public final class Directories {
    private Directories() {
    }

    /**
     * Deletes {@code dir} and everything under it, children first; does nothing when it does not
     * exist. Symbolic links are deleted, not followed.
     *
     * @throws IOException when a file cannot be listed or deleted (what was deleted before stays deleted)
     */
    public static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
