package io.forkline.page.client;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Extracts a tar archive (POSIX ustar as {@code BasebackupBuilder.writeTar} and
 * {@code pg_basebackup -Ft} write, plus GNU long names ({@code L}) and pax {@code path} / {@code size}
 * records, as GNU tar writes) into a directory. Regular files and directories only: links and
 * devices are refused, as are absolute names and names with {@code ..} (the archive cannot write
 * outside the target).
 *
 * <pre>
 *   header (512 bytes): name[100]@0 mode[8]@100 uid[8]@108 gid[8]@116 size[12]@124 mtime[12]@136
 *                       chksum[8]@148 typeflag[1]@156 linkname[100]@157 magic[6]@257 version[2]@263
 *                       uname[32]@265 gname[32]@297 devmajor[8]@329 devminor[8]@337 prefix[155]@345
 *   content padded to 512 bytes; the archive ends with two zero blocks
 * </pre>
 * See POSIX {@code pax} "ustar Interchange Format" and GNU tar's {@code tar.h}. Not thread-safe.
 */
public final class TarExtractor {
    private static final int BLOCK = 512;

    private TarExtractor() {
    }

    /** What an extraction wrote. @param files regular files @param bytes their total size */
    public record Result(int files, long bytes) {
    }

    /**
     * Extracts {@code tar} into {@code target} (created if missing).
     *
     * @throws TarFormatException when the archive is malformed or truncated (no end-of-archive
     *                            blocks), names an unsafe path, or holds an unsupported entry type;
     *                            the message names the entry and its byte offset
     * @throws IOException        when reading or writing fails
     */
    public static Result extract(Path tar, Path target) throws IOException {
        try (InputStream in = Files.newInputStream(tar)) {
            return extract(in, tar.toString(), target);
        }
    }

    /**
     * Extracts a tar stream into {@code target} (created if missing), reading {@code in} up to the
     * end-of-archive blocks (not closed).
     *
     * @param source names the stream in errors (e.g. {@code basebackup of timeline ...})
     * @throws TarFormatException as {@link #extract(Path, Path)}
     * @throws IOException        when reading or writing fails
     */
    public static Result extract(InputStream in, String source, Path target) throws IOException {
        Files.createDirectories(target);
        return walk(new BufferedInputStream(in, 1 << 16), source, target.toAbsolutePath().normalize());
    }

    /**
     * Reads the whole archive and checks it as {@link #extract} would (headers, checksums, safe
     * names, entry types, every entry complete, end-of-archive present) without writing anything:
     * e.g. to check a downloaded export.
     *
     * @throws TarFormatException as {@link #extract}
     * @throws IOException        when reading fails
     */
    public static Result verify(Path tar) throws IOException {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(tar), 1 << 16)) {
            return walk(in, tar.toString(), null);
        }
    }

    /** Walks the archive; writes entries under {@code root} unless it is null. */
    private static Result walk(InputStream in, String tar, Path root) throws IOException {
        Path check = Path.of("/nonexistent-tar-root");
        {
            byte[] h = new byte[BLOCK];
            long offset = 0;
            String longName = null;
            long paxSize = -1;
            int files = 0;
            long bytes = 0;
            while (true) {
                if (in.readNBytes(h, 0, BLOCK) != BLOCK) {
                    throw new TarFormatException("tar " + tar + " is truncated at byte " + offset
                            + " (no end-of-archive blocks): incomplete download or export?");
                }
                long headerOffset = offset;
                offset += BLOCK;
                if (isZero(h)) {
                    return new Result(files, bytes);
                }
                checkChecksum(tar, h, headerOffset);
                char type = (char) h[156];
                long size = paxSize >= 0 ? paxSize : number(tar, h, 124, 12, headerOffset);
                String name = longName != null ? longName : name(h);
                long padded = (size + BLOCK - 1) / BLOCK * BLOCK;
                switch (type) {
                    case 'L', 'x' -> {
                        byte[] data = readExactly(in, tar, size, headerOffset);
                        skip(in, padded - size, tar, headerOffset);
                        offset += padded;
                        if (type == 'L') {
                            longName = cString(data, 0, data.length);
                        } else {
                            String[] pax = pax(tar, data, headerOffset);
                            longName = pax[0];
                            paxSize = pax[1] == null ? -1 : Long.parseLong(pax[1]);
                        }
                        continue;
                    }
                    case 'g' -> {
                        skip(in, padded, tar, headerOffset);
                        offset += padded;
                        continue;
                    }
                    case '5' -> {
                        Path p = resolve(tar, root == null ? check : root, name, headerOffset);
                        if (root != null) {
                            Files.createDirectories(p);
                        }
                    }
                    case '0', '\0', '7' -> {
                        Path p = resolve(tar, root == null ? check : root, name, headerOffset);
                        if (root == null) {
                            copy(in, OutputStream.nullOutputStream(), size, tar, name, headerOffset);
                        } else {
                            Files.createDirectories(p.getParent());
                            try (OutputStream out = Files.newOutputStream(p, StandardOpenOption.CREATE,
                                    StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
                                copy(in, out, size, tar, name, headerOffset);
                            }
                        }
                        skip(in, padded - size, tar, headerOffset);
                        offset += padded;
                        files++;
                        bytes += size;
                    }
                    default -> throw new TarFormatException("tar " + tar + " entry '" + name + "' at byte " + headerOffset
                            + " has type '" + type + "': only regular files and directories are supported");
                }
                longName = null;
                paxSize = -1;
            }
        }
    }

    private static Path resolve(String tar, Path root, String name, long at) {
        String n = name.endsWith("/") ? name.substring(0, name.length() - 1) : name;
        while (n.startsWith("./")) {
            n = n.substring(2);
        }
        if (n.isEmpty() || n.equals(".")) {
            return root;
        }
        Path p = root.resolve(n).normalize();
        if (n.startsWith("/") || !p.startsWith(root) || n.contains("..")) {
            throw new TarFormatException("tar " + tar + " entry '" + name + "' at byte " + at + " is not a safe relative path");
        }
        return p;
    }

    private static String name(byte[] h) {
        String name = cString(h, 0, 100);
        boolean ustar = h[257] == 'u' && h[258] == 's' && h[259] == 't' && h[260] == 'a' && h[261] == 'r';
        String prefix = ustar ? cString(h, 345, 155) : "";
        return prefix.isEmpty() ? name : prefix + "/" + name;
    }

    private static String cString(byte[] b, int off, int len) {
        int end = off;
        while (end < off + len && b[end] != 0) {
            end++;
        }
        return new String(b, off, end - off, StandardCharsets.UTF_8);
    }

    /** An octal field (NUL/space terminated) or a GNU base-256 number (high bit of the first byte set). */
    private static long number(String tar, byte[] h, int off, int len, long at) {
        if ((h[off] & 0x80) != 0) {
            long v = h[off] & 0x7F;
            for (int i = 1; i < len; i++) {
                v = (v << 8) | (h[off + i] & 0xFF);
            }
            return v;
        }
        long v = 0;
        int i = off;
        while (i < off + len && (h[i] == ' ' || h[i] == 0)) {
            i++;
        }
        for (; i < off + len && h[i] != 0 && h[i] != ' '; i++) {
            if (h[i] < '0' || h[i] > '7') {
                throw new TarFormatException("tar " + tar + " header at byte " + at + " has a non-octal number '"
                        + new String(h, off, len, StandardCharsets.US_ASCII).trim() + "' at field offset " + off);
            }
            v = v * 8 + (h[i] - '0');
        }
        return v;
    }

    private static void checkChecksum(String tar, byte[] h, long at) {
        long stored;
        try {
            stored = number(tar, h, 148, 8, at);
        } catch (TarFormatException e) {
            throw new TarFormatException("tar " + tar + " header at byte " + at + " has checksum field '"
                    + new String(h, 148, 8, StandardCharsets.US_ASCII).trim() + "': not a tar archive or corrupt");
        }
        long sum = 0;
        for (int i = 0; i < BLOCK; i++) {
            sum += (i >= 148 && i < 156) ? ' ' : (h[i] & 0xFF);
        }
        if (sum != stored) {
            throw new TarFormatException("tar " + tar + " header at byte " + at + " has checksum " + stored
                    + ", computed " + sum + ": not a tar archive or corrupt");
        }
    }

    /** {@code [path, size]} of a pax extended header ("LEN key=value\n" records); absent ones are null. */
    private static String[] pax(String tar, byte[] data, long at) {
        String[] out = new String[2];
        int i = 0;
        while (i < data.length) {
            int sp = i;
            while (sp < data.length && data[sp] != ' ') {
                sp++;
            }
            int len;
            try {
                len = Integer.parseInt(new String(data, i, sp - i, StandardCharsets.US_ASCII));
            } catch (NumberFormatException e) {
                throw new TarFormatException("tar " + tar + " pax header at byte " + at + " has a malformed record length");
            }
            if (len <= 0 || i + len > data.length) {
                throw new TarFormatException("tar " + tar + " pax header at byte " + at + " has record length " + len
                        + " beyond its " + data.length + " bytes");
            }
            String rec = new String(data, sp + 1, i + len - sp - 2, StandardCharsets.UTF_8);
            int eq = rec.indexOf('=');
            if (eq > 0) {
                String k = rec.substring(0, eq);
                if (k.equals("path")) {
                    out[0] = rec.substring(eq + 1);
                } else if (k.equals("size")) {
                    out[1] = rec.substring(eq + 1);
                }
            }
            i += len;
        }
        return out;
    }

    private static boolean isZero(byte[] h) {
        for (byte b : h) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    private static byte[] readExactly(InputStream in, String tar, long size, long at) throws IOException {
        if (size > (1 << 20)) {
            throw new TarFormatException("tar " + tar + " extended header at byte " + at + " is " + size + " bytes");
        }
        byte[] b = in.readNBytes((int) size);
        if (b.length != size) {
            throw new TarFormatException("tar " + tar + " is truncated inside the entry at byte " + at);
        }
        return b;
    }

    private static void copy(InputStream in, OutputStream out, long size, String tar, String name, long at) throws IOException {
        byte[] buf = new byte[1 << 16];
        long left = size;
        while (left > 0) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (n < 0) {
                throw new TarFormatException("tar " + tar + " is truncated inside entry '" + name + "' at byte " + at
                        + " (" + (size - left) + " of " + size + " bytes)");
            }
            out.write(buf, 0, n);
            left -= n;
        }
    }

    private static void skip(InputStream in, long n, String tar, long at) throws IOException {
        long left = n;
        while (left > 0) {
            long s = in.skip(left);
            if (s <= 0) {
                if (in.read() < 0) {
                    throw new TarFormatException("tar " + tar + " is truncated after the entry at byte " + at);
                }
                s = 1;
            }
            left -= s;
        }
    }
}
