package io.forkline.page.client;

/** A tar archive that {@link TarExtractor} cannot extract; the message names the entry and byte offset. */
public final class TarFormatException extends RuntimeException {
    public TarFormatException(String message) {
        super(message);
    }
}
