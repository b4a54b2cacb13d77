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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The FUSE operations of a lazy data directory: a pass-through to a local <em>upper</em> directory,
 * except that blocks of relation segment files listed in {@link #lazy} are fetched from the page
 * service on first read ({@link BlockSource}) and written into the (sparse) local file, then read
 * locally ever after; PostgreSQL's own writes go to the local file and mark their blocks local.
 *
 * <p>Rules from {@code LAZY-COMPUTE.md}: every callback catches {@code Throwable} (an exception
 * escaping a jfuse callback kills the JVM) and answers an errno; fsync and fsyncdir answer 0
 * (computes are stateless: what is committed is in the timeline); a read never returns short
 * inside the file; a read whose blocks cannot be fetched fails with EIO after the source's deadline.
 * Every file reports {@link #uid}/{@link #gid} as its owner (PostgreSQL's user) and the root mode
 * 0700, as {@code checkDataDir} wants. Unlinked-while-open files are renamed by libfuse to
 * {@code .fuse_hidden*} through {@link #rename}.
 *
 * <p><b>Sequential read-ahead</b>: per file ({@link SequentialReads}), once reads run
 * sequentially (the kernel hands a sequential scan over as 128 KiB reads, one page-service round trip
 * each), the blocks up to {@link #readAheadBlocks} past the read are fetched ahead on virtual threads,
 * in requests of {@link BlockSource#MAX_BLOCKS} blocks, several in flight on the pipelined client;
 * they are registered as in flight like any fetch, so the scan's own reads wait for them instead of
 * asking again, PostgreSQL's writes win over them, and a read-ahead that fails leaves its blocks to
 * the reads (which fetch them themselves, or fail with EIO at once when the read-ahead failed because
 * the page service's deadline passed). {@link LazyDataDirectory#READ_AHEAD_PROPERTY} sets the window (0: off).
 *
 * <p><b>Read-around</b>: a read that has to fetch also fetches the rest of its aligned
 * {@link #READ_AROUND_PROPERTY} extent (16 blocks) in the same request, and the extent is then read
 * through the mount in the background ({@link KernelCacheWarmer}) so that the kernel's page cache
 * holds it; the warmer's handle is served from local blocks only.
 *
 * <p>Thread-safe: libfuse calls it from several threads.
 */
final class LazyFileSystem implements FuseOperations {
    private static final Logger log = LoggerFactory.getLogger(LazyFileSystem.class);
    static final int BLOCK = 8192;

    private final Path upper;
    private final Errno errno;
    private final Map<String, LazyRelationFile> lazy;
    private final BlockSource source;
    private final LazyStats stats;
    private final int uid;
    private final int gid;
    private final PendingFiles pending;
    private final Map<Long, FileChannel> handles = new ConcurrentHashMap<>();
    /** Handles of {@link KernelCacheWarmer}'s opens ({@link KernelCacheWarmer#isWarmerOpen}): their reads never fetch. */
    private final Set<Long> warmerHandles = ConcurrentHashMap.newKeySet();
    private final int readAheadBlocks = readAheadBlocks();

    /** {@link LazyDataDirectory#READ_AHEAD_PROPERTY}. */
    static final String READ_AHEAD_PROPERTY = LazyDataDirectory.READ_AHEAD_PROPERTY;
    /** Default read-ahead window: 8 MiB, four requests of 256 blocks. */
    static final int DEFAULT_READ_AHEAD = 4 * BlockSource.MAX_BLOCKS;

    static int readAheadBlocks() {
        String v = System.getProperty(READ_AHEAD_PROPERTY);
        if (v == null || v.isBlank()) {
            return DEFAULT_READ_AHEAD;
        }
        try {
            int n = Integer.parseInt(v.strip());
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        log.warn("ignoring {}='{}': expected a number of blocks >= 0", READ_AHEAD_PROPERTY, v);
        return DEFAULT_READ_AHEAD;
    }
    private final AtomicLong nextHandle = new AtomicLong(1);

    /**
     * System property: blocks of the aligned extent a read that misses fetches with it (default
     * {@value #DEFAULT_READ_AROUND}, 128 KiB, the kernel's largest FUSE read; 1 turns it off). A
     * random 8 KiB read of a block not yet local fetches, in the same page-service request, the other
     * blocks of its extent that are neither local nor in flight (it waits only for its own blocks).
     * A fetch costs about one round trip whatever its size up to tens of blocks, and random workloads
     * (TPC-B's account updates) touch every block of a table sooner or later: read-around makes a
     * lazy compute's working set local ~16x sooner, which is what a warm TPC-B lost against a full
     * compute (benchmarks README 11o). Costs up to 16x the bytes local of a workload that touches few
     * blocks sparsely (the kernel's own readahead does the same on local files).
     */
    static final String READ_AROUND_PROPERTY = "forkline.lazy.readAroundBlocks";
    /** Default read-around extent: 16 blocks (128 KiB). */
    static final int DEFAULT_READ_AROUND = 16;
    private final int readAroundBlocks = readAroundBlocks();

    private volatile KernelCacheWarmer warmer;

    /**
     * Once mounted at {@code mountPoint}: extents fetched by read-around are then read through the
     * mount in the background ({@link KernelCacheWarmer}), unless its property turns that off.
     */
    void startWarming(Path mountPoint) {
        if (readAroundBlocks > 1 && KernelCacheWarmer.enabled()) {
            warmer = new KernelCacheWarmer(mountPoint, 2 * readAroundBlocks, stats);
        }
    }

    /** Stops the warming (before the unmount: it must hold no file of the mount open). */
    void stopWarming() {
        KernelCacheWarmer w = warmer;
        warmer = null;
        if (w != null) {
            w.close();
        }
    }

    static int readAroundBlocks() {
        String v = System.getProperty(READ_AROUND_PROPERTY);
        if (v == null || v.isBlank()) {
            return DEFAULT_READ_AROUND;
        }
        try {
            int n = Integer.parseInt(v.strip());
            if (n >= 1 && n <= BlockSource.MAX_BLOCKS) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        log.warn("ignoring {}='{}': expected a number of blocks in 1..{}", READ_AROUND_PROPERTY, v, BlockSource.MAX_BLOCKS);
        return DEFAULT_READ_AROUND;
    }

    /**
     * @param upper  the local directory everything is stored in
     * @param lazy   relation segment files (by FUSE path, e.g. {@code /base/5/16384}) with blocks
     *               still to fetch; entries are moved by renames and dropped by unlinks
     * @param uid    owner reported for every file (PostgreSQL's OS user)
     */
    LazyFileSystem(Path upper, Errno errno, Map<String, LazyRelationFile> lazy, BlockSource source, LazyStats stats,
                   int uid, int gid) {
        this(upper, errno, lazy, source, stats, uid, gid, new PendingFiles(upper));
    }

    /**
     * As the other constructor, with relation files listed in {@code pending} that exist in the
     * upper directory only once something opens or changes them.
     */
    LazyFileSystem(Path upper, Errno errno, Map<String, LazyRelationFile> lazy, BlockSource source, LazyStats stats,
                   int uid, int gid, PendingFiles pending) {
        this.pending = pending;
        this.upper = upper;
        this.errno = errno;
        this.lazy = lazy;
        this.source = source;
        this.stats = stats;
        this.uid = uid;
        this.gid = gid;
    }

    @Override
    public Errno errno() {
        return errno;
    }

    /**
     * System property: {@code false} turns FUSE's writeback cache off (default on). With it, the
     * kernel keeps PostgreSQL's writes in its page cache and sends them to {@link #write} later, in
     * runs of up to {@code max_write} bytes (128 KiB here) instead of one request per 8 KiB page:
     * a bulk load on a lazy compute went from ~30 s to ~17 s ({@code pgbench -i -s 10}, benchmarks
     * README 11k). Safe here because nothing written through the mount has to survive a crash:
     * the overlay is dropped at stop, a compute restarts from its timeline, and {@link #fsync} is
     * a no-op either way (what is committed is in the timeline before the commit returns).
     */
    static final String WRITEBACK_PROPERTY = "forkline.lazy.writebackCache";

    static boolean writebackCache() {
        return !"false".equalsIgnoreCase(System.getProperty(WRITEBACK_PROPERTY, "true").strip());
    }

    /**
     * FUSE {@code init} (libfuse {@code fuse_lowlevel_ops.init}): asks for the writeback cache
     * ({@code FUSE_CAP_WRITEBACK_CACHE}, {@link #WRITEBACK_PROPERTY}) when the kernel offers it.
     * Never throws (an exception escaping a callback would end the JVM).
     */
    @Override
    public void init(FuseConnInfo conn, FuseConfig config) {
        try {
            if (writebackCache() && (conn.capable() & FuseConnInfo.FUSE_CAP_WRITEBACK_CACHE) != 0) {
                conn.setWant(conn.want() | FuseConnInfo.FUSE_CAP_WRITEBACK_CACHE);
                log.debug("FUSE writeback cache on (max_write {} bytes)", conn.maxWrite());
            }
        } catch (Throwable t) {
            log.warn("FUSE init: {}", t.toString());
        }
    }

    @Override
    public Set<Operation> supportedOperations() {
        return EnumSet.of(Operation.GET_ATTR, Operation.READLINK, Operation.MKDIR, Operation.UNLINK, Operation.RMDIR,
                Operation.SYMLINK, Operation.RENAME, Operation.CHMOD, Operation.CHOWN, Operation.TRUNCATE,
                Operation.OPEN, Operation.READ, Operation.WRITE, Operation.STATFS, Operation.FLUSH, Operation.RELEASE,
                Operation.FSYNC, Operation.OPEN_DIR, Operation.READ_DIR, Operation.RELEASE_DIR, Operation.FSYNCDIR,
                Operation.ACCESS, Operation.CREATE, Operation.UTIMENS, Operation.INIT);
    }

    private Path local(String path) {
        if (path == null) {
            throw new IllegalArgumentException("null path");
        }
        return path.equals("/") ? upper : upper.resolve(path.substring(1));
    }

    private int fail(String op, String path, Throwable t) {
        if (t instanceof NoSuchFileException) {
            return -errno.enoent();
        }
        if (t instanceof FileAlreadyExistsException) {
            return -errno.eexist();
        }
        if (t instanceof DirectoryNotEmptyException) {
            return -errno.enotempty();
        }
        if (t instanceof NotDirectoryException) {
            return -errno.enotdir();
        }
        if (t instanceof AccessDeniedException) {
            return -errno.eacces();
        }
        if (t instanceof BlockSource.FetchException) {
            log.warn("{} {}: {}", op, path, t.getMessage());
            return -errno.eio();
        }
        log.warn("{} {} failed", op, path, t);
        return -errno.eio();
    }

    // ------------------------------------------------------------------ attributes

    @Override
    public int getattr(String path, Stat stat, FileInfo fi) {
        try {
            Long pendingSize = pending.size(path);
            if (pendingSize != null) {
                stat.setMode(PendingFiles.MODE);
                stat.setNLink((short) 1);
                stat.setSize(pendingSize);
                stat.setUid(uid);
                stat.setGid(gid);
                stat.mTime().set(pending.listedAt().toInstant());
                stat.aTime().set(pending.listedAt().toInstant());
                stat.cTime().set(pending.listedAt().toInstant());
                return 0;
            }
            Map<String, Object> a = Files.readAttributes(local(path),
                    "unix:mode,nlink,size,lastModifiedTime,lastAccessTime,ctime", LinkOption.NOFOLLOW_LINKS);
            int mode = (Integer) a.get("mode");
            if (path.equals("/")) {
                mode = (mode & Stat.S_IFMT) | 0700;
            }
            stat.setMode(mode);
            stat.setNLink((short) Math.min(Short.MAX_VALUE, (Integer) a.get("nlink")));
            stat.setSize((Long) a.get("size"));
            stat.setUid(uid);
            stat.setGid(gid);
            stat.mTime().set(((FileTime) a.get("lastModifiedTime")).toInstant());
            stat.aTime().set(((FileTime) a.get("lastAccessTime")).toInstant());
            stat.cTime().set(((FileTime) a.get("ctime")).toInstant());
            return 0;
        } catch (Throwable t) {
            return t instanceof NoSuchFileException ? -errno.enoent() : fail("getattr", path, t);
        }
    }

    @Override
    public int access(String path, int mask) {
        try {
            return pending.size(path) != null || Files.exists(local(path), LinkOption.NOFOLLOW_LINKS) ? 0 : -errno.enoent();
        } catch (Throwable t) {
            return fail("access", path, t);
        }
    }

    @Override
    public int chmod(String path, int mode, FileInfo fi) {
        try {
            pending.materialize(path);
            Files.setPosixFilePermissions(local(path), permissions(mode));
            return 0;
        } catch (Throwable t) {
            return fail("chmod", path, t);
        }
    }

    @Override
    public int chown(String path, int uid, int gid, FileInfo fi) {
        return 0; // every file reports PostgreSQL's user as owner anyway
    }

    @Override
    public int utimens(String path, TimeSpec atime, TimeSpec mtime, FileInfo fi) {
        try {
            pending.materialize(path);
            Path p = local(path);
            if (!mtime.isUtimeOmit()) {
                Files.setLastModifiedTime(p, FileTime.from(mtime.isUtimeNow() ? java.time.Instant.now() : mtime.get()));
            }
            return 0;
        } catch (Throwable t) {
            return fail("utimens", path, t);
        }
    }

    @Override
    public int statfs(String path, Statvfs statvfs) {
        try {
            FileStore fs = Files.getFileStore(upper);
            long bsize = 4096;
            statvfs.setBsize(bsize);
            statvfs.setFrsize(bsize);
            statvfs.setBlocks(fs.getTotalSpace() / bsize);
            statvfs.setBfree(fs.getUnallocatedSpace() / bsize);
            statvfs.setBavail(fs.getUsableSpace() / bsize);
            statvfs.setNameMax(255);
            return 0;
        } catch (Throwable t) {
            return fail("statfs", path, t);
        }
    }

    // ------------------------------------------------------------------ directories and links

    @Override
    public int mkdir(String path, int mode) {
        try {
            if (pending.size(path) != null) {
                return -errno.eexist();
            }
            Files.createDirectory(local(path));
            return 0;
        } catch (Throwable t) {
            return fail("mkdir", path, t);
        }
    }

    @Override
    public int rmdir(String path) {
        try {
            if (pending.size(path) != null) {
                return -errno.enotdir();
            }
            if (pending.hasFilesIn(path)) {
                return -errno.enotempty();
            }
            Files.delete(local(path));
            return 0;
        } catch (Throwable t) {
            return fail("rmdir", path, t);
        }
    }

    @Override
    public int opendir(String path, FileInfo fi) {
        return 0;
    }

    @Override
    public int releasedir(String path, FileInfo fi) {
        return 0;
    }

    @Override
    public int fsyncdir(String path, int datasync, FileInfo fi) {
        return 0;
    }

    @Override
    public int readdir(String path, DirFiller filler, long offset, FileInfo fi, int flags) {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(local(path))) {
            filler.fill(".", s -> { }, 0, 0);
            filler.fill("..", s -> { }, 0, 0);
            Set<String> seen = new HashSet<>();
            for (Path p : ds) {
                String name = p.getFileName().toString();
                seen.add(name);
                if (filler.fill(name, s -> { }, 0, 0) != 0) {
                    return 0;
                }
            }
            for (String name : pending.names(path)) {
                if (!seen.contains(name) && filler.fill(name, s -> { }, 0, 0) != 0) {
                    break;
                }
            }
            return 0;
        } catch (Throwable t) {
            return fail("readdir", path, t);
        }
    }

    @Override
    public int readlink(String path, ByteBuffer buf, long len) {
        try {
            byte[] target = Files.readSymbolicLink(local(path)).toString().getBytes(StandardCharsets.UTF_8);
            int n = (int) Math.min(target.length, len - 1);
            buf.put(target, 0, n);
            buf.put((byte) 0);
            return 0;
        } catch (Throwable t) {
            return fail("readlink", path, t);
        }
    }

    @Override
    public int symlink(String linkname, String target) {
        try {
            pending.materialize(target);
            Files.createSymbolicLink(local(target), Path.of(linkname));
            return 0;
        } catch (Throwable t) {
            return fail("symlink", target, t);
        }
    }

    @Override
    public int unlink(String path) {
        try {
            if (pending.forget(path)) {
                lazy.remove(path);
                return 0;
            }
            Files.delete(local(path));
            lazy.remove(path);
            return 0;
        } catch (Throwable t) {
            return fail("unlink", path, t);
        }
    }

    @Override
    public int rename(String oldpath, String newpath, int flags) {
        try {
            pending.materialize(oldpath);
            if (Files.isDirectory(local(oldpath), LinkOption.NOFOLLOW_LINKS)) {
                pending.materializeUnder(oldpath);
            }
            pending.forget(newpath); // replaced
            Files.move(local(oldpath), local(newpath), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
            lazy.remove(newpath);
            LazyRelationFile f = lazy.remove(oldpath);
            if (f != null) {
                lazy.put(newpath, f);
            }
            return 0;
        } catch (Throwable t) {
            return fail("rename", oldpath + " -> " + newpath, t);
        }
    }

    // ------------------------------------------------------------------ files

    @Override
    public int create(String path, int mode, FileInfo fi) {
        try {
            pending.materialize(path); // an O_EXCL create of a listed file must fail
            Set<OpenOption> opts = new HashSet<>(List.of(StandardOpenOption.READ, StandardOpenOption.WRITE));
            Set<StandardOpenOption> flags = fi.getOpenFlags();
            opts.add(flags.contains(StandardOpenOption.CREATE_NEW) ? StandardOpenOption.CREATE_NEW
                    : StandardOpenOption.CREATE);
            if (flags.contains(StandardOpenOption.TRUNCATE_EXISTING)) {
                opts.add(StandardOpenOption.TRUNCATE_EXISTING);
            }
            FileChannel ch = FileChannel.open(local(path), opts);
            try {
                Files.setPosixFilePermissions(local(path), permissions(mode));
            } catch (IOException e) {
                // the file exists; its mode is cosmetic (every file reports PostgreSQL's user)
            }
            lazy.remove(path);
            long h = nextHandle.getAndIncrement();
            handles.put(h, ch);
            fi.setFh(h);
            return 0;
        } catch (Throwable t) {
            return fail("create", path, t);
        }
    }

    @Override
    public int open(String path, FileInfo fi) {
        try {
            Set<OpenOption> opts = new HashSet<>(List.of(StandardOpenOption.READ, StandardOpenOption.WRITE));
            boolean truncate = fi.getOpenFlags().contains(StandardOpenOption.TRUNCATE_EXISTING);
            if (truncate) {
                opts.add(StandardOpenOption.TRUNCATE_EXISTING);
            }
            pending.materialize(path);
            Path p = local(path);
            if (Files.isDirectory(p)) {
                return -errno.eisdir();
            }
            FileChannel ch = FileChannel.open(p, opts);
            if (truncate) {
                lazy.remove(path);
            }
            long h = nextHandle.getAndIncrement();
            if (KernelCacheWarmer.isWarmerOpen(fi.getFlags())) {
                warmerHandles.add(h);
            }
            handles.put(h, ch);
            fi.setFh(h);
            return 0;
        } catch (Throwable t) {
            return fail("open", path, t);
        }
    }

    private FileChannel channel(FileInfo fi) throws IOException {
        FileChannel ch = fi == null ? null : handles.get(fi.getFh());
        if (ch == null) {
            throw new IOException("no open file for handle " + (fi == null ? "null" : fi.getFh()));
        }
        return ch;
    }

    @Override
    public int read(String path, ByteBuffer buf, long count, long offset, FileInfo fi) {
        try {
            FileChannel ch = channel(fi);
            LazyRelationFile f = path == null ? null : lazy.get(path);
            if (f != null) {
                long size = ch.size();
                long end = Math.min(size, offset + count);
                if (end > offset && warmerHandles.contains(fi.getFh())) {
                    // the warmer (or the kernel's readahead on its handle) only copies local blocks into the
                    // kernel's cache: nothing fetched, nothing counted as a sequential read; EIO (which the
                    // kernel does not cache, and which never changes the file's size as a short read would) else
                    if (!allLocal(f, (int) (offset / BLOCK), (int) ((end - 1) / BLOCK))) {
                        stats.op("warm.notLocal", 0);
                        return -errno.eio();
                    }
                } else if (end > offset) {
                    stats.read(end - offset);
                    int first = (int) (offset / BLOCK);
                    int last = (int) ((end - 1) / BLOCK);
                    readAhead(f, ch, first, last);
                    if (makeLocal(f, ch, first, last, readAroundBlocks) && warmer != null) {
                        int lo = first - first % readAroundBlocks;
                        int hi = (int) Math.min((size - 1) / BLOCK, (long) last - last % readAroundBlocks + readAroundBlocks - 1);
                        KernelCacheWarmer w = warmer;
                        if (w != null) {
                            w.warm(path, lo, hi - lo + 1);
                        }
                    }
                }
            }
            int want = (int) Math.min(count, buf.remaining());
            ByteBuffer dst = buf.slice(buf.position(), want);
            int total = 0;
            while (dst.hasRemaining()) {
                int n = ch.read(dst, offset + total);
                if (n < 0) {
                    break;
                }
                total += n;
            }
            return total;
        } catch (Throwable t) {
            return fail("read", path, t);
        }
    }

    @Override
    public int write(String path, ByteBuffer buf, long count, long offset, FileInfo fi) {
        try {
            FileChannel ch = channel(fi);
            int len = (int) Math.min(count, buf.remaining());
            ByteBuffer src = buf.slice(buf.position(), len);
            stats.wrote(len);
            LazyRelationFile f = path == null ? null : lazy.get(path);
            if (f == null) {
                return writeFully(ch, src, offset);
            }
            int first = (int) (offset / BLOCK);
            int last = (int) ((offset + len - 1) / BLOCK);
            while (true) {
                boolean needFirst;
                boolean needLast;
                f.lock.lock();
                try {
                    // blocks only partly overwritten need their old content first (fetched without the lock)
                    needFirst = offset % BLOCK != 0 && !f.isLocal(first);
                    needLast = (offset + len) % BLOCK != 0 && !f.isLocal(last);
                    if (!needFirst && !needLast) {
                        int n = writeFully(ch, src, offset);
                        for (int b = first; b <= last; b++) {
                            f.markLocal(b); // a fetch of b in flight now skips it
                        }
                        return n;
                    }
                } finally {
                    f.lock.unlock();
                }
                if (needFirst) {
                    makeLocal(f, ch, first, first, 1);
                }
                if (needLast) {
                    makeLocal(f, ch, last, last, 1);
                }
            }
        } catch (Throwable t) {
            return fail("write", path, t);
        }
    }

    private static int writeFully(FileChannel ch, ByteBuffer src, long offset) throws IOException {
        int total = 0;
        while (src.hasRemaining()) {
            total += ch.write(src, offset + total);
        }
        return total;
    }

    @Override
    public int truncate(String path, long size, FileInfo fi) {
        try {
            pending.materialize(path);
            LazyRelationFile f = lazy.get(path);
            if (f != null) {
                f.lock.lock();
            }
            try {
                FileChannel ch = fi == null ? null : handles.get(fi.getFh());
                if (ch != null) {
                    if (size < ch.size()) {
                        ch.truncate(size);
                    } else {
                        ch.write(ByteBuffer.allocate(0), size); // no-op; growing via truncate is not used by postgres
                    }
                } else {
                    try (FileChannel c = FileChannel.open(local(path), StandardOpenOption.WRITE)) {
                        if (size < c.size()) {
                            c.truncate(size);
                        }
                    }
                }
                if (f != null) {
                    f.truncate((int) (size / BLOCK));
                }
                return 0;
            } finally {
                if (f != null) {
                    f.lock.unlock();
                }
            }
        } catch (Throwable t) {
            return fail("truncate", path, t);
        }
    }

    @Override
    public int flush(String path, FileInfo fi) {
        return 0;
    }

    @Override
    public int fsync(String path, int datasync, FileInfo fi) {
        return 0; // stateless compute: what is committed is in the timeline
    }

    @Override
    public int release(String path, FileInfo fi) {
        try {
            FileChannel ch = handles.remove(fi.getFh());
            warmerHandles.remove(fi.getFh());
            if (ch != null) {
                ch.close();
            }
            return 0;
        } catch (Throwable t) {
            return fail("release", path, t);
        }
    }

    // ------------------------------------------------------------------ lazy blocks

    /**
     * Makes blocks {@code first..last} of the file local: fetches the missing ones that no other
     * read is fetching, in batches, without holding the file's lock; waits for the ones another read
     * is fetching (and fetches them itself if that fetch failed). When one of them is fetched here,
     * the other blocks of the aligned {@code around}-block extents holding {@code first..last} that
     * are neither local nor in flight come in the same requests (read-around; nobody waits for them
     * but the reads that want them). Call without the lock.
     *
     * @param around read-around extent in blocks (1: only {@code first..last})
     * @return whether blocks around {@code first..last} were fetched (read-around)
     * @throws BlockSource.FetchException when a fetch fails (the page service's deadline passed)
     */
    private boolean makeLocal(LazyRelationFile f, FileChannel ch, int first, int last, int around) throws IOException {
        boolean extend = around > 1;
        boolean aroundFetched = false;
        while (true) {
            List<List<Integer>> batches = new ArrayList<>();
            List<java.util.concurrent.CompletableFuture<Void>> mine = new ArrayList<>();
            Set<java.util.concurrent.CompletableFuture<Void>> theirs = new java.util.LinkedHashSet<>();
            f.lock.lock();
            try {
                int limit = Math.min(last, f.sourceBlocks() - 1);
                int lo = first;
                int hi = limit;
                if (extend) {
                    lo = first - first % around;
                    hi = (int) Math.min(f.sourceBlocks() - 1L, (long) last - last % around + around - 1);
                    boolean missing = false;
                    for (int b = first; b <= limit && !missing; b++) {
                        missing = !f.isLocal(b) && f.inFlight(b) == null;
                    }
                    if (!missing) { // nothing of the read's own to fetch: no read-around either
                        lo = first;
                        hi = limit;
                    }
                }
                List<Integer> batch = null;
                for (int b = lo; b <= hi; b++) {
                    if (f.isLocal(b)) {
                        continue;
                    }
                    boolean own = b >= first && b <= limit;
                    java.util.concurrent.CompletableFuture<Void> other = f.inFlight(b);
                    if (other != null) {
                        if (own) {
                            theirs.add(other);
                        }
                        continue;
                    }
                    if (!own) {
                        stats.readAround(1);
                        aroundFetched = true;
                    }
                    if (batch == null || batch.size() == BlockSource.MAX_BLOCKS) {
                        batch = new ArrayList<>();
                        batches.add(batch);
                        mine.add(new java.util.concurrent.CompletableFuture<>());
                    }
                    batch.add(b);
                    f.startFetch(b, mine.getLast());
                }
            } finally {
                f.lock.unlock();
            }
            for (int i = 0; i < batches.size(); i++) {
                try {
                    fetchBatch(f, ch, batches.get(i), mine.get(i), false);
                } catch (IOException | RuntimeException | Error e) {
                    // this batch and the ones not fetched yet are nobody's now: waiting reads fetch them themselves
                    f.lock.lock();
                    try {
                        for (int j = i; j < batches.size(); j++) {
                            for (int b : batches.get(j)) {
                                f.endFetch(b, mine.get(j));
                            }
                        }
                    } finally {
                        f.lock.unlock();
                    }
                    for (int j = i; j < batches.size(); j++) {
                        mine.get(j).completeExceptionally(e);
                    }
                    throw e;
                }
            }
            if (theirs.isEmpty()) {
                return aroundFetched;
            }
            for (java.util.concurrent.CompletableFuture<Void> other : theirs) {
                try {
                    other.join();
                } catch (java.util.concurrent.CompletionException e) {
                    if (e.getCause() instanceof BlockSource.FetchException fe) {
                        stats.failed(); // the page service's deadline passed for that fetch: this read fails too
                        throw fe;
                    }
                    // that fetch failed otherwise (e.g. its handle was closed): the next round fetches what is still missing
                } catch (java.util.concurrent.CancellationException e) {
                    // as above
                }
            }
        }
    }

    private static boolean allLocal(LazyRelationFile f, int first, int last) {
        f.lock.lock();
        try {
            for (int b = first; b <= last; b++) {
                if (!f.isLocal(b)) {
                    return false;
                }
            }
            return true;
        } finally {
            f.lock.unlock();
        }
    }

    /**
     * Starts fetching ahead of a read of blocks {@code first..last} when the handle reads sequentially
     * ({@link SequentialReads}): the blocks of the window that are neither local nor in flight, in
     * batches of {@link BlockSource#MAX_BLOCKS}, each on a virtual thread. Call without the lock.
     */
    private void readAhead(LazyRelationFile f, FileChannel ch, int first, int last) {
        if (readAheadBlocks <= 0) {
            return;
        }
        int fileBlocks;
        f.lock.lock();
        try {
            fileBlocks = f.sourceBlocks();
        } finally {
            f.lock.unlock();
        }
        int[] span = f.sequential.onRead(first, last, readAheadBlocks, BlockSource.MAX_BLOCKS, fileBlocks);
        if (span == null) {
            return;
        }
        List<List<Integer>> batches = new ArrayList<>();
        List<java.util.concurrent.CompletableFuture<Void>> futures = new ArrayList<>();
        f.lock.lock();
        try {
            List<Integer> batch = null;
            for (int b = span[0]; b < Math.min(span[1], f.sourceBlocks()); b++) {
                if (f.isLocal(b) || f.inFlight(b) != null) {
                    continue;
                }
                if (batch == null || batch.size() == BlockSource.MAX_BLOCKS) {
                    batch = new ArrayList<>();
                    batches.add(batch);
                    futures.add(new java.util.concurrent.CompletableFuture<>());
                }
                batch.add(b);
                f.startFetch(b, futures.getLast());
            }
        } finally {
            f.lock.unlock();
        }
        for (int i = 0; i < batches.size(); i++) {
            List<Integer> batch = batches.get(i);
            java.util.concurrent.CompletableFuture<Void> done = futures.get(i);
            Thread.ofVirtual().name("forkline-readahead").start(() -> fetchAhead(f, ch, batch, done));
        }
    }

    /** One read-ahead batch; on failure its blocks are nobody's again and {@code done} fails with the cause. */
    private void fetchAhead(LazyRelationFile f, FileChannel ch, List<Integer> batch,
                            java.util.concurrent.CompletableFuture<Void> done) {
        try {
            fetchBatch(f, ch, batch, done, true);
        } catch (Throwable e) {
            f.lock.lock();
            try {
                for (int b : batch) {
                    f.endFetch(b, done);
                }
            } finally {
                f.lock.unlock();
            }
            done.completeExceptionally(e);
            log.debug("read-ahead of {} block(s) from {} failed: {}", batch.size(), batch.getFirst(), e.toString());
        }
    }

    /**
     * Fetches one batch of blocks registered as in flight under {@code done}, writes and marks them, then completes it.
     *
     * @param ahead a read-ahead (counted apart; its failure is not a failed read)
     */
    private void fetchBatch(LazyRelationFile f, FileChannel ch, List<Integer> part,
                            java.util.concurrent.CompletableFuture<Void> done, boolean ahead) throws IOException {
        int[] sourceBlocks = new int[part.size()];
        for (int i = 0; i < sourceBlocks.length; i++) {
            sourceBlocks[i] = f.firstBlock + part.get(i);
        }
        long t0 = System.nanoTime();
        List<byte[]> pages;
        try {
            pages = source.fetch(f.source, sourceBlocks);
        } catch (BlockSource.FetchException e) {
            if (!ahead) {
                stats.failed();
            }
            throw e;
        }
        stats.fetched(pages.size(), System.nanoTime() - t0);
        if (ahead) {
            stats.readAhead(pages.size());
        }
        f.lock.lock();
        try {
            for (int i = 0; i < part.size(); i++) {
                int b = part.get(i);
                if (!f.isLocal(b)) { // else PostgreSQL wrote it meanwhile, or it was truncated away
                    writeFully(ch, ByteBuffer.wrap(pages.get(i)), (long) b * BLOCK);
                    f.markLocal(b);
                }
                f.endFetch(b, done);
            }
        } finally {
            f.lock.unlock();
        }
        done.complete(null);
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> s = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE,
                PosixFilePermission.OTHERS_READ, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE,
                PosixFilePermission.GROUP_READ, PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE,
                PosixFilePermission.OWNER_READ};
        for (int i = 0; i < order.length; i++) {
            if ((mode & (1 << i)) != 0) {
                s.add(order[i]);
            }
        }
        return s;
    }

    /**
     * Fetches every missing block of one lazy file (background prefetch / prewarm), in batches of
     * {@link BlockSource#MAX_BLOCKS}, never holding the file's lock across a fetch, so PostgreSQL's
     * reads interleave (a read of a block being prefetched waits for that fetch). Blocks PostgreSQL
     * wrote meanwhile are skipped.
     *
     * @param wanted the blocks to fetch (e.g. what the previous run had local), or null for every block
     * @return blocks fetched
     * @throws IOException when a fetch fails (the caller logs and stops prefetching)
     */
    int prefetch(String path, java.util.BitSet wanted) throws IOException {
        LazyRelationFile f = lazy.get(path);
        if (f == null) {
            return 0;
        }
        int fetched = 0;
        pending.materialize(path);
        try (FileChannel ch = FileChannel.open(local(path), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            int b = 0;
            while (true) {
                List<Integer> batch = new ArrayList<>();
                f.lock.lock();
                try {
                    if (lazy.get(path) != f) {
                        return fetched; // unlinked or renamed meanwhile
                    }
                    int limit = f.sourceBlocks();
                    for (; b < limit && batch.size() < BlockSource.MAX_BLOCKS; b++) {
                        if (!f.isLocal(b) && (wanted == null || wanted.get(b))) {
                            batch.add(b);
                        }
                    }
                } finally {
                    f.lock.unlock();
                }
                if (batch.isEmpty()) {
                    return fetched;
                }
                makeLocal(f, ch, batch.getFirst(), batch.getLast(), 1);
                fetched += batch.size();
            }
        }
    }

    /** The lazy files and, per file, which blocks are local now (for the next run's prewarm). */
    Map<String, java.util.BitSet> localBlocks() {
        Map<String, java.util.BitSet> out = new java.util.TreeMap<>();
        for (Map.Entry<String, LazyRelationFile> e : lazy.entrySet()) {
            LazyRelationFile f = e.getValue();
            f.lock.lock();
            try {
                java.util.BitSet bs = f.localSet();
                if (!bs.isEmpty()) {
                    out.put(e.getKey(), bs);
                }
            } finally {
                f.lock.unlock();
            }
        }
        return out;
    }

    /** The paths of lazy files still listed. */
    Set<String> lazyPaths() {
        return new java.util.TreeSet<>(lazy.keySet());
    }

    /** Closes every handle still open (after the unmount). */
    void closeHandles() {
        for (FileChannel ch : handles.values()) {
            try {
                ch.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
        handles.clear();
    }
}
