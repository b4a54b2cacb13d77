package io.forkline.compute.lazy;

import org.cryptomator.jfuse.api.FileInfo;

import java.nio.file.StandardOpenOption;
import java.util.Set;

/**
 * Test helper: the {@link FileInfo} jfuse hands to {@code open}/{@code read}/{@code write}, without a
 * mounted file system: {@code flags} as the open flags ({@code O_RDWR}, 2, as the raw flags), the file
 * handle the file system sets on open, no lock owner.
 */
final class TestFileInfo implements FileInfo {
    private final Set<StandardOpenOption> flags;
    private final int rawFlags;
    private long fh;

    /** Opened read-write. */
    TestFileInfo() {
        this(Set.of(StandardOpenOption.READ, StandardOpenOption.WRITE));
    }

    TestFileInfo(Set<StandardOpenOption> flags) {
        this(flags, 2);
    }

    /** With these raw open flags (e.g. {@code O_RDONLY | O_DSYNC}, 0x1000, the kernel-cache warmer's). */
    TestFileInfo(Set<StandardOpenOption> flags, int rawFlags) {
        this.flags = flags;
        this.rawFlags = rawFlags;
    }

    @Override
    public long getFh() {
        return fh;
    }

    @Override
    public void setFh(long fh) {
        this.fh = fh;
    }

    @Override
    public int getFlags() {
        return rawFlags; // O_RDWR unless given
    }

    @Override
    public Set<StandardOpenOption> getOpenFlags() {
        return flags;
    }

    @Override
    public long getLockOwner() {
        return 0;
    }
}
