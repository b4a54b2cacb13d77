package io.forkline.pageserver.basebackup;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Counts what is written through it and checks on {@link #close()} that exactly the announced
 * number of bytes arrived; refuses to write past it. Package-private helper of the sinks.
 */
abstract class SizedOutputStream extends FilterOutputStream {
    private final String path;
    private final long sizeBytes;
    private long written;
    private boolean closed;

    SizedOutputStream(OutputStream out, String path, long sizeBytes) {
        super(out);
        this.path = path;
        this.sizeBytes = sizeBytes;
    }

    @Override
    public void write(int b) throws IOException {
        check(1);
        out.write(b);
        written++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        check(len);
        out.write(b, off, len);
        written += len;
    }

    private void check(long len) throws IOException {
        if (closed) {
            throw new IOException(path + " is already closed");
        }
        if (written + len > sizeBytes) {
            throw new IOException("writing " + len + " bytes to " + path + " at " + written
                    + " exceeds its announced size of " + sizeBytes + " bytes");
        }
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (written != sizeBytes) {
                throw new IOException(path + " got " + written + " bytes, announced " + sizeBytes);
            }
        } finally {
            finish();
        }
    }

    /** Completes the entry (pads, flushes, closes the underlying file). */
    protected abstract void finish() throws IOException;
}
