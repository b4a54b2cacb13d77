package io.forkline.pageserver.pageservice;

import io.forkline.page.protocol.PageProtocol;
import io.forkline.page.protocol.ServerFrame;
import io.forkline.page.protocol.proto.GetPageResponse;
import io.forkline.page.protocol.proto.ClientMessage;
import io.forkline.page.protocol.proto.ErrorCode;
import io.forkline.page.protocol.proto.Handshake;
import io.forkline.page.protocol.proto.HandshakeResponse;
import io.forkline.page.protocol.proto.PongResponse;
import io.forkline.page.protocol.proto.Request;
import io.forkline.page.protocol.proto.Response;
import io.forkline.page.protocol.proto.ServerMessage;
import io.forkline.pageserver.api.ApiException;
import io.forkline.pageserver.basebackup.BasebackupBuilder;
import io.forkline.pageserver.basebackup.BasebackupException;
import io.forkline.storage.id.TimelineId;
import io.forkline.storage.lsn.Lsn;
import io.forkline.storage.store.PageStore;
import io.forkline.storage.store.StorageException;
import io.forkline.storage.timeline.TimelineMetadata;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One page-service connection: the handshake, then pipelined requests.
 *
 * <p><b>Handshake.</b> The first frame must be a {@code Handshake}: a supported protocol version,
 * a token the {@link SessionAuthorizer} accepts for the tenant, and a timeline of that tenant (by
 * id or branch ref). Anything else gets an error frame and the connection is closed.
 *
 * <p><b>Requests.</b> Each request's read LSN is resolved first ({@link #resolveLsn}): requests
 * whose LSN is ingested run at once, others wait without a thread ({@link IngestWaiter}). The
 * {@code GetPage} requests that arrive in one socket read and need no wait are answered on the event
 * loop when the page cache holds everything they need ({@link PageStore.Reader#getCachedVersions}:
 * no RocksDB, no blocking); the rest of them are served as one batch on a worker thread through one
 * {@link PageStore#sharingReader()}. Other requests run on workers one by one; basebackups stream
 * on their own pool. Pages are never copied before the socket write: in a version-2 session a GetPage
 * answer is a raw pages frame ({@link ServerFrame}: a small protobuf header, then the page arrays,
 * copied once, by the encoder, into the socket buffer), in version 1 the arrays are wrapped into the
 * protobuf response. Answers go out as they complete. A failing request gets an
 * {@code Error} response with its id; the connection and its other requests go on.
 *
 * <p><b>Back-pressure.</b> When {@link PageServiceConfig#maxInFlight()} requests are unanswered, or
 * the socket's outbound buffer is above its high-water mark (the client does not read), the handler
 * stops reading the socket; it resumes at half the in-flight bound and when writable again. No
 * queue grows without bound.
 *
 * <p><b>Bad frames.</b> An oversized or undecodable frame gets an error (request id 0,
 * {@code INVALID_REQUEST}, naming the size or the parse error) and the connection is closed; the
 * server and its other connections go on.
 *
 * <p>Event-loop confined state: {@link #timeline}, {@link #inFlight}, {@link #batch}.
 */
final class PageServiceHandler extends SimpleChannelInboundHandler<ClientMessage> {
    private static final Logger log = LoggerFactory.getLogger(PageServiceHandler.class);

    private final PageService service;
    private TimelineId timeline;
    /** The session's protocol version (from the handshake): 2 answers GetPage in raw pages frames. */
    private int version;
    private int inFlight;
    private boolean reading = true;
    private final List<Request> batch = new ArrayList<>();

    PageServiceHandler(PageService service) {
        this.service = service;
    }

    // ------------------------------------------------------------------ inbound

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ClientMessage msg) {
        if (timeline == null) {
            if (!msg.hasHandshake()) {
                closeWithError(ctx, ErrorCode.INVALID_REQUEST, "the first frame must be a Handshake, got "
                        + msg.getBodyCase());
                return;
            }
            handshake(ctx, msg.getHandshake());
            return;
        }
        if (!msg.hasRequest()) {
            closeWithError(ctx, ErrorCode.INVALID_REQUEST, "expected a Request after the handshake, got "
                    + msg.getBodyCase());
            return;
        }
        Request r = msg.getRequest();
        inFlight++;
        updateReading(ctx);
        if (r.getBodyCase() == Request.BodyCase.GET_PAGE) {
            batch.add(r);
        } else {
            dispatch(ctx, r);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (!batch.isEmpty()) {
            List<Request> misses = null;
            int answered = 0;
            TimelineReads.SizeMemo sizes = new TimelineReads.SizeMemo();
            int flushEvery = service.config().flushEvery(); // see PageServiceConfig#flushEvery
            try (PageStore.Reader cache = service.store().sharingReader()) {
                for (Request r : batch) {
                    CompletableFuture<Long> lsn;
                    try {
                        lsn = resolveLsn(r);
                    } catch (PageServiceError e) {
                        ctx.write(error(r.getRequestId(), e), ctx.voidPromise());
                        answered++;
                        continue;
                    }
                    if (!lsn.isDone() || lsn.isCompletedExceptionally()) {
                        serveWhenIngested(ctx, r, lsn);
                        continue;
                    }
                    long at = lsn.join();
                    Object hit = serveCached(cache, r, at, sizes);
                    if (hit != null) { // the page cache answered: no thread hand-off, no RocksDB
                        ctx.write(hit, ctx.voidPromise());
                        answered++;
                        if (flushEvery > 0 && answered % flushEvery == 0) {
                            ctx.flush(); // the client works on these while the rest are served
                        }
                    } else {
                        if (misses == null) {
                            misses = new ArrayList<>();
                        }
                        misses.add(r.toBuilder().setRequestLsn(at).setLatest(false).build());
                    }
                }
            }
            batch.clear();
            if (misses != null) {
                List<Request> now = misses;
                service.workers().execute(() -> serveBatch(ctx, now));
            }
            if (answered > 0) {
                inFlight -= answered;
                updateReading(ctx);
            }
        }
        ctx.flush();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        updateReading(ctx);
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof TooLongFrameException) {
            closeWithError(ctx, ErrorCode.INVALID_REQUEST, "frame larger than the maximum of "
                    + service.config().maxFrameBytes() + " bytes (" + cause.getMessage() + ")");
        } else if (cause instanceof CorruptedFrameException) {
            closeWithError(ctx, ErrorCode.INVALID_REQUEST, cause.getMessage());
        } else if (cause instanceof DecoderException) {
            closeWithError(ctx, ErrorCode.INVALID_REQUEST, "undecodable frame: " + cause.getMessage());
        } else if (cause instanceof IOException) {
            log.debug("page service connection {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        } else {
            log.warn("page service connection {} failed", ctx.channel().remoteAddress(), cause);
            closeWithError(ctx, ErrorCode.INTERNAL, cause.toString());
        }
    }

    // ------------------------------------------------------------------ handshake

    private void handshake(ChannelHandlerContext ctx, Handshake h) {
        if (!PageProtocol.SUPPORTED_VERSIONS.contains(h.getProtocolVersion())) {
            closeWithError(ctx, ErrorCode.INVALID_REQUEST, "protocol version " + Integer.toUnsignedString(
                    h.getProtocolVersion()) + " is not supported; this server speaks " + PageProtocol.SUPPORTED_VERSIONS);
            return;
        }
        try {
            service.authorizer().authorize(h.getToken(), h.getTenant());
            TimelineId tl = resolveTimeline(h);
            PageStore store = service.store();
            long last = store.lastRecordLsn(tl);
            TimelineMetadata md = store.timeline(tl);
            long cutoff = store.gcCutoff(tl);
            long earliest = Long.compareUnsigned(cutoff, md.startLsn()) > 0 ? cutoff : md.startLsn();
            timeline = tl;
            version = h.getProtocolVersion();
            ctx.writeAndFlush(ServerMessage.newBuilder().setHandshake(HandshakeResponse.newBuilder()
                    .setProtocolVersion(version).setTimelineId(tl.toString()).setLastRecordLsn(last)
                    .setEarliestLsn(earliest)).build());
        } catch (PageServiceError e) {
            closeWithError(ctx, e.code(), e.getMessage());
        } catch (IllegalArgumentException e) { // deleted meanwhile
            closeWithError(ctx, ErrorCode.NOT_FOUND, e.getMessage());
        }
    }

    private TimelineId resolveTimeline(Handshake h) {
        String tenant = h.getTenant();
        switch (h.getTargetCase()) {
            case TIMELINE_ID -> {
                TimelineId id;
                try {
                    id = TimelineId.parse(h.getTimelineId());
                } catch (IllegalArgumentException e) {
                    throw new PageServiceError(ErrorCode.INVALID_REQUEST, "invalid timeline id '" + h.getTimelineId()
                            + "': expected 32 hex digits");
                }
                TimelineMetadata md = service.store().timeline(id);
                if (md == null || !md.tenant().name().equals(tenant)) {
                    throw new PageServiceError(ErrorCode.NOT_FOUND, "timeline " + id + " of tenant '" + tenant
                            + "' does not exist");
                }
                return id;
            }
            case BRANCH -> {
                try {
                    return TimelineId.parse(service.tenants().branch(tenant, h.getBranch()).timelineId());
                } catch (ApiException e) {
                    throw new PageServiceError(e.status() == 404 ? ErrorCode.NOT_FOUND : ErrorCode.INVALID_REQUEST,
                            e.getMessage());
                }
            }
            default -> throw new PageServiceError(ErrorCode.INVALID_REQUEST,
                    "the handshake names no timeline: set timeline_id or branch");
        }
    }

    // ------------------------------------------------------------------ LSNs

    /**
     * The LSN a request reads at, once ingested: {@code latest} → the last record LSN now;
     * otherwise waits until {@code not_modified_since_lsn} (or, without it, {@code request_lsn}) is
     * ingested and reads at {@code min(request_lsn, last record LSN)}.
     *
     * @throws PageServiceError INVALID_REQUEST when {@code not_modified_since_lsn > request_lsn} or
     *                          the LSN is below the timeline's start; BELOW_GC_CUTOFF below the
     *                          applied GC cutoff (with the earliest readable LSN); NOT_FOUND when
     *                          the timeline was deleted
     */
    private CompletableFuture<Long> resolveLsn(Request r) {
        PageStore store = service.store();
        TimelineId tl = timeline;
        try {
            if (r.getLatest()) {
                return CompletableFuture.completedFuture(store.lastRecordLsn(tl));
            }
            long req = r.getRequestLsn();
            long nms = r.getNotModifiedSinceLsn();
            if (nms != 0 && Long.compareUnsigned(nms, req) > 0) {
                throw new PageServiceError(ErrorCode.INVALID_REQUEST, "not_modified_since_lsn " + Lsn.format(nms)
                        + " is above request_lsn " + Lsn.format(req));
            }
            checkReadable(tl, req);
            long waitFor = nms == 0 ? req : nms;
            long last = store.lastRecordLsn(tl);
            if (Long.compareUnsigned(last, waitFor) >= 0) {
                return CompletableFuture.completedFuture(Long.compareUnsigned(req, last) <= 0 ? req : last);
            }
            return service.ingestWaiter().await(tl, waitFor, service.config().lsnWaitTimeout())
                    .thenApply(l -> Long.compareUnsigned(req, l) <= 0 ? req : l);
        } catch (IllegalArgumentException e) {
            throw new PageServiceError(ErrorCode.NOT_FOUND, e.getMessage());
        }
    }

    private void checkReadable(TimelineId tl, long lsn) {
        PageStore store = service.store();
        long cutoff = store.gcCutoff(tl);
        TimelineMetadata md = store.timeline(tl);
        if (md == null) {
            throw new PageServiceError(ErrorCode.NOT_FOUND, "timeline " + tl + " does not exist (deleted)");
        }
        long earliest = Long.compareUnsigned(cutoff, md.startLsn()) > 0 ? cutoff : md.startLsn();
        if (Long.compareUnsigned(lsn, cutoff) < 0) {
            throw new PageServiceError(ErrorCode.BELOW_GC_CUTOFF, "LSN " + Lsn.format(lsn) + " of timeline " + tl
                    + " is below its GC cutoff " + Lsn.format(cutoff) + ": history there was removed; the earliest "
                    + "readable LSN is " + Lsn.format(earliest), earliest);
        }
        if (Long.compareUnsigned(lsn, md.startLsn()) < 0) {
            throw new PageServiceError(ErrorCode.INVALID_REQUEST, "LSN " + Lsn.format(lsn) + " is below the start LSN "
                    + Lsn.format(md.startLsn()) + " of timeline " + tl + "; the earliest readable LSN is "
                    + Lsn.format(earliest));
        }
    }

    // ------------------------------------------------------------------ serving

    private void dispatch(ChannelHandlerContext ctx, Request r) {
        CompletableFuture<Long> lsn;
        try {
            lsn = resolveLsn(r);
        } catch (PageServiceError e) {
            answer(ctx, List.of(error(r.getRequestId(), e)));
            return;
        }
        serveWhenIngested(ctx, r, lsn);
    }

    private void serveWhenIngested(ChannelHandlerContext ctx, Request r, CompletableFuture<Long> lsn) {
        boolean basebackup = r.getBodyCase() == Request.BodyCase.GET_BASEBACKUP;
        lsn.whenCompleteAsync((at, err) -> {
            if (err != null) {
                Throwable c = err instanceof java.util.concurrent.CompletionException && err.getCause() != null
                        ? err.getCause() : err;
                answer(ctx, List.of(error(r.getRequestId(), c)));
            } else if (basebackup) {
                streamBasebackup(ctx, r, at);
            } else {
                answer(ctx, List.of(serveOne(null, r, at, null)));
            }
        }, basebackup ? service.basebackupWorkers() : service.workers());
    }

    /**
     * A GetPage answered from the page cache alone (on the event loop: never touches RocksDB), its
     * error when the request is invalid, or {@code null} when something it needs is not cached.
     */
    private Object serveCached(PageStore.Reader cache, Request r, long lsn, TimelineReads.SizeMemo sizes) {
        try {
            var g = r.getGetPage();
            var rel = TimelineReads.relTag(g.getRel(), g.hasRel());
            var pages = service.reads().getPages(cache, timeline, rel, g.getBlocksList(), lsn, true, sizes);
            if (pages == null) {
                return null;
            }
            service.metrics().pagesServed(g.getBlocksCount());
            return getPageAnswer(r.getRequestId(), lsn, pages);
        } catch (RuntimeException e) {
            return error(r.getRequestId(), e);
        }
    }

    /**
     * A GetPage answer: in a version-2 session a raw pages frame (a small protobuf header, then the
     * pages, which the encoder copies straight into the socket buffer); in version 1 the pages
     * inside the protobuf message.
     */
    private Object getPageAnswer(long requestId, long lsn, byte[][] pages) {
        if (version >= PageProtocol.RAW_PAGES_VERSION) {
            ServerMessage header = ServerMessage.newBuilder().setResponse(Response.newBuilder().setRequestId(requestId)
                    .setLsn(lsn).setGetPage(GetPageResponse.newBuilder().setRawPages(pages.length))).build();
            return new ServerFrame(header, Unpooled.wrappedBuffer(pages));
        }
        return ServerMessage.newBuilder().setResponse(Response.newBuilder().setRequestId(requestId).setLsn(lsn)
                .setGetPage(TimelineReads.inline(pages))).build();
    }

    private void serveBatch(ChannelHandlerContext ctx, List<Request> requests) {
        List<Object> out = new ArrayList<>(requests.size());
        TimelineReads.SizeMemo sizes = new TimelineReads.SizeMemo();
        try (PageStore.Reader reader = service.store().sharingReader()) {
            for (Request r : requests) {
                out.add(serveOne(reader, r, r.getRequestLsn(), sizes));
            }
        }
        answer(ctx, out);
    }

    /** Serves a request at a resolved LSN; every failure becomes its error response. */
    private Object serveOne(PageStore.Reader reader, Request r, long lsn, TimelineReads.SizeMemo sizes) {
        try {
            TimelineReads reads = service.reads();
            TimelineId tl = timeline;
            Response.Builder b = Response.newBuilder().setRequestId(r.getRequestId()).setLsn(lsn);
            switch (r.getBodyCase()) {
                case GET_PAGE -> {
                    var g = r.getGetPage();
                    var rel = TimelineReads.relTag(g.getRel(), g.hasRel());
                    byte[][] pages;
                    if (reader == null) {
                        try (PageStore.Reader own = service.store().sharingReader()) {
                            pages = reads.getPages(own, tl, rel, g.getBlocksList(), lsn, false, null);
                        }
                    } else {
                        pages = reads.getPages(reader, tl, rel, g.getBlocksList(), lsn, false, sizes);
                    }
                    service.metrics().pagesServed(g.getBlocksCount());
                    return getPageAnswer(r.getRequestId(), lsn, pages);
                }
                case REL_EXISTS -> b.setRelExists(reads.relExists(tl,
                        TimelineReads.relTag(r.getRelExists().getRel(), r.getRelExists().hasRel()), lsn));
                case REL_SIZE -> b.setRelSize(reads.relSizeResponse(tl,
                        TimelineReads.relTag(r.getRelSize().getRel(), r.getRelSize().hasRel()), lsn));
                case DB_SIZE -> b.setDbSize(reads.dbSize(tl, r.getDbSize().getSpcOid(), r.getDbSize().getDbOid(), lsn));
                case GET_SLRU_SEGMENT -> b.setGetSlruSegment(reads.slruSegment(tl, r.getGetSlruSegment().getKind(),
                        r.getGetSlruSegment().getSegno(), lsn));
                case LIST_RELATIONS -> b.setListRelations(reads.listRelations(tl, r.getListRelations().getSpcOid(),
                        r.getListRelations().getDbOid(), lsn));
                case PING -> b.setPong(PongResponse.newBuilder().setPayload(r.getPing().getPayload()));
                case BODY_NOT_SET -> throw new PageServiceError(ErrorCode.INVALID_REQUEST,
                        "request " + r.getRequestId() + " has no body (unknown request type?)");
                default -> throw new PageServiceError(ErrorCode.INVALID_REQUEST,
                        "request type " + r.getBodyCase() + " cannot be served here");
            }
            return ServerMessage.newBuilder().setResponse(b).build();
        } catch (RuntimeException e) {
            return error(r.getRequestId(), e);
        }
    }

    private void streamBasebackup(ChannelHandlerContext ctx, Request r, long lsn) {
        ChunkedResponseStream out = new ChunkedResponseStream(ctx.channel(), r.getRequestId(), lsn);
        ServerMessage last;
        try {
            new BasebackupBuilder(service.store()).writeTar(timeline, lsn, out,
                    r.getGetBasebackup().getOmitRelationPages(), r.getGetBasebackup().getWalFirstPageOnly());
            last = out.lastChunk();
        } catch (RuntimeException e) {
            last = error(r.getRequestId(), e instanceof BasebackupException be && be.getCause() instanceof IOException
                    ? new PageServiceError(ErrorCode.INTERNAL, "basebackup stream failed: " + be.getMessage()) : e);
        }
        answer(ctx, List.of(last));
    }

    /** Writes answers on the event loop, flushes, and counts them off the in-flight requests. */
    private void answer(ChannelHandlerContext ctx, List<?> messages) {
        if (ctx.executor().inEventLoop()) {
            write(ctx, messages);
        } else {
            ctx.executor().execute(() -> write(ctx, messages));
        }
    }

    private void write(ChannelHandlerContext ctx, List<?> messages) {
        for (Object m : messages) {
            ctx.write(m, ctx.voidPromise());
        }
        ctx.flush();
        inFlight -= messages.size();
        updateReading(ctx);
    }

    private void updateReading(ChannelHandlerContext ctx) {
        int max = service.config().maxInFlight();
        boolean writable = ctx.channel().isWritable();
        if (reading && (inFlight >= max || !writable)) {
            reading = false;
            ctx.channel().config().setAutoRead(false);
            service.metrics().backPressure();
        } else if (!reading && inFlight <= max / 2 && writable) {
            reading = true;
            ctx.channel().config().setAutoRead(true);
            ctx.read();
        }
    }

    // ------------------------------------------------------------------ errors

    private ServerMessage error(long requestId, Throwable t) {
        PageServiceError e;
        if (t instanceof PageServiceError p) {
            e = p;
        } else if (t instanceof IllegalArgumentException) { // the timeline was deleted meanwhile
            e = new PageServiceError(ErrorCode.NOT_FOUND, t.getMessage());
        } else if (t instanceof StorageException || t instanceof BasebackupException) {
            log.warn("page service request {} on timeline {} failed", requestId, timeline, t);
            e = new PageServiceError(ErrorCode.INTERNAL, t.getMessage());
        } else {
            log.error("page service request {} on timeline {} failed", requestId, timeline, t);
            e = new PageServiceError(ErrorCode.INTERNAL, t.toString());
        }
        service.metrics().error(e.code());
        return ServerMessage.newBuilder().setResponse(Response.newBuilder().setRequestId(requestId)
                .setError(e.toProto())).build();
    }

    private void closeWithError(ChannelHandlerContext ctx, ErrorCode code, String message) {
        service.metrics().error(code);
        io.forkline.page.protocol.proto.Error err = io.forkline.page.protocol.proto.Error.newBuilder()
                .setCode(code).setMessage(message).build();
        ServerMessage m = timeline == null
                ? ServerMessage.newBuilder().setHandshake(HandshakeResponse.newBuilder().setError(err)).build()
                : ServerMessage.newBuilder().setResponse(Response.newBuilder().setError(err)).build();
        ctx.channel().config().setAutoRead(false);
        ctx.writeAndFlush(m).addListener(f -> ctx.close());
    }
}
