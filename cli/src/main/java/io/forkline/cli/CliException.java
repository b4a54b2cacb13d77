package io.forkline.cli;

/** A command failed; the message is the one line printed on stderr. */
final class CliException extends RuntimeException {
    CliException(String message) {
        super(message);
    }
}
