package io.forkline.compute.lazy;

import org.cryptomator.jfuse.api.DirFiller;
import org.cryptomator.jfuse.api.Errno;
import org.cryptomator.jfuse.api.FileInfo;
import org.cryptomator.jfuse.api.FuseConfig;
import org.cryptomator.jfuse.api.FuseConnInfo;
import org.cryptomator.jfuse.api.FuseOperations;
import org.cryptomator.jfuse.api.Stat;
import org.cryptomator.jfuse.api.Statvfs;
import org.cryptomator.jfuse.api.TimeSpec;

import java.nio.ByteBuffer;
import java.util.Set;

/**
 * The FUSE operations of a lazy data directory, counted: every request that reaches the daemon is
 * counted by operation with the time spent answering it ({@link LazyStats#ops()}), which shows what
 * a workload costs the daemon (e.g. whether PostgreSQL's reads reach it or the kernel's page cache
 * answers them). Adds two {@code System.nanoTime()} calls per request (tens of nanoseconds against
 * the ~20 µs of a FUSE round trip).
 */
final class CountingOperations implements FuseOperations {
    private final FuseOperations fs;
    private final LazyStats stats;

    CountingOperations(FuseOperations fs, LazyStats stats) {
        this.fs = fs;
        this.stats = stats;
    }

    private int done(String op, long t0, int result) {
        stats.op(op, System.nanoTime() - t0);
        return result;
    }

    @Override
    public Errno errno() {
        return fs.errno();
    }

    @Override
    public Set<Operation> supportedOperations() {
        return fs.supportedOperations();
    }

    @Override
    public void init(FuseConnInfo conn, FuseConfig config) {
        fs.init(conn, config);
    }

    @Override
    public void destroy() {
        fs.destroy();
    }

    @Override
    public int getattr(String path, Stat stat, FileInfo fi) {
        long t0 = System.nanoTime();
        return done("getattr", t0, fs.getattr(path, stat, fi));
    }

    @Override
    public int readlink(String path, ByteBuffer buf, long len) {
        long t0 = System.nanoTime();
        return done("readlink", t0, fs.readlink(path, buf, len));
    }

    @Override
    public int mkdir(String path, int mode) {
        long t0 = System.nanoTime();
        return done("mkdir", t0, fs.mkdir(path, mode));
    }

    @Override
    public int unlink(String path) {
        long t0 = System.nanoTime();
        return done("unlink", t0, fs.unlink(path));
    }

    @Override
    public int rmdir(String path) {
        long t0 = System.nanoTime();
        return done("rmdir", t0, fs.rmdir(path));
    }

    @Override
    public int symlink(String linkname, String target) {
        long t0 = System.nanoTime();
        return done("symlink", t0, fs.symlink(linkname, target));
    }

    @Override
    public int rename(String oldpath, String newpath, int flags) {
        long t0 = System.nanoTime();
        return done("rename", t0, fs.rename(oldpath, newpath, flags));
    }

    @Override
    public int chmod(String path, int mode, FileInfo fi) {
        long t0 = System.nanoTime();
        return done("chmod", t0, fs.chmod(path, mode, fi));
    }

    @Override
    public int chown(String path, int uid, int gid, FileInfo fi) {
        long t0 = System.nanoTime();
        return done("chown", t0, fs.chown(path, uid, gid, fi));
    }

    @Override
    public int truncate(String path, long size, FileInfo fi) {
        long t0 = System.nanoTime();
        return done("truncate", t0, fs.truncate(path, size, fi));
    }

    @Override
    public int open(String path, FileInfo fi) {
        long t0 = System.nanoTime();
        return done("open", t0, fs.open(path, fi));
    }

    @Override
    public int read(String path, ByteBuffer buf, long size, long offset, FileInfo fi) {
        long t0 = System.nanoTime();
        return done("read", t0, fs.read(path, buf, size, offset, fi));
    }

    @Override
    public int write(String path, ByteBuffer buf, long size, long offset, FileInfo fi) {
        long t0 = System.nanoTime();
        return done("write", t0, fs.write(path, buf, size, offset, fi));
    }

    @Override
    public int statfs(String path, Statvfs statvfs) {
        long t0 = System.nanoTime();
        return done("statfs", t0, fs.statfs(path, statvfs));
    }

    @Override
    public int flush(String path, FileInfo fi) {
        long t0 = System.nanoTime();
        return done("flush", t0, fs.flush(path, fi));
    }

    @Override
    public int release(String path, FileInfo fi) {
        long t0 = System.nanoTime();
        return done("release", t0, fs.release(path, fi));
    }

    @Override
    public int fsync(String path, int datasync, FileInfo fi) {
        long t0 = System.nanoTime();
        return done("fsync", t0, fs.fsync(path, datasync, fi));
    }

    @Override
    public int opendir(String path, FileInfo fi) {
        long t0 = System.nanoTime();
        return done("opendir", t0, fs.opendir(path, fi));
    }

    @Override
    public int readdir(String path, DirFiller filler, long offset, FileInfo fi, int flags) {
        long t0 = System.nanoTime();
        return done("readdir", t0, fs.readdir(path, filler, offset, fi, flags));
    }

    @Override
    public int releasedir(String path, FileInfo fi) {
        long t0 = System.nanoTime();
        return done("releasedir", t0, fs.releasedir(path, fi));
    }

    @Override
    public int fsyncdir(String path, int datasync, FileInfo fi) {
        long t0 = System.nanoTime();
        return done("fsyncdir", t0, fs.fsyncdir(path, datasync, fi));
    }

    @Override
    public int access(String path, int mask) {
        long t0 = System.nanoTime();
        return done("access", t0, fs.access(path, mask));
    }

    @Override
    public int create(String path, int mode, FileInfo fi) {
        long t0 = System.nanoTime();
        return done("create", t0, fs.create(path, mode, fi));
    }

    @Override
    public int utimens(String path, TimeSpec atime, TimeSpec mtime, FileInfo fi) {
        long t0 = System.nanoTime();
        return done("utimens", t0, fs.utimens(path, atime, mtime, fi));
    }
}
