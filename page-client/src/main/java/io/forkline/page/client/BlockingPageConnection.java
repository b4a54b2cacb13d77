package io.forkline.page.client;

import com.google.protobuf.ByteString;
import io.forkline.page.protocol.BlockingFrameCodec;
import io.forkline.page.protocol.FrameDescriptor;
import io.forkline.page.protocol.ServerFrame;
import io.forkline.page.protocol.proto.ClientMessage;
import io.forkline.page.protocol.proto.DbSizeRequest;
import io.forkline.page.protocol.proto.ErrorCode;
import io.forkline.page.protocol.proto.GetPageRequest;
import io.forkline.page.protocol.proto.Handshake;
import io.forkline.page.protocol.proto.HandshakeResponse;
import io.forkline.page.protocol.proto.PingRequest;
import io.forkline.page.protocol.proto.RelExistsRequest;
import io.forkline.page.protocol.proto.RelSizeRequest;
import io.forkline.page.protocol.proto.RelTag;
import io.forkline.page.protocol.proto.Request;
import io.forkline.page.protocol.proto.Response;
import io.forkline.page.protocol.proto.ServerMessage;
import io.netty.handler.codec.DecoderException;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.function.BiFunction;

/**
 * A synchronous connection to the page service for a caller with one request in flight: the
 * calling thread writes the request to a blocking socket and reads the answer itself, so a round
 * trip costs two thread hand-offs (caller to server loop and back) instead of the asynchronous
 * {@link PageServiceClient}'s four (caller, client event loop, server loop, client event loop,
 * caller). Same handshake (protocol version, tenant, timeline or branch, token: a
 * {@link PageClientConfig}), same frames (protocol version 2: GetPage answers in raw pages frames,
 * read by {@link BlockingFrameCodec}), TCP_NODELAY.
 *
 * <p><b>Deadlines.</b> Each call is bounded by its deadline ({@link PageClientConfig#defaultDeadline()}
 * unless the call names one), enforced as the socket's read timeout: at the deadline the
 * connection is closed and the call fails with {@link ErrorCode#LSN_TIMEOUT}, naming the request
 * and the deadline (the late answer can then never be taken for the next request's).
 *
 * <p><b>Lost connections.</b> When the connection is lost (the server closed it, a reset, a refused
 * connect), the call reconnects on the timeline of the first handshake and re-sends its request
 * (all requests are reads), the first time at once (a connection that died while idle), then with
 * backoff (50 ms doubling to 1 s), until its deadline; then it fails with LSN_TIMEOUT naming the
 * request, the deadline and the last connection error. A handshake the server refuses fails the
 * call with the server's error. An answer that does not decode closes the connection and fails
 * the call with {@link ErrorCode#INTERNAL}; the next call reconnects.
 *
 * <p><b>Errors</b> the server answers (an {@code Error} response: NOT_FOUND, INVALID_REQUEST,
 * BELOW_GC_CUTOFF with the earliest LSN, LSN_TIMEOUT of an ingest wait, ...) are thrown as the
 * {@link PageServiceException} the asynchronous client completes its futures with; the connection
 * stays open.
 *
 * <p><b>Not thread-safe</b>: one request in flight, by one thread at a time. Give each thread its
 * own connection, or borrow connections from a pool; callers that want many requests in flight
 * use {@link PageServiceClient}.
 */
public final class BlockingPageConnection implements AutoCloseable {
    private static final long FIRST_BACKOFF_MILLIS = 50;
    private static final long MAX_BACKOFF_MILLIS = 1000;

    private final PageClientConfig config;
    private final BlockingFrameCodec codec;
    private final BlockingFrameCodec.Source source = this::readBeforeDeadline;
    private Socket socket;
    private InputStream in;
    private OutputStream out;
    /** The first handshake's answer; reconnects use its timeline id. */
    private HandshakeResponse session;
    private long nextId = 1;
    private boolean closed;
    /** The current read's deadline (System.nanoTime). */
    private long readDeadlineNanos;

    private BlockingPageConnection(PageClientConfig config) {
        this.config = config;
        this.codec = new BlockingFrameCodec(config.maxFrameBytes());
    }

    /**
     * Connects and handshakes now (within {@link PageClientConfig#connectTimeout()}).
     *
     * @throws PageServiceException the server's refusal of the handshake (bad token: UNAUTHORIZED,
     *                              another tenant: FORBIDDEN, unknown timeline or branch: NOT_FOUND,
     *                              unsupported version: INVALID_REQUEST), or INTERNAL when no
     *                              connection could be made (names host:port and the reason)
     */
    public static BlockingPageConnection connect(PageClientConfig config) {
        BlockingPageConnection c = new BlockingPageConnection(config);
        try {
            c.open(System.nanoTime() + config.connectTimeout().toNanos());
        } catch (IOException | DecoderException e) {
            throw new PageServiceException(ErrorCode.INTERNAL, "cannot connect to the page service at "
                    + c.address() + ": " + e, e);
        }
        return c;
    }

    /**
     * A connection that connects on its first call, within that call's deadline (a refused or lost
     * connection is retried until then, as on every call): for pools whose connections are made when
     * they are first needed, perhaps while the page service is briefly away. A handshake refusal is
     * thrown by that call. {@link #session()} is null until then.
     */
    public static BlockingPageConnection unconnected(PageClientConfig config) {
        return new BlockingPageConnection(config);
    }

    /**
     * The first handshake's answer: the timeline id, its last record LSN and earliest readable LSN
     * then; null for an {@link #unconnected} connection before its first call.
     */
    public HandshakeResponse session() {
        return session;
    }

    /** The timeline this connection reads (32 hex digits), or the config's until the first handshake. */
    public String timelineId() {
        return session != null ? session.getTimelineId() : config.timelineId();
    }

    /** Whether a socket is open now (false after a timeout or a lost connection until the next call reconnects). */
    public boolean connected() {
        return socket != null;
    }

    // ------------------------------------------------------------------ requests

    /**
     * One 8192-byte page of a relation fork.
     *
     * @throws PageServiceException the server's error (NOT_FOUND at or past the fork's end,
     *                              BELOW_GC_CUTOFF, INVALID_REQUEST...), LSN_TIMEOUT at the
     *                              deadline, INTERNAL when closed or an answer is corrupt
     */
    public byte[] getPage(RelTag rel, int block, ReadLsn lsn) {
        return call(at(lsn).setGetPage(GetPageRequest.newBuilder().setRel(rel).addBlocks(block)),
                config.defaultDeadline(), Answers::onePage);
    }

    /**
     * Several pages of one relation fork in one request (1 to
     * {@link FrameDescriptor#MAX_BLOCKS_PER_GET_PAGE} blocks), within the default deadline.
     *
     * @return the 8192-byte pages in the order of {@code blocks}, each an array of its own
     * @throws IllegalArgumentException when {@code blocks} is empty or longer than 256 (names its length)
     * @throws PageServiceException     as {@link #getPage}
     */
    public List<byte[]> getPages(RelTag rel, int[] blocks, ReadLsn lsn) {
        return getPages(rel, blocks, lsn, config.defaultDeadline());
    }

    /**
     * As {@link #getPages(RelTag, int[], ReadLsn)} within {@code deadline} (the whole call: waits
     * for ingest on the server, reconnects).
     *
     * @throws IllegalArgumentException also when {@code deadline} is not positive (names it)
     */
    public List<byte[]> getPages(RelTag rel, int[] blocks, ReadLsn lsn, Duration deadline) {
        if (blocks.length == 0 || blocks.length > FrameDescriptor.MAX_BLOCKS_PER_GET_PAGE) {
            throw new IllegalArgumentException("a GetPage names 1.." + FrameDescriptor.MAX_BLOCKS_PER_GET_PAGE
                    + " blocks, got " + blocks.length);
        }
        GetPageRequest.Builder g = GetPageRequest.newBuilder().setRel(rel);
        for (int b : blocks) {
            g.addBlocks(b);
        }
        return call(at(lsn).setGetPage(g), deadline, Answers::allPages);
    }

    /** The fork's size in 8192-byte blocks. Errors as {@link #getPage}; NOT_FOUND when the fork does not exist at that LSN. */
    public int relSize(RelTag rel, ReadLsn lsn) {
        return call(at(lsn).setRelSize(RelSizeRequest.newBuilder().setRel(rel)), config.defaultDeadline(),
                (r, raw) -> r.getRelSize().getNblocks());
    }

    /** Whether the fork exists at that LSN. Errors as {@link #getPage}. */
    public boolean relExists(RelTag rel, ReadLsn lsn) {
        return call(at(lsn).setRelExists(RelExistsRequest.newBuilder().setRel(rel)), config.defaultDeadline(),
                (r, raw) -> r.getRelExists().getExists());
    }

    /** Bytes of a database's relation forks (sum of blocks x 8192). Errors as {@link #getPage}. */
    public long dbSize(int spcOid, int dbOid, ReadLsn lsn) {
        return call(at(lsn).setDbSize(DbSizeRequest.newBuilder().setSpcOid(spcOid).setDbOid(dbOid)),
                config.defaultDeadline(), (r, raw) -> r.getDbSize().getBytes());
    }

    /** A round trip; returns the payload echoed. Errors as {@link #getPage}. */
    public byte[] ping(byte[] payload) {
        return call(Request.newBuilder().setLatest(true).setPing(PingRequest.newBuilder()
                .setPayload(ByteString.copyFrom(payload))), config.defaultDeadline(),
                (r, raw) -> r.getPong().getPayload().toByteArray());
    }

    /**
     * Sends any request but a basebackup (its id is set here) and returns its answer; a GetPage
     * answered in a raw pages frame comes back with the pages inside the response, as protocol
     * version 1 sends them.
     *
     * @param deadline bound of the whole call (positive)
     * @throws IllegalArgumentException for a basebackup request (a stream: use {@link PageServiceClient}),
     *                                  or a deadline that is not positive (names it)
     * @throws PageServiceException     as {@link #getPage}
     */
    public Response send(Request.Builder body, Duration deadline) {
        if (body.hasGetBasebackup()) {
            throw new IllegalArgumentException("a basebackup is a stream of answers: use PageServiceClient");
        }
        return call(body, deadline, Answers::wholeResponse);
    }

    private static Request.Builder at(ReadLsn lsn) {
        return Request.newBuilder().setRequestLsn(lsn.requestLsn()).setLatest(lsn.atLatest())
                .setNotModifiedSinceLsn(lsn.notModifiedSinceLsn());
    }

    // ------------------------------------------------------------------ one call

    private <T> T call(Request.Builder body, Duration deadline, BiFunction<Response, ServerFrame, T> reader) {
        if (closed) {
            throw new PageServiceException(ErrorCode.INTERNAL, "connection to the page service at " + address()
                    + " is closed", 0);
        }
        if (deadline.isNegative() || deadline.isZero()) {
            throw new IllegalArgumentException("a call's deadline must be positive, got " + deadline);
        }
        long deadlineNanos = System.nanoTime() + deadline.toNanos();
        Request req = body.setRequestId(nextId++).build();
        ClientMessage msg = ClientMessage.newBuilder().setRequest(req).build();
        long backoffMillis = 0;
        while (true) {
            try {
                if (socket == null) {
                    open(Math.min(deadlineNanos, System.nanoTime() + config.connectTimeout().toNanos()));
                }
                codec.write(out, msg);
                return answer(req, deadlineNanos, reader);
            } catch (SocketTimeoutException e) {
                closeSocket();
                throw new PageServiceException(ErrorCode.LSN_TIMEOUT, describe(req) + " got no answer within its "
                        + "deadline of " + deadline.toMillis() + " ms; connection to " + address() + " closed", e);
            } catch (IOException e) { // lost: reconnect and re-send (reads only), until the deadline
                closeSocket();
                long left = deadlineNanos - System.nanoTime();
                if (left <= backoffMillis * 1_000_000) {
                    throw new PageServiceException(ErrorCode.LSN_TIMEOUT, describe(req) + " got no answer within its "
                            + "deadline of " + deadline.toMillis() + " ms: connection to " + address() + " lost: " + e, e);
                }
                sleep(backoffMillis, req);
                backoffMillis = backoffMillis == 0 ? FIRST_BACKOFF_MILLIS : Math.min(MAX_BACKOFF_MILLIS, backoffMillis * 2);
            } catch (DecoderException e) { // a frame that does not decode: the stream is lost
                closeSocket();
                throw new PageServiceException(ErrorCode.INTERNAL, describe(req) + ": corrupt answer from " + address()
                        + ", connection closed: " + e.getMessage(), e);
            }
        }
    }

    /** Reads frames until the request's answer. */
    private <T> T answer(Request req, long deadlineNanos, BiFunction<Response, ServerFrame, T> reader)
            throws IOException {
        readDeadlineNanos = deadlineNanos;
        Object frame = codec.read(source);
        ServerFrame raw = frame instanceof ServerFrame f ? f : null;
        try {
            ServerMessage m = raw != null ? raw.header() : (ServerMessage) frame;
            Response r = m.getResponse();
            if (r.getRequestId() == 0 && r.hasError()) { // connection-level error: the server closes
                closeSocket();
                throw new PageServiceException(r.getError().getCode(), r.getError().getMessage(),
                        r.getError().getEarliestLsn());
            }
            if (m.getBodyCase() != ServerMessage.BodyCase.RESPONSE || r.getRequestId() != req.getRequestId()) {
                closeSocket();
                throw new PageServiceException(ErrorCode.INTERNAL, describe(req) + ": the page service at " + address()
                        + " answered " + m.getBodyCase() + " for request " + r.getRequestId() + "; connection closed", 0);
            }
            if (r.hasError()) {
                throw new PageServiceException(r.getError().getCode(), r.getError().getMessage(),
                        r.getError().getEarliestLsn());
            }
            try {
                return reader.apply(r, raw);
            } catch (RuntimeException e) { // e.g. a GetPage answer without pages
                throw new PageServiceException(ErrorCode.INTERNAL, "malformed answer to " + describe(req) + ": " + e, e);
            }
        } finally {
            if (raw != null) {
                raw.release();
            }
        }
    }

    /** The socket read behind {@link #codec}: its timeout is what is left of the call's deadline. */
    private int readBeforeDeadline(byte[] b, int off, int len) throws IOException {
        long left = readDeadlineNanos - System.nanoTime();
        if (left <= 0) {
            throw new SocketTimeoutException("deadline passed");
        }
        socket.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, (left + 999_999) / 1_000_000)));
        return in.read(b, off, len);
    }

    private void sleep(long millis, Request req) {
        if (millis == 0) {
            return;
        }
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PageServiceException(ErrorCode.INTERNAL, describe(req) + ": interrupted while reconnecting", e);
        }
    }

    /** What a request asks for, for errors: its id, type, relation and blocks, LSN. */
    static String describe(Request r) {
        StringBuilder s = new StringBuilder("request ").append(r.getRequestId()).append(" (")
                .append(r.getBodyCase());
        RelTag rel = switch (r.getBodyCase()) {
            case GET_PAGE -> r.getGetPage().getRel();
            case REL_SIZE -> r.getRelSize().getRel();
            case REL_EXISTS -> r.getRelExists().getRel();
            default -> null;
        };
        if (rel != null) {
            s.append(" of relation ").append(Integer.toUnsignedString(rel.getSpcOid())).append('/')
                    .append(Integer.toUnsignedString(rel.getDbOid())).append('/')
                    .append(Integer.toUnsignedString(rel.getRelNumber())).append(" fork ").append(rel.getFork());
        }
        if (r.hasGetPage()) {
            int n = r.getGetPage().getBlocksCount();
            s.append(n == 1 ? " block " : ", " + n + " blocks from ")
                    .append(n == 0 ? "-" : Integer.toUnsignedString(r.getGetPage().getBlocks(0)));
        }
        s.append(r.getLatest() ? " at the latest LSN" : " at LSN " + Long.toHexString(r.getRequestLsn() >>> 32).toUpperCase()
                + "/" + Long.toHexString(r.getRequestLsn() & 0xffff_ffffL).toUpperCase());
        return s.append(')').toString();
    }

    // ------------------------------------------------------------------ connection

    /**
     * Connects and handshakes before {@code deadlineNanos}; the first handshake names the config's
     * timeline or branch, later ones the timeline it resolved to.
     *
     * @throws IOException          when the connection cannot be made or is lost (the caller retries)
     * @throws PageServiceException when the server refuses the handshake
     */
    private void open(long deadlineNanos) throws IOException {
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            long left = deadlineNanos - System.nanoTime();
            if (left <= 0) {
                throw new SocketTimeoutException("no time left to connect");
            }
            s.connect(new InetSocketAddress(config.host(), config.port()), (int) Math.max(1, left / 1_000_000));
            socket = s;
            in = s.getInputStream();
            out = s.getOutputStream();
            Handshake.Builder hs = Handshake.newBuilder().setProtocolVersion(config.protocolVersion())
                    .setTenant(config.tenant()).setToken(config.token());
            if (session != null) {
                hs.setTimelineId(session.getTimelineId());
            } else if (config.timelineId() != null) {
                hs.setTimelineId(config.timelineId());
            } else {
                hs.setBranch(config.branch());
            }
            codec.write(out, ClientMessage.newBuilder().setHandshake(hs).build());
            readDeadlineNanos = deadlineNanos;
            Object frame = codec.read(source);
            if (!(frame instanceof ServerMessage m)) {
                throw new IOException("the page service at " + address() + " answered the handshake with a raw pages frame");
            }
            HandshakeResponse r;
            if (m.hasHandshake()) {
                r = m.getHandshake();
            } else if (m.getResponse().hasError()) { // a connection-level error instead of the handshake's answer
                r = HandshakeResponse.newBuilder().setError(m.getResponse().getError()).build();
            } else {
                throw new IOException("the page service at " + address() + " answered the handshake with " + m.getBodyCase());
            }
            if (r.hasError()) {
                closeSocket();
                throw new PageServiceException(r.getError().getCode(), r.getError().getMessage(),
                        r.getError().getEarliestLsn());
            }
            if (session == null) {
                session = r;
            }
        } catch (IOException | RuntimeException e) {
            socket = null;
            in = null;
            out = null;
            codec.reset();
            try {
                s.close();
            } catch (IOException ignored) {
                // already failing
            }
            if (e instanceof SocketTimeoutException) { // the connect's bound, not the call's deadline: retried
                throw new IOException("connect and handshake to " + address() + " timed out", e);
            }
            throw e;
        }
    }

    private void closeSocket() {
        Socket s = socket;
        socket = null;
        in = null;
        out = null;
        codec.reset(); // a late or partial answer of the old connection must not be read as the next one's
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // nothing to do: the connection is gone either way
            }
        }
    }

    private String address() {
        return config.host() + ":" + config.port();
    }

    /** Closes the socket; later calls fail with INTERNAL "closed". Idempotent. */
    @Override
    public void close() {
        closed = true;
        closeSocket();
    }
}
