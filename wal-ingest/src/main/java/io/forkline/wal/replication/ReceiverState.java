package io.forkline.wal.replication;

/**
 * Life cycle of a {@link WalReceiver}.
 *
 * <pre>
 *   CONNECTING ──► STREAMING ──(connection lost)──► CONNECTING ...
 *        │              │
 *        │              ├──(close)──────────────► STOPPED
 *        └──────────────┴──(corrupt WAL, ingest or
 *                           storage error, server
 *                           refuses the stream)──► FAILED
 * </pre>
 */
public enum ReceiverState {
    /** Connecting (or reconnecting after a lost connection, with backoff) to the compute. */
    CONNECTING,
    /** {@code START_REPLICATION} succeeded; WAL is being received, ingested and acknowledged. */
    STREAMING,
    /** {@link WalReceiver#close()} was called; no more writes happen. */
    STOPPED,
    /** Ingest of this timeline stopped on an error; see {@link WalReceiver#failure()}. Terminal. */
    FAILED
}
