package io.forkline.page.client;

import io.forkline.page.protocol.FrameDescriptor;
import io.forkline.page.protocol.PageProtocol;

import java.time.Duration;
import java.util.Objects;

/**
 * Where and as whom a {@link PageServiceClient} connects.
 *
 * @param host             page service host name or address
 * @param port             page service TCP port (1..65535)
 * @param tenant           tenant name
 * @param timelineId       32 hex digits, or {@code null} when {@code branch} names the timeline
 * @param branch           a branch ref of the tenant, or {@code null} when {@code timelineId} is given;
 *                         resolved once, at the first handshake (reconnects keep that timeline)
 * @param token            JWT bearer token (scope {@code admin} or {@code tenant:<tenant>}); may be
 *                         empty when the server runs with authentication off
 * @param connectTimeout   bound of one TCP connect + handshake
 * @param defaultDeadline  deadline of a request when the call names none
 * @param reconnectFor     how long a lost connection is retried before pending requests fail
 *                         (each request still fails at its own deadline)
 * @param maxFrameBytes    largest response frame accepted, bytes
 * @param protocolVersion  the page protocol version asked for in the handshake, one of
 *                         {@link PageProtocol#SUPPORTED_VERSIONS}: {@link PageProtocol#VERSION} (2: GetPage
 *                         answers in raw pages frames) unless the system property
 *                         {@code forkline.page.protocolVersion} names another (1: pages inside protobuf,
 *                         as before; for side-by-side runs)
 * @param flushEvery       answers completed on the connection's event loop after which the requests
 *                         their callers queued meanwhile are written and flushed at once, so the server
 *                         serves them while this end completes the rest of a socket read (0: once per
 *                         event-loop turn, after the whole read); default {@value #DEFAULT_FLUSH_EVERY}
 *                         (quiet, 64 in flight: one connection 222-232 k pages/s against 125-155 k
 *                         without, 8 connections 220-238 k against 226-251 k; benchmarks README 7g),
 *                         or system property {@code forkline.pageClient.flushEvery}
 */
public record PageClientConfig(String host, int port, String tenant, String timelineId, String branch, String token,
                               Duration connectTimeout, Duration defaultDeadline, Duration reconnectFor,
                               int maxFrameBytes, int protocolVersion, int flushEvery) {
    /**
     * @throws IllegalArgumentException when a value is out of range or both/neither of
     *                                  {@code timelineId} and {@code branch} are given (names it)
     */
    public PageClientConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(tenant, "tenant");
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("invalid page service port " + port + ": expected 1..65535");
        }
        if ((timelineId == null) == (branch == null)) {
            throw new IllegalArgumentException("name exactly one of timeline id and branch (got " + timelineId
                    + " and " + branch + ")");
        }
        token = token == null ? "" : token;
        if (maxFrameBytes < 1) {
            throw new IllegalArgumentException("maxFrameBytes must be at least 1, got " + maxFrameBytes);
        }
        if (flushEvery < 0) {
            throw new IllegalArgumentException("flushEvery must be 0 or more, got " + flushEvery);
        }
        if (!PageProtocol.SUPPORTED_VERSIONS.contains(protocolVersion)) {
            throw new IllegalArgumentException("unsupported page protocol version " + protocolVersion + ": expected one of "
                    + PageProtocol.SUPPORTED_VERSIONS);
        }
    }

    /**
     * The version a client asks for by default: {@code forkline.page.protocolVersion} when set, else
     * {@link PageProtocol#VERSION}.
     *
     * @throws IllegalArgumentException when the property is not an integer (names it)
     */
    public static int defaultProtocolVersion() {
        String v = System.getProperty("forkline.page.protocolVersion");
        if (v == null || v.isBlank()) {
            return PageProtocol.VERSION;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("forkline.page.protocolVersion must be an integer, got '" + v + "'");
        }
    }

    /** Defaults: 5 s connect, 30 s per request, 60 s of reconnecting, 16 MiB frames. */
    public static PageClientConfig of(String host, int port, String tenant, String timelineId, String branch,
                                      String token) {
        return new PageClientConfig(host, port, tenant, timelineId, branch, token, Duration.ofSeconds(5),
                Duration.ofSeconds(30), Duration.ofSeconds(60), FrameDescriptor.DEFAULT_MAX_FRAME_BYTES,
                defaultProtocolVersion(), Integer.getInteger("forkline.pageClient.flushEvery", DEFAULT_FLUSH_EVERY));
    }

    /** Default of {@link #flushEvery}. */
    public static final int DEFAULT_FLUSH_EVERY = 8;

    /** The same with another {@link #flushEvery} (0: flush once per event-loop turn). */
    public PageClientConfig withFlushEvery(int n) {
        return new PageClientConfig(host, port, tenant, timelineId, branch, token, connectTimeout, defaultDeadline,
                reconnectFor, maxFrameBytes, protocolVersion, n);
    }

    /**
     * The same naming the timeline {@code timelineId} (32 hex digits) instead of a branch, e.g. the
     * timeline a branch resolved to at the handshake, so later connections stay on it.
     */
    public PageClientConfig withTimeline(String timelineId) {
        return new PageClientConfig(host, port, tenant, timelineId, null, token, connectTimeout, defaultDeadline,
                reconnectFor, maxFrameBytes, protocolVersion, flushEvery);
    }

    /** The same with another default deadline. */
    public PageClientConfig withDefaultDeadline(Duration d) {
        return new PageClientConfig(host, port, tenant, timelineId, branch, token, connectTimeout, d, reconnectFor,
                maxFrameBytes, protocolVersion, flushEvery);
    }

    /** The same with another reconnect window. */
    public PageClientConfig withReconnectFor(Duration d) {
        return new PageClientConfig(host, port, tenant, timelineId, branch, token, connectTimeout, defaultDeadline, d,
                maxFrameBytes, protocolVersion, flushEvery);
    }

    /**
     * The same asking for another protocol version.
     *
     * @throws IllegalArgumentException when the version is not one of {@link PageProtocol#SUPPORTED_VERSIONS}
     */
    public PageClientConfig withProtocolVersion(int version) {
        return new PageClientConfig(host, port, tenant, timelineId, branch, token, connectTimeout, defaultDeadline,
                reconnectFor, maxFrameBytes, version, flushEvery);
    }
}
