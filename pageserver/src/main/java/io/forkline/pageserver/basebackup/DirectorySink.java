package io.forkline.pageserver.basebackup;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Writes a basebackup as a data directory: directories mode 0700, files mode 0600 (what
 * {@code initdb} creates), each file through a 1 MiB buffer. The target must not exist or be an
 * empty directory. Ownership is the caller's business (see {@code PostgresInstallation.chownRecursively}).
 */
public final class DirectorySink implements BasebackupSink {
    private static final int BUFFER_BYTES = 1 << 20;
    private static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-------");

    private final Path root;

    /**
     * @param root the data directory to create
     * @throws IOException when it exists and is not an empty directory, or cannot be created
     */
    public DirectorySink(Path root) throws IOException {
        this.root = root;
        if (Files.exists(root)) {
            if (!Files.isDirectory(root)) {
                throw new IOException("basebackup target " + root + " exists and is not a directory");
            }
            try (var entries = Files.list(root)) {
                if (entries.findAny().isPresent()) {
                    throw new IOException("basebackup target " + root + " is not empty");
                }
            }
        } else {
            Files.createDirectories(root);
        }
        Files.setPosixFilePermissions(root, DIR_MODE);
    }

    @Override
    public void directory(String path) throws IOException {
        Path dir = root.resolve(path);
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, DIR_MODE);
    }

    @Override
    public OutputStream file(String path, long sizeBytes) throws IOException {
        Path file = root.resolve(path);
        OutputStream raw = Files.newOutputStream(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        Files.setPosixFilePermissions(file, FILE_MODE);
        BufferedOutputStream buffered = new BufferedOutputStream(raw, (int) Math.min(BUFFER_BYTES, Math.max(sizeBytes, 512)));
        return new SizedOutputStream(buffered, path, sizeBytes) {
            @Override
            protected void finish() throws IOException {
                buffered.close();
            }
        };
    }

    @Override
    public void close() {
        // every file is closed by its own stream
    }
}
