package io.forkline.pageserver.basebackup;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;

/**
 * Writes a basebackup as a POSIX ustar stream, like {@code pg_basebackup -Ft} produces:
 * a 512-byte header per entry, the content padded to 512 bytes, two zero blocks at the end.
 *
 * <pre>
 *   header: name[100] mode[8] uid[8] gid[8] size[12] mtime[12] chksum[8] typeflag[1]
 *           linkname[100] magic "ustar\0" version "00" uname[32] gname[32] devmajor[8]
 *           devminor[8] prefix[155] pad[12]      (numbers in octal, NUL-terminated)
 * </pre>
 *
 * Names longer than 100 bytes are split into prefix/name at a {@code /}. Sizes up to 8 GiB - 1
 * (11 octal digits); a relation segment is at most 1 GiB. The stream is not closed by
 * {@link #close()}, only flushed. Not thread-safe.
 */
public final class TarSink implements BasebackupSink {
    private static final int BLOCK = 512;
    private static final byte[] ZEROS = new byte[BLOCK];

    private final OutputStream out;
    private final long mtimeSeconds;

    /**
     * @param out   the destination (wrap it in a buffer; the sink writes headers in 512-byte pieces)
     * @param clock source of every entry's modification time
     */
    public TarSink(OutputStream out, Clock clock) {
        this.out = out;
        this.mtimeSeconds = clock.instant().getEpochSecond();
    }

    @Override
    public void directory(String path) throws IOException {
        out.write(header(path + "/", 0, '5', 0700));
    }

    @Override
    public OutputStream file(String path, long sizeBytes) throws IOException {
        out.write(header(path, sizeBytes, '0', 0600));
        return new SizedOutputStream(out, path, sizeBytes) {
            @Override
            protected void finish() throws IOException {
                int rem = (int) (sizeBytes % BLOCK);
                if (rem != 0) {
                    out.write(ZEROS, 0, BLOCK - rem);
                }
            }
        };
    }

    @Override
    public void close() throws IOException {
        out.write(ZEROS);
        out.write(ZEROS);
        out.flush();
    }

    private byte[] header(String path, long size, char type, int mode) throws IOException {
        if (size < 0 || size > 077777777777L) {
            throw new IOException("tar entry " + path + " has unsupported size " + size);
        }
        byte[] h = new byte[BLOCK];
        byte[] name = path.getBytes(StandardCharsets.UTF_8);
        if (name.length <= 100) {
            System.arraycopy(name, 0, h, 0, name.length);
        } else {
            int split = path.lastIndexOf('/', path.length() - 2);
            byte[] prefix = split < 0 ? null : path.substring(0, split).getBytes(StandardCharsets.UTF_8);
            byte[] rest = split < 0 ? null : path.substring(split + 1).getBytes(StandardCharsets.UTF_8);
            if (prefix == null || prefix.length > 155 || rest.length > 100) {
                throw new IOException("tar entry name too long for ustar: " + path);
            }
            System.arraycopy(rest, 0, h, 0, rest.length);
            System.arraycopy(prefix, 0, h, 345, prefix.length);
        }
        octal(h, 100, 8, mode);
        octal(h, 108, 8, 0);
        octal(h, 116, 8, 0);
        octal(h, 124, 12, size);
        octal(h, 136, 12, mtimeSeconds);
        h[156] = (byte) type;
        System.arraycopy("ustar\0".getBytes(StandardCharsets.US_ASCII), 0, h, 257, 6);
        h[263] = '0';
        h[264] = '0';
        byte[] user = "postgres".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(user, 0, h, 265, user.length);
        System.arraycopy(user, 0, h, 297, user.length);
        for (int i = 148; i < 156; i++) {
            h[i] = ' ';
        }
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xFF;
        }
        octal(h, 148, 7, sum);
        h[155] = ' ';
        return h;
    }

    /** Writes {@code value} as zero-padded octal in {@code len - 1} digits plus a NUL. */
    private static void octal(byte[] h, int off, int len, long value) {
        String s = Long.toOctalString(value);
        int digits = len - 1;
        for (int i = 0; i < digits; i++) {
            int si = s.length() - digits + i;
            h[off + i] = (byte) (si < 0 ? '0' : s.charAt(si));
        }
        h[off + digits] = 0;
    }
}
