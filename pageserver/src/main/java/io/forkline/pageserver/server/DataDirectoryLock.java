package io.forkline.pageserver.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One server per data directory: an exclusive OS file lock on {@code <dataDir>/server.pid}, which
 * holds the owning process's PID while it runs. A second server on the same directory fails at
 * once with {@link InUseException} naming that PID, instead of RocksDB's raw {@code LOCK} error.
 * The lock goes with the process (also on kill -9), so a stale file never blocks a start.
 */
public final class DataDirectoryLock implements AutoCloseable {
    /** The file holding the lock and the owner's PID. */
    public static final String FILE = "server.pid";

    private final FileChannel channel;
    private final FileLock lock;

    /** Another server (this process or another) holds the data directory. */
    public static final class InUseException extends IOException {
        private final long pid;

        InUseException(Path dir, long pid) {
            super("data directory " + dir + " is in use by another forkline server"
                    + (pid > 0 ? " (PID " + pid + ")" : "") + "; stop it first or use another --data-dir");
            this.pid = pid;
        }

        /** The PID of the server that holds the directory, 0 when unknown. */
        public long pid() {
            return pid;
        }
    }

    private DataDirectoryLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the data directory (created when missing) for this process.
     *
     * @throws InUseException when another server holds it (with its PID when the file names one)
     * @throws IOException    when the directory or the file cannot be created
     */
    public static DataDirectoryLock acquire(Path dataDir) throws IOException {
        Path dir = dataDir.toAbsolutePath().normalize();
        Files.createDirectories(dir);
        Path file = dir.resolve(FILE);
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // a server of this very process holds it
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        if (lock == null) {
            long pid = readPid(ch);
            ch.close();
            throw new InUseException(dir, pid);
        }
        byte[] pid = (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII);
        ch.truncate(0);
        ch.write(ByteBuffer.wrap(pid), 0);
        ch.force(true);
        return new DataDirectoryLock(ch, lock);
    }

    private static long readPid(FileChannel ch) {
        try {
            ByteBuffer b = ByteBuffer.allocate(32);
            int n = ch.read(b, 0);
            String text = n <= 0 ? "" : new String(b.array(), 0, n, StandardCharsets.US_ASCII).strip();
            return text.isEmpty() ? 0 : Long.parseLong(text);
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    /** Releases the directory (the PID file is emptied, then unlocked). */
    @Override
    public void close() {
        try {
            channel.truncate(0);
        } catch (IOException ignored) {
            // the lock goes with the channel anyway
        }
        try {
            lock.release();
            channel.close();
        } catch (IOException ignored) {
            // closing the channel releases the lock
        }
    }
}
