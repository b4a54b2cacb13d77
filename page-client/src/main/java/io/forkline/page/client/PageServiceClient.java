package io.forkline.page.client;

import com.google.protobuf.ByteString;
import io.forkline.page.protocol.FrameDescriptor;
import io.forkline.page.protocol.ProtobufFrameEncoder;
import io.forkline.page.protocol.ServerFrame;
import io.netty.buffer.ByteBuf;
import io.forkline.page.protocol.PageCodecs;
import io.forkline.page.protocol.PageProtocol;
import io.forkline.page.protocol.proto.BasebackupChunk;
import io.forkline.page.protocol.proto.ClientMessage;
import io.forkline.page.protocol.proto.DbSizeRequest;
import io.forkline.page.protocol.proto.ErrorCode;
import io.forkline.page.protocol.proto.GetBasebackupRequest;
import io.forkline.page.protocol.proto.GetPageRequest;
import io.forkline.page.protocol.proto.GetSlruSegmentRequest;
import io.forkline.page.protocol.proto.Handshake;
import io.forkline.page.protocol.proto.HandshakeResponse;
import io.forkline.page.protocol.proto.ListRelationsRequest;
import io.forkline.page.protocol.proto.PingRequest;
import io.forkline.page.protocol.proto.RelExistsRequest;
import io.forkline.page.protocol.proto.RelSizeRequest;
import io.forkline.page.protocol.proto.RelTag;
import io.forkline.page.protocol.proto.RelationEntry;
import io.forkline.page.protocol.proto.Request;
import io.forkline.page.protocol.proto.Response;
import io.forkline.page.protocol.proto.ServerMessage;
import io.forkline.page.protocol.proto.SlruKind;
import io.forkline.page.transport.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.HashedWheelTimer;
import io.netty.util.Timeout;
import io.netty.util.Timer;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Asynchronous, pipelined client of the page service (protocol in
 * {@code forkline/page/v1/page_service.proto}): one TCP connection to one timeline, any number of
 * requests in flight, answers matched by request id, each request bounded by its own deadline.
 *
 * <p><b>Lost connections.</b> When the connection drops, the client reconnects with exponential
 * backoff (50 ms to 1 s) for up to {@link PageClientConfig#reconnectFor()}, re-handshakes on the
 * timeline of the first handshake, and re-sends every request still in flight and not past its
 * deadline (all requests are reads, so a re-send is safe); a basebackup stream already under way
 * fails instead. Requests made while disconnected wait for the new connection within their
 * deadline. A request whose deadline passes fails with {@link ErrorCode#LSN_TIMEOUT}.
 *
 * <p><b>Writes</b> are coalesced: a request is queued on its connection and the queue is written
 * and flushed once per event-loop turn, so the requests made together (by many threads, or by the
 * callbacks of one burst of answers) leave in one {@code write} system call and arrive at the
 * server in one read, where they are served as one batch. <b>Deadlines</b> live on one
 * {@link HashedWheelTimer} shared by every client of the process (10 ms ticks: a deadline fires up
 * to ~10 ms late) and are cancelled when the answer arrives.
 *
 * <p>Thread-safe. Futures complete on the client's event-loop thread: callbacks must not block
 * (use the {@code ...Async} variants or {@link CompletableFuture#join()} from another thread).
 * {@link #close()} fails whatever is still pending.
 */
public final class PageServiceClient implements AutoCloseable {
    /** Deadlines of every client of the process: one daemon thread, 10 ms ticks. */
    private static final Timer DEADLINES = new HashedWheelTimer(r -> {
        Thread t = new Thread(r, "forkline-page-client-deadlines");
        t.setDaemon(true);
        return t;
    }, 10, TimeUnit.MILLISECONDS, 512);

    private final PageClientConfig config;
    private final EventLoopGroup group;
    private final boolean ownGroup;
    private final Bootstrap bootstrap;
    private final AtomicLong nextId = new AtomicLong(1);
    private final Map<Long, Pending<?>> pending = new ConcurrentHashMap<>();
    private final Object lock = new Object();
    private volatile Channel channel;
    /** {@link #channel}'s handler (set and cleared with it, under {@link #lock}): no pipeline search per request. */
    private Handler handler;
    private volatile HandshakeResponse session;
    private volatile boolean closed;
    /** While reconnecting: when the current outage started, nanoTime. */
    private long downSinceNanos;
    private long backoffMillis;

    /**
     * Turns an answer into a request's result, on the event loop: the response, and for a GetPage
     * answered in a raw pages frame (protocol version 2) that frame, whose pages must be copied out
     * before this returns (the frame is released after); {@code null} otherwise.
     */
    @FunctionalInterface
    private interface AnswerReader<T> {
        T read(Response response, ServerFrame raw);
    }

    /** The response itself; a raw pages frame's pages are put back into it (a copy), as version 1 sends them. */
    private static final AnswerReader<Response> WHOLE_RESPONSE = Answers::wholeResponse;

    /** One page: copied out of the raw frame (version 2), or the parsed array itself (version 1). */
    private static final AnswerReader<byte[]> ONE_PAGE = Answers::onePage;

    /** All pages of a GetPage answer, in block order. */
    private static final AnswerReader<List<byte[]>> ALL_PAGES = Answers::allPages;

    /**
     * One request waiting for its answer (or, for a basebackup, for its last chunk). The caller's
     * future is completed directly with what {@link #reader} makes of the answer: no chain of
     * dependent futures per request.
     */
    private static final class Pending<T> {
        final Request request;
        final CompletableFuture<T> future = new CompletableFuture<>();
        final AnswerReader<T> reader;
        final long deadlineNanos;
        final Consumer<ByteString> chunks;
        volatile boolean started;
        /** The deadline's timer entry; cancelled when the request completes. */
        volatile Timeout timeout;

        Pending(Request request, AnswerReader<T> reader, long deadlineNanos, Consumer<ByteString> chunks) {
            this.request = request;
            this.reader = reader;
            this.deadlineNanos = deadlineNanos;
            this.chunks = chunks;
        }
    }

    private PageServiceClient(PageClientConfig config, EventLoopGroup group, boolean ownGroup) {
        this.config = config;
        this.group = group;
        this.ownGroup = ownGroup;
        this.bootstrap = new Bootstrap().group(group).channel(Transport.chosen().socketChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.connectTimeout().toMillis())
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        PageCodecs.addClientCodec(ch.pipeline(), config.maxFrameBytes());
                        ch.pipeline().addLast("client", new Handler());
                    }
                });
    }

    /**
     * Connects and handshakes, on an event loop of its own (one thread, of {@link Transport#chosen()}).
     *
     * @throws PageServiceException when the server refuses the handshake (bad token: UNAUTHORIZED,
     *                              another tenant: FORBIDDEN, unknown timeline/branch: NOT_FOUND,
     *                              unsupported version: INVALID_REQUEST), or INTERNAL when the
     *                              connection cannot be made within the connect timeout (names host:port)
     */
    public static PageServiceClient connect(PageClientConfig config) {
        return connect(config, Transport.chosen().newGroup(1, "forkline-page-client-io"), true);
    }

    /**
     * Connects on a shared event loop group (not closed by {@link #close()}): many clients, few
     * threads. The group must be of {@link Transport#chosen()} ({@code Transport.chosen().newGroup(n)}).
     *
     * @throws PageServiceException as {@link #connect(PageClientConfig)}
     */
    public static PageServiceClient connect(PageClientConfig config, EventLoopGroup group) {
        return connect(config, group, false);
    }

    private static PageServiceClient connect(PageClientConfig config, EventLoopGroup group, boolean own) {
        PageServiceClient c = new PageServiceClient(config, group, own);
        try {
            c.openSession(config.timelineId(), config.branch());
            return c;
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** The first handshake's answer: the timeline id, its last record LSN and earliest readable LSN then. */
    public HandshakeResponse session() {
        return session;
    }

    /** The timeline this client reads (32 hex digits). */
    public String timelineId() {
        return session.getTimelineId();
    }

    // ------------------------------------------------------------------ connection

    /** Connects, sends the handshake, waits for its answer; sets {@link #channel} on success. */
    private void openSession(String timelineId, String branch) {
        ChannelFuture cf = bootstrap.connect(config.host(), config.port());
        long timeoutMs = config.connectTimeout().toMillis();
        if (!cf.awaitUninterruptibly(timeoutMs + 1000) || !cf.isSuccess()) {
            Throwable cause = cf.cause();
            cf.channel().close();
            throw new PageServiceException(ErrorCode.INTERNAL, "cannot connect to the page service at "
                    + config.host() + ":" + config.port() + ": " + (cause == null ? "timed out" : cause.getMessage()),
                    cause);
        }
        Channel ch = cf.channel();
        Handler h = ch.pipeline().get(Handler.class);
        Handshake.Builder hs = Handshake.newBuilder().setProtocolVersion(config.protocolVersion())
                .setTenant(config.tenant()).setToken(config.token());
        if (timelineId != null) {
            hs.setTimelineId(timelineId);
        } else {
            hs.setBranch(branch);
        }
        ch.writeAndFlush(ClientMessage.newBuilder().setHandshake(hs).build());
        HandshakeResponse r;
        try {
            r = h.handshake.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            ch.close();
            throw new PageServiceException(ErrorCode.INTERNAL, "no handshake answer from " + config.host() + ":"
                    + config.port() + " within " + timeoutMs + " ms", e);
        } catch (ExecutionException e) {
            ch.close();
            throw new PageServiceException(ErrorCode.INTERNAL, "connection to " + config.host() + ":" + config.port()
                    + " closed during the handshake: " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ch.close();
            throw new PageServiceException(ErrorCode.INTERNAL, "interrupted during the handshake", e);
        }
        if (r.hasError()) {
            ch.close();
            throw new PageServiceException(r.getError().getCode(), r.getError().getMessage(),
                    r.getError().getEarliestLsn());
        }
        if (session == null) {
            session = r;
        }
        synchronized (lock) {
            if (closed) {
                ch.close();
                return;
            }
            channel = ch;
            handler = h;
            downSinceNanos = 0;
            backoffMillis = 0;
            for (Pending<?> p : pending.values()) {
                if (!p.started || p.chunks == null) {
                    p.started = true;
                    h.enqueue(p.request);
                }
            }
        }
    }

    /** Called on the event loop when a session's channel closes. */
    private void lost(Channel ch, Throwable cause) {
        synchronized (lock) {
            if (channel != ch) {
                return; // a channel that never became the session's, or an old one
            }
            channel = null;
            handler = null;
            if (closed) {
                return;
            }
            if (downSinceNanos == 0) {
                downSinceNanos = System.nanoTime();
            }
        }
        String why = cause == null ? "connection closed" : cause.getMessage();
        for (Pending<?> p : pending.values()) {
            if (p.chunks != null && p.started) { // a half-received stream cannot be resumed
                fail(p, new PageServiceException(ErrorCode.INTERNAL, "connection to the page service lost during a "
                        + "basebackup stream: " + why, cause));
            }
        }
        scheduleReconnect();
    }

    private void scheduleReconnect() {
        long delay;
        synchronized (lock) {
            if (closed) {
                return;
            }
            backoffMillis = backoffMillis == 0 ? 50 : Math.min(1000, backoffMillis * 2);
            delay = backoffMillis;
        }
        group.schedule(() -> group.execute(this::reconnectOnce), delay, TimeUnit.MILLISECONDS);
    }

    private void reconnectOnce() {
        if (closed || channel != null) {
            return;
        }
        // openSession blocks: run it off the event loop
        Thread.ofVirtual().name("page-client-reconnect").start(() -> {
            try {
                openSession(session.getTimelineId(), null);
            } catch (PageServiceException e) {
                long downFor;
                synchronized (lock) {
                    downFor = System.nanoTime() - downSinceNanos;
                }
                if (downFor > config.reconnectFor().toNanos()) {
                    for (Pending<?> p : pending.values()) {
                        fail(p, new PageServiceException(ErrorCode.INTERNAL, "page service at " + config.host() + ":"
                                + config.port() + " unreachable for " + config.reconnectFor().toMillis() + " ms: "
                                + e.getMessage(), e));
                    }
                    synchronized (lock) {
                        downSinceNanos = System.nanoTime(); // keep trying for later requests
                    }
                }
                scheduleReconnect();
            }
        });
    }

    private void fail(Pending<?> p, Throwable t) {
        if (pending.remove(p.request.getRequestId(), p)) {
            cancelDeadline(p);
            p.future.completeExceptionally(t);
        }
    }

    /** Completes a request already removed from {@link #pending} with what its reader makes of the answer. */
    private static <T> void complete(Pending<T> p, Response r, ServerFrame raw) {
        cancelDeadline(p);
        T value;
        try {
            value = p.reader.read(r, raw);
        } catch (RuntimeException e) { // e.g. a GetPage answer without pages
            p.future.completeExceptionally(new PageServiceException(ErrorCode.INTERNAL, "malformed answer to request "
                    + r.getRequestId() + " (" + p.request.getBodyCase() + "): " + e, e));
            return;
        }
        p.future.complete(value);
    }

    private static void cancelDeadline(Pending<?> p) {
        Timeout t = p.timeout;
        if (t != null) {
            t.cancel();
        }
    }

    /** At a request's deadline: fails it on the client's event loop (where futures complete). */
    private void deadlinePassed(Pending<?> p, Duration deadline) {
        if (!pending.containsKey(p.request.getRequestId())) {
            return;
        }
        PageServiceException e = new PageServiceException(ErrorCode.LSN_TIMEOUT, "request "
                + p.request.getRequestId() + " (" + p.request.getBodyCase() + ") got no answer within "
                + deadline.toMillis() + " ms", 0);
        try {
            group.execute(() -> fail(p, e));
        } catch (RejectedExecutionException shutDown) { // closed meanwhile
            fail(p, e);
        }
    }

    /** Whether a session is connected now. */
    public boolean connected() {
        Channel ch = channel;
        return ch != null && ch.isActive();
    }

    // ------------------------------------------------------------------ requests

    /**
     * Sends a request (its id is set here) and returns its answer.
     *
     * @param body     the request without id; LSN fields as given
     * @param deadline bound of the whole request, including waits for ingest and reconnects
     * @return completes with the response, or exceptionally with a {@link PageServiceException}
     *         (the server's error, or LSN_TIMEOUT at the deadline, or INTERNAL when closed)
     */
    public CompletableFuture<Response> send(Request.Builder body, Duration deadline) {
        return send(body, deadline, null, WHOLE_RESPONSE);
    }

    private <T> CompletableFuture<T> send(Request.Builder body, Duration deadline, Consumer<ByteString> chunks,
                                          AnswerReader<T> reader) {
        long id = nextId.getAndIncrement();
        Request req = body.setRequestId(id).build();
        Pending<T> p = new Pending<>(req, reader, System.nanoTime() + deadline.toNanos(), chunks);
        if (closed) {
            p.future.completeExceptionally(new PageServiceException(ErrorCode.INTERNAL, "client is closed", 0));
            return p.future;
        }
        pending.put(id, p);
        p.timeout = DEADLINES.newTimeout(t -> deadlinePassed(p, deadline), deadline.toNanos(), TimeUnit.NANOSECONDS);
        if (!pending.containsKey(id)) { // answered (or failed) before the timeout was set
            cancelDeadline(p);
            return p.future;
        }
        Handler h;
        synchronized (lock) {
            h = handler;
            if (h != null) {
                p.started = true;
            }
        }
        if (h != null) {
            h.enqueue(req);
        }
        return p.future;
    }

    private static Request.Builder at(ReadLsn lsn) {
        return Request.newBuilder().setRequestLsn(lsn.requestLsn()).setLatest(lsn.atLatest())
                .setNotModifiedSinceLsn(lsn.notModifiedSinceLsn());
    }

    /** One 8192-byte page of a relation fork. Errors as {@link #send}; NOT_FOUND past the fork's end. */
    public CompletableFuture<byte[]> getPage(RelTag rel, int block, ReadLsn lsn) {
        return send(at(lsn).setGetPage(GetPageRequest.newBuilder().setRel(rel).addBlocks(block)),
                config.defaultDeadline(), null, ONE_PAGE);
    }

    /**
     * Several pages of one relation fork in one request (at most
     * {@link io.forkline.page.protocol.FrameDescriptor#MAX_BLOCKS_PER_GET_PAGE}).
     *
     * @return the pages in the order of {@code blocks}
     */
    public CompletableFuture<List<byte[]>> getPages(RelTag rel, int[] blocks, ReadLsn lsn) {
        GetPageRequest.Builder g = GetPageRequest.newBuilder().setRel(rel);
        for (int b : blocks) {
            g.addBlocks(b);
        }
        return send(at(lsn).setGetPage(g), config.defaultDeadline(), null, ALL_PAGES);
    }

    /** The fork's size in 8192-byte blocks; NOT_FOUND when it does not exist at that LSN. */
    public CompletableFuture<Integer> relSize(RelTag rel, ReadLsn lsn) {
        return send(at(lsn).setRelSize(RelSizeRequest.newBuilder().setRel(rel)), config.defaultDeadline())
                .thenApply(r -> r.getRelSize().getNblocks());
    }

    /** Whether the fork exists at that LSN. */
    public CompletableFuture<Boolean> relExists(RelTag rel, ReadLsn lsn) {
        return send(at(lsn).setRelExists(RelExistsRequest.newBuilder().setRel(rel)), config.defaultDeadline())
                .thenApply(r -> r.getRelExists().getExists());
    }

    /** Bytes of a database's relation forks (sum of blocks x 8192). */
    public CompletableFuture<Long> dbSize(int spcOid, int dbOid, ReadLsn lsn) {
        return send(at(lsn).setDbSize(DbSizeRequest.newBuilder().setSpcOid(spcOid).setDbOid(dbOid)),
                config.defaultDeadline()).thenApply(r -> r.getDbSize().getBytes());
    }

    /** Every relation fork (or those of one database) with its size in blocks. */
    public CompletableFuture<List<RelationEntry>> listRelations(int spcOid, int dbOid, ReadLsn lsn) {
        return send(at(lsn).setListRelations(ListRelationsRequest.newBuilder().setSpcOid(spcOid).setDbOid(dbOid)),
                config.defaultDeadline()).thenApply(r -> r.getListRelations().getRelationsList());
    }

    /** A {@code ListRelations} answer with the LSN it was served at (what {@link ReadLsn#latest()} resolved to). */
    public record Relations(long lsn, List<RelationEntry> relations) {
    }

    /** As {@link #listRelations}, with the LSN the page service served the list at. */
    public CompletableFuture<Relations> listRelationsWithLsn(int spcOid, int dbOid, ReadLsn lsn) {
        return send(at(lsn).setListRelations(ListRelationsRequest.newBuilder().setSpcOid(spcOid).setDbOid(dbOid)),
                config.defaultDeadline()).thenApply(r -> new Relations(r.getLsn(), r.getListRelations().getRelationsList()));
    }

    /** One SLRU segment file's bytes (up to 32 x 8192). */
    public CompletableFuture<byte[]> getSlruSegment(SlruKind kind, int segno, ReadLsn lsn) {
        return send(at(lsn).setGetSlruSegment(GetSlruSegmentRequest.newBuilder().setKind(kind).setSegno(segno)),
                config.defaultDeadline()).thenApply(r -> OwnedBytes.take(r.getGetSlruSegment().getSegment()));
    }

    /** A round trip; returns the payload echoed. */
    public CompletableFuture<byte[]> ping(byte[] payload) {
        return send(Request.newBuilder().setLatest(true).setPing(PingRequest.newBuilder()
                .setPayload(ByteString.copyFrom(payload))), config.defaultDeadline())
                .thenApply(r -> r.getPong().getPayload().toByteArray());
    }

    /**
     * Streams a basebackup (a ustar stream of a PostgreSQL 15 data directory that stock postgres
     * starts from without replay) into {@code out}, which is written on the client's event loop
     * and not closed.
     *
     * @param omitRelationPages leave relation files out (for a lazy data directory)
     * @param deadline          bound of the whole stream
     * @return completes with the LSN the basebackup is as of
     * @throws PageServiceException (through the future) as {@link #send}, or INTERNAL when the
     *                              connection is lost mid-stream or {@code out} fails
     */
    public CompletableFuture<Long> basebackup(ReadLsn lsn, boolean omitRelationPages, OutputStream out,
                                              Duration deadline) {
        return basebackup(lsn, omitRelationPages, false, out, deadline);
    }

    /**
     * As {@link #basebackup(ReadLsn, boolean, OutputStream, Duration)}; with {@code walFirstPageOnly}
     * the WAL segment's entry holds only its first 8 KiB page (a server that predates the option sends
     * all 16 MiB): the caller extends the file to the segment size before PostgreSQL starts on it.
     */
    public CompletableFuture<Long> basebackup(ReadLsn lsn, boolean omitRelationPages, boolean walFirstPageOnly,
                                              OutputStream out, Duration deadline) {
        return send(at(lsn).setGetBasebackup(GetBasebackupRequest.newBuilder().setOmitRelationPages(omitRelationPages)
                        .setWalFirstPageOnly(walFirstPageOnly)),
                deadline, chunk -> {
                    try {
                        chunk.writeTo(out);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }, (r, raw) -> r.getLsn());
    }

    /**
     * Streams a basebackup of the latest LSN and extracts it into {@code target} as it arrives
     * (through a 1 MiB pipe: the tar is never held whole), blocking the calling thread.
     *
     * @param omitRelationPages leave relation files out (for a lazy data directory)
     * @param deadline          bound of the whole stream
     * @return the LSN the data directory is as of
     * @throws PageServiceException when the page service refuses or fails (its error rather than
     *                              the truncated tar it leaves)
     * @throws IOException          when extracting fails (the directory is then incomplete)
     */
    public long basebackupInto(java.nio.file.Path target, boolean omitRelationPages, Duration deadline)
            throws IOException {
        return basebackupInto(target, omitRelationPages, false, deadline);
    }

    /**
     * As {@link #basebackupInto(java.nio.file.Path, boolean, Duration)}, optionally with only the first
     * page of the WAL segment (see {@link #basebackup(ReadLsn, boolean, boolean, OutputStream, Duration)}):
     * the caller extends it to the segment size.
     */
    public long basebackupInto(java.nio.file.Path target, boolean omitRelationPages, boolean walFirstPageOnly,
                               Duration deadline) throws IOException {
        try (java.io.PipedInputStream in = new java.io.PipedInputStream(1 << 20);
             java.io.PipedOutputStream out = new java.io.PipedOutputStream(in)) {
            CompletableFuture<Long> done = basebackup(ReadLsn.latest(), omitRelationPages, walFirstPageOnly, out, deadline);
            done.whenComplete((lsn, err) -> {
                try {
                    out.close(); // end of stream for the extractor (after an error it sees a truncated tar)
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            try {
                TarExtractor.extract(in, "basebackup of timeline " + timelineId(), target);
            } catch (IOException e) {
                if (done.isCompletedExceptionally()) {
                    await(done); // the page service's error says more than the truncated tar
                }
                throw e;
            }
            return await(done);
        }
    }

    /** Waits for a future of this client, unwrapping its {@link PageServiceException}. */
    public static <T> T await(CompletableFuture<T> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof PageServiceException p) {
                throw p;
            }
            throw e;
        }
    }

    // ------------------------------------------------------------------ inbound

    private final class Handler extends SimpleChannelInboundHandler<Object> {
        final CompletableFuture<HandshakeResponse> handshake = new CompletableFuture<>();
        /** Requests waiting to be written on this connection (filled by any thread, drained on its loop). */
        private final ConcurrentLinkedQueue<Request> outbound = new ConcurrentLinkedQueue<>();
        /** {@link #drain}'s scratch list (event loop only). */
        private final List<ClientMessage> drained = new ArrayList<>();
        private final AtomicBoolean drainScheduled = new AtomicBoolean();
        private final Runnable drain = this::drain;
        /** Answers completed since the last {@link #drain} (event loop only). */
        private int answeredSinceDrain;
        private volatile ChannelHandlerContext ctx;

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
        }

        /** Queues a request; the first of a burst schedules one drain on the connection's event loop. */
        void enqueue(Request r) {
            outbound.add(r);
            if (drainScheduled.compareAndSet(false, true)) {
                try {
                    ctx.executor().execute(drain);
                } catch (RejectedExecutionException closed) {
                    drainScheduled.set(false); // the client is closing: pending requests fail there
                }
            }
        }

        /**
         * Writes every queued request as frames into one buffer (one allocation, one iovec), then
         * flushes once.
         */
        private void drain() {
            drainScheduled.set(false);
            answeredSinceDrain = 0;
            Request r = outbound.poll();
            if (r == null) {
                return;
            }
            List<ClientMessage> batch = drained;
            int bytes = 0;
            do {
                ClientMessage m = ClientMessage.newBuilder().setRequest(r).build();
                bytes += FrameDescriptor.LENGTH_FIELD_BYTES + m.getSerializedSize();
                batch.add(m);
            } while ((r = outbound.poll()) != null);
            ByteBuf buf = ctx.alloc().ioBuffer(bytes, bytes);
            try {
                for (ClientMessage m : batch) {
                    buf.writeInt(m.getSerializedSize());
                    ProtobufFrameEncoder.writeMessage(m, m.getSerializedSize(), buf);
                }
            } catch (RuntimeException e) {
                buf.release();
                batch.clear();
                throw e;
            }
            batch.clear();
            ctx.writeAndFlush(buf, ctx.voidPromise());
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Object in) {
            ServerMessage msg;
            ServerFrame raw = null;
            if (in instanceof ServerFrame f) {
                raw = f;
                msg = f.header();
            } else if (in instanceof ServerMessage m) {
                msg = m;
            } else {
                ctx.fireChannelRead(io.netty.util.ReferenceCountUtil.retain(in));
                return;
            }
            if (msg.hasHandshake()) {
                handshake.complete(msg.getHandshake());
                return;
            }
            Response r = msg.getResponse();
            if (r.getRequestId() == 0 && r.hasError()) { // connection-level error: the server closes
                handshake.complete(HandshakeResponse.newBuilder().setError(r.getError()).build());
                return;
            }
            if (!r.hasBasebackupChunk()) { // one answer per request: taken off the map at once
                Pending<?> p = pending.remove(r.getRequestId());
                if (p == null) {
                    return; // timed out meanwhile
                }
                if (r.hasError()) {
                    cancelDeadline(p);
                    p.future.completeExceptionally(new PageServiceException(r.getError().getCode(),
                            r.getError().getMessage(), r.getError().getEarliestLsn()));
                } else {
                    complete(p, r, raw);
                }
                if (config.flushEvery() > 0 && ++answeredSinceDrain >= config.flushEvery() && !outbound.isEmpty()) {
                    drain(); // what the callers sent meanwhile goes out now, not after the whole read
                }
                return;
            }
            Pending<?> p = pending.get(r.getRequestId());
            if (p == null) {
                return; // timed out meanwhile
            }
            if (r.hasError()) {
                fail(p, new PageServiceException(r.getError().getCode(), r.getError().getMessage(),
                        r.getError().getEarliestLsn()));
            } else if (r.hasBasebackupChunk() && p.chunks != null) {
                BasebackupChunk c = r.getBasebackupChunk();
                try {
                    p.chunks.accept(c.getData());
                } catch (RuntimeException e) {
                    fail(p, new PageServiceException(ErrorCode.INTERNAL, "cannot write basebackup data: "
                            + e.getMessage(), e));
                    ctx.close(); // the rest of the stream has nowhere to go
                    return;
                }
                if (c.getLast() && pending.remove(r.getRequestId(), p)) {
                    complete(p, r, null);
                }
            } else if (pending.remove(r.getRequestId(), p)) {
                complete(p, r, null);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            handshake.completeExceptionally(new IOException("connection closed"));
            lost(ctx.channel(), null);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            handshake.completeExceptionally(cause);
            ctx.close();
        }
    }

    /** Closes the connection; pending requests fail with INTERNAL "client closed". */
    @Override
    public void close() {
        Channel ch;
        synchronized (lock) {
            closed = true;
            ch = channel;
            channel = null;
            handler = null;
        }
        if (ch != null) {
            ch.close().awaitUninterruptibly(1000);
        }
        for (Pending<?> p : pending.values()) {
            fail(p, new PageServiceException(ErrorCode.INTERNAL, "client closed", 0));
        }
        if (ownGroup) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(2000);
        }
    }

    /** Builds a proto {@link RelTag}. */
    public static RelTag rel(int spcOid, int dbOid, int relNumber, int fork) {
        return RelTag.newBuilder().setSpcOid(spcOid).setDbOid(dbOid).setRelNumber(relNumber).setFork(fork).build();
    }
}
