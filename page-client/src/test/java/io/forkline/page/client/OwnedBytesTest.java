package io.forkline.page.client;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.forkline.page.protocol.proto.GetPageResponse;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** A parsed page is handed out without a second copy; anything else is copied, never aliased wrongly. */
class OwnedBytesTest {
    @Test
    void aWholeArrayStringHandsOutItsArray() {
        byte[] page = new byte[8192];
        page[5] = 5;
        assertThat(OwnedBytes.take(UnsafeByteOperations.unsafeWrap(page))).isSameAs(page);
    }

    @Test
    void aParsedPageComesOutEqualAndUnshared() throws Exception {
        byte[] page = new byte[8192];
        page[100] = 42;
        byte[] wire = GetPageResponse.newBuilder().addPages(ByteString.copyFrom(page)).build().toByteArray();
        GetPageResponse parsed = GetPageResponse.parseFrom(wire);
        byte[] got = OwnedBytes.take(parsed.getPages(0));
        assertThat(got).isEqualTo(page).isNotSameAs(page);
    }

    @Test
    void substringsAndRopesAreCopied() {
        byte[] a = {1, 2, 3, 4, 5, 6};
        ByteString sub = UnsafeByteOperations.unsafeWrap(a).substring(1, 4);
        assertThat(OwnedBytes.take(sub)).containsExactly(2, 3, 4).isNotSameAs(a);
        ByteString rope = UnsafeByteOperations.unsafeWrap(a).concat(UnsafeByteOperations.unsafeWrap(new byte[300]));
        byte[] r = OwnedBytes.take(rope);
        assertThat(r).hasSize(306).startsWith(1, 2, 3, 4, 5, 6);
        assertThat(OwnedBytes.take(ByteString.EMPTY)).isEmpty();
    }
}
