package io.forkline.page.client;

import com.google.protobuf.ByteOutput;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;

/**
 * Takes the bytes out of a {@link ByteString} that a response parsed for this client alone: the
 * parser copied them off the socket buffer into an array of their own, and
 * {@link ByteString#toByteArray()} would copy them once more (8 KiB per page). Through
 * {@link UnsafeByteOperations#unsafeWriteTo} the array itself is handed out when the string spans
 * all of it; otherwise (a substring, a rope) it is copied.
 *
 * <p>Only for strings nobody else reads: the response message the string came from must be
 * dropped by the caller (a later change to the array would show in it).
 */
final class OwnedBytes {
    private OwnedBytes() {
    }

    /** The string's bytes: its own array when that is exactly the string, else a copy. */
    static byte[] take(ByteString s) {
        Capture c = new Capture();
        try {
            UnsafeByteOperations.unsafeWriteTo(s, c);
        } catch (IOException e) { // Capture does not throw
            throw new UncheckedIOException(e);
        }
        return c.whole != null && c.whole.length == s.size() ? c.whole : s.toByteArray();
    }

    /** Remembers the array of a single whole-array write; anything else makes the caller copy. */
    private static final class Capture extends ByteOutput {
        byte[] whole;
        private int writes;

        private void saw(byte[] value, int offset, int length) {
            whole = ++writes == 1 && offset == 0 && length == value.length ? value : null;
        }

        @Override
        public void write(byte value) {
            writes++;
            whole = null;
        }

        @Override
        public void write(byte[] value, int offset, int length) {
            saw(value, offset, length);
        }

        @Override
        public void writeLazy(byte[] value, int offset, int length) {
            saw(value, offset, length);
        }

        @Override
        public void write(ByteBuffer value) {
            writes++;
            whole = null;
        }

        @Override
        public void writeLazy(ByteBuffer value) {
            writes++;
            whole = null;
        }
    }
}
