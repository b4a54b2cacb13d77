package io.forkline.page.client;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.forkline.page.protocol.ServerFrame;
import io.forkline.page.protocol.proto.GetPageResponse;
import io.forkline.page.protocol.proto.Response;

import java.util.ArrayList;
import java.util.List;

/**
 * What both clients ({@link PageServiceClient}, {@link BlockingPageConnection}) make of a GetPage
 * answer: a plain response whose pages are inside protobuf (protocol version 1), or the header of
 * a raw pages frame and the frame (version 2), whose pages are copied out here, once each.
 */
final class Answers {
    private Answers() {
    }

    /** The response itself; a raw pages frame's pages are put back into it (a copy), as version 1 sends them. */
    static Response wholeResponse(Response r, ServerFrame raw) {
        if (raw == null) {
            return r;
        }
        GetPageResponse.Builder g = r.getGetPage().toBuilder().clearRawPages();
        for (int i = 0; i < raw.pageCount(); i++) {
            g.addPages(UnsafeByteOperations.unsafeWrap(raw.page(i)));
        }
        return r.toBuilder().setGetPage(g).build();
    }

    /** The first page (8192 bytes): copied out of the raw frame (version 2), or the parsed array itself (version 1). */
    static byte[] onePage(Response r, ServerFrame raw) {
        return raw != null ? raw.page(0) : OwnedBytes.take(r.getGetPage().getPages(0));
    }

    /** All pages of a GetPage answer, in block order, each an 8192-byte array of its own. */
    static List<byte[]> allPages(Response r, ServerFrame raw) {
        List<byte[]> out;
        if (raw != null) {
            out = new ArrayList<>(raw.pageCount());
            for (int i = 0; i < raw.pageCount(); i++) {
                out.add(raw.page(i));
            }
        } else {
            out = new ArrayList<>(r.getGetPage().getPagesCount());
            for (ByteString page : r.getGetPage().getPagesList()) {
                out.add(OwnedBytes.take(page));
            }
        }
        return out;
    }
}
