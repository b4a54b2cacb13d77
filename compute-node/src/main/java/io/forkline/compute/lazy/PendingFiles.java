package io.forkline.compute.lazy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Relation segment files of a lazy data directory that are listed but not created in the upper
 * directory yet: {@link LazyFileSystem} reports them (attributes, directory entries) from here and
 * creates the sparse local file of the listed size the first time anything opens, renames, truncates
 * or changes one ({@link #materialize}). Creating ~1 000 files at mount cost 0.1-0.8 s on this
 * machine's shared ext4 (a journal write per file); a compute's start touches a few dozen.
 *
 * <p>Invariant: a path is pending only while no file exists at it in the upper directory (the
 * file is created inside the map's atomic removal of the entry, so a concurrent lookup sees either
 * the pending entry or the created file). Directories that hold pending files exist in the upper
 * directory. Thread-safe.
 */
final class PendingFiles {
    /** Mode reported for a pending file: a regular file, 0600 (as PostgreSQL creates them). */
    static final int MODE = 0100600;

    private final Path upper;
    private final FileTime listedAt = FileTime.fromMillis(System.currentTimeMillis());
    /** FUSE path ({@code /base/5/16384}) to size in bytes. */
    private final Map<String, Long> sizes = new ConcurrentHashMap<>();
    /** FUSE directory path ({@code /base/5}) to the names of its pending files. */
    private final Map<String, Set<String>> byDirectory = new ConcurrentHashMap<>();

    /** No file pending; {@code upper} is where materialized files are created. */
    PendingFiles(Path upper) {
        this.upper = upper;
    }

    /**
     * Lists {@code path} (FUSE form, {@code /base/5/16384.1}) as a pending file of {@code size} bytes;
     * its directory must exist in the upper directory.
     */
    void add(String path, long size) {
        sizes.put(path, size);
        byDirectory.computeIfAbsent(parent(path), k -> ConcurrentHashMap.newKeySet()).add(name(path));
    }

    /** The size of pending file {@code path}, or {@code null} when it is not pending. */
    Long size(String path) {
        return path == null ? null : sizes.get(path);
    }

    /** When the files were listed (their reported times). */
    FileTime listedAt() {
        return listedAt;
    }

    /** Names of the pending files directly in directory {@code dir} (FUSE form, {@code /} or {@code /base/5}). */
    List<String> names(String dir) {
        Set<String> s = byDirectory.get(dir);
        return s == null ? List.of() : List.copyOf(s);
    }

    /** Whether directory {@code dir} holds pending files. */
    boolean hasFilesIn(String dir) {
        Set<String> s = byDirectory.get(dir);
        return s != null && !s.isEmpty();
    }

    /** How many files are pending. */
    int count() {
        return sizes.size();
    }

    /**
     * Creates {@code path}'s sparse local file of its listed size if it is pending (then it is no
     * longer); does nothing otherwise. Concurrent callers for one path wait for one creation.
     *
     * @throws IOException when the file cannot be created (it stays pending)
     */
    void materialize(String path) throws IOException {
        if (path == null || !sizes.containsKey(path)) {
            return;
        }
        try {
            sizes.computeIfPresent(path, (p, size) -> {
                try (RandomAccessFile raf = new RandomAccessFile(local(p).toFile(), "rw")) {
                    raf.setLength(size);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                dropName(p);
                return null;
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** Creates every pending file under directory {@code dir} (before the directory is renamed). */
    void materializeUnder(String dir) throws IOException {
        String prefix = dir.endsWith("/") ? dir : dir + "/";
        for (String p : List.copyOf(sizes.keySet())) {
            if (p.startsWith(prefix)) {
                materialize(p);
            }
        }
    }

    /**
     * Forgets pending file {@code path} without creating it (it is unlinked, or replaced by a rename).
     *
     * @return whether it was pending
     */
    boolean forget(String path) {
        if (path == null || sizes.remove(path) == null) {
            return false;
        }
        dropName(path);
        return true;
    }

    private void dropName(String path) {
        Set<String> s = byDirectory.get(parent(path));
        if (s != null) {
            s.remove(name(path));
        }
    }

    private Path local(String path) {
        return upper.resolve(path.substring(1));
    }

    static String parent(String path) {
        int slash = path.lastIndexOf('/');
        return slash <= 0 ? "/" : path.substring(0, slash);
    }

    private static String name(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    /** Creates every directory that will hold pending files (once per directory). */
    void createDirectories() throws IOException {
        for (String dir : byDirectory.keySet()) {
            Files.createDirectories(dir.equals("/") ? upper : upper.resolve(dir.substring(1)));
        }
    }
}
