package io.forkline.pageserver.basebackup;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TarSinkTest {
    private static final Clock CLOCK = Clock.fixed(Instant.ofEpochSecond(1_700_000_000L), ZoneOffset.UTC);

    @Test
    void writesUstarHeadersPaddingAndTrailer() throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (TarSink sink = new TarSink(bos, CLOCK)) {
            sink.directory("base");
            sink.file("base/PG_VERSION", "15\n".getBytes(StandardCharsets.US_ASCII));
        }
        byte[] tar = bos.toByteArray();
        assertThat(tar).hasSize(512 + 512 + 512 + 1024);
        assertThat(new String(tar, 0, 5, StandardCharsets.US_ASCII)).isEqualTo("base/");
        assertThat((char) tar[156]).isEqualTo('5');
        assertThat(new String(tar, 257, 5, StandardCharsets.US_ASCII)).isEqualTo("ustar");
        assertThat(new String(tar, 512 + 124, 11, StandardCharsets.US_ASCII)).isEqualTo("00000000003");
        assertThat(new String(tar, 1024, 3, StandardCharsets.US_ASCII)).isEqualTo("15\n");
        // header checksum: sum of header bytes with the field read as spaces
        long sum = 0;
        for (int i = 512; i < 1024; i++) {
            sum += (i >= 512 + 148 && i < 512 + 156) ? ' ' : tar[i] & 0xFF;
        }
        assertThat(Long.parseLong(new String(tar, 512 + 148, 6, StandardCharsets.US_ASCII), 8)).isEqualTo(sum);
    }

    @Test
    void refusesWrongSizes() throws IOException {
        TarSink sink = new TarSink(new ByteArrayOutputStream(), CLOCK);
        OutputStream out = sink.file("a", 2);
        assertThatThrownBy(() -> out.write(new byte[3])).isInstanceOf(IOException.class).hasMessageContaining("a");
        out.write(1);
        assertThatThrownBy(out::close).isInstanceOf(IOException.class).hasMessageContaining("got 1 bytes, announced 2");
    }
}
