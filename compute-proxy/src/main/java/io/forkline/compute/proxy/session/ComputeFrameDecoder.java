package io.forkline.compute.proxy.session;

import io.netty.handler.codec.LengthFieldBasedFrameDecoder;

/**
 * Whole backend messages ({@code byte1 type | int32 length (itself included) | body}, at most
 * 1 MiB) during a compute's startup, and how many bytes it holds beyond them.
 */
final class ComputeFrameDecoder extends LengthFieldBasedFrameDecoder {
    ComputeFrameDecoder() {
        super(1 << 20, 1, 4, -4, 0);
    }

    /** Bytes received after the last message handed on (0 when the compute sent nothing more). */
    int buffered() {
        return actualReadableBytes();
    }
}
